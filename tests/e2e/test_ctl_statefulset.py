"""StatefulSets with the real kubectl, on a 3-server cluster with 6 hollow
nodes: the StatefulSet controller (controllers/statefulset.c).

- OrderedReady: web-0, web-1, web-2 are created one after the other, each
  only once its predecessor is Ready (seen in a watch), with their claims
  data-web-N, stable identities and a ControllerRevision; `kubectl scale`
  to 1 removes web-2 then web-1 (each after the previous one is gone) and
  keeps every claim.
- Parallel: all pods are created at once and removed at once.
- RollingUpdate with a partition: only the ordinals at or above it move to
  the new template, then all of them, highest first; `kubectl rollout
  history` lists the revisions and `kubectl rollout undo` goes back (the
  old revision renumbered as the newest).
- persistentVolumeClaimRetentionPolicy Delete: scaled-away pods' claims
  get the pod as owner and go with it; the rest go with the set.
- The leader is killed -9 during a scale-up to 5: the new leader finishes
  it with exactly one pod per ordinal (one uid per name in a watch) and
  every claim."""
import json
import time

from conftest import controller_ref, ensure_ns, wait_for


def sts(name, replicas, policy="OrderedReady", claims=True, image="nginx:1", retention=None,
        partition=None):
    spec = {"replicas": replicas, "serviceName": name, "podManagementPolicy": policy,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                         "spec": {"containers": [{"name": "c", "image": image}]}}}
    if claims:
        spec["volumeClaimTemplates"] = [{
            "metadata": {"name": "data", "labels": {"tier": "db"}},
            "spec": {"accessModes": ["ReadWriteOnce"],
                     "resources": {"requests": {"storage": "1Gi"}}}}]
    if retention:
        spec["persistentVolumeClaimRetentionPolicy"] = retention
    if partition is not None:
        spec["updateStrategy"] = {"type": "RollingUpdate",
                                  "rollingUpdate": {"partition": partition}}
    return {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": name},
            "spec": spec}


def apply(k, ns, obj):
    k.run("apply", "-n", ns, "-f", "-", input=json.dumps(obj))


def pods(s, ns, app):
    r = s.get("/api/v1/namespaces/%s/pods?labelSelector=app%%3D%s" % (ns, app), timeout=10)
    assert r.status == 200, r
    return {p["metadata"]["name"]: p for p in r.json["items"]}


def claims(s, ns):
    r = s.get("/api/v1/namespaces/%s/persistentvolumeclaims" % ns, timeout=10)
    assert r.status == 200, r
    return {c["metadata"]["name"]: c for c in r.json["items"]}


def get_sts(s, ns, name):
    r = s.get("/apis/apps/v1/namespaces/%s/statefulsets/%s" % (ns, name), timeout=10)
    assert r.status == 200, r
    return r.json


def ready(p):
    return p.get("status", {}).get("phase") == "Running" and any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in p.get("status", {}).get("conditions", []))


def pod_watch(s, ns):
    """A watch on the namespace's pods from now on."""
    path = "/api/v1/namespaces/%s/pods" % ns
    rv = s.get(path).json["metadata"]["resourceVersion"]
    return s.watch(path, resourceVersion=rv)


def ev_name(e):
    return e["object"]["metadata"]["name"]


def first_index(evs, pred):
    for i, e in enumerate(evs):
        if pred(e):
            return i
    return None


def added_at(evs, name):
    return first_index(evs, lambda e: e["type"] == "ADDED" and ev_name(e) == name)


def ready_at(evs, name):
    return first_index(evs, lambda e: e["type"] != "DELETED" and ev_name(e) == name
                       and ready(e["object"]))


def leaving_at(evs, name):
    """When the pod started to go: marked for deletion, or deleted."""
    return first_index(evs, lambda e: ev_name(e) == name and (
        e["type"] == "DELETED" or e["object"]["metadata"].get("deletionTimestamp")))


def deleted_at(evs, name):
    return first_index(evs, lambda e: e["type"] == "DELETED" and ev_name(e) == name)


