"""`bosun chaos` (the runner) end to end: it starts its own cluster of the
sanitizer build, puts its fault proxy on every Raft link, drives clients,
injects faults and judges the history.

- a short run (3 servers, 20 s, kill + pause + partition, 8 clients, seed 1)
  ends PASS with exit 0; it wrote history.jsonl (with ok operations of every
  kind), faults.jsonl (at least one fault of each kind asked for, each with
  its start and end), final.json (every server), watch.jsonl (every
  server's watch: events, and streams resumed after they ended) and a
  self-contained report.html; the watch check passed; the recorded history
  passes `bosun chaos check` again; the
  servers' logs hold no sanitizer report (the known libraft 0.22.1
  InstallSnapshot leak aside, as in conftest); and no process it started is
  left running;
- a short run of the two faults that need the servers' cooperation (3
  servers, 20 s, disk + membership, seed 3) ends PASS too: the servers ran
  with the disk fault hook on (their logs say so), faults.jsonl holds slow or
  full disks and removals with their steps (added back, a voter again and
  caught up), and every server is in final.json with the same data;
- a controllers run (3 servers, 24 s, kill + pause + partition-leader,
  seed 5, --workload controllers) ends PASS: hollow nodes ran the pods of
  StatefulSets, ReplicaSets and Jobs that a driver scaled and created
  through the faults; controllers.jsonl recorded every change of them
  (streams resumed across servers), the controller invariants passed, and
  every Job finished; the record passes `bosun chaos check` again, and the
  same record with one pod moved to another node after its binding FAILs
  it (exit 1) with words that say so; the hollow nodes are gone too;
- attached to a running cluster (`--kubeconfig`, a 3-server cluster this
  test started): 16 s of the API faults (membership, transfer) end PASS,
  with at least one of each; the servers still run afterwards, all voters;
  a second run on the same cluster starts from a new namespace chaos and
  passes too; asking for a process fault there exits 2;
- `bosun chaos --faults bogus` exits 2 with a message, starting nothing.

The runner picks its own free ports in [20000, 32000) and stops every server
it started by pid, also when interrupted."""
import json
import os
import subprocess
from pathlib import Path

from conftest import BOSUN, analyze_log, server_env

RUN_TIMEOUT = 240
TOLERATE = ("libraft-install-snapshot-leak",)


class _Log:
    """What conftest.analyze_log needs of a server: an id and its log."""

    def __init__(self, sid, path):
        self.id = sid
        self.path = path

    def log_text(self):
        return self.path.read_text(errors="replace")


def _processes_mentioning(text):
    """Pids whose command line contains text (the run's directory)."""
    pids = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit() or int(d.name) == os.getpid():
            continue
        try:
            cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmd and "pytest" not in cmd:
            pids.append((int(d.name), cmd))
    return pids


def _lines(path):
    return [json.loads(ln) for ln in path.read_text().splitlines() if ln.strip()]


def _run_passes(out, faults, seed, duration="20s", clients=8, extra=()):
    """A 20 s run of 3 servers with these faults: it must PASS and leave
    nothing running."""
    r = subprocess.run([str(BOSUN), "chaos", "--servers", "3", "--duration", duration,
                        "--faults", faults, "--clients", str(clients), "--seed", str(seed),
                        "--out", str(out)] + list(extra),
                       capture_output=True, text=True, env=server_env(), timeout=RUN_TIMEOUT,
                       stdin=subprocess.DEVNULL)
    print(r.stdout[-6000:])
    print(r.stderr[-3000:])
    assert "Sanitizer" not in r.stderr and "runtime error" not in r.stderr, r.stderr[-4000:]
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    assert "verdict: PASS" in r.stdout
    assert "unavailability" in r.stdout

    # nothing it started is left
    assert _processes_mentioning(str(out)) == []
    return r


def _logs_clean(out):
    """The servers' logs (every run of each, kills and restarts included)."""
    for sid in (1, 2, 3):
        bad, note = analyze_log(_Log(sid, out / ("s%d.log" % sid)), tolerate=TOLERATE)
        assert bad is None, bad
        if note:
            print("s%d: %s" % (sid, note))


