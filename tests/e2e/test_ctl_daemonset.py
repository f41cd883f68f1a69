"""The DaemonSet controller on hollow nodes, driven with the real kubectl.

One DaemonSet follows the nodes: exactly one pod per node (6), two more
nodes from a second hollow agent get theirs (8), a NoSchedule taint keeps
the pod that is there but gets no new one, a NoExecute taint evicts it,
stopping the extra agent and deleting its nodes takes their pods away; a
second DaemonSet with a nodeSelector follows node labels; and a rolling
update of the image with maxUnavailable 2 completes under `kubectl
rollout status`, never with more than two nodes short of an available pod;
with maxSurge 2 instead, the new pods start beside the old ones: no node is
ever without a Ready pod and at most two nodes have two pods at once
(maxSurge with maxUnavailable non-zero is refused).
"""
import json
import time

from conftest import HollowAgent, controller_ref, ensure_ns, wait_for

NS = "ds-e2e"


def daemonset(name, labels, image="pause:1", node_selector=None, max_unavailable=1):
    spec = {"containers": [{"name": "c", "image": image}]}
    if node_selector:
        spec["nodeSelector"] = node_selector
    return {"apiVersion": "apps/v1", "kind": "DaemonSet",
            "metadata": {"name": name, "namespace": NS},
            "spec": {"selector": {"matchLabels": labels},
                     "updateStrategy": {"type": "RollingUpdate",
                                        "rollingUpdate": {"maxUnavailable": max_unavailable}},
                     "template": {"metadata": {"labels": labels}, "spec": spec}}}


def ds_pods(s, name):
    """The live pods the DaemonSet controls."""
    items = s.get("/api/v1/namespaces/%s/pods" % NS, timeout=20).json["items"]
    return [p for p in items
            if any(r.get("kind") == "DaemonSet" and r.get("name") == name
                   for r in p["metadata"].get("ownerReferences", []))
            and not p["metadata"].get("deletionTimestamp")]


def node_names(s, prefix=None):
    items = s.get("/api/v1/nodes", timeout=20).json["items"]
    names = sorted(n["metadata"]["name"] for n in items)
    return [n for n in names if prefix is None or n.startswith(prefix)]


def ready(p):
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in p.get("status", {}).get("conditions", []))


def placed_on(s, name, nodes):
    """True once the DaemonSet has exactly one Ready pod on each of nodes and
    none elsewhere (a pod's node: where it is bound)."""
    pods = ds_pods(s, name)
    where = sorted(p["spec"].get("nodeName", "") for p in pods)
    if where != sorted(nodes):
        return False
    return all(ready(p) for p in pods)


def live_pods_after_each_event(events):
    """Replays a pod watch: after each event, {name: pod} of the pods not
    deleted nor being deleted."""
    state = {}
    for ev in events:
        if ev["type"] not in ("ADDED", "MODIFIED", "DELETED"):
            continue
        p = ev["object"]
        if ev["type"] == "DELETED" or p["metadata"].get("deletionTimestamp"):
            state.pop(p["metadata"]["name"], None)
        else:
            state[p["metadata"]["name"]] = p
        yield state


def ds_status(s, name):
    r = s.get("/apis/apps/v1/namespaces/%s/daemonsets/%s" % (NS, name))
    assert r.status == 200, r
    return r.json


