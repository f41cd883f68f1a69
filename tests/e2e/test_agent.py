"""`bosun agent --hollow N`: simulated nodes against a real 3-server cluster.

One agent (the ASan build, like the servers) runs 50 hollow nodes for the
whole module, with every node flag set: capacity, labels, zones, taints and
4-second Leases (renewed every second). It talks to a follower first, with
the leader and the other follower as failover targets. The tests check,
in order: the flags' errors; the nodes as registered (capacity, labels,
zones, taints, Ready, nodeInfo, addresses) and one Lease each; the Leases'
renewal; pods bound to hollow nodes (spec.nodeName, or the binding
subresource) going Running with IPs, conditions and container statuses; a
hollow-run pod (restartPolicy Never, 1 second) Succeeding while an Always
one keeps running; a pod deleted on a hollow node (held by a finalizer, so
the agent's part can be seen: its terminal status) going away; and, last,
the first server killed -9, after which new pods still go Running through
another server and the Leases keep being renewed.

The agent is started and stopped (SIGTERM, then its exit status and log are
checked for sanitizer reports) by the module's fixture, by its pid; it only
connects to the cluster's 127.0.0.1 ports and exits by itself after
--duration if the test run dies."""
import json
import re
import subprocess
import time

import pytest

from conftest import (BOSUN, SANITIZER_MARKERS, _child_setup, ensure_ns, server_env,
                      wait_for)

NODES = 50
PREFIX = "hollow-"
NS = "agent-e2e"
RUN_ANNOTATION = "bosun.dev/hollow-run-seconds"
LEASES = "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases"
MICROTIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def node_name(i):
    return "%s%04d" % (PREFIX, i)