def test_short_run_passes(tmp_path):
    out = tmp_path / "run"
    r = _run_passes(out, "kill,pause,partition", 1)

    ops = _lines(out / "history.jsonl")
    ok = [o for o in ops if o["result"] == "ok"]
    assert len(ok) >= 100, len(ok)
    assert {o["f"] for o in ok} == {"create", "get", "update", "delete"}
    for o in ops:
        assert o["invoke"] > 0 and o["key"].startswith("chaos/k")
        if o["result"] != "unknown":
            assert o["complete"] >= o["invoke"]
    written = [o["value"] for o in ops if o["f"] in ("create", "update")]
    assert len(written) == len(set(written))  # unique values

    faults = _lines(out / "faults.jsonl")
    kinds = {f["kind"] for f in faults}
    assert len(faults) >= 3 and kinds == {"kill", "pause", "partition"}, faults
    for f in faults:
        assert 0 < f["start"] < f["end"] and f["targets"], f

    final = json.loads((out / "final.json").read_text())
    assert sorted(final["servers"]) == ["s1", "s2", "s3"]
    states = list(final["servers"].values())
    assert all(s == states[0] for s in states)  # converged

    watch = _lines(out / "watch.jsonl")
    assert "watch        PASS" in r.stdout and "watch streams" in r.stdout
    for sid in ("s1", "s2", "s3"):
        mine = [w for w in watch if w["server"] == sid]
        assert mine[0].get("open") == "list", mine[:2]
        assert sum(1 for w in mine if w.get("type") in ("ADDED", "MODIFIED", "DELETED")) >= 50
        assert any(w.get("open") == "resume" for w in mine), sid  # reconnected and resumed

    html = (out / "report.html").read_text()
    assert "<svg" in html and "PASS" in html
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")  # self-contained

    # the recorded history stands on its own
    c = subprocess.run([str(BOSUN), "chaos", "check", str(out)], capture_output=True, text=True,
                       env=server_env(), timeout=120, stdin=subprocess.DEVNULL)
    assert c.returncode == 0, c.stdout + c.stderr
    _logs_clean(out)


def test_disk_and_membership_run_passes(tmp_path):
    out = tmp_path / "run"
    _run_passes(out, "disk,membership", 3)
    for sid in (1, 2, 3):
        assert "disk fault hook on" in (out / ("s%d.log" % sid)).read_text(errors="replace")

    faults = _lines(out / "faults.jsonl")
    assert {f["kind"] for f in faults} == {"disk", "membership"}, faults
    for f in faults:
        assert 0 < f["start"] < f["end"] and len(f["targets"]) == 1, f
        if f["kind"] == "disk":
            assert f["shape"] in ("slow", "full"), f
            assert (out / ("s%d.disk" % f["targets"][0])).read_text().strip() == "ok"
        else:
            whats = " | ".join(s["what"] for s in f["steps"])
            assert "added back (HTTP 200)" in whats and "a voter again and caught up" in whats, f
            assert all(f["start"] < s["t"] <= f["end"] for s in f["steps"]), f

    final = json.loads((out / "final.json").read_text())
    assert sorted(final["servers"]) == ["s1", "s2", "s3"]
    states = list(final["servers"].values())
    assert states[0] and all(s == states[0] for s in states)
    _logs_clean(out)