def test_daemonset_follows_nodes_taints_and_selectors(hollow_cluster, tmp_path):
    c = hollow_cluster
    ld = c.leader()
    fol = c.followers(ld)[0]
    ensure_ns(ld, NS)
    kc = c.kubectl(fol)
    kc.run("apply", "-f", "-", input=json.dumps(daemonset("agent", {"app": "agent"})))
    hollow = node_names(ld, "hollow-")
    assert len(hollow) == 6
    wait_for("one Ready pod per hollow node", lambda: placed_on(fol, "agent", hollow), 60)
    pods = ds_pods(fol, "agent")
    p0 = pods[0]
    assert p0["metadata"]["generateName"] == "agent-"
    assert p0["metadata"]["labels"]["controller-revision-hash"]
    assert p0["metadata"]["labels"]["pod-template-generation"] == "1"
    terms = p0["spec"]["affinity"]["nodeAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert terms == [{"matchFields": [{"key": "metadata.name", "operator": "In",
                                       "values": [p0["spec"]["nodeName"]]}]}]
    tols = {(t["key"], t["effect"]) for t in p0["spec"]["tolerations"]}
    assert ("node.kubernetes.io/not-ready", "NoExecute") in tols
    assert ("node.kubernetes.io/unschedulable", "NoSchedule") in tols

    def status_is(want):
        st = ds_status(fol, "agent").get("status", {})
        return all(st.get(k) == v for k, v in want.items()) and st
    wait_for("status 6/6", lambda: status_is({
        "desiredNumberScheduled": 6, "currentNumberScheduled": 6, "numberReady": 6,
        "numberAvailable": 6, "updatedNumberScheduled": 6, "numberMisscheduled": 0,
        "observedGeneration": 1}), 30)
    out = kc.run("get", "ds", "agent", "-n", NS).stdout
    assert out.split("\n")[0].split()[:6] == ["NAME", "DESIRED", "CURRENT", "READY",
                                             "UP-TO-DATE", "AVAILABLE"], out
    assert out.split("\n")[1].split()[:6] == ["agent", "6", "6", "6", "6", "6"], out

    # A second DaemonSet that runs only where a label says so.
    kc.run("apply", "-f", "-", input=json.dumps(
        daemonset("picky", {"app": "picky"}, node_selector={"ds-e2e": "yes"})))
    kc.run("label", "node", hollow[1], hollow[2], "ds-e2e=yes")
    wait_for("picky on the 2 labelled nodes",
             lambda: placed_on(fol, "picky", [hollow[1], hollow[2]]), 60)

    # Two more nodes: both DaemonSets follow (picky once labelled).
    extra = HollowAgent(c, tmp_path, 2, prefix="extra-")
    try:
        wait_for("2 extra nodes", lambda: len(node_names(ld, "extra-")) == 2, 60)
        more = node_names(ld, "extra-")
        wait_for("one pod per node on 8 nodes",
                 lambda: placed_on(fol, "agent", hollow + more), 60)
        kc.run("label", "node", more[0], "ds-e2e=yes")
        kc.run("label", "node", hollow[1], "ds-e2e-")
        wait_for("picky follows the labels",
                 lambda: placed_on(fol, "picky", [hollow[2], more[0]]), 60)

        # NoSchedule: the pod there stays, a deleted one is not replaced.
        kc.run("taint", "node", hollow[3], "e2e=block:NoSchedule")
        victim = [p for p in ds_pods(fol, "agent") if p["spec"]["nodeName"] == hollow[3]][0]
        wait_for("desired 7 with the NoSchedule node",
                 lambda: status_is({"desiredNumberScheduled": 7, "numberMisscheduled": 1}), 30)
        assert placed_on(fol, "agent", hollow + more), "a NoSchedule taint evicted the pod"
        kc.run("delete", "pod", "-n", NS, victim["metadata"]["name"], "--wait=false")
        others = [n for n in hollow + more if n != hollow[3]]
        wait_for("no new pod on the NoSchedule node",
                 lambda: placed_on(fol, "agent", others), 30)
        # NoExecute evicts.
        kc.run("taint", "node", hollow[4], "e2e=evict:NoExecute")
        others.remove(hollow[4])
        wait_for("the NoExecute node's pod gone", lambda: placed_on(fol, "agent", others), 30)
        kc.run("taint", "node", hollow[3], "e2e-")
        kc.run("taint", "node", hollow[4], "e2e-")
        wait_for("pods back once untainted",
                 lambda: placed_on(fol, "agent", hollow + more), 60)
    finally:
        extra.stop()
    # The extra nodes go: so do their pods.
    kc.run("delete", "node", *more)
    wait_for("back to the 6 hollow nodes", lambda: placed_on(fol, "agent", hollow), 60)
    wait_for("picky only on its labelled hollow node",
             lambda: placed_on(fol, "picky", [hollow[2]]), 60)
    wait_for("status 6/6 again", lambda: status_is({
        "desiredNumberScheduled": 6, "currentNumberScheduled": 6, "numberReady": 6,
        "numberMisscheduled": 0}), 30)