class Agent:
    """One `bosun agent` process, logging to path."""

    def __init__(self, servers, path):
        self.servers = servers
        self.path = path
        self.argv = [str(BOSUN), "agent", "--hollow", str(NODES),
                     "--server", ",".join(s.url for s in servers),
                     "--name-prefix", PREFIX, "--cpu", "8", "--memory", "16Gi", "--pods", "50",
                     "--labels", "tier=hollow,team=e2e", "--zones", "3",
                     "--taints", "dedicated=hollow:NoSchedule,gpu:PreferNoSchedule",
                     "--lease-seconds", "4", "--workers", "8", "--duration", "300s"]
        self.proc = None

    def start(self):
        log = open(self.path, "ab")
        self.proc = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=server_env(),
                                     preexec_fn=_child_setup)
        log.close()
        return self

    def log(self):
        try:
            return self.path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def stop(self):
        """SIGTERM by pid; the exit status (None if it had to be killed)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                return self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
                return None
        return self.proc.returncode


@pytest.fixture(scope="module")
def agent(module_cluster, tmp_path_factory):
    c = module_cluster
    ld = c.leader()
    f1, f2 = c.followers(ld)
    ensure_ns(ld, NS)
    a = Agent([f1, ld, f2], tmp_path_factory.mktemp("agent") / "agent.log").start()
    yield a
    code = a.stop()
    log = a.log()
    bad = [m for m in SANITIZER_MARKERS if m in log]
    if code != 0 or bad:
        print("\n---- agent log tail:\n" + "\n".join(log.splitlines()[-60:]))
    assert not bad, "sanitizer report in the agent's log"
    assert code == 0, "the agent exited with %r on SIGTERM" % code


def live(cluster):
    return cluster.live()[0]


def our_nodes(s):
    r = s.get("/api/v1/nodes")
    assert r.status == 200, r
    return {n["metadata"]["name"]: n for n in r.json["items"]
            if n["metadata"]["name"].startswith(PREFIX)}


def leases(s):
    r = s.get(LEASES)
    assert r.status == 200, r
    return {x["metadata"]["name"]: x for x in r.json["items"]
            if x["metadata"]["name"].startswith(PREFIX)}


def cond(obj, typ):
    for c in obj.get("status", {}).get("conditions", []):
        if c["type"] == typ:
            return c
    return None


def pod_body(name, node=None, restart=None, annotations=None, finalizers=None):
    md = {"name": name}
    if annotations:
        md["annotations"] = annotations
    if finalizers:
        md["finalizers"] = finalizers
    # Unbound pods name a scheduler nobody runs: the tests bind them.
    spec = {"schedulerName": "e2e-none",
            "containers": [{"name": "app", "image": "nginx:1.25"},
                           {"name": "side", "image": "busybox:1.36"}]}
    if node:
        spec["nodeName"] = node
    if restart:
        spec["restartPolicy"] = restart
    return {"apiVersion": "v1", "kind": "Pod", "metadata": md, "spec": spec}


def create_pod(s, body):
    r = s.req("POST", "/api/v1/namespaces/%s/pods" % NS, body)
    assert r.status == 201, r


def bind(s, name, node):
    r = s.req("POST", "/api/v1/namespaces/%s/pods/%s/binding" % (NS, name),
              {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": name},
               "target": {"kind": "Node", "name": node}})
    assert r.status == 201, r


def get_pod(s, name):
    return s.get("/api/v1/namespaces/%s/pods/%s" % (NS, name))


def wait_phase(cluster, names, phase, timeout=20):
    def done():
        s = live(cluster)
        pods = {}
        for n in names:
            r = get_pod(s, n)
            if r.status != 200 or r.json["status"].get("phase") != phase:
                return None
            pods[n] = r.json
        return pods
    return wait_for("%s to be %s" % (names, phase), done, timeout, interval=0.2)


def check_running(pod, nodes):
    st = pod["status"]
    node = nodes[pod["spec"]["nodeName"]]
    node_ip = [a["address"] for a in node["status"]["addresses"] if a["type"] == "InternalIP"][0]
    assert st["hostIP"] == node_ip and st["hostIPs"] == [{"ip": node_ip}]
    assert re.match(r"^10\.(1[2-9]\d|2[0-5]\d)\.\d+\.\d+$", st["podIP"]), st["podIP"]
    assert st["podIPs"] == [{"ip": st["podIP"]}]
    assert st["startTime"]
    for t in ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady",
              "PodScheduled"):
        assert cond(pod, t)["status"] == "True", (t, st["conditions"])
    cs = st["containerStatuses"]
    assert [c["name"] for c in cs] == [c["name"] for c in pod["spec"]["containers"]]
    for c, spec in zip(cs, pod["spec"]["containers"]):
        assert c["image"] == spec["image"] and c["imageID"]
        assert c["containerID"].startswith("hollow://")
        assert c["ready"] is True and c["started"] is True and c["restartCount"] == 0
        assert c["state"]["running"]["startedAt"]


# ------------------------------------------------------------------- tests

def test_flags():
    """--help answers 0; bad flags are one line on stderr and exit 2."""
    p = subprocess.run([str(BOSUN), "agent", "--help"], capture_output=True, text=True,
                       timeout=20, env=server_env())
    assert p.returncode == 0 and "--hollow" in p.stdout, p
    bad = [["--hollow", "0", "--server", "http://127.0.0.1:1"],
           ["--hollow", "20001", "--server", "http://127.0.0.1:1"],
           ["--hollow", "3"],
           ["--hollow", "3", "--server", "ftp://x"],
           ["--hollow", "3", "--server", "http://127.0.0.1:1", "--taints", "a=b:Sometimes"],
           ["--hollow", "3", "--server", "http://127.0.0.1:1", "--labels", "novalue"],
           ["--hollow", "3", "--server", "http://127.0.0.1:1", "--cpu", "four"],
           ["--hollow", "3", "--server", "http://127.0.0.1:1", "--duration", "soon"],
           ["--hollow", "3", "--server", "http://127.0.0.1:1", "--bogus"],
           ["--hollow"]]
    for args in bad:
        p = subprocess.run([str(BOSUN), "agent"] + args, capture_output=True, text=True,
                           timeout=20, env=server_env())
        assert p.returncode == 2, (args, p)
        assert len(p.stderr.strip().splitlines()) == 1, (args, p.stderr)


def test_nodes_registered(agent, module_cluster):
    """50 nodes with the flags' capacity, labels, zone spread and taints,
    Ready, and a Lease each held by its node."""
    s = live(module_cluster)
    nodes = wait_for("50 hollow nodes", lambda: (lambda n: n if len(n) == NODES else None)(
        our_nodes(s)), 30, interval=0.2)
    assert sorted(nodes) == [node_name(i) for i in range(NODES)]
    ips = set()
    zones = {}
    for i in range(NODES):
        n = nodes[node_name(i)]
        name = node_name(i)
        st = n["status"]
        for res in ("capacity", "allocatable"):
            assert st[res]["cpu"] == "8" and st[res]["memory"] == "16Gi", st[res]
            assert st[res]["pods"] == "50", st[res]
        labels = n["metadata"]["labels"]
        for k, v in {"tier": "hollow", "team": "e2e", "kubernetes.io/hostname": name,
                     "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
                     "node.kubernetes.io/instance-type": "hollow",
                     "topology.kubernetes.io/zone": "zone-%d" % (i % 3)}.items():
            assert labels.get(k) == v, (name, k, labels)
        zones[labels["topology.kubernetes.io/zone"]] = zones.get(
            labels["topology.kubernetes.io/zone"], 0) + 1
        assert n["spec"]["taints"] == [
            {"key": "dedicated", "value": "hollow", "effect": "NoSchedule"},
            {"key": "gpu", "effect": "PreferNoSchedule"}], n["spec"]
        ready = cond(n, "Ready")
        assert ready["status"] == "True" and ready["reason"] == "KubeletReady", ready
        assert ready["message"] == "kubelet is posting ready status"
        assert ready["lastHeartbeatTime"]
        for t in ("MemoryPressure", "DiskPressure", "PIDPressure"):
            assert cond(n, t)["status"] == "False", (name, t)
        info = st["nodeInfo"]
        assert info["kubeletVersion"] == "v1.32.0-hollow"
        assert info["operatingSystem"] == "linux" and info["architecture"] == "amd64"
        assert info["osImage"]
        addrs = {a["type"]: a["address"] for a in st["addresses"]}
        assert addrs["Hostname"] == name
        assert re.match(r"^10\.\d+\.\d+\.\d+$", addrs["InternalIP"])
        ips.add(addrs["InternalIP"])
    assert len(ips) == NODES, "InternalIPs are not unique"
    assert zones == {"zone-0": 17, "zone-1": 17, "zone-2": 16}, zones

    ls = wait_for("50 leases", lambda: (lambda x: x if len(x) == NODES else None)(leases(s)),
                  20, interval=0.2)
    for name, lease in ls.items():
        spec = lease["spec"]
        assert spec["holderIdentity"] == name and spec["leaseDurationSeconds"] == 4, spec
        assert MICROTIME.match(spec["renewTime"]), spec["renewTime"]
        owners = lease["metadata"].get("ownerReferences", [])
        assert owners and owners[0]["kind"] == "Node" and owners[0]["name"] == name
        assert owners[0]["uid"] == nodes[name]["metadata"]["uid"]


def test_leases_renewed(agent, module_cluster):
    """Every Lease's renewTime advances (4 s leases: renewed every second)."""
    s = live(module_cluster)
    before = {n: x["spec"]["renewTime"] for n, x in leases(s).items()}
    assert len(before) == NODES

    def all_advanced():
        now = leases(s)
        return all(now[n]["spec"]["renewTime"] > t for n, t in before.items())
    wait_for("every lease renewed", all_advanced, 10, interval=0.3)