def rollout(k, ns, name, timeout=90):
    return k.run("rollout", "status", "-n", ns, "statefulset/" + name,
                 "--timeout=%ds" % timeout, timeout=timeout + 10).stdout


def test_ordered_ready_create_and_scale_down(hollow_cluster):
    c = hollow_cluster
    ld = c.leader()
    f = c.followers(ld)[0]
    k = c.kubectl(f)
    ns = "sts-ordered"
    ensure_ns(f, ns)
    w = pod_watch(f, ns)
    apply(k, ns, sts("web", 3))
    out = rollout(k, ns, "web")
    assert "partitioned roll out complete" in out or "rolling update complete" in out, out

    evs = w.wait("web-2 Ready", lambda evs: ready_at(evs, "web-2") is not None, 30)
    for n in range(2):
        a, r = added_at(evs, "web-%d" % (n + 1)), ready_at(evs, "web-%d" % n)
        assert a is not None and r is not None and a > r, \
            "web-%d created before web-%d was Ready" % (n + 1, n)

    ps = pods(f, ns, "web")
    assert sorted(ps) == ["web-0", "web-1", "web-2"], sorted(ps)
    st = get_sts(f, ns, "web")
    rev = st["status"]["updateRevision"]
    for n in range(3):
        p = ps["web-%d" % n]
        md, spec = p["metadata"], p["spec"]
        assert md["labels"]["statefulset.kubernetes.io/pod-name"] == "web-%d" % n
        assert md["labels"]["apps.kubernetes.io/pod-index"] == str(n)
        assert md["labels"]["controller-revision-hash"] == rev
        assert spec["hostname"] == "web-%d" % n and spec["subdomain"] == "web", spec
        vols = {v["name"]: v for v in spec.get("volumes", [])}
        assert vols["data"]["persistentVolumeClaim"]["claimName"] == "data-web-%d" % n
        ref = md["ownerReferences"][0]
        assert ref["kind"] == "StatefulSet" and ref["controller"] is True, ref
    cl = claims(f, ns)
    assert sorted(cl) == ["data-web-0", "data-web-1", "data-web-2"], sorted(cl)
    assert cl["data-web-0"]["metadata"]["labels"] == {"app": "web", "tier": "db"}
    s = st["status"]
    assert (s["replicas"], s["readyReplicas"], s["currentReplicas"], s["updatedReplicas"]) \
        == (3, 3, 3, 3), s
    assert s["currentRevision"] == rev and s["observedGeneration"] == st["metadata"]["generation"]
    crs = k.json("get", "controllerrevisions", "-n", ns)["items"]
    assert [(r["metadata"]["name"], r["revision"]) for r in crs] == [(rev, 1)], crs
    assert crs[0]["data"]["spec"]["template"]["$patch"] == "replace"
    ev = k.json("get", "events", "-n", ns, "--field-selector", "reason=SuccessfulCreate")["items"]
    msgs = {e["message"] for e in ev}
    assert "create Pod web-0 in StatefulSet web successful" in msgs, msgs
    assert "create Claim data-web-0 Pod web-0 in StatefulSet web success" in msgs, msgs

    # Scale down to 1: web-2 goes, then web-1 once web-2 is gone; claims stay.
    k.run("scale", "-n", ns, "statefulset/web", "--replicas=1")
    evs = w.wait("web-1 deleted", lambda evs: deleted_at(evs, "web-1") is not None, 60)
    assert deleted_at(evs, "web-2") < leaving_at(evs, "web-1"), \
        [(e["type"], ev_name(e)) for e in evs[-10:]]
    wait_for("status.replicas 1", lambda: get_sts(f, ns, "web")["status"]["replicas"] == 1, 30)
    assert sorted(pods(f, ns, "web")) == ["web-0"]
    assert sorted(claims(f, ns)) == ["data-web-0", "data-web-1", "data-web-2"]
    w.close()


