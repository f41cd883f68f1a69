"""Scheduling at scale on hollow nodes, with the leader killed mid-run.

Two `bosun agent --hollow` processes (the ASan build) run 300 nodes over
three zones: 240 plain ones and 60 labelled disk=ssd and tainted
dedicated=db:NoSchedule. 1,500 pods of four shapes are created from
threads spread over the three servers: plain requests; nodeSelector
disk=ssd with the toleration; required anti-affinity on the hostname
within groups of 50; and a zone spread (maxSkew 1, DoNotSchedule) over
groups. While they are being bound the leader is killed -9 (and started
again later); the new leader's scheduler rebuilds from its replica and
carries on.

Checked at the end, from a watch opened on a follower before the first
create and from the final state: every pod bound, and bound once (its
nodeName, once set, never changes); every binding on an existing node;
no node over its allocatable cpu, memory or pod count; every nodeSelector
and taint honoured; no two pods of an anti-affinity group on one node;
every spread group within maxSkew; and the hollow nodes moved the pods to
Running.
"""
import collections
import threading
import time

import pytest

import subprocess

from conftest import BOSUN, SANITIZER_MARKERS, _child_setup, ensure_ns, server_env, wait_for

NS = "hollow-sched"
PLAIN, SSD = 240, 60
PODS = 1500
GROUP = 50


def start_agent(cluster, tmp_path, name, n, extra):
    servers = cluster.all()
    argv = [str(BOSUN), "agent", "--hollow", str(n),
            "--server", ",".join(s.url for s in servers), "--name-prefix", name,
            "--cpu", "4", "--memory", "16Gi", "--pods", "20", "--zones", "3",
            "--workers", "16", "--duration", "600s"] + extra
    log = open(tmp_path / ("agent-%s.log" % name.strip("-")), "ab")
    p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                         env=server_env(), preexec_fn=_child_setup)
    log.close()
    return p


def pod(i):
    name = "p-%05d" % i
    spec = {"containers": [{"name": "c", "image": "pause",
                            "resources": {"requests": {"cpu": "250m", "memory": "512Mi"}}}]}
    labels = {}
    kind = i % 4
    if kind == 1:
        spec["nodeSelector"] = {"disk": "ssd"}
        spec["tolerations"] = [{"key": "dedicated", "operator": "Equal", "value": "db",
                                "effect": "NoSchedule"}]
    elif kind == 2:
        labels["anti"] = "g%d" % (i // (4 * GROUP))
        spec["affinity"] = {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
            {"labelSelector": {"matchLabels": {"anti": labels["anti"]}},
             "topologyKey": "kubernetes.io/hostname"}]}}
    elif kind == 3:
        labels["spread"] = "s%d" % (i % 8)
        spec["topologySpreadConstraints"] = [{
            "maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone",
            "whenUnsatisfiable": "DoNotSchedule",
            "labelSelector": {"matchLabels": {"spread": labels["spread"]}}}]
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "labels": labels}, "spec": spec}


def create_all(servers, errors):
    def work(k):
        s = servers[k % len(servers)]
        for i in range(k, PODS, 12):
            for attempt in range(20):
                try:
                    r = s.req("POST", "/api/v1/namespaces/%s/pods" % NS, pod(i), timeout=20)
                except OSError:
                    r = None
                if r is not None and r.status in (201, 409):
                    break
                # the server died or had no leader for a moment: another one
                s = servers[(k + attempt + 1) % len(servers)]
                time.sleep(0.2)
            else:
                errors.append(i)
    ts = [threading.Thread(target=work, args=(k,)) for k in range(12)]
    [t.start() for t in ts]
    return ts


