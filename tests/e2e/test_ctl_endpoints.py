"""The Endpoints and EndpointSlice controllers on hollow nodes, driven with
the real kubectl; and a failover in the middle of their work.

Plain pods (no workload) bound by the scheduler and made Ready by the
hollow nodes are selected by a Service with a named targetPort that two
pods resolve to 8080 and one to 9090: the Endpoints have two subsets and
the EndpointSlices two slices. A pod set NotReady through its /status
moves to notReadyAddresses (and ready=false in its slice); a deleted pod
leaves both; a deleted Service takes its Endpoints and slices with it; a
Service without a selector keeps the Endpoints its user wrote. Then the
leader is killed -9 just as a DaemonSet's rolling update starts and, on
the new leader, a pod's readiness changes and a node is added: the
Endpoints, slices and the DaemonSet follow, the rollout completes, with
one pod per node and no duplicate slice or revision.
"""
import json
import time

from conftest import HollowAgent, ensure_ns, wait_for

NS = "ep-e2e"


def pod(name, labels, port, ns=NS):
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": ns, "labels": labels},
            "spec": {"containers": [{"name": "c", "image": "pause",
                                     "ports": [{"name": "http", "containerPort": port}]}]}}


def service(name, selector, ns=NS, target="http"):
    spec = {"ports": [{"name": "web", "port": 80, "targetPort": target}]}
    if selector is not None:
        spec["selector"] = selector
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": ns}, "spec": spec}


def docs(objs):
    """A YAML stream of the objects (kubectl validates a v1 List by kind)."""
    return "".join("---\n%s\n" % json.dumps(o) for o in objs)


def get(s, path):
    r = s.get(path, timeout=20)
    return r.json if r.status == 200 else None


def endpoints(s, name, ns=NS):
    return get(s, "/api/v1/namespaces/%s/endpoints/%s" % (ns, name))


def slices(s, svc, ns=NS):
    r = get(s, "/apis/discovery.k8s.io/v1/namespaces/%s/endpointslices"
               "?labelSelector=kubernetes.io/service-name=%s" % (ns, svc))
    return r["items"] if r else []


def pod_ips(s, names, ns=NS):
    out = {}
    for n in names:
        p = get(s, "/api/v1/namespaces/%s/pods/%s" % (ns, n))
        ip = p and p.get("status", {}).get("podIP")
        ready = p and any(c["type"] == "Ready" and c["status"] == "True"
                          for c in p["status"].get("conditions", []))
        if not ip or not ready:
            return None
        out[n] = ip
    return out


def ep_view(ep):
    """{(ready?, pod name, port)} of an Endpoints object."""
    got = set()
    for sub in (ep or {}).get("subsets", []):
        for key, rdy in (("addresses", True), ("notReadyAddresses", False)):
            for a in sub.get(key, []):
                for p in sub.get("ports", []):
                    got.add((rdy, a["targetRef"]["name"], p["port"]))
    return got


def slice_view(sl):
    """{(ready, serving, terminating, pod name, port)} over slices."""
    got = set()
    for s in sl:
        for e in s.get("endpoints") or []:
            c = e["conditions"]
            for p in s.get("ports") or []:
                got.add((c["ready"], c["serving"], c["terminating"], e["targetRef"]["name"],
                         p["port"]))
    return got


def set_ready(s, name, ok, ns=NS):
    """Flips a pod's Ready condition through /status, as a kubelet would."""
    for _ in range(10):
        p = wait_for("pod %s" % name,
                     lambda: get(s, "/api/v1/namespaces/%s/pods/%s" % (ns, name)), 30)
        for c in p["status"]["conditions"]:
            if c["type"] in ("Ready", "ContainersReady"):
                c["status"] = "True" if ok else "False"
        r = s.req("PUT", "/api/v1/namespaces/%s/pods/%s/status" % (ns, name), p)
        if r.status == 200:
            return
        assert r.status in (409, 503, 504), r
    raise AssertionError("could not set %s ready=%s" % (name, ok))