def test_daemonset_rolling_update(hollow_cluster):
    c = hollow_cluster
    ld = c.leader()
    fol = c.followers(ld)[0]
    ensure_ns(ld, NS)
    kc = c.kubectl(fol)
    kc.run("apply", "-f", "-",
           input=json.dumps(daemonset("roll", {"app": "roll"}, max_unavailable=2)))
    hollow = node_names(ld, "hollow-")
    wait_for("roll on every node", lambda: placed_on(fol, "roll", hollow), 60)
    kc.run("rollout", "status", "ds/roll", "-n", NS, "--timeout=60s")
    before = {p["metadata"]["name"] for p in ds_pods(fol, "roll")}

    # Watch the pods while the image changes: never more than 2 nodes short.
    w = ld.watch("/api/v1/namespaces/%s/pods" % NS, labelSelector="app=roll")
    kc.run("set", "image", "ds/roll", "c=pause:2", "-n", NS)
    out = kc.run("rollout", "status", "ds/roll", "-n", NS, "--timeout=90s", timeout=100).stdout
    assert "successfully rolled out" in out, out
    pods = ds_pods(fol, "roll")
    assert sorted(p["spec"]["nodeName"] for p in pods) == hollow
    assert all(p["spec"]["containers"][0]["image"] == "pause:2" for p in pods)
    assert not before & {p["metadata"]["name"] for p in pods}
    assert {p["metadata"]["labels"]["pod-template-generation"] for p in pods} == {"2"}
    st = ds_status(fol, "roll")["status"]
    assert st["updatedNumberScheduled"] == 6 and st["numberAvailable"] == 6, st

    # Replay the watch: nodes with a Ready pod, once all 6 had one.
    time.sleep(0.5)
    w.close()
    started, worst = False, 6
    for state in live_pods_after_each_event(w.events):
        n = len({q["spec"].get("nodeName") for q in state.values() if ready(q)})
        started = started or n == 6
        if started:
            worst = min(worst, n)
    assert started and worst >= 4, \
        "more than maxUnavailable=2 nodes without a Ready pod: %d" % worst

    revs = kc.json("get", "controllerrevisions", "-n", NS)["items"]
    mine = sorted((r["revision"], r["metadata"]["name"]) for r in revs
                  if r["metadata"]["ownerReferences"][0]["name"] == "roll")
    assert [r for r, _ in mine] == [1, 2], mine
    hist = kc.run("rollout", "history", "ds/roll", "-n", NS).stdout
    assert "REVISION" in hist and "2" in hist, hist

    # Undo: back to the first template, whose revision becomes number 3.
    kc.run("rollout", "undo", "ds/roll", "-n", NS)
    kc.run("rollout", "status", "ds/roll", "-n", NS, "--timeout=90s", timeout=100)
    wait_for("pause:1 everywhere", lambda: placed_on(fol, "roll", hollow) and all(
        p["spec"]["containers"][0]["image"] == "pause:1" for p in ds_pods(fol, "roll")), 60)
    revs = kc.json("get", "controllerrevisions", "-n", NS)["items"]
    mine = {r["metadata"]["name"]: r["revision"] for r in revs
            if r["metadata"]["ownerReferences"][0]["name"] == "roll"}
    assert sorted(mine.values()) == [2, 3], mine
    first = [p for p in ds_pods(fol, "roll")][0]
    assert mine["roll-" + first["metadata"]["labels"]["controller-revision-hash"]] == 3


