"""PodDisruptionBudgets and the eviction subresource, on the hollow cluster
(3 servers, 6 hollow nodes): the disruption controller
(controllers/disruption.c), pods/eviction (server/eviction.c) and the real
`kubectl drain`.

- `kubectl drain` of a node holding a Deployment's 3 pods, under a budget
  of minAvailable 2: the node is cordoned, one pod is evicted at once, the
  next eviction is refused (429) until the ReplicaSet's replacement on
  another node is Ready, and drain finishes with every pod elsewhere;
  `kubectl get pdb` shows Kubernetes' columns.
- The API: a pod no budget covers is deleted gracefully (DisruptionTarget
  condition, then gone), or at once with gracePeriodSeconds 0, and not
  with a wrong uid precondition (409); a budget with no disruption left answers 429
  with its DisruptionBudget cause; two budgets are a 500; a budget that
  allows one is decremented (a dry run, here in a policy/v1beta1 body,
  writes nothing); bad bodies and bad budgets get Statuses (400, 422).
  `kubectl api-resources` lists poddisruptionbudgets (pdb)."""
import json

from conftest import ensure_ns, wait_for

NODE_DRAINED = "hollow-0004"
NODE_SPARE = "hollow-0005"


def pods_path(ns, name=""):
    return "/api/v1/namespaces/%s/pods%s" % (ns, "/" + name if name else "")


def pdb_path(ns, name=""):
    return "/apis/policy/v1/namespaces/%s/poddisruptionbudgets%s" % (
        ns, "/" + name if name else "")


def eviction(name, ns, **extra):
    body = {"apiVersion": "policy/v1", "kind": "Eviction",
            "metadata": {"name": name, "namespace": ns}}
    body.update(extra)
    return body


def evict(s, ns, name, body=None):
    return s.req("POST", pods_path(ns, name) + "/eviction", body or eviction(name, ns))


def pod(name, node, labels):
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "labels": labels},
            "spec": {"nodeName": node, "containers": [{"name": "c", "image": "busybox"}]}}


def pdb(name, selector, **spec):
    spec["selector"] = {"matchLabels": selector}
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
            "metadata": {"name": name}, "spec": spec}


def ready(p):
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in p.get("status", {}).get("conditions", []))


def status_of(s, ns, name):
    r = s.get(pdb_path(ns, name), timeout=10)
    assert r.status == 200, r
    return r.json


def wait_budget(s, ns, name, **want):
    """Waits until the controller has observed the budget and its status
    has the wanted counts; returns it."""
    def done():
        b = status_of(s, ns, name)
        st = b.get("status", {})
        if st.get("observedGeneration") != b["metadata"]["generation"]:
            return None
        return b if all(st.get(k) == v for k, v in want.items()) else None
    return wait_for("budget %s at %s" % (name, want), done, 30)


def test_drain_respects_the_budget(hollow_cluster):
    c = hollow_cluster
    s = c.followers()[0]
    k = c.kubectl(s)
    ns = "drain"
    ensure_ns(s, ns)
    k.run("label", "node", NODE_DRAINED, "pool=drain")
    try:
        dep = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
               "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                        "template": {"metadata": {"labels": {"app": "web"}},
                                     "spec": {"nodeSelector": {"pool": "drain"},
                                              "containers": [{"name": "c", "image": "nginx"}]}}}}
        r = s.req("POST", "/apis/apps/v1/namespaces/%s/deployments" % ns, dep)
        assert r.status == 201, r
        k.run("create", "pdb", "web", "-n", ns, "--selector=app=web", "--min-available=2")
        wait_budget(s, ns, "web", currentHealthy=3, desiredHealthy=2, expectedPods=3,
                    disruptionsAllowed=1)
        res = k.run("api-resources", "--api-group=policy", "--no-headers").stdout.split()
        assert res == ["poddisruptionbudgets", "pdb", "policy/v1", "true",
                       "PodDisruptionBudget"], res
        out = k.run("get", "pdb", "-n", ns).stdout.split("\n")
        assert out[0].split() == ["NAME", "MIN", "AVAILABLE", "MAX", "UNAVAILABLE", "ALLOWED",
                                  "DISRUPTIONS", "AGE"], out
        assert out[1].split()[:4] == ["web", "2", "N/A", "1"], out
        # Replacements may only go to the spare node.
        k.run("label", "node", NODE_SPARE, "pool=drain")
        p = k.run("drain", NODE_DRAINED, "--ignore-daemonsets", "--delete-emptydir-data",
                  "--timeout=90s", ok=False, timeout=120)
        assert p.returncode == 0, (p.stdout, p.stderr)
        assert "evicted" in p.stdout, p.stdout
        assert "Cannot evict pod as it would violate the pod's disruption budget" in p.stderr, \
            p.stderr  # the second eviction waited for the first pod's replacement
        node = s.get("/api/v1/nodes/" + NODE_DRAINED).json
        assert node["spec"].get("unschedulable") is True
        items = s.get(pods_path(ns) + "?labelSelector=app%3Dweb").json["items"]
        live = [i for i in items if not i["metadata"].get("deletionTimestamp")]
        assert len(live) == 3 and all(ready(i) for i in live), live
        assert {i["spec"]["nodeName"] for i in live} == {NODE_SPARE}, live
    finally:
        k.run("uncordon", NODE_DRAINED, ok=False)
        k.run("label", "node", NODE_DRAINED, NODE_SPARE, "pool-", ok=False)


