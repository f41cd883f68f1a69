"""The leader schedules pods (scheduler/), end to end on real servers.

Nodes are registered through the API here, so each placement rule can be
checked on nodes built for it; tests/e2e/test_hollow_scheduling.py does the
same at scale on hollow nodes and kills the leader mid-run.

Checked: every filter (resources, nodeSelector and node affinity, taints
and tolerations, cordon, host ports, pod anti-affinity, a user's
spec.nodeName, another schedulerName left alone), the PodScheduled=False
condition and the FailedScheduling event with kube-scheduler's message, a
retry when a node that fits appears, the Scheduled event, the node
lifecycle controller turning a node without Lease renewals NotReady (and
the scheduler avoiding it), and /metrics.
"""
import json
import time

import pytest

from conftest import ensure_ns, wait_for

NS = "sched"


def node(name, cpu="4", memory="8Gi", pods="110", labels=None, taints=None,
         unschedulable=False, ready=True):
    lab = {"kubernetes.io/hostname": name}
    lab.update(labels or {})
    spec = {}
    if taints:
        spec["taints"] = taints
    if unschedulable:
        spec["unschedulable"] = True
    alloc = {"cpu": cpu, "memory": memory, "pods": pods}
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": lab},
            "spec": spec,
            "status": {"capacity": alloc, "allocatable": alloc,
                       "conditions": [{"type": "Ready",
                                       "status": "True" if ready else "False",
                                       "reason": "KubeletReady"}]}}


def pod(name, cpu=None, memory=None, labels=None, **spec):
    ctr = {"name": "c", "image": "registry.k8s.io/pause:3.10"}
    req = {}
    if cpu:
        req["cpu"] = cpu
    if memory:
        req["memory"] = memory
    if req:
        ctr["resources"] = {"requests": req}
    if "ports" in spec:
        ctr["ports"] = spec.pop("ports")
    s = {"containers": [ctr]}
    s.update(spec)
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "labels": labels or {}}, "spec": s}


def create(s, obj, ns=NS):
    path = "/api/v1/nodes" if obj["kind"] == "Node" else "/api/v1/namespaces/%s/pods" % ns
    r = s.req("POST", path, obj)
    assert r.status == 201, r
    return r.json


def get_pod(s, name, ns=NS):
    r = s.get("/api/v1/namespaces/%s/pods/%s" % (ns, name))
    assert r.status == 200, r
    return r.json


def node_of(s, name, ns=NS):
    return get_pod(s, name, ns)["spec"].get("nodeName", "")


def wait_bound(s, name, ns=NS, timeout=20):
    wait_for("pod %s to be bound" % name, lambda: node_of(s, name, ns), timeout)
    return node_of(s, name, ns)


def wait_unschedulable(s, name, ns=NS, timeout=20):
    def cond():
        for c in get_pod(s, name, ns).get("status", {}).get("conditions", []):
            if c["type"] == "PodScheduled" and c["status"] == "False":
                return c
        return None
    wait_for("pod %s to be marked unschedulable" % name, cond, timeout)
    return cond()


def events_for(s, name, ns=NS):
    r = s.get("/api/v1/namespaces/%s/events?fieldSelector=involvedObject.name%%3D%s" % (ns, name))
    assert r.status == 200, r
    return r.json["items"]


@pytest.fixture(scope="module")
def cl(module_cluster):
    ld = module_cluster.leader()
    ensure_ns(ld, NS)
    for n in [node("small", cpu="1", memory="1Gi", labels={"disk": "hdd"}),
              node("big", cpu="8", memory="16Gi", labels={"disk": "ssd", "gen": "5"}),
              node("gpu", cpu="8", memory="16Gi", labels={"gpu": "yes"},
                   taints=[{"key": "gpu", "value": "true", "effect": "NoSchedule"}]),
              node("cordoned", unschedulable=True),
              node("sick", ready=False)]:
        create(ld, n)
    return module_cluster


