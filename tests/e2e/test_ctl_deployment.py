"""ReplicaSets and Deployments end to end, with the real kubectl, on the
hollow cluster (3 servers, 6 hollow nodes that make bound pods Running and
Ready).

- ReplicaSet: adopts a matching orphan, scales up and down to the exact
  count deleting the least valuable pods first (pod-deletion-cost), releases
  a pod whose labels stop matching and replaces it, keeps its status.
- Deployment: 6 replicas roll out (`kubectl rollout status`), an image
  change makes a new ReplicaSet and rolls within maxSurge / maxUnavailable
  (every state seen through a watch: never more than replicas + surge active, never
  fewer than replicas - unavailable ready), `rollout history` (and
  --revision), `rollout undo --to-revision=1` (revision 1 becomes 3),
  pause (a template change does nothing, scaling still applies) and
  resume; Recreate never runs old and new pods together.
- Failover: the leader is killed -9 in the middle of a rollout; the new
  leader finishes it with one ReplicaSet per template and no ReplicaSet
  above its count; deleting the Deployment then removes its ReplicaSets
  and pods (garbage collector).
- Cascading delete of a Deployment, in each mode: background, foreground
  (the Deployment goes last) and orphan (the ReplicaSet keeps its pods).
"""
import json
import time
import urllib.parse

import pytest

from conftest import ensure_ns, wait_for


def pods(server, ns, selector=None):
    path = "/api/v1/namespaces/%s/pods" % ns
    if selector:
        path += "?labelSelector=" + urllib.parse.quote(selector)
    r = server.get(path, timeout=10)
    assert r.status == 200, r
    return r.json["items"]


def active(items):
    return [p for p in items if not p["metadata"].get("deletionTimestamp")
            and p.get("status", {}).get("phase") not in ("Succeeded", "Failed")]


def ready(p):
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in p.get("status", {}).get("conditions", []))


def controller_of(obj):
    for r in obj["metadata"].get("ownerReferences", []):
        if r.get("controller"):
            return r
    return None


def get(server, path):
    r = server.get(path, timeout=10)
    assert r.status == 200, r
    return r.json


def rs_list(server, ns):
    return get(server, "/apis/apps/v1/namespaces/%s/replicasets" % ns)["items"]


def owned_rss(server, ns, deploy):
    return sorted((rs for rs in rs_list(server, ns)
                   if (controller_of(rs) or {}).get("uid") == deploy["metadata"]["uid"]),
                  key=lambda rs: rs["metadata"]["name"])


def deployment(name, replicas, image, surge=1, unavailable=1, strategy="RollingUpdate"):
    spec = {"replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                         "spec": {"containers": [{"name": "c", "image": image}]}}}
    if strategy == "RollingUpdate":
        spec["strategy"] = {"type": "RollingUpdate",
                            "rollingUpdate": {"maxSurge": surge, "maxUnavailable": unavailable}}
    else:
        spec["strategy"] = {"type": "Recreate"}
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name}, "spec": spec}


class Sampler:
    """Follows a deployment's pods with a watch and records (active, ready,
    {owner: active}) for the start state and after every event, so each
    committed state between start and stop is checked, however fast the
    rollout goes (polling a list could miss states and, on a fast run,
    gather too few samples to mean anything)."""

    def __init__(self, server, ns, selector):
        self.server, self.ns, self.selector = server, ns, selector
        path = "/api/v1/namespaces/%s/pods" % ns
        r = server.get(path + "?labelSelector=" + urllib.parse.quote(selector), timeout=10)
        assert r.status == 200, r
        self.state = {p["metadata"]["name"]: p for p in r.json["items"]}
        self.samples = [self.sample()]
        self.watch = server.watch(path, labelSelector=selector,
                                  resourceVersion=r.json["metadata"]["resourceVersion"])
        self.seen = 0

    def sample(self):
        items = active(self.state.values())
        owners = {}
        for p in items:
            o = (controller_of(p) or {}).get("name", "")
            owners[o] = owners.get(o, 0) + 1
        return (len(items), sum(1 for p in items if ready(p)), owners)

    def fold(self, evs):
        for ev in evs[self.seen:]:
            assert ev["type"] in ("ADDED", "MODIFIED", "DELETED"), ev
            name = ev["object"]["metadata"]["name"]
            if ev["type"] == "DELETED":
                self.state.pop(name, None)
            else:
                self.state[name] = ev["object"]
            self.samples.append(self.sample())
        self.seen = len(evs)

    def stop(self, timeout=30):
        """Folds events until the state is the one a list returns now."""
        want = {p["metadata"]["name"]: p["metadata"]["resourceVersion"]
                for p in pods(self.server, self.ns, self.selector)}

        def caught_up(evs):
            self.fold(evs)
            return {n: p["metadata"]["resourceVersion"] for n, p in self.state.items()} == want
        self.watch.wait("the watch to reach the listed pods", caught_up, timeout)
        self.watch.close()
        return self.samples