def test_eviction_api(hollow_cluster):
    c = hollow_cluster
    s = c.followers()[0]
    ns = "evict-api"
    ensure_ns(s, ns)
    node = "hollow-0001"
    names = (("lonely", "none"), ("quick", "none"), ("guarded", "guarded"), ("loose", "loose"))
    for name, app in names:
        assert s.req("POST", pods_path(ns), pod(name, node, {"app": app})).status == 201
    wait_for("the pods to be Ready", lambda: all(
        ready(s.get(pods_path(ns, n)).json) for n, _ in names), 30)

    # Bad requests: a Status each, nothing deleted.
    r = evict(s, ns, "lonely", eviction("other", ns))
    assert r.status == 400 and r.json["reason"] == "BadRequest", r
    assert r.json["message"] == "name in URL does not match name in Eviction object"
    r = evict(s, ns, "lonely", eviction("lonely", ns, deleteOptions="soon"))
    assert r.status == 400 and r.json["kind"] == "Status", r
    r = s.req("POST", pods_path(ns, "lonely") + "/eviction", b"{not json")
    assert r.status == 400 and r.json["kind"] == "Status", r
    assert evict(s, ns, "nobody").status == 404

    # Bad budgets: 422 with causes.
    r = s.req("POST", pdb_path(ns), pdb("both", {"app": "x"}, minAvailable=1, maxUnavailable=1))
    assert r.status == 422 and r.json["reason"] == "Invalid", r
    assert "minAvailable and maxUnavailable cannot be both set" in r.json["message"], r
    assert r.json["details"]["causes"][0]["field"] == "spec"
    r = s.req("POST", pdb_path(ns), pdb("big", {"app": "x"}, minAvailable="150%"))
    assert r.status == 422, r
    assert r.json["details"]["causes"][0]["field"] == "spec.minAvailable", r

    # No budget: deleted gracefully (bound), with the DisruptionTarget condition.
    r = evict(s, ns, "lonely")
    assert r.status == 201, r
    assert r.json["kind"] == "Status" and r.json["status"] == "Success", r
    got = s.get(pods_path(ns, "lonely"))
    if got.status == 200:  # the agent may already have finished it
        assert got.json["metadata"].get("deletionTimestamp"), got.json
        conds = {cd["type"]: cd for cd in got.json["status"]["conditions"]}
        assert conds["DisruptionTarget"]["reason"] == "EvictionByEvictionAPI", conds
    wait_for("the evicted pod to go", lambda: s.get(pods_path(ns, "lonely")).status == 404, 30)

    # The Eviction's deleteOptions are a DELETE's: a wrong uid precondition
    # is a 409, a grace period of 0 deletes at once.
    r = evict(s, ns, "quick", eviction("quick", ns, deleteOptions={"preconditions": {"uid": "x"}}))
    assert r.status == 409 and r.json["reason"] == "Conflict", r
    r = evict(s, ns, "quick", eviction("quick", ns, deleteOptions={"gracePeriodSeconds": 0}))
    assert r.status == 201, r
    assert s.get(pods_path(ns, "quick")).status == 404

    # A budget with no disruption left: 429 with its cause; the pod stays.
    assert s.req("POST", pdb_path(ns), pdb("guard", {"app": "guarded"}, minAvailable=1)).status == 201
    wait_budget(s, ns, "guard", currentHealthy=1, desiredHealthy=1, disruptionsAllowed=0)
    r = evict(s, ns, "guarded")
    assert r.status == 429, r
    assert r.json["reason"] == "TooManyRequests", r
    assert r.json["message"] == "Cannot evict pod as it would violate the pod's disruption budget."
    assert r.json["details"]["causes"] == [{
        "reason": "DisruptionBudget",
        "message": "The disruption budget guard needs 1 healthy pods and has 1 currently"}], r
    assert not s.get(pods_path(ns, "guarded")).json["metadata"].get("deletionTimestamp")
    cond = [cd for cd in status_of(s, ns, "guard")["status"]["conditions"]
            if cd["type"] == "DisruptionAllowed"]
    assert cond and cond[0]["status"] == "False" and cond[0]["reason"] == "InsufficientPods"

    # Two budgets: Kubernetes does not choose.
    assert s.req("POST", pdb_path(ns), pdb("guard2", {"app": "guarded"}, maxUnavailable="50%")).status == 201
    r = evict(s, ns, "guarded")
    assert r.status == 500, r
    assert r.json["message"] == ("This pod has more than one PodDisruptionBudget, which the "
                                 "eviction subresource does not support."), r

    # A budget that allows one: decremented, the pod recorded, then deleted.
    assert s.req("POST", pdb_path(ns), pdb("loose", {"app": "loose"}, minAvailable=0)).status == 201
    wait_budget(s, ns, "loose", currentHealthy=1, desiredHealthy=0, disruptionsAllowed=1)
    dry = eviction("loose", ns, deleteOptions={"dryRun": ["All"]})
    dry["apiVersion"] = "policy/v1beta1"  # accepted as well
    dry = evict(s, ns, "loose", dry)
    assert dry.status == 201, dry
    assert status_of(s, ns, "loose")["status"]["disruptionsAllowed"] == 1  # nothing written
    r = evict(s, ns, "loose")
    assert r.status == 201, r
    st = status_of(s, ns, "loose")["status"]
    # Taken by the eviction (with "loose" in disruptedPods) or already
    # recounted by the controller (the pod terminating): none left either way.
    assert st["disruptionsAllowed"] == 0, st
    wait_for("the evicted pod to go", lambda: s.get(pods_path(ns, "loose")).status == 404, 30)
    wait_budget(s, ns, "loose", currentHealthy=0, expectedPods=0, disruptionsAllowed=0)
    assert "loose" not in status_of(s, ns, "loose")["status"].get("disruptedPods", {})