def test_pods_run(agent, module_cluster):
    """Pods created with spec.nodeName and pods bound through pods/binding
    go Running, with host and pod IPs, conditions and container statuses."""
    s = live(module_cluster)
    names = []
    for i in range(8):
        create_pod(s, pod_body("direct-%d" % i, node=node_name(i * 6)))
        names.append("direct-%d" % i)
    for i in range(8):
        create_pod(s, pod_body("bound-%d" % i))
        bind(s, "bound-%d" % i, node_name(i * 6 + 1))
        names.append("bound-%d" % i)
    pods = wait_phase(module_cluster, names, "Running")
    nodes = our_nodes(s)
    for p in pods.values():
        check_running(p, nodes)
    ips = [p["status"]["podIP"] for p in pods.values()]
    assert len(set(ips)) == len(ips), "pod IPs are not unique: %s" % ips


def test_hollow_run_succeeds(agent, module_cluster):
    """restartPolicy Never with hollow-run-seconds 1 Succeeds after about a
    second; the same annotation on an Always pod is ignored."""
    s = live(module_cluster)
    create_pod(s, pod_body("job-1s", node=node_name(3), restart="Never",
                           annotations={RUN_ANNOTATION: "1"}))
    create_pod(s, pod_body("always-1s", node=node_name(4), annotations={RUN_ANNOTATION: "1"}))
    running = wait_phase(module_cluster, ["job-1s"], "Running")["job-1s"]
    done = wait_phase(module_cluster, ["job-1s"], "Succeeded", timeout=15)["job-1s"]
    st = done["status"]
    assert st["podIP"] == running["status"]["podIP"]
    for c in st["containerStatuses"]:
        term = c["state"]["terminated"]
        assert term["exitCode"] == 0 and term["reason"] == "Completed", c
        assert c["ready"] is False
    for t in ("Ready", "ContainersReady"):
        assert cond(done, t)["status"] == "False" and cond(done, t)["reason"] == "PodCompleted"
    time.sleep(1.5)
    r = get_pod(s, "always-1s")
    assert r.status == 200 and r.json["status"]["phase"] == "Running", r