def test_parallel_creates_and_deletes_at_once(hollow_cluster):
    c = hollow_cluster
    ld = c.leader()
    k = c.kubectl(ld)
    ns = "sts-parallel"
    ensure_ns(ld, ns)
    w = pod_watch(ld, ns)
    apply(k, ns, sts("par", 4, policy="Parallel"))
    evs = w.wait("4 pods Ready", lambda evs: all(ready_at(evs, "par-%d" % n) is not None
                                                 for n in range(4)), 60)
    first_ready = min(ready_at(evs, "par-%d" % n) for n in range(4))
    assert all(added_at(evs, "par-%d" % n) < first_ready for n in range(4)), \
        "not all created before the first was Ready"
    assert sorted(claims(ld, ns)) == ["data-par-%d" % n for n in range(4)]
    k.run("scale", "-n", ns, "statefulset/par", "--replicas=1")
    evs = w.wait("par-1..3 deleted", lambda evs: all(deleted_at(evs, "par-%d" % n) is not None
                                                     for n in range(1, 4)), 60)
    # Highest first does not hold here: they all go at once. Pods are
    # deleted gracefully (marked, then removed by their node), so all three
    # are marked before the first of them is gone.
    gone = sorted(deleted_at(evs, "par-%d" % n) for n in range(1, 4))
    marked = [next(i for i, e in enumerate(evs) if ev_name(e) == "par-%d" % n and
                   e["object"]["metadata"].get("deletionTimestamp")) for n in range(1, 4)]
    assert max(marked) < gone[0], [(e["type"], ev_name(e)) for e in evs]
    wait_for("status.replicas 1", lambda: get_sts(ld, ns, "par")["status"]["replicas"] == 1, 30)
    w.close()


def images(s, ns, app):
    return {n: (p["spec"]["containers"][0]["image"],
                p["metadata"]["labels"]["controller-revision-hash"])
            for n, p in pods(s, ns, app).items()}


def test_rolling_update_partition_and_undo(hollow_cluster):
    c = hollow_cluster
    ld = c.leader()
    f = c.followers(ld)[-1]
    k = c.kubectl(f)
    ns = "sts-roll"
    ensure_ns(f, ns)
    apply(k, ns, sts("roll", 3, claims=False, partition=2))
    rollout(k, ns, "roll")
    rev1 = get_sts(f, ns, "roll")["status"]["updateRevision"]

    w = pod_watch(f, ns)
    k.run("set", "image", "-n", ns, "statefulset/roll", "c=nginx:2")
    out = rollout(k, ns, "roll")
    assert "partitioned roll out complete: 1 new pods have been updated" in out, out
    st = get_sts(f, ns, "roll")["status"]
    rev2 = st["updateRevision"]
    assert rev2 != rev1 and st["currentRevision"] == rev1, st
    im = images(f, ns, "roll")
    assert im == {"roll-0": ("nginx:1", rev1), "roll-1": ("nginx:1", rev1),
                  "roll-2": ("nginx:2", rev2)}, im

    # Partition 0: the rest follow, highest ordinal first.
    k.run("patch", "-n", ns, "statefulset/roll", "-p",
          json.dumps({"spec": {"updateStrategy": {"rollingUpdate": {"partition": 0}}}}))
    rollout(k, ns, "roll")
    wait_for("currentRevision = updateRevision", lambda: get_sts(f, ns, "roll")["status"]
             .get("currentRevision") == rev2, 30)
    assert set(images(f, ns, "roll").values()) == {("nginx:2", rev2)}
    evs = w.wait("roll-0 replaced", lambda evs: deleted_at(evs, "roll-0") is not None, 30)
    assert deleted_at(evs, "roll-2") < leaving_at(evs, "roll-1") < leaving_at(evs, "roll-0")
    w.close()

    hist = k.run("rollout", "history", "-n", ns, "statefulset/roll").stdout
    assert [ln.split()[0] for ln in hist.splitlines()[2:] if ln.strip()] == ["1", "2"], hist
    shown = k.run("rollout", "history", "-n", ns, "statefulset/roll", "--revision=1").stdout
    assert "nginx:1" in shown, shown

    # Undo: back to nginx:1, whose revision becomes number 3.
    out = k.run("rollout", "undo", "-n", ns, "statefulset/roll").stdout
    assert "rolled back" in out, out
    rollout(k, ns, "roll")
    wait_for("all at rev1 again", lambda: set(images(f, ns, "roll").values())
             == {("nginx:1", rev1)}, 60)
    st = get_sts(f, ns, "roll")["status"]
    assert st["updateRevision"] == rev1, st
    crs = {r["metadata"]["name"]: r["revision"]
           for r in k.json("get", "controllerrevisions", "-n", ns)["items"]}
    assert crs == {rev1: 3, rev2: 2}, crs