def test_resources_and_unschedulable_message(cl):
    ld, fo = cl.leader(), cl.followers()[0]
    create(fo, pod("huge", cpu="64"))
    c = wait_unschedulable(fo, "huge")
    assert c["reason"] == "Unschedulable"
    assert c["message"] == (
        "0/5 nodes are available: 1 node(s) had untolerated taint "
        "{gpu: true}, 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, "
        "1 node(s) were unschedulable, 2 Insufficient cpu."), c["message"]
    evs = events_for(fo, "huge")
    assert any(e["reason"] == "FailedScheduling" and e["type"] == "Warning" and
               e["message"] == c["message"] and e["source"]["component"] == "default-scheduler"
               for e in evs), evs
    # A node that fits appears: the pod is retried and bound there.
    create(ld, node("huge-node", cpu="96", memory="64Gi"))
    assert wait_bound(fo, "huge") == "huge-node"
    p = get_pod(fo, "huge")
    conds = {c["type"]: c for c in p["status"]["conditions"]}
    assert conds["PodScheduled"]["status"] == "True"
    assert any(e["reason"] == "Scheduled" and
               e["message"] == "Successfully assigned %s/huge to huge-node" % NS
               for e in events_for(fo, "huge"))


def test_pods_of_one_owner_spread(cl):
    """A ReplicaSet's 6 pods (made by the ReplicaSet controller) spread."""
    ld = cl.leader()
    rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet",
          "metadata": {"name": "spread", "namespace": NS},
          "spec": {"replicas": 6, "selector": {"matchLabels": {"app": "spread"}},
                   "template": {"metadata": {"labels": {"app": "spread"}},
                                "spec": {"containers": [{"name": "c", "image": "x"}]}}}}
    r = ld.req("POST", "/apis/apps/v1/namespaces/%s/replicasets" % NS, rs)
    assert r.status == 201, r

    def bound():
        items = ld.get("/api/v1/namespaces/%s/pods?labelSelector=app%%3Dspread" % NS).json["items"]
        nodes = [p["spec"].get("nodeName") for p in items]
        return nodes if len(nodes) == 6 and all(nodes) else None
    wait_for("the ReplicaSet's 6 pods to be bound", bound, 30)
    nodes = bound()
    # Pods without requests fit even the small node; never the tainted,
    # cordoned or NotReady ones; and one owner's pods spread out.
    assert set(nodes) <= {"small", "big", "huge-node"}, nodes
    assert len(set(nodes)) == 3, nodes


def test_node_selector_and_affinity(cl):
    ld = cl.leader()
    create(ld, pod("sel", nodeSelector={"disk": "ssd"}))
    create(ld, pod("aff", affinity={"nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": "gen", "operator": "Gt", "values": ["4"]}]}]}}}))
    create(ld, pod("nomatch", nodeSelector={"disk": "tape"}))
    assert wait_bound(ld, "sel") == "big"
    assert wait_bound(ld, "aff") == "big"
    c = wait_unschedulable(ld, "nomatch")
    assert "6 node(s) didn't match Pod's node affinity/selector" in c["message"] or \
        "node(s) didn't match Pod's node affinity/selector" in c["message"], c


def test_taints_tolerations(cl):
    ld = cl.leader()
    create(ld, pod("tol", nodeSelector={"gpu": "yes"},
                   tolerations=[{"key": "gpu", "operator": "Equal", "value": "true",
                                 "effect": "NoSchedule"}]))
    create(ld, pod("notol", nodeSelector={"gpu": "yes"}))
    assert wait_bound(ld, "tol") == "gpu"
    c = wait_unschedulable(ld, "notol")
    assert "node(s) had untolerated taint {gpu: true}" in c["message"], c


def test_host_ports_and_anti_affinity(cl):
    ld = cl.leader()
    port = [{"containerPort": 80, "hostPort": 8080}]
    sel = {"disk": "ssd"}
    create(ld, pod("port-a", ports=port, nodeSelector=sel))
    assert wait_bound(ld, "port-a") == "big"
    create(ld, pod("port-b", ports=list(port), nodeSelector=sel))
    c = wait_unschedulable(ld, "port-b")
    assert "node(s) didn't have free ports for the requested pod ports" in c["message"], c
    anti = {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"app": "solo"}},
         "topologyKey": "kubernetes.io/hostname"}]}}
    placed = []
    for i in range(3):
        create(ld, pod("solo-%d" % i, labels={"app": "solo"}, affinity=anti))
    for i in range(3):
        try:
            placed.append(wait_bound(ld, "solo-%d" % i, timeout=10))
        except AssertionError:
            placed.append(None)
    # Three schedulable nodes for pods that do not tolerate the gpu taint:
    # small, big, huge-node; each replica on its own node.
    got = [p for p in placed if p]
    assert len(got) == len(set(got)) == 3, placed


