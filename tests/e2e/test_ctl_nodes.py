"""Pods leaving nodes, on a 3-server cluster with 6 hollow nodes: the taint
eviction controller (controllers/tainteviction.c) and the pod garbage
collector (controllers/podgc.c).

- `kubectl taint node ... :NoExecute` evicts at once the pods that do not
  tolerate it (DisruptionTarget condition, TaintManagerEviction event), the
  one tolerating it for 5 s after about 5 s, and never the one tolerating
  it forever; removing the taint stops nothing that was already due.
- A pod bound to a node that is deleted goes after PodGC's 40 s
  quarantine, and a pod on a node that comes back in time stays.
- The leader is killed while a pod's toleration is running: the new
  leader evicts it on time (the deadline comes from the taint's timeAdded,
  not from when a leader saw it)."""
import time

from conftest import ensure_ns, wait_for

TAINT = "bosun.dev/test"


def pod(name, node, tolerations=None):
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "labels": {"app": "evict"}},
            "spec": {"nodeName": node, "tolerations": tolerations or [],
                     "containers": [{"name": "c", "image": "busybox"}]}}


def tol(seconds=None, key=TAINT):
    t = {"key": key, "operator": "Exists", "effect": "NoExecute"}
    if seconds is not None:
        t["tolerationSeconds"] = seconds
    return t


def pods_path(ns, name=""):
    return "/api/v1/namespaces/%s/pods%s" % (ns, "/" + name if name else "")


def exists(s, ns, name):
    return s.get(pods_path(ns, name), timeout=10).status == 200


def test_noexecute_taint_evicts_by_toleration(hollow_cluster):
    c = hollow_cluster
    ld = c.leader()
    f = c.followers(ld)[0]
    k = c.kubectl(f)
    ns = "evict"
    ensure_ns(f, ns)
    node = "hollow-0001"
    for name, tols in (("none", []), ("five", [tol(5)]), ("forever", [tol()]),
                       ("other", [tol(key="something-else")])):
        r = f.req("POST", pods_path(ns), pod(name, node, tols))
        assert r.status == 201, r.text
    wait_for("the pods to run", lambda: all(
        f.get(pods_path(ns, n)).json.get("status", {}).get("phase") == "Running"
        for n in ("none", "five", "forever", "other")), 60)
    t0 = time.time()
    k.run("taint", "node", node, TAINT + "=x:NoExecute")
    try:
        taints = f.get("/api/v1/nodes/" + node).json["spec"]["taints"]
        assert any(t["key"] == TAINT and t["effect"] == "NoExecute" for t in taints), taints
        wait_for("the untolerating pods to be evicted",
                 lambda: not exists(f, ns, "none") and not exists(f, ns, "other"), 20)
        assert exists(f, ns, "five"), "evicted before its 5 s"
        wait_for("the 5 s pod to be evicted", lambda: not exists(f, ns, "five"), 30)
        took = time.time() - t0
        assert took >= 4.0, took  # kubectl stamps timeAdded: the grace is measured from it
        time.sleep(2)
        assert exists(f, ns, "forever")
        ev = k.json("get", "events", "-n", ns, "--field-selector",
                    "reason=TaintManagerEviction")["items"]
        assert {e["involvedObject"]["name"] for e in ev} >= {"none", "five", "other"}, ev
    finally:
        k.run("taint", "node", node, TAINT + "-")


def test_eviction_deadline_survives_failover(hollow_cluster):
    c = hollow_cluster
    ld = c.leader()
    f = c.followers(ld)[0]
    ns = "evict-failover"
    ensure_ns(f, ns)
    node = "hollow-0002"
    assert f.req("POST", pods_path(ns), pod("twelve", node, [tol(12)])).status == 201
    k = c.kubectl(f)
    t0 = time.time()
    k.run("taint", "node", node, TAINT + "=y:NoExecute")
    try:
        time.sleep(2)
        ld.kill()
        new = c.leader(servers=c.live())
        assert new is not ld
        assert exists(new, ns, "twelve")
        wait_for("the new leader to evict on time", lambda: not exists(new, ns, "twelve"), 40)
        took = time.time() - t0
        assert 10.0 <= took <= 30.0, took
    finally:
        k.run("taint", "node", node, TAINT + "-")
        ld.start()
        c.wait_healthy()


def test_pod_gc_deletes_pods_of_deleted_nodes(hollow_cluster):
    c = hollow_cluster
    s = c.leader()
    ns = "podgc"
    ensure_ns(s, ns)
    for n in ("ghost-1", "ghost-2"):
        r = s.req("POST", "/api/v1/nodes", {"apiVersion": "v1", "kind": "Node",
                                     "metadata": {"name": n}})
        assert r.status == 201, r.text
    assert s.req("POST", pods_path(ns), pod("orphan", "ghost-1")).status == 201
    assert s.req("POST", pods_path(ns), pod("kept", "ghost-2")).status == 201
    t0 = time.time()
    assert s.req("DELETE", "/api/v1/nodes/ghost-1").status == 200
    # ghost-2 goes and comes back within the quarantine: its pod stays
    assert s.req("DELETE", "/api/v1/nodes/ghost-2").status == 200
    assert s.req("POST", "/api/v1/nodes", {"apiVersion": "v1", "kind": "Node",
                                    "metadata": {"name": "ghost-2"}}).status == 201
    time.sleep(20)
    assert exists(s, ns, "orphan"), "deleted before the 40 s quarantine"
    wait_for("the orphan pod to go", lambda: not exists(c.leader(), ns, "orphan"), 60)
    assert time.time() - t0 >= 38
    assert exists(c.leader(), ns, "kept")
    s.req("DELETE", "/api/v1/nodes/ghost-2")