def test_hollow_nodes_leader_killed_mid_run(make_cluster, tmp_path):
    c = make_cluster(3)
    ld = c.leader()
    ensure_ns(ld, NS)
    agents = [start_agent(c, tmp_path, "plain-", PLAIN, []),
              start_agent(c, tmp_path, "ssd-", SSD,
                          ["--labels", "disk=ssd", "--taints", "dedicated=db:NoSchedule"])]
    try:
        def ready():
            items = ld.get("/api/v1/nodes", timeout=30).json["items"]
            return sum(1 for n in items for x in n["status"].get("conditions", [])
                       if x["type"] == "Ready" and x["status"] == "True") == PLAIN + SSD
        wait_for("300 Ready hollow nodes", ready, 120)
        fo = c.followers(ld)[0]
        rv = fo.get("/api/v1/namespaces/%s/pods" % NS).json["metadata"]["resourceVersion"]
        w = fo.watch("/api/v1/namespaces/%s/pods" % NS, timeout=600, resourceVersion=rv,
                     allowWatchBookmarks="true")
        errors = []
        threads = create_all(c.all(), errors)

        def bound_seen():
            return len({e["object"]["metadata"]["name"] for e in list(w.events)
                        if e["type"] != "BOOKMARK" and e["object"]["spec"].get("nodeName")})
        wait_for("a third of the pods bound", lambda: bound_seen() >= PODS // 3, 180)
        at_kill = bound_seen()
        ld.kill()
        time.sleep(3)
        ld.restart()
        [t.join(300) for t in threads]
        assert not errors, "pods never created: %s" % errors[:10]
        assert at_kill < PODS, "the leader died after the run, not during it"
        wait_for("every pod bound", lambda: bound_seen() >= PODS, 300)

        # Bound once: a pod's nodeName, once seen, never changes.
        first = {}
        for e in w.events:
            if e["type"] == "BOOKMARK":
                continue
            name = e["object"]["metadata"]["name"]
            node = e["object"]["spec"].get("nodeName")
            if node:
                assert first.setdefault(name, node) == node, \
                    "%s bound to %s, then %s" % (name, first[name], node)
        w.close()

        s = c.leader()
        nodes = {n["metadata"]["name"]: n for n in s.get("/api/v1/nodes", timeout=30).json["items"]}
        pods = s.get("/api/v1/namespaces/%s/pods" % NS, timeout=60).json["items"]
        assert len(pods) == PODS
        use = collections.defaultdict(lambda: [0, 0, 0])
        groups = collections.defaultdict(list)
        spread = collections.defaultdict(collections.Counter)
        for p in pods:
            name, node = p["metadata"]["name"], p["spec"].get("nodeName")
            assert node and node == first[name], (name, node, first.get(name))
            assert node in nodes, "%s bound to a node that does not exist: %s" % (name, node)
            n = nodes[node]
            use[node][0] += 250
            use[node][1] += 512
            use[node][2] += 1
            labels = n["metadata"].get("labels", {})
            tainted = any(t["key"] == "dedicated" for t in n["spec"].get("taints", []))
            if p["spec"].get("nodeSelector"):
                assert labels.get("disk") == "ssd", (name, node)
            else:
                assert not tainted, "%s on tainted %s without a toleration" % (name, node)
            pl = p["metadata"].get("labels", {})
            if "anti" in pl:
                groups[pl["anti"]].append(node)
            if "spread" in pl:
                spread[pl["spread"]][labels["topology.kubernetes.io/zone"]] += 1
        for node, (cpu, mem, n) in use.items():
            assert cpu <= 4000 and mem <= 16 * 1024 and n <= 20, (node, cpu, mem, n)
        for g, ns in groups.items():
            assert len(ns) == len(set(ns)), "anti-affinity group %s shares a node" % g
        for g, zones in spread.items():
            counts = [zones.get("zone-%d" % z, 0) for z in range(3)]
            assert max(counts) - min(counts) <= 1, (g, counts)

        def running():
            items = s.get("/api/v1/namespaces/%s/pods" % NS, timeout=60).json["items"]
            return sum(1 for p in items if p.get("status", {}).get("phase") == "Running")
        wait_for("the hollow nodes to run every pod", lambda: running() == PODS, 120)
    finally:
        for a in agents:
            if a.poll() is None:
                a.terminate()
                try:
                    a.wait(30)
                except subprocess.TimeoutExpired:
                    a.kill()
                    a.wait(10)
    for f in tmp_path.glob("agent-*.log"):
        text = f.read_text(errors="replace")
        assert not any(m in text for m in SANITIZER_MARKERS), text[-3000:]
    assert all(a.returncode == 0 for a in agents), [a.returncode for a in agents]