def test_user_node_name_and_other_scheduler(cl):
    ld = cl.leader()
    create(ld, pod("pinned", nodeName="cordoned"))  # bypasses scheduling entirely
    create(ld, pod("custom", schedulerName="my-scheduler"))
    time.sleep(1.0)
    assert node_of(ld, "pinned") == "cordoned"
    p = get_pod(ld, "custom")
    assert "nodeName" not in p["spec"]
    assert not any(c["type"] == "PodScheduled" for c in p.get("status", {}).get("conditions", []))


def test_no_node_over_committed(cl):
    ld = cl.leader()
    # Six pods of 400m on "small" (1 cpu): two fit, the rest wait.
    for i in range(6):
        create(ld, pod("fill-%d" % i, cpu="400m", nodeSelector={"disk": "hdd"}))
    wait_for("two fill pods bound", lambda: sum(
        1 for i in range(6) if node_of(ld, "fill-%d" % i)) >= 2, 20)
    time.sleep(1.5)
    assert sum(1 for i in range(6) if node_of(ld, "fill-%d" % i)) == 2


def test_metrics(cl):
    ld = cl.leader()
    r = ld.get("/metrics")
    assert r.status == 200 and r.headers["Content-Type"].startswith("text/plain")
    text = r.body.decode()
    vals = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            k, v = line.rsplit(" ", 1)
            vals[k] = float(v)
    assert vals["bosun_scheduler_leading"] == 1
    assert vals['scheduler_schedule_attempts_total{profile="default-scheduler",result="scheduled"}'] >= 10
    assert vals['scheduler_schedule_attempts_total{profile="default-scheduler",result="unschedulable"}'] >= 1
    assert vals["bosun_scheduler_pod_create_to_bound_seconds_count"] >= 10
    assert vals['bosun_scheduler_pod_create_to_bound_seconds_bucket{le="+Inf"}'] == \
        vals["bosun_scheduler_pod_create_to_bound_seconds_count"]
    assert vals['scheduler_pending_pods{queue="unschedulable"}'] + \
        vals['scheduler_pending_pods{queue="backoff"}'] >= 1
    fo = cl.followers()[0].get("/metrics").body.decode()
    assert "bosun_scheduler_leading 0" in fo


def test_failed_scheduling_event_counts_repeats(cl):
    """A pod that still fits nowhere after the cluster changed gets its
    FailedScheduling Event updated (count 2, the new message), not a second
    Event, as the event recorder aggregates repeats. (After the other tests
    of this cluster: it adds a node.)"""
    ld, fo = cl.leader(), cl.followers()[0]
    create(fo, pod("vast", cpu="500"))
    first = wait_unschedulable(fo, "vast")["message"]
    create(ld, node("vast-miss", cpu="16", memory="16Gi"))

    def repeated():
        evs = [e for e in events_for(fo, "vast") if e["reason"] == "FailedScheduling"]
        return evs if len(evs) == 1 and evs[0]["count"] >= 2 else None
    wait_for("the FailedScheduling Event to count a repeat", repeated, 20)
    ev = repeated()[0]
    assert ev["message"] != first and "Insufficient cpu" in ev["message"], ev
    assert ev["lastTimestamp"] >= ev["firstTimestamp"], ev


def test_node_without_lease_goes_not_ready(make_cluster):
    c = make_cluster(3, extra=["--node-monitor-grace-period", "2s"])
    ld = c.leader()
    ensure_ns(ld, NS)
    create(ld, node("quiet"))
    def status():
        n = ld.get("/api/v1/nodes/quiet").json
        ready = [x for x in n["status"]["conditions"] if x["type"] == "Ready"][0]
        return ready["status"], [t["key"] + ":" + t["effect"] for t in n["spec"].get("taints", [])]
    wait_for("the node to be marked Unknown", lambda: status()[0] == "Unknown", 20)
    wait_for("the unreachable taints", lambda: sorted(status()[1]) == [
        "node.kubernetes.io/unreachable:NoExecute", "node.kubernetes.io/unreachable:NoSchedule"], 20)
    create(ld, pod("nowhere"))
    cnd = wait_unschedulable(ld, "nowhere")
    assert "untolerated taint {node.kubernetes.io/unreachable: }" in cnd["message"], cnd
    # The node renews its Lease and reports Ready again: the taints go and the
    # pod is bound there.
    now = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime())
    r = ld.req("POST", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases",
               {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                "metadata": {"name": "quiet"},
                "spec": {"holderIdentity": "quiet", "leaseDurationSeconds": 40,
                         "renewTime": now}})
    assert r.status == 201, r
    n = ld.get("/api/v1/nodes/quiet").json
    for x in n["status"]["conditions"]:
        if x["type"] == "Ready":
            x.update(status="True", reason="KubeletReady", lastHeartbeatTime=now)
    r = ld.req("PUT", "/api/v1/nodes/quiet/status", n)
    assert r.status == 200, r
    wait_for("the taints to go", lambda: status() == ("True", []), 20)
    assert wait_bound(ld, "nowhere") == "quiet"