def test_deleted_pod_goes(agent, module_cluster):
    """A pod deleted on a hollow node: the agent kills it (terminal status)
    and deletes it with grace 0; a finalizer holds it until removed. A pod
    without finalizers is gone at once."""
    s = live(module_cluster)
    create_pod(s, pod_body("held", node=node_name(7), finalizers=["bosun.dev/e2e-hold"]))
    create_pod(s, pod_body("plain", node=node_name(8)))
    wait_phase(module_cluster, ["held", "plain"], "Running")
    opts = {"kind": "DeleteOptions", "apiVersion": "v1", "gracePeriodSeconds": 30}
    r = s.req("DELETE", "/api/v1/namespaces/%s/pods/held" % NS, opts)
    assert r.status == 200 and r.json["metadata"]["deletionTimestamp"], r
    killed = wait_phase(module_cluster, ["held"], "Failed")["held"]
    for c in killed["status"]["containerStatuses"]:
        assert c["state"]["terminated"]["exitCode"] == 143, c
    r = s.req("PATCH", "/api/v1/namespaces/%s/pods/held" % NS,
              {"metadata": {"finalizers": None}},
              headers={"Content-Type": "application/merge-patch+json"})
    assert r.status in (200, 404), r
    r = s.req("DELETE", "/api/v1/namespaces/%s/pods/plain" % NS, opts)
    assert r.status == 200, r
    wait_for("both pods gone",
             lambda: all(get_pod(live(module_cluster), n).status == 404
                         for n in ("held", "plain")), 10, interval=0.2)


def test_late_run_changes_nothing(agent, module_cluster, tmp_path):
    """A second agent whose pods start 3 s after it sees them
    (--start-delay). Meanwhile one pod is made Failed by someone else and
    another is deleted (a finalizer holds it; the agent writes its terminal
    status at once): when their run jobs come due, the pods have moved on,
    and the agent's Running write, pinned to the revision it decided on
    (409), must change neither. Before, it brought both back to Running and
    the deleted one stayed terminating for ever (a StatefulSet pod in a
    chaos run). A third pod, left alone, proves the run jobs came due."""
    s = live(module_cluster)
    slow = Agent(module_cluster.live(), tmp_path / "slow.log")
    slow.argv = [str(BOSUN), "agent", "--hollow", "2", "--name-prefix", "slow-",
                 "--server", ",".join(x.url for x in slow.servers), "--start-delay", "3s",
                 "--log-level", "debug", "--duration", "120s"]
    slow.start()
    try:
        wait_for("slow-0000 registered", lambda: s.get("/api/v1/nodes/slow-0000").status == 200, 20)
        create_pod(s, pod_body("late-failed", node="slow-0000"))
        create_pod(s, pod_body("late-deleted", node="slow-0000", finalizers=["bosun.dev/e2e-hold"]))
        create_pod(s, pod_body("late-witness", node="slow-0001"))
        t0 = time.monotonic()
        time.sleep(0.5)  # the agent sees the three Pending pods (a watch event: ms)
        r = s.req("PATCH", "/api/v1/namespaces/%s/pods/late-failed/status" % NS,
                  {"status": {"phase": "Failed", "reason": "Evicted"}},
                  headers={"Content-Type": "application/merge-patch+json"})
        assert r.status == 200, r
        r = s.req("DELETE", "/api/v1/namespaces/%s/pods/late-deleted" % NS,
                  {"kind": "DeleteOptions", "apiVersion": "v1", "gracePeriodSeconds": 30})
        assert r.status == 200, r
        wait_phase(module_cluster, ["late-deleted"], "Failed", timeout=10)
        assert time.monotonic() - t0 < 2.5, "too slow to come before the run jobs"
        wait_phase(module_cluster, ["late-witness"], "Running", timeout=20)
        wait_for("both refused runs logged",
                 lambda: all("pod %s/late-%s moved on before it ran" % (NS, n) in slow.log()
                             for n in ("failed", "deleted")), 10, interval=0.2)
        for n in ("late-failed", "late-deleted"):
            r = get_pod(s, n)
            assert r.status == 200 and r.json["status"]["phase"] == "Failed", r
    finally:
        code = slow.stop()
        r = s.req("PATCH", "/api/v1/namespaces/%s/pods/late-deleted" % NS,
                  {"metadata": {"finalizers": None}},
                  headers={"Content-Type": "application/merge-patch+json"})
    log = slow.log()
    assert not [m for m in SANITIZER_MARKERS if m in log], log[-3000:]
    assert code == 0, log[-3000:]


def test_failover(agent, module_cluster):
    """The server the agent talks to (a follower) is killed -9: the agent
    moves to the next server, new pods go Running, Leases keep renewing."""
    first = agent.servers[0]
    first.kill()
    s = agent.servers[1]
    before = {n: x["spec"]["renewTime"] for n, x in leases(s).items()}
    names = []
    for i in range(6):
        create_pod(s, pod_body("after-%d" % i, node=node_name(40 + i)))
        names.append("after-%d" % i)
    pods = wait_phase(module_cluster, names, "Running", timeout=30)
    nodes = our_nodes(s)
    for p in pods.values():
        check_running(p, nodes)

    def renewed():
        now = leases(s)
        return all(now[n]["spec"]["renewTime"] > t for n, t in before.items())
    wait_for("every lease renewed after the failover", renewed, 15, interval=0.3)
    assert "moving to" in agent.log(), agent.log()[-2000:]
    assert agent.proc.poll() is None, "the agent died"