def rollout_status(kc, name, ns, timeout=90):
    p = kc.run("rollout", "status", "deployment/" + name, "-n", ns,
               "--timeout=%ds" % timeout, timeout=timeout + 30)
    assert "successfully rolled out" in p.stdout, p.stdout
    return p.stdout


# ------------------------------------------------------------------ ReplicaSet

def test_replicaset_adopt_scale_release(hollow_cluster):
    c = hollow_cluster
    ld = c.leader()
    fo = c.followers(ld)[0]
    ns = "rs-e2e"
    ensure_ns(ld, ns)
    kc = c.kubectl(fo)
    orphan = {"apiVersion": "v1", "kind": "Pod",
              "metadata": {"name": "orphan", "labels": {"app": "web"}},
              "spec": {"containers": [{"name": "c", "image": "nginx"}]}}
    kc.run("apply", "-n", ns, "-f", "-", input=json.dumps(orphan))
    rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "web"},
          "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                   "template": {"metadata": {"labels": {"app": "web", "tier": "x"}},
                                "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}
    kc.run("apply", "-n", ns, "-f", "-", input=json.dumps(rs))

    def owned(n):
        items = active(pods(fo, ns, "app=web"))
        mine = [p for p in items if (controller_of(p) or {}).get("name") == "web"]
        return mine if len(items) == n and len(mine) == n and all(map(ready, mine)) else None
    mine = wait_for("3 ready pods owned by the ReplicaSet", lambda: owned(3), 60)
    assert "orphan" in [p["metadata"]["name"] for p in mine]  # adopted, not replaced
    assert all(p["metadata"]["name"].startswith("web-") for p in mine
               if p["metadata"]["name"] != "orphan")

    kc.run("scale", "rs/web", "-n", ns, "--replicas=6")
    mine = wait_for("6 pods", lambda: owned(6), 60)
    # The two cheapest go first on the way down.
    cheap = sorted(p["metadata"]["name"] for p in mine if p["metadata"]["name"] != "orphan")[:2]
    for name in cheap:
        kc.run("annotate", "pod", name, "-n", ns, "controller.kubernetes.io/pod-deletion-cost=-100")
    kc.run("scale", "rs/web", "-n", ns, "--replicas=4")
    mine = wait_for("4 pods", lambda: owned(4), 60)
    left = {p["metadata"]["name"] for p in mine}
    assert not left & set(cheap), (left, cheap)

    # A pod whose labels stop matching is released and replaced.
    kc.run("label", "pod", "orphan", "-n", ns, "app=other", "--overwrite")
    wait_for("the released pod has no controller",
             lambda: controller_of(get(fo, "/api/v1/namespaces/%s/pods/orphan" % ns)) is None, 30)
    mine = wait_for("4 pods again", lambda: owned(4), 60)
    assert "orphan" not in {p["metadata"]["name"] for p in mine}

    st = wait_for("the status", lambda: (lambda s: s if s.get("readyReplicas") == 4
                                         and s.get("availableReplicas") == 4 else None)(
        get(fo, "/apis/apps/v1/namespaces/%s/replicasets/web" % ns).get("status", {})), 30)
    assert st["replicas"] == 4 and st["fullyLabeledReplicas"] == 4, st
    assert st["observedGeneration"] >= 3, st
    evs = get(fo, "/api/v1/namespaces/%s/events" % ns)["items"]
    reasons = {e["reason"] for e in evs if e["involvedObject"]["name"] == "web"}
    assert {"SuccessfulCreate", "SuccessfulDelete"} <= reasons, reasons
    out = kc.run("get", "rs", "web", "-n", ns).stdout
    assert " 4 " in out, out


def metric(server, name):
    for line in server.get("/metrics").body.decode().splitlines():
        if line.startswith(name + " "):
            return int(line.split()[1])
    return None