def test_priority_admission_and_preemption(make_cluster):
    c = make_cluster(3)
    ld = c.leader()
    fo = c.followers()[0]
    ensure_ns(ld, NS)
    for name, value in [("low", 10), ("high", 1000)]:
        r = ld.req("POST", "/apis/scheduling.k8s.io/v1/priorityclasses",
                   {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
                    "metadata": {"name": name}, "value": value})
        assert r.status == 201, r
    # Admission, through a follower: the class's value lands in spec.priority.
    p = create(fo, pod("prio", priorityClassName="high", nodeSelector={"none": "x"}))
    assert p["spec"]["priority"] == 1000 and p["spec"]["preemptionPolicy"] == "PreemptLowerPriority"
    r = fo.req("POST", "/api/v1/namespaces/%s/pods" % NS, pod("nope", priorityClassName="gold"))
    assert r.status == 403 and r.json["reason"] == "Forbidden", r
    assert r.json["message"] == 'pods "nope" is forbidden: no PriorityClass with name gold was found'
    r = fo.req("POST", "/api/v1/namespaces/%s/pods" % NS,
               pod("liar", priorityClassName="low", priority=5))
    assert r.status == 403 and "must not be provided in pod spec" in r.json["message"], r
    plain = create(fo, pod("plain"))
    assert plain["spec"]["priority"] == 0
    # DefaultTolerationSeconds, unless the pod tolerates the taint itself.
    assert sorted((t["key"], t["effect"], t["tolerationSeconds"])
                  for t in plain["spec"]["tolerations"]) == [
        ("node.kubernetes.io/not-ready", "NoExecute", 300),
        ("node.kubernetes.io/unreachable", "NoExecute", 300)]
    own = create(fo, pod("own", tolerations=[{"key": "node.kubernetes.io/unreachable",
                                              "operator": "Exists", "effect": "NoExecute",
                                              "tolerationSeconds": 5}]))
    assert sorted((t["key"], t.get("tolerationSeconds")) for t in own["spec"]["tolerations"]) == [
        ("node.kubernetes.io/not-ready", 300), ("node.kubernetes.io/unreachable", 5)]
    ld.req("DELETE", "/api/v1/namespaces/%s/pods/own" % NS)
    ld.req("DELETE", "/api/v1/namespaces/%s/pods/prio" % NS)
    ld.req("DELETE", "/api/v1/namespaces/%s/pods/plain" % NS)
    # Two nodes of 2 cpu, filled with low-priority pods of 1 cpu (and one
    # of 500m): a high-priority pod of 1 cpu evicts exactly one pod.
    for n in ("p1", "p2"):
        create(ld, node(n, cpu="2", memory="8Gi"))
    for i, cpu in enumerate(["1", "1", "1", "500m"]):
        create(ld, pod("low-%d" % i, cpu=cpu, priorityClassName="low"))
    for i in range(4):
        wait_bound(ld, "low-%d" % i)
    create(ld, pod("vip", cpu="1", priorityClassName="high"))
    where = wait_bound(ld, "vip", timeout=30)
    left = [i for i in range(4)
            if ld.get("/api/v1/namespaces/%s/pods/low-%d" % (NS, i)).status == 200]
    assert len(left) == 3, left
    gone = ({0, 1, 2, 3} - set(left)).pop()
    evs = events_for(ld, "low-%d" % gone)
    assert any(e["reason"] == "Preempted" and e["message"].endswith("on node " + where)
               for e in evs), evs
    # A pod that may not preempt waits instead.
    create(ld, pod("polite", cpu="1", priorityClassName="high", preemptionPolicy="Never"))
    wait_unschedulable(ld, "polite")
    time.sleep(1)
    assert [i for i in range(4)
            if ld.get("/api/v1/namespaces/%s/pods/low-%d" % (NS, i)).status == 200] == left