def test_daemonset_surge_update(hollow_cluster):
    c = hollow_cluster
    ld = c.leader()
    fol = c.followers(ld)[0]
    ensure_ns(ld, NS)
    kc = c.kubectl(fol)
    ds = daemonset("surge", {"app": "surge"})
    ds["spec"]["minReadySeconds"] = 1
    ds["spec"]["updateStrategy"]["rollingUpdate"] = {"maxUnavailable": 1, "maxSurge": 2}
    bad = kc.run("apply", "-f", "-", input=json.dumps(ds), ok=False)
    assert bad.returncode != 0 and "may not be set when maxUnavailable is non-zero" in bad.stderr
    ds["spec"]["updateStrategy"]["rollingUpdate"] = {"maxUnavailable": 0, "maxSurge": 2}
    kc.run("apply", "-f", "-", input=json.dumps(ds))
    hollow = node_names(ld, "hollow-")
    wait_for("surge on every node", lambda: placed_on(fol, "surge", hollow), 60)
    kc.run("rollout", "status", "ds/surge", "-n", NS, "--timeout=60s")

    w = ld.watch("/api/v1/namespaces/%s/pods" % NS, labelSelector="app=surge")
    kc.run("set", "image", "ds/surge", "c=pause:2", "-n", NS)
    out = kc.run("rollout", "status", "ds/surge", "-n", NS, "--timeout=90s", timeout=100).stdout
    assert "successfully rolled out" in out, out
    wait_for("one pause:2 pod per node", lambda: placed_on(fol, "surge", hollow) and all(
        p["spec"]["containers"][0]["image"] == "pause:2" for p in ds_pods(fol, "surge")), 30)
    time.sleep(0.5)
    w.close()
    # Replay: once all 6 nodes had a Ready pod, none lacks one; never more
    # than 2 nodes with two live pods.
    started, worst, most_doubled = False, 6, 0
    for state in live_pods_after_each_event(w.events):
        nodes = [ctl_node(q) for q in state.values()]
        n = len({ctl_node(q) for q in state.values() if ready(q)})
        started = started or n == 6
        if started:
            worst = min(worst, n)
            most_doubled = max(most_doubled, len(nodes) - len(set(nodes)))
    assert started and worst == 6, "a node without a Ready pod during a surge update: %d" % worst
    assert 1 <= most_doubled <= 2, "nodes with two pods at once: %d" % most_doubled


def ctl_node(p):
    """The node a daemon pod is for: where it is bound, else its affinity's."""
    if p["spec"].get("nodeName"):
        return p["spec"]["nodeName"]
    terms = p["spec"]["affinity"]["nodeAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    return terms[0]["matchFields"][0]["values"][0]


def test_daemonset_adopts_orphan_and_releases_relabelled_pod(hollow_cluster):
    """ControllerRefManager (getDaemonPods): an orphan pod on a node,
    labelled like the DaemonSet's selector, is adopted — ownerReferences
    names the DaemonSet as controller — and stands for that node's daemon
    pod; relabelled out of the selector it is released (no controller
    left) and the DaemonSet makes a new pod for the node."""
    c = hollow_cluster
    ld = c.leader()
    ns = "ds-adopt"
    ensure_ns(ld, ns)
    node = node_names(ld, "hollow-")[0]
    labels = {"app": "adopt-ds"}
    pods_path = "/api/v1/namespaces/%s/pods" % ns
    orphan = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "stray", "labels": labels},
              "spec": {"nodeName": node, "containers": [{"name": "c", "image": "pause:1"}]}}
    r = ld.req("POST", pods_path, orphan)
    assert r.status == 201, r
    ds = daemonset("adopter", labels, node_selector={"kubernetes.io/hostname": node})
    ds["metadata"]["namespace"] = ns
    # OnDelete: the orphan's template is not the DaemonSet's, and a rolling
    # update would replace it at once.
    ds["spec"]["updateStrategy"] = {"type": "OnDelete"}
    r = ld.req("POST", "/apis/apps/v1/namespaces/%s/daemonsets" % ns, ds)
    assert r.status == 201, r
    uid = r.json["metadata"]["uid"]

    def adopted():
        p = ld.get(pods_path + "/stray").json
        ref = controller_ref(p)
        return ref if ref and ref["uid"] == uid else None
    ref = wait_for("the orphan adopted", adopted, 15)
    assert ref == {"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "adopter", "uid": uid,
                   "controller": True, "blockOwnerDeletion": True}, ref
    time.sleep(1)  # a sync or two more: the adopted pod is the node's, none is added
    items = ld.get(pods_path).json["items"]
    assert [p["metadata"]["name"] for p in items] == ["stray"], items

    r = ld.req("PATCH", pods_path + "/stray", {"metadata": {"labels": {"app": "gone"}}},
               headers={"Content-Type": "application/merge-patch+json"})
    assert r.status == 200, r

    def replaced():
        items = {p["metadata"]["name"]: p for p in ld.get(pods_path).json["items"]}
        new = [p for n, p in items.items() if n != "stray"
               and (controller_ref(p) or {}).get("uid") == uid]
        return new[0] if not controller_ref(items["stray"]) and len(new) == 1 else None
    new = wait_for("stray released and a new daemon pod made", replaced, 15)
    assert new["metadata"]["labels"]["app"] == "adopt-ds", new["metadata"]
    r = ld.req("DELETE", "/apis/apps/v1/namespaces/%s/daemonsets/adopter" % ns)
    assert r.status in (200, 202), r



