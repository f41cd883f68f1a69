"""`bosun bench schedule` end to end: short runs whose report must hold the
benchmark's invariants (every pod bound once, to an existing node that fits
it and that its constraints allow; latency figures present and ordered; a
well-formed SVG), not any speed; and its flag errors.

The runs use the sanitizer build (build/test/bosun) for everything: the
benchmark itself, the hollow nodes it starts (`bosun agent`, the same
binary) and the servers. Two of them run against a cluster of this harness
(--server), so that the servers' logs are checked for sanitizer reports and
the servers are stopped by the fixture; one lets the benchmark start and
stop its own cluster (`bosun up`/`bosun down`) and checks that nothing of it
is left running. The benchmark's temporary directory goes under tmp_path
(TMPDIR), and every process it starts is stopped by it by pid; pytest's own
timeout on the subprocess bounds a hung run (then SIGKILL, and the agents
die with it: PR_SET_PDEATHSIG)."""
import json
import os
import subprocess
import xml.etree.ElementTree as ET

import threading

import pytest

from conftest import BOSUN, ensure_ns, server_env, _child_setup

RUN_TIMEOUT = 600  # seconds: ASan servers, a loaded machine
SVG_NS = "{http://www.w3.org/2000/svg}"


def bench(args, tmp_path, timeout=RUN_TIMEOUT):
    env = server_env()
    env["TMPDIR"] = str(tmp_path)
    return subprocess.run([str(BOSUN), "bench", "schedule"] + [str(a) for a in args],
                          capture_output=True, text=True, env=env, timeout=timeout,
                          stdin=subprocess.DEVNULL, preexec_fn=_child_setup)


def check_report(r, jpath, svg, pods):
    """The exit status, the text report, the JSON and the SVG of a run that
    must have bound every pod without breaking a rule."""
    assert r.returncode == 0, "exit %d\nstdout:\n%s\nstderr:\n%s" % (
        r.returncode, r.stdout[-4000:], r.stderr[-4000:])
    assert "result         PASS" in r.stdout, r.stdout
    for bad in ("exited with status", "killed by signal", "Sanitizer", "runtime error"):
        assert bad not in r.stderr, r.stderr[-4000:]
    j = json.loads(jpath.read_text())
    assert j["pods"] == pods
    assert j["created"] == pods and j["bound"] == pods, j
    assert j["create_errors"] == 0 and j["errors_by_status"] == {}, j
    assert not j["timed_out"] and not j["interrupted"] and not j["skipped"]
    c = j["checks"]
    assert c["ran"] and c["ok"], c
    for k in ("unbound", "rebound", "watch_mismatch", "missing_node", "overcommitted",
              "selector", "taints", "anti_affinity", "spread"):
        assert c[k] == 0, (k, c)
    assert c["first_violation"] is None
    assert c["pods_seen"] >= pods and c["nodes_seen"] >= j["nodes"]
    for key in ("latency_ms", "post_latency_ms"):
        lat = j[key]
        assert lat["n"] == pods, (key, lat)
        assert 0 <= lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["max"], (key, lat)
        assert lat["mean"] <= lat["max"]
    assert j["seconds"] > 0 and j["pods_per_s"] > 0
    assert j["pods_per_s"] == pytest.approx(pods / j["seconds"], rel=1e-3)
    assert j["steady_pods_per_s"] is None or j["steady_pods_per_s"] > 0
    assert j["leader_id"] > 0
    assert j["leader_cpu_s"] is not None and j["leader_cpu_s"] >= 0
    assert j["cpu_ms_per_pod"] is not None and j["cpu_ms_per_pod"] >= 0
    # The scheduler thread's own CPU (found by its name), part of the leader's.
    assert j["scheduler_cpu_s"] is not None and 0 <= j["scheduler_cpu_s"] <= j["leader_cpu_s"]
    # So is the controllers thread's.
    assert j["controllers_cpu_s"] is not None and 0 <= j["controllers_cpu_s"] <= j["leader_cpu_s"]
    # Every pod's binding is an event, unless the watch had to relist.
    assert j["watch"]["events"] >= pods or j["watch"]["relists"] > 0, j["watch"]
    t = j["timeline"]
    n = len(t["t"])
    assert n >= 1 and all(len(t[k]) == n for k in ("created", "bound", "p50_ms", "p99_ms"))
    assert t["created"][-1] == pods and t["bound"][-1] == pods
    assert t["bound"] == sorted(t["bound"]) and t["created"] == sorted(t["created"])
    for p50, p99 in zip(t["p50_ms"], t["p99_ms"]):
        assert (p50 is None) == (p99 is None) and (p50 is None or p50 <= p99)
    root = ET.parse(str(svg)).getroot()  # well-formed XML, or this raises
    assert root.tag == SVG_NS + "svg", root.tag
    lines = root.findall(".//" + SVG_NS + "polyline")
    assert len(lines) == 4, "created, bound, p50, p99"
    assert all(len(pl.get("points").split()) >= 2 for pl in lines)
    texts = " ".join(el.text or "" for el in root.iter(SVG_NS + "text"))
    assert "seconds since the first create" in texts and "p99" in texts
    return j