def test_failed_pod_is_replaced(hollow_cluster):
    c = hollow_cluster
    ld = c.leader()
    k = c.kubectl(ld)
    ns = "sts-failed"
    ensure_ns(ld, ns)
    apply(k, ns, sts("fl", 2, claims=False))
    rollout(k, ns, "fl")
    old = pods(ld, ns, "fl")["fl-1"]
    path = "/api/v1/namespaces/%s/pods/fl-1" % ns
    old["status"]["phase"] = "Failed"
    w = pod_watch(ld, ns)
    r = ld.req("PUT", path + "/status", old)
    assert r.status == 200, r

    def replaced():
        p = pods(ld, ns, "fl").get("fl-1")
        return p and p["metadata"]["uid"] != old["metadata"]["uid"] and ready(p)
    wait_for("fl-1 replaced and Ready", replaced, 30)
    evs = w.wait("fl-1 deleted", lambda evs: deleted_at(evs, "fl-1") is not None, 10)
    # The new fl-1 came after the old one was gone: never two at once.
    assert deleted_at(evs, "fl-1") < added_at(evs, "fl-1"), [(e["type"], ev_name(e))
                                                             for e in evs]
    ev = k.json("get", "events", "-n", ns, "--field-selector", "reason=RecreatingFailedPod")
    assert ev["items"], ev
    w.close()


def test_claims_deleted_with_retention_policy_delete(hollow_cluster):
    c = hollow_cluster
    ld = c.leader()
    k = c.kubectl(c.followers(ld)[0])
    ns = "sts-retention"
    ensure_ns(ld, ns)
    apply(k, ns, sts("db", 3, policy="Parallel",
                     retention={"whenDeleted": "Delete", "whenScaled": "Delete"}))
    rollout(k, ns, "db")
    cl = claims(ld, ns)
    assert sorted(cl) == ["data-db-0", "data-db-1", "data-db-2"]
    for cm in cl.values():  # whenDeleted: the set owns them
        refs = cm["metadata"].get("ownerReferences", [])
        assert [(r["kind"], r["name"]) for r in refs] == [("StatefulSet", "db")], refs

    k.run("scale", "-n", ns, "statefulset/db", "--replicas=1")
    wait_for("db-1, db-2 gone", lambda: sorted(pods(ld, ns, "db")) == ["db-0"], 60)
    # Their claims were handed to the pods before they went, and the
    # garbage collector takes them (at its next full pass at the latest).
    wait_for("data-db-1, data-db-2 deleted", lambda: sorted(claims(ld, ns)) == ["data-db-0"],
             45, interval=0.5)
    k.run("delete", "-n", ns, "statefulset/db")
    wait_for("data-db-0 deleted with the set", lambda: not claims(ld, ns), 30)