def test_controllers_run_passes(tmp_path):
    out = tmp_path / "run"
    r = _run_passes(out, "kill,pause,partition-leader", 5, duration="24s", clients=4,
                    extra=("--workload", "controllers"))
    assert "controllers  PASS" in r.stdout
    assert "controllers: settled" in r.stdout
    port = r.stdout.split("API ports ")[1].split("..")[0]
    assert _processes_mentioning("127.0.0.1:%s" % port) == []  # the hollow nodes too

    rec = _lines(out / "controllers.jsonl")
    events = [x for x in rec if x.get("type") in ("ADDED", "MODIFIED", "DELETED")]
    owners = {x["object"].get("owner") for x in events if x["kind"] == "Pod"}
    assert {"StatefulSet", "ReplicaSet", "Job"} <= owners, owners
    jobs = {x["object"]["name"]: x["object"] for x in events if x["kind"] == "Job"}
    assert len(jobs) >= 3 and all(j["complete"] for j in jobs.values()), jobs
    resumed = {x["server"] for x in rec if x.get("open") == "resume"}
    assert len(resumed) >= 2, resumed  # the streams were stitched across servers
    drivers = [x for x in rec if "driver" in x]
    assert sum(1 for d in drivers if d["status"] in (200, 201)) >= 20, drivers

    c = subprocess.run([str(BOSUN), "chaos", "check", str(out)], capture_output=True, text=True,
                       env=server_env(), timeout=120, stdin=subprocess.DEVNULL)
    assert c.returncode == 0 and "controllers  PASS" in c.stdout, c.stdout + c.stderr

    # A pod that moves to another node after its binding is caught.
    bound = next(x for x in events if x["kind"] == "Pod" and x["type"] == "MODIFIED"
                 and x["object"]["node"])
    moved = dict(bound, rv=str(int(bound["rv"]) + 1), object=dict(bound["object"], node="elsewhere"))
    text = (out / "controllers.jsonl").read_text()
    lines = text.splitlines()
    at = lines.index(next(ln for ln in lines if '"rv":"%s"' % bound["rv"] in ln
                          and '"kind":"Pod"' in ln))
    edited = tmp_path / "edited"
    edited.mkdir()
    for name in ("history.jsonl", "final.json", "watch.jsonl"):
        (edited / name).write_text((out / name).read_text())
    lines.insert(at + 1, json.dumps(moved))
    (edited / "controllers.jsonl").write_text("\n".join(lines) + "\n")
    c = subprocess.run([str(BOSUN), "chaos", "check", str(edited)], capture_output=True,
                       text=True, env=server_env(), timeout=120, stdin=subprocess.DEVNULL)
    assert c.returncode == 1, c.stdout + c.stderr
    assert "controllers  FAIL" in c.stdout, c.stdout
    assert "was bound to %s" % bound["object"]["node"] in c.stdout, c.stdout
    _logs_clean(out)
    bad, _ = analyze_log(_Log(0, out / "agent.log"), tolerate=TOLERATE)
    assert bad is None, bad


def test_attached_run_passes(tmp_path, make_cluster):
    c = make_cluster(3)
    kc = tmp_path / "kubeconfig"
    kc.write_text("apiVersion: v1\nkind: Config\ncurrent-context: x\n"
                  "clusters:\n- name: c\n  cluster:\n    server: %s/\n"
                  "contexts:\n- name: x\n  context:\n    cluster: c\n    user: u\n"
                  "users:\n- name: u\n  user: {}\n" % c.servers[1].url)
    for run, (duration, seed) in enumerate((("16s", 2), ("6s", 4))):
        out = tmp_path / ("run%d" % run)
        r = subprocess.run([str(BOSUN), "chaos", "--kubeconfig", str(kc), "--duration", duration,
                            "--clients", "4", "--seed", str(seed), "--out", str(out)],
                           capture_output=True, text=True, env=server_env(), timeout=RUN_TIMEOUT,
                           stdin=subprocess.DEVNULL)
        print(r.stdout[-5000:], r.stderr[-2000:])
        assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
        assert "attached to the 3 servers" in r.stdout and "verdict: PASS" in r.stdout
        assert "stopping the servers" not in r.stdout
        kinds = [f["kind"] for f in _lines(out / "faults.jsonl")]
        assert set(kinds) <= {"membership", "transfer"}, kinds
        if run == 0:
            assert "membership" in kinds and "transfer" in kinds, kinds
        ops = _lines(out / "history.jsonl")
        assert {o["server"] for o in ops} == {1, 2, 3}  # spread over every member
    for srv in c.servers.values():
        assert srv.alive(), "s%d" % srv.id
    st = c.servers[1].get("/cluster/status").json
    assert sorted((m["id"], m["role"]) for m in st["members"]) == \
        [(1, "voter"), (2, "voter"), (3, "voter")]

    r = subprocess.run([str(BOSUN), "chaos", "--kubeconfig", str(kc), "--faults", "kill",
                        "--out", str(tmp_path / "never")],
                       capture_output=True, text=True, env=server_env(), timeout=30,
                       stdin=subprocess.DEVNULL)
    assert r.returncode == 2 and "only the faults done through the API" in r.stderr, r.stderr


def test_bogus_fault_is_refused(tmp_path):
    out = tmp_path / "never"
    r = subprocess.run([str(BOSUN), "chaos", "--faults", "bogus", "--out", str(out)],
                       capture_output=True, text=True, env=server_env(), timeout=30,
                       stdin=subprocess.DEVNULL)
    assert r.returncode == 2
    assert "bogus" in r.stderr
    assert not out.exists()