def test_bench_schedule_basic(make_cluster, tmp_path):
    """200 hollow nodes, 2,000 pods, the basic preset, on a harness cluster."""
    c = make_cluster(3)
    jpath, svg = tmp_path / "report.json", tmp_path / "report.svg"
    r = bench(["--server", ",".join(s.url for s in c.all()), "--nodes", 200, "--pods", 2000,
               "--timeout", "300s", "--json", jpath, "--plot", svg], tmp_path)
    j = check_report(r, jpath, svg, 2000)
    assert j["preset"] == "basic" and j["nodes"] == 200 and j["servers"] == 3


def test_bench_schedule_final_list_survives_expired_pages(make_cluster, tmp_path):
    """The final check lists with limit/continue while something else keeps
    writing and the servers keep a short change log, so a page may expire
    (410) and the list must start over, not stop. (A do-while once took the
    restart's empty token for the end of the list and reported every pod
    missing; whether a page expires here depends on timing, so this test
    catches that only when one does.) Also: the scheduler keeps up although
    a round of bindings is larger than the log would allow (it sizes its
    rounds to the log)."""
    c = make_cluster(3, extra=["--watch-history", "600"])
    ensure_ns(c.leader(), "churn")
    stop = threading.Event()

    def churn():
        s, i = c.leader(), 0
        while not stop.is_set():
            try:
                s.req("POST", "/api/v1/namespaces/churn/configmaps",
                      {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c%d" % i}})
            except OSError:
                pass
            i += 1
    t = threading.Thread(target=churn, daemon=True)
    t.start()
    try:
        jpath, svg = tmp_path / "report.json", tmp_path / "report.svg"
        r = bench(["--server", ",".join(s.url for s in c.all()), "--nodes", 50, "--pods", 1500,
                   "--timeout", "300s", "--json", jpath, "--plot", svg], tmp_path)
    finally:
        stop.set()
        t.join(30)
    check_report(r, jpath, svg, 1500)


@pytest.mark.parametrize("preset,nodes,pods", [("mixed", 60, 600), ("preemption", 30, 90)])
def test_bench_schedule_constraints(make_cluster, tmp_path, preset, nodes, pods):
    """mixed: node affinity, anti-affinity, spread and taints at once, each
    checked on the final placement; preemption: 4 low-priority 1-cpu pods
    fill every node, then each measured high-priority pod must preempt one."""
    c = make_cluster(3)
    jpath, svg = tmp_path / "report.json", tmp_path / "report.svg"
    r = bench(["--server", ",".join(s.url for s in c.all()), "--nodes", nodes, "--pods", pods,
               "--preset", preset, "--create-rate", 500, "--timeout", "90s",
               "--json", jpath, "--plot", svg], tmp_path)
    j = check_report(r, jpath, svg, pods)
    assert j["preset"] == preset
    # Under --create-rate: how late the POSTs went out, for every pod, and
    # the default connections sized for the rate (500/s over 5/s each).
    lag = j["send_lag_ms"]
    assert lag["n"] == pods and 0 <= lag["p50"] <= lag["p99"] <= lag["max"], lag
    assert j["clients"] == 100, j["clients"]
    assert "POSTs sent after their due time" in r.stdout
    # Whether binding kept up with the rate: the backlog (due, not bound)
    # grew by at most 100 ms of creates between half and 9/10 of the pods.
    assert j["kept_pace"] in (True, False)
    assert 0 <= j["backlog_half"] <= pods and 0 <= j["backlog_late"] <= pods, j
    assert j["kept_pace"] == (j["backlog_late"] - j["backlog_half"] <= 0.1 * 500), j
    assert ("pace           kept" if j["kept_pace"] else "FELL BEHIND") in r.stdout
    if preset == "preemption":
        assert j["fill_pods"] == 4 * nodes
        assert j["fill_pods_deleted"] == pods, "one victim per measured pod: 1 cpu each"


def _processes_mentioning(text):
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmd:
            found.append((int(pid), cmd))
    return found


def test_bench_schedule_own_cluster(tmp_path):
    """The benchmark starts its own 3-server cluster and hollow nodes, and
    stops every one of them at the end; its directory goes too."""
    jpath, svg = tmp_path / "report.json", tmp_path / "report.svg"
    r = bench(["--servers", 3, "--nodes", 20, "--pods", 200, "--timeout", "120s",
               "--json", jpath, "--plot", svg], tmp_path)
    try:
        j = check_report(r, jpath, svg, 200)
        assert "starting 3 servers" in r.stderr
        # Not paced: no lag figures, no pace verdict, the default connections.
        assert "send_lag_ms" not in j and j["kept_pace"] is None and j["clients"] == 64
        assert j["backlog_half"] is None and j["backlog_late"] is None
        assert "POSTs sent after" not in r.stdout and "pace " not in r.stdout
        left = _processes_mentioning(str(tmp_path))
        assert not left, left
        assert not [p for p in tmp_path.iterdir() if p.name.startswith("bosun-bench-schedule.")]
    finally:
        for pid, _ in _processes_mentioning(str(tmp_path)):
            os.kill(pid, 9)


@pytest.mark.parametrize("args,words", [
    (["--nodes", "abc"], ["--nodes", "abc"]),
    (["--nodes", "0"], ["--nodes", "0"]),
    (["--pods", "-5"], ["--pods", "-5"]),
    (["--preset", "fastest"], ["unknown preset", "fastest"]),
    (["--create-rate", "lots"], ["--create-rate", "lots"]),
    (["--timeout", "soon"], ["--timeout", "soon"]),
    (["--clients", "0"], ["--clients", "0"]),
    (["--servers", "3", "--server", "http://127.0.0.1:1"], ["--server"]),
    (["--server", "ftp://x"], ["--server", "ftp://x"]),
    (["--frobnicate"], ["unknown flag", "--frobnicate"]),
    (["--nodes"], ["missing value", "--nodes"]),
    (["extra"], ["unexpected argument", "extra"]),
    (["--preset", "preemption", "--nodes", "10", "--pods", "41"], ["preemption", "41"]),
    (["--nodes", "10", "--pods", "401"], ["cannot fit", "401"]),
])
def test_bench_schedule_flag_errors(tmp_path, args, words):
    """Exit status 2 and one stderr line naming the problem, before anything
    is started."""
    r = bench(args, tmp_path, timeout=30)
    assert r.returncode == 2, (r.returncode, r.stderr)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("bosun bench schedule: "), lines[0]
    for w in words:
        assert w in lines[0], (w, lines[0])
    assert r.stdout == ""
    assert not list(tmp_path.iterdir()), "nothing may be created on a flag error"


def test_bench_schedule_help(tmp_path):
    r = bench(["--help"], tmp_path, timeout=30)
    assert r.returncode == 0, r.stderr
    for flag in ("--nodes", "--pods", "--servers", "--pod-template", "--create-rate", "--preset",
                 "--clients", "--kubeconfig", "--server", "--json", "--plot", "--timeout",
                 "--keep", "basic", "node-affinity", "anti-affinity", "topology-spread",
                 "taints", "preemption", "mixed"):
        assert flag in r.stdout, flag