def test_scale_up_survives_leader_kill(hollow_cluster):
    c = hollow_cluster
    ld = c.leader()
    f = c.followers(ld)[0]
    k = c.kubectl(f)
    ns = "sts-failover"
    ensure_ns(f, ns)
    apply(k, ns, sts("fo", 1))
    rollout(k, ns, "fo")
    w = pod_watch(f, ns)
    k.run("scale", "-n", ns, "statefulset/fo", "--replicas=5")
    w.wait("fo-2 created", lambda evs: added_at(evs, "fo-2") is not None, 60)
    at_kill = len(pods(f, ns, "fo"))
    ld.kill()
    assert at_kill < 5, "the leader died after the scale-up, not during it"
    try:
        new = c.leader(servers=c.live())
        assert new is not ld
        wait_for("5 Ready pods on the new leader", lambda: get_sts(new, ns, "fo")["status"]
                 .get("readyReplicas") == 5, 90, interval=0.2)
        ps = pods(new, ns, "fo")
        assert sorted(ps) == ["fo-%d" % n for n in range(5)], sorted(ps)
        assert all(ready(p) for p in ps.values())
        assert sorted(claims(new, ns)) == ["data-fo-%d" % n for n in range(5)]
        evs = w.wait("fo-4 Ready", lambda evs: ready_at(evs, "fo-4") is not None, 30)
        uids = {}
        for e in evs:
            md = e["object"]["metadata"]
            uids.setdefault(md["name"], set()).add(md["uid"])
        assert all(len(u) == 1 for u in uids.values()), uids
        assert not any(e["type"] == "DELETED" for e in evs), "a pod was deleted"
        for n in range(2, 5):  # still in order, across the failover
            assert added_at(evs, "fo-%d" % n) > ready_at(evs, "fo-%d" % (n - 1)), n
        w.close()
    finally:
        ld.start()
        c.wait_healthy()


def test_adopts_orphan_member_and_releases_relabelled_pod(hollow_cluster):
    """getPodsForStatefulSet: an orphan named like the set's pod (isMemberOf:
    SET-ORDINAL) that the selector matches is adopted and the set makes no
    other for that ordinal; an orphan of another name, matching too, is
    left alone. Relabelled out of the selector the pod is released; once it
    is deleted the set makes the ordinal again."""
    c = hollow_cluster
    ld = c.leader()
    ns = "sts-adopt"
    ensure_ns(ld, ns)
    pods_path = "/api/v1/namespaces/%s/pods" % ns
    made = {}
    for name in ("ad-0", "ad-x"):
        body = {"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": name, "labels": {"app": "ad"}},
                "spec": {"containers": [{"name": "c", "image": "nginx:1"}]}}
        r = ld.req("POST", pods_path, body)
        assert r.status == 201, r
        made[name] = r.json["metadata"]["uid"]
    body = sts("ad", 1, claims=False)
    # OnDelete: the orphan is at no revision of the set, and a rolling
    # update would replace it at once.
    body["spec"]["updateStrategy"] = {"type": "OnDelete"}
    r = ld.req("POST", "/apis/apps/v1/namespaces/%s/statefulsets" % ns, body)
    assert r.status == 201, r
    uid = r.json["metadata"]["uid"]

    def adopted():
        ref = controller_ref(ld.get(pods_path + "/ad-0").json)
        return ref if ref and ref["uid"] == uid else None
    ref = wait_for("ad-0 adopted", adopted, 15)
    assert ref == {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "ad", "uid": uid,
                   "controller": True, "blockOwnerDeletion": True}, ref
    time.sleep(1)  # a sync or two more
    now = pods(ld, ns, "ad")
    assert {n: p["metadata"]["uid"] for n, p in now.items()} == made, now.keys()
    assert not controller_ref(now["ad-x"]), now["ad-x"]["metadata"]

    r = ld.req("PATCH", pods_path + "/ad-0", {"metadata": {"labels": {"app": "gone"}}},
               headers={"Content-Type": "application/merge-patch+json"})
    assert r.status == 200, r
    wait_for("ad-0 released",
             lambda: not controller_ref(ld.get(pods_path + "/ad-0").json), 15)
    r = ld.req("DELETE", pods_path + "/ad-0", {"kind": "DeleteOptions", "apiVersion": "v1",
                                               "gracePeriodSeconds": 0})
    assert r.status in (200, 202), r

    def remade():
        p = pods(ld, ns, "ad").get("ad-0")
        return p and p["metadata"]["uid"] != made["ad-0"] and \
            (controller_ref(p) or {}).get("uid") == uid
    wait_for("ad-0 made again by the set", remade, 20)
    r = ld.req("DELETE", pods_path + "/ad-x")
    assert r.status in (200, 202), r