def test_endpoints_and_slices_follow_pods(hollow_cluster):
    c = hollow_cluster
    ld = c.leader()
    fol = c.followers(ld)[0]
    ensure_ns(ld, NS)
    kc = c.kubectl(fol)
    objs = [pod("a", {"app": "web"}, 8080), pod("b", {"app": "web"}, 8080),
            pod("c", {"app": "web"}, 9090), pod("other", {"app": "db"}, 8080),
            service("web", {"app": "web"})]
    kc.run("apply", "-f", "-", input=docs(objs))
    ips = wait_for("pods Ready with IPs", lambda: pod_ips(fol, ["a", "b", "c"]), 60)
    want = {(True, "a", 8080), (True, "b", 8080), (True, "c", 9090)}
    wait_for("endpoints of web", lambda: ep_view(endpoints(fol, "web")) == want, 30)
    ep = endpoints(fol, "web")
    assert len(ep["subsets"]) == 2, ep  # grouped by port set
    for sub in ep["subsets"]:
        assert sub["ports"][0]["name"] == "web" and sub["ports"][0]["protocol"] == "TCP"
        for a in sub["addresses"]:
            assert a["ip"] == ips[a["targetRef"]["name"]] and a["nodeName"].startswith("hollow-")
            assert a["targetRef"]["kind"] == "Pod" and a["targetRef"]["uid"]
    assert "endpoints.kubernetes.io/last-change-trigger-time" in ep["metadata"]["annotations"]
    out = kc.run("get", "endpoints", "web", "-n", NS).stdout
    assert ips["a"] + ":8080" in out or ips["b"] + ":8080" in out, out

    want_sl = {(True, True, False, "a", 8080), (True, True, False, "b", 8080),
               (True, True, False, "c", 9090)}
    wait_for("slices of web", lambda: slice_view(slices(fol, "web")) == want_sl, 30)
    sl = slices(fol, "web")
    assert len(sl) == 2, sl
    for s in sl:
        md = s["metadata"]
        assert md["name"].startswith("web-") and md["generateName"] == "web-"
        assert md["labels"]["endpointslice.kubernetes.io/managed-by"] == \
            "endpointslice-controller.k8s.io"
        assert md["ownerReferences"][0]["kind"] == "Service"
        assert s["addressType"] == "IPv4"
        for e in s["endpoints"]:
            assert e["zone"].startswith("zone-") and e["nodeName"].startswith("hollow-")
    out = kc.run("get", "endpointslices", "-n", NS).stdout
    assert "web-" in out and "IPv4" in out, out

    # A sync that changes nothing writes nothing (the Service's change
    # queues it; its Endpoints and slices keep their resourceVersions).
    rvs = (endpoints(fol, "web")["metadata"]["resourceVersion"],
           sorted(x["metadata"]["resourceVersion"] for x in slices(fol, "web")))
    kc.run("annotate", "service", "web", "-n", NS, "touched=yes")
    kc.run("label", "pod", "other", "-n", NS, "unrelated=yes")
    time.sleep(1.0)  # an observation window: the syncs run within 100 ms
    assert (endpoints(fol, "web")["metadata"]["resourceVersion"],
            sorted(x["metadata"]["resourceVersion"] for x in slices(fol, "web"))) == rvs

    # A pod relabelled out of the selector leaves, and comes back.
    kc.run("label", "pod", "c", "-n", NS, "app=moved", "--overwrite")
    wait_for("c left", lambda: ep_view(endpoints(fol, "web")) == want - {(True, "c", 9090)}, 30)
    wait_for("c left the slices", lambda: slice_view(slices(fol, "web")) ==
             want_sl - {(True, True, False, "c", 9090)}, 30)
    kc.run("label", "pod", "c", "-n", NS, "app=web", "--overwrite")
    wait_for("c back", lambda: ep_view(endpoints(fol, "web")) == want, 30)

    # NotReady: to notReadyAddresses, and ready/serving false in the slice.
    set_ready(fol, "a", False)
    want = {(False, "a", 8080), (True, "b", 8080), (True, "c", 9090)}
    wait_for("a not ready", lambda: ep_view(endpoints(fol, "web")) == want, 30)
    want_sl = {(False, False, False, "a", 8080), (True, True, False, "b", 8080),
               (True, True, False, "c", 9090)}
    wait_for("a not ready in slices", lambda: slice_view(slices(fol, "web")) == want_sl, 30)

    # A deleted pod leaves both.
    kc.run("delete", "pod", "b", "-n", NS, "--wait=false")
    want = {(False, "a", 8080), (True, "c", 9090)}
    wait_for("b gone", lambda: ep_view(endpoints(fol, "web")) == want, 30)
    want_sl = {(False, False, False, "a", 8080), (True, True, False, "c", 9090)}
    wait_for("b gone from slices", lambda: slice_view(slices(fol, "web")) == want_sl, 30)

    # A Service without a selector: its Endpoints are the user's.
    kc.run("apply", "-f", "-", input=json.dumps(service("manual", None)))
    kc.run("apply", "-f", "-", input=json.dumps({
        "apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "manual", "namespace": NS},
        "subsets": [{"addresses": [{"ip": "10.9.9.9"}], "ports": [{"port": 80}]}]}))

    # The Service goes: its Endpoints and slices go.
    kc.run("delete", "service", "web", "-n", NS)
    wait_for("endpoints of web deleted", lambda: endpoints(fol, "web") is None, 30)
    wait_for("slices of web deleted", lambda: slices(fol, "web") == [], 30)
    ep = endpoints(fol, "manual")
    assert ep["subsets"][0]["addresses"][0]["ip"] == "10.9.9.9", ep
    assert slices(fol, "manual") == []