def test_daemonset_failed_pod_backoff(hollow_cluster):
    """A daemon pod its node keeps failing (as a kubelet that rejects it
    would: this test sets each one Failed once it runs) is replaced, with a
    FailedDaemonPod Warning, but not in a hot loop: each replacement waits
    for the backoff of the DaemonSet and node (1 s, then 2 s, 4 s, ...;
    daemon_controller.go's failedPodsBackoff). Without the backoff a new
    pod came every few tenths of a second."""
    c = hollow_cluster
    ld = c.leader()
    fol = c.followers(ld)[0]
    ns = "ds-crash"
    ensure_ns(ld, ns)
    node = node_names(ld, "hollow-")[0]
    ds = daemonset("crash", {"app": "crash"}, node_selector={"kubernetes.io/hostname": node})
    ds["metadata"]["namespace"] = ns
    r = fol.req("POST", "/apis/apps/v1/namespaces/%s/daemonsets" % ns, ds)
    assert r.status == 201, r
    pods_path = "/api/v1/namespaces/%s/pods" % ns
    seen = {}  # uid -> when first seen
    end = None
    while end is None or time.monotonic() < end:
        for p in fol.get(pods_path, timeout=20).json["items"]:
            md = p["metadata"]
            if md["uid"] not in seen:
                seen[md["uid"]] = time.monotonic()
                end = end or time.monotonic() + 7
            if p["status"].get("phase") == "Running" and not md.get("deletionTimestamp"):
                p["status"]["phase"] = "Failed"
                r = fol.req("PUT", "%s/%s/status" % (pods_path, md["name"]), p)
                assert r.status in (200, 404, 409), r
        time.sleep(0.05)
    times = sorted(seen.values())
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert 3 <= len(times) <= 5, gaps
    assert gaps[1] >= 0.8 and (len(gaps) < 3 or gaps[2] >= 1.6), gaps
    evs = fol.get("/api/v1/namespaces/%s/events" % ns).json["items"]
    failed = [e for e in evs if e["reason"] == "FailedDaemonPod"]
    assert failed and failed[0]["type"] == "Warning", evs
    assert failed[0]["message"].startswith("Found failed daemon pod %s/crash-" % ns), failed
    assert failed[0]["message"].endswith("on node %s, will try to kill it" % node), failed
    r = ld.req("DELETE", "/apis/apps/v1/namespaces/%s/daemonsets/crash" % ns)
    assert r.status in (200, 202), r