def test_followers_keep_the_pod_cache_warm(hollow_cluster):
    """A new leader's first syncs must not wait for its pod cache to be
    built from the whole replica (1.4 s for 10,000 pods): every follower
    keeps it caught up, which /metrics shows."""
    c = hollow_cluster
    ld = c.leader()
    ns = "rs-warm"
    ensure_ns(ld, ns)
    rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "warm"},
          "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "warm"}},
                   "template": {"metadata": {"labels": {"app": "warm"}},
                                "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}
    assert ld.req("POST", "/apis/apps/v1/namespaces/%s/replicasets" % ns, rs).status == 201
    wait_for("3 pods", lambda: len(active(pods(ld, ns, "app=warm"))) == 3, 60)
    for fo in c.followers(ld):
        def warm():
            n = len(fo.get("/api/v1/pods", timeout=30).json["items"])
            return metric(fo, "bosun_controllers_pod_cache_pods") == n and n >= 3
        wait_for("follower %d's pod cache to hold every pod" % fo.id, warm, 30)
        assert metric(fo, "bosun_controllers_pod_cache_revision") > 0


# ------------------------------------------------------------------ Deployment

def test_deployment_rollout_history_undo_pause(hollow_cluster):
    c = hollow_cluster
    ld = c.leader()
    fo = c.followers(ld)[0]
    ns = "deploy-e2e"
    ensure_ns(ld, ns)
    kc = c.kubectl(fo)
    kl = c.kubectl(ld)
    kc.run("apply", "-n", ns, "-f", "-", input=json.dumps(deployment("web", 6, "img:v1")))
    rollout_status(kc, "web", ns)
    d = get(fo, "/apis/apps/v1/namespaces/%s/deployments/web" % ns)
    [rs1] = owned_rss(fo, ns, d)
    h = rs1["metadata"]["labels"]["pod-template-hash"]
    assert rs1["metadata"]["name"] == "web-" + h
    assert rs1["spec"]["selector"]["matchLabels"] == {"app": "web", "pod-template-hash": h}
    assert rs1["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1"
    assert rs1["metadata"]["annotations"]["deployment.kubernetes.io/desired-replicas"] == "6"
    assert rs1["metadata"]["annotations"]["deployment.kubernetes.io/max-replicas"] == "7"
    conds = {x["type"]: x for x in d["status"]["conditions"]}
    assert conds["Available"]["status"] == "True", conds
    assert conds["Progressing"]["reason"] == "NewReplicaSetAvailable", conds
    assert d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1"

    # Image change: a rolling update within maxSurge 1 / maxUnavailable 1.
    sampler = Sampler(ld, ns, "app=web")
    kc.run("set", "image", "deployment/web", "-n", ns, "c=img:v2")
    rollout_status(kc, "web", ns)
    samples = sampler.stop()
    # Six pods made and six removed: at least one state after each.
    assert len(samples) > 12, samples
    assert max(s[0] for s in samples) <= 7, [s for s in samples if s[0] > 7][:5]
    assert min(s[1] for s in samples) >= 5, [s for s in samples if s[1] < 5][:5]
    assert any(len(s[2]) == 2 for s in samples), "never saw both ReplicaSets with pods"
    d = get(fo, "/apis/apps/v1/namespaces/%s/deployments/web" % ns)
    rss = owned_rss(fo, ns, d)
    assert len(rss) == 2, [r["metadata"]["name"] for r in rss]
    rs2 = [r for r in rss if r["metadata"]["name"] != rs1["metadata"]["name"]][0]
    assert rs2["spec"]["replicas"] == 6
    assert rs2["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    assert [r for r in rss if r is not rs2][0]["spec"]["replicas"] == 0
    assert d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    st = d["status"]
    assert (st["replicas"], st["updatedReplicas"], st["readyReplicas"],
            st["availableReplicas"]) == (6, 6, 6, 6), st
    assert st["observedGeneration"] == d["metadata"]["generation"]
    evs = [e["message"] for e in get(fo, "/api/v1/namespaces/%s/events" % ns)["items"]
           if e["reason"] == "ScalingReplicaSet"]
    assert "Scaled up replica set %s from 0 to 6" % rs1["metadata"]["name"] in evs, evs
    assert any(m.startswith("Scaled down replica set %s from" % rs1["metadata"]["name"])
               for m in evs), evs

    hist = kc.run("rollout", "history", "deployment/web", "-n", ns).stdout
    lines = [ln.split()[0] for ln in hist.splitlines()[2:] if ln.strip()]
    assert lines == ["1", "2"], hist
    one = kc.run("rollout", "history", "deployment/web", "-n", ns, "--revision=1").stdout
    assert "img:v1" in one and "pod-template-hash=" + h in one, one

    # Undo to revision 1: that ReplicaSet comes back as revision 3.
    out = kl.run("rollout", "undo", "deployment/web", "-n", ns, "--to-revision=1").stdout
    assert "rolled back" in out, out
    rollout_status(kc, "web", ns)
    d = get(fo, "/apis/apps/v1/namespaces/%s/deployments/web" % ns)
    rss = {r["metadata"]["name"]: r for r in owned_rss(fo, ns, d)}
    assert len(rss) == 2, list(rss)
    back = rss[rs1["metadata"]["name"]]
    assert back["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"
    assert back["metadata"]["annotations"]["deployment.kubernetes.io/revision-history"] == "1"
    assert back["spec"]["replicas"] == 6
    wait_for("the deployment's revision 3", lambda: get(
        fo, "/apis/apps/v1/namespaces/%s/deployments/web" % ns)["metadata"]["annotations"].get(
        "deployment.kubernetes.io/revision") == "3", 20)
    hist = kc.run("rollout", "history", "deployment/web", "-n", ns).stdout
    assert [ln.split()[0] for ln in hist.splitlines()[2:] if ln.strip()] == ["2", "3"], hist
    imgs = {p["spec"]["containers"][0]["image"] for p in active(pods(fo, ns, "app=web"))}
    assert imgs == {"img:v1"}, imgs

    # Pause: a template change is not rolled out, scaling still is.
    kc.run("rollout", "pause", "deployment/web", "-n", ns)
    kc.run("set", "image", "deployment/web", "-n", ns, "c=img:v3")
    kc.run("scale", "deployment/web", "-n", ns, "--replicas=8")

    def paused_scaled():
        d = get(fo, "/apis/apps/v1/namespaces/%s/deployments/web" % ns)
        if d["status"].get("observedGeneration") != d["metadata"]["generation"]:
            return None
        if d["status"].get("availableReplicas") != 8:
            return None
        return d
    d = wait_for("the paused deployment scaled to 8", paused_scaled, 60)
    assert len(owned_rss(fo, ns, d)) == 2
    cond = {x["type"]: x for x in d["status"]["conditions"]}["Progressing"]
    assert (cond["status"], cond["reason"]) == ("Unknown", "DeploymentPaused"), cond
    assert rss[rs1["metadata"]["name"]]["metadata"]["uid"] in {
        r["metadata"]["uid"] for r in owned_rss(fo, ns, d) if r["spec"]["replicas"] == 8}
    kc.run("rollout", "resume", "deployment/web", "-n", ns)
    rollout_status(kc, "web", ns)
    imgs = {p["spec"]["containers"][0]["image"] for p in active(pods(fo, ns, "app=web"))}
    assert imgs == {"img:v3"}, imgs
    assert len(active(pods(fo, ns, "app=web"))) == 8
    d = get(fo, "/apis/apps/v1/namespaces/%s/deployments/web" % ns)
    assert d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "4"


def test_deployment_recreate(hollow_cluster):
    c = hollow_cluster
    ld = c.leader()
    ns = "deploy-recreate"
    ensure_ns(ld, ns)
    kc = c.kubectl(ld)
    kc.run("apply", "-n", ns, "-f", "-",
           input=json.dumps(deployment("rc", 4, "img:v1", strategy="Recreate")))
    rollout_status(kc, "rc", ns)
    sampler = Sampler(ld, ns, "app=rc")
    kc.run("set", "image", "deployment/rc", "-n", ns, "c=img:v2")
    rollout_status(kc, "rc", ns)
    samples = sampler.stop()
    assert all(len(s[2]) <= 1 for s in samples), [s for s in samples if len(s[2]) > 1][:3]
    assert any(s[0] == 0 for s in samples), "never saw the old pods all gone"
    imgs = {p["spec"]["containers"][0]["image"] for p in active(pods(ld, ns, "app=rc"))}
    assert imgs == {"img:v2"}


@pytest.mark.parametrize("cascade", ["background", "foreground", "orphan"])
def test_deployment_cascading_delete(hollow_cluster, cascade):
    """kubectl delete deployment --cascade=...: background removes the
    Deployment at once and its ReplicaSet and pods after; foreground keeps
    the Deployment (deletionTimestamp, foregroundDeletion finalizer) until
    the ReplicaSet and its pods are gone; orphan leaves the ReplicaSet
    without its owner and the pods with theirs."""
    c = hollow_cluster
    ld = c.leader()
    fo = c.followers(ld)[0]
    ns = "deploy-del-" + cascade
    ensure_ns(ld, ns)
    kc = c.kubectl(fo)
    kc.run("apply", "-n", ns, "-f", "-", input=json.dumps(deployment("gc", 3, "img:v1")))
    rollout_status(kc, "gc", ns)
    d = get(ld, "/apis/apps/v1/namespaces/%s/deployments/gc" % ns)
    (rs,) = owned_rss(ld, ns, d)
    dpath = "/apis/apps/v1/namespaces/%s/deployments/gc" % ns
    kc.run("delete", "deployment/gc", "-n", ns, "--cascade=" + cascade, "--wait=false")
    if cascade == "foreground":
        marked = ld.get(dpath, timeout=10)
        if marked.status == 200:  # it may already be gone: pods go fast
            assert marked.json["metadata"].get("deletionTimestamp"), marked.json
            assert "foregroundDeletion" in marked.json["metadata"]["finalizers"], marked.json

    def gone(path):
        return ld.get(path, timeout=10).status == 404
    rspath = "/apis/apps/v1/namespaces/%s/replicasets/%s" % (ns, rs["metadata"]["name"])
    if cascade == "orphan":
        wait_for("the Deployment gone", lambda: gone(dpath), 30)
        time.sleep(1)  # time for a wrong collector to act
        left = get(ld, rspath)
        assert not left["metadata"].get("ownerReferences"), left["metadata"]
        mine = [p for p in active(pods(ld, ns, "app=gc"))
                if (controller_of(p) or {}).get("uid") == rs["metadata"]["uid"]]
        assert len(mine) == 3, mine
        return
    seen = []

    def collected():
        left = [p for p in pods(ld, ns, "app=gc")]
        seen.append((len(left), gone(rspath), gone(dpath)))
        return not left and seen[-1][1] and seen[-1][2]
    wait_for("the ReplicaSet, pods and Deployment gone", collected, 60, interval=0.05)
    if cascade == "foreground":
        # The owner went last: never gone while a dependent was left.
        assert all(not d_gone or (n == 0 and rs_gone) for n, rs_gone, d_gone in seen), seen


# -------------------------------------------------------------------- failover

def test_deployment_leader_killed_mid_rollout(hollow_cluster):
    c = hollow_cluster
    ld = c.leader()
    ns = "deploy-failover"
    ensure_ns(ld, ns)
    kc = c.kubectl(ld)
    kc.run("apply", "-n", ns, "-f", "-",
           input=json.dumps(deployment("fo", 30, "img:v1", surge="20%", unavailable="10%")))
    rollout_status(kc, "fo", ns)
    kc.run("set", "image", "deployment/fo", "-n", ns, "c=img:v2")

    def mid_rollout():
        d = get(ld, "/apis/apps/v1/namespaces/%s/deployments/fo" % ns)
        rss = owned_rss(ld, ns, d)
        return len(rss) == 2 and all(r["spec"]["replicas"] > 0 for r in rss)
    wait_for("the rollout under way", mid_rollout, 30, interval=0.02)
    ld.kill()
    try:
        live = c.live()
        new = c.leader(servers=live, timeout=30)
        assert new is not ld
        kn = c.kubectl(new)
        rollout_status(kn, "fo", ns, timeout=120)
        d = get(new, "/apis/apps/v1/namespaces/%s/deployments/fo" % ns)

        def settled():
            rss = owned_rss(new, ns, d)
            items = active(pods(new, ns, "app=fo"))
            per = {}
            for p in items:
                o = (controller_of(p) or {}).get("uid")
                per[o] = per.get(o, 0) + 1
            ok = all(per.get(r["metadata"]["uid"], 0) == r["spec"]["replicas"] for r in rss)
            return (rss, items) if ok and len(items) == 30 else None
        rss, items = wait_for("the ReplicaSets settled", settled, 60)
        assert len(rss) == 2, [r["metadata"]["name"] for r in rss]
        sizes = sorted(r["spec"]["replicas"] for r in rss)
        assert sizes == [0, 30], sizes
        assert {p["spec"]["containers"][0]["image"] for p in items} == {"img:v2"}
        revs = sorted(r["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
                      for r in rss)
        assert revs == ["1", "2"], revs
    finally:
        ld.start()
    c.wait_healthy()
    c.leader(timeout=30)

    # Deleting the Deployment takes its ReplicaSets and pods with it.
    kc = c.kubectl(c.leader())
    kc.run("delete", "deployment", "fo", "-n", ns)
    wait_for("the ReplicaSets gone", lambda: not rs_list(c.leader(), ns), 60)
    wait_for("the pods gone", lambda: not pods(c.leader(), ns, "app=fo"), 60)
    c.wait_converged(timeout=60)