def test_failover_keeps_endpoints_and_daemonset(hollow_cluster, tmp_path):
    c = hollow_cluster
    ld = c.leader()
    ns = "ep-fo"
    ensure_ns(ld, ns)
    kc = c.kubectl(c.followers(ld)[0])
    ds = {"apiVersion": "apps/v1", "kind": "DaemonSet",
          "metadata": {"name": "fo", "namespace": ns},
          "spec": {"selector": {"matchLabels": {"app": "fo-ds"}},
                   "template": {"metadata": {"labels": {"app": "fo-ds"}},
                                "spec": {"containers": [{"name": "c", "image": "pause"}]}}}}
    objs = [pod("x", {"app": "fo"}, 8080, ns), pod("y", {"app": "fo"}, 8080, ns),
            service("fo", {"app": "fo"}, ns), ds]
    kc.run("apply", "-f", "-", input=docs(objs))
    want = {(True, "x", 8080), (True, "y", 8080)}
    wait_for("endpoints of fo", lambda: ep_view(endpoints(ld, "fo", ns)) == want, 60)

    def ds_pods(s):
        items = get(s, "/api/v1/namespaces/%s/pods?labelSelector=app=fo-ds" % ns)["items"]
        return [p for p in items if not p["metadata"].get("deletionTimestamp")]

    def ds_on(s, nodes):
        pods = ds_pods(s)
        return sorted(p["spec"].get("nodeName", "") for p in pods) == sorted(nodes) and all(
            any(cd["type"] == "Ready" and cd["status"] == "True"
                for cd in p.get("status", {}).get("conditions", [])) for p in pods)

    nodes = sorted(n["metadata"]["name"] for n in get(ld, "/api/v1/nodes")["items"])
    wait_for("fo on every node", lambda: ds_on(ld, nodes), 60)

    # The leader dies just as a rolling update of the DaemonSet starts.
    kc.run("set", "image", "ds/fo", "c=pause:2", "-n", ns)
    ld.kill()
    survivors = [s for s in c.live()]
    new = c.leader(survivors, timeout=30)
    assert new is not ld
    kc = c.kubectl(new)
    set_ready(new, "x", False, ns)
    agent = HollowAgent(c, tmp_path, 1, prefix="fo-")
    try:
        want = {(False, "x", 8080), (True, "y", 8080)}
        wait_for("x not ready after failover",
                 lambda: ep_view(endpoints(new, "fo", ns)) == want, 60)
        want_sl = {(False, False, False, "x", 8080), (True, True, False, "y", 8080)}
        wait_for("slices after failover",
                 lambda: slice_view(slices(new, "fo", ns)) == want_sl, 60)
        added = wait_for("the new node", lambda: [
            n["metadata"]["name"] for n in get(new, "/api/v1/nodes")["items"]
            if n["metadata"]["name"].startswith("fo-")], 60)
        wait_for("fo on every node, the new one too", lambda: ds_on(new, nodes + added), 60)
        wait_for("the rollout finished by the new leader", lambda: all(
            p["spec"]["containers"][0]["image"] == "pause:2" for p in ds_pods(new))
            and ds_on(new, nodes + added), 60)
        kc.run("rollout", "status", "ds/fo", "-n", ns, "--timeout=60s")
        # No duplicates: one Endpoints object, one slice, one pod per node.
        assert len(slices(new, "fo", ns)) == 1
        st = get(new, "/apis/apps/v1/namespaces/%s/daemonsets/fo" % ns)["status"]
        assert st["desiredNumberScheduled"] == 7 and st["currentNumberScheduled"] == 7, st
        revs = get(new, "/apis/apps/v1/namespaces/%s/controllerrevisions" % ns)["items"]
        assert sorted(r["revision"] for r in revs) == [1, 2], revs
    finally:
        agent.stop()
        ld.start()
        c.wait_healthy()
    kc.run("delete", "node", *added)
    wait_for("fo back on the first nodes", lambda: ds_on(new, nodes), 60)
