"""Failover, the core proof: concurrent writers through all three servers, the
leader killed with SIGKILL in the middle, writes resuming on a new leader
within a bounded time, the killed server's log compacted behind a snapshot
while it is down, its restart with the same argv and catch-up through
InstallSnapshot; then identical replicas, and every acknowledged write
present. Also: no quorum means a bounded 503/504 and nothing written; a paused
(SIGSTOP) leader is replaced and rejoins."""
import os
import re
import signal
import threading
import time

import pytest

from conftest import (ensure_ns, Fatal, cm, cm_path, ev_key, ev_rv,
                      wait_for)

NS = "fo"


class Workload:
    """Writer threads creating, updating and deleting configmaps through the
    given servers. Thread t owns the names "w{t}-{k}", so the operations on a
    name happen in that thread's order. Each attempt is recorded with its
    outcome:
      ok       a 2xx answer (acknowledged), with the resourceVersion;
      refused  the connection was refused: surely not done;
      rejected a 4xx answer: not done (e.g. AlreadyExists after an unknown
               create);
      unknown  a 5xx answer or a timeout/reset: may or may not be done."""

    def __init__(self, servers, threads=8, timeout=15.0):
        self.servers = servers
        self.n = threads
        self.timeout = timeout
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.log = {t: [] for t in range(threads)}  # per thread, in order
        self.threads = [threading.Thread(target=self._run, args=(t,), daemon=True)
                        for t in range(threads)]

    def start(self):
        for th in self.threads:
            th.start()
        return self

    def finish(self, timeout=60):
        self.stop.set()
        for th in self.threads:
            th.join(timeout)
        assert not any(th.is_alive() for th in self.threads), "a writer is stuck"

    def _attempt(self, t, s, op, name, data):
        t0 = time.monotonic()
        try:
            if op == "create":
                r = s.req("POST", cm_path(NS), cm(name, data), timeout=self.timeout)
            elif op == "update":
                r = s.req("PUT", cm_path(NS, name), cm(name, data), timeout=self.timeout)
            else:
                r = s.req("DELETE", cm_path(NS, name), timeout=self.timeout)
            code = r.status
            if 200 <= code < 300:
                outcome = "ok"
            elif code >= 500:
                outcome = "unknown"
            else:
                outcome = "rejected"
            rv = None
            if outcome == "ok" and op != "delete":
                rv = int(r.json["metadata"]["resourceVersion"])
        except ConnectionRefusedError:
            code, outcome, rv = None, "refused", None
        except Exception as e:  # noqa: BLE001 - timeouts, resets: unknown
            code, outcome, rv = repr(e)[:80], "unknown", None
        rec = {"op": op, "name": name, "server": s.id, "t0": t0, "t1": time.monotonic(),
               "code": code, "outcome": outcome, "rv": rv}
        with self.lock:
            self.log[t].append(rec)
        return rec

    def _run(self, t):
        i = 0
        live = []  # names this thread believes exist
        k = 0
        while not self.stop.is_set():
            s = self.servers[(t + i) % len(self.servers)]
            i += 1
            if not s.alive() or s.paused:
                # A down server refuses; a paused one would hang the thread
                # for the whole timeout: skip both, like a client would.
                continue
            phase = i % 5
            if phase in (0, 1) or not live:
                name = "w%d-%d" % (t, k)
                k += 1
                rec = self._attempt(t, s, "create", name, {"i": str(i)})
                if rec["outcome"] in ("ok", "unknown"):
                    live.append(name)
            elif phase in (2, 3):
                name = live[(i * 7) % len(live)]
                rec = self._attempt(t, s, "update", name, {"i": str(i)})
                if rec["code"] == 404:  # its create had an unknown outcome: not done
                    live.remove(name)
            else:
                name = live.pop(0)
                rec = self._attempt(t, s, "delete", name, None)
            if rec["outcome"] == "unknown":
                # a client backs off a little after a 5xx or a timeout
                self.stop.wait(0.05)

    # ---- questions about the history
    def records(self):
        with self.lock:
            return [r for t in self.log for r in self.log[t]]

    def acked(self):
        return sum(1 for r in self.records() if r["outcome"] == "ok")

    def first_ok_sent_after(self, t):
        oks = [r for r in self.records() if r["outcome"] == "ok" and r["t0"] >= t]
        return min(oks, key=lambda r: r["t1"]) if oks else None

    def counts(self):
        out = {}
        for r in self.records():
            out[r["outcome"]] = out.get(r["outcome"], 0) + 1
        return out

    def codes(self):
        """(op, code) -> count for everything but 2xx."""
        out = {}
        for r in self.records():
            if r["outcome"] != "ok":
                k = "%s:%s" % (r["op"], r["code"])
                out[k] = out.get(k, 0) + 1
        return out

    def check_against(self, objects):
        """objects: name -> resourceVersion (int) of the final state. Returns
        a list of violations."""
        bad = []
        with self.lock:
            logs = {t: list(v) for t, v in self.log.items()}
        names_seen = set()
        for t, recs in logs.items():
            by_name = {}
            for r in recs:
                by_name.setdefault(r["name"], []).append(r)
            for name, ops in by_name.items():
                names_seen.add(name)
                # must: None (no claim), or ("present", rv) or ("absent",)
                must = None
                for r in ops:
                    o = r["outcome"]
                    if o in ("refused", "rejected"):
                        continue
                    if o == "ok":
                        must = ("absent",) if r["op"] == "delete" else ("present", r["rv"])
                    elif r["op"] == "delete":
                        must = None  # may have removed it
                    elif must and must[0] == "absent":
                        must = None  # an unknown create/update may have brought it back
                    # an unknown update keeps a "present, rv >= R" claim
                    # an unknown create after an acked delete drops "absent"
                have = objects.get(name)
                if must is None:
                    continue
                if must[0] == "present":
                    if have is None:
                        bad.append("LOST: %s acknowledged at rv %d is missing (ops: %s)"
                                   % (name, must[1], short(ops)))
                    elif have < must[1]:
                        bad.append("STALE: %s at rv %d, acknowledged at rv %d (ops: %s)"
                                   % (name, have, must[1], short(ops)))
                    elif have != must[1] and all(
                            r["outcome"] != "unknown" for r in ops[ops.index(last_ok(ops)):]):
                        bad.append("CHANGED: %s at rv %d, last write acked at rv %d and no "
                                   "later attempt (ops: %s)" % (name, have, must[1], short(ops)))
                elif have is not None:
                    bad.append("RESURRECTED: %s exists at rv %d after an acknowledged delete "
                               "(ops: %s)" % (name, have, short(ops)))
        for name in objects:
            if name not in names_seen:
                bad.append("UNEXPECTED: %s exists but no writer wrote it" % name)
        return bad


def last_ok(ops):
    return [r for r in ops if r["outcome"] == "ok"][-1]


def short(ops):
    return ", ".join("%s@s%d=%s%s" % (r["op"], r["server"], r["outcome"],
                                      "/%d" % r["rv"] if r["rv"] else "") for r in ops)


def final_objects(c):
    """name -> rv in namespace NS, identical on every live server."""
    views = []
    for s in c.live():
        r = s.get(cm_path(NS) + "?resourceVersion=0", timeout=30)
        assert r.status == 200, r
        views.append({i["metadata"]["name"]: int(i["metadata"]["resourceVersion"])
                      for i in r.json["items"]})
    for v in views[1:]:
        assert v == views[0], "the servers list different objects"
    return views[0]


class CrashWatch:
    """Fails the test at once if any server dies unexpectedly (called from
    the test's waits, the main thread). libraft 0.22.1 used to crash here in
    takeSnapshotCb; scripts/libraft-patches/0001 fixed it, so no death is
    tolerated any more."""

    def __init__(self, c):
        self.c = c

    def __call__(self):
        for s in self.c.all():
            if s.crashed():
                raise Fatal("s%d died unexpectedly (exit %s):\n%s"
                            % (s.id, s.proc.returncode, s.log_tail(40)))
        return False

    def until(self, what, fn, timeout, interval=0.1):
        return wait_for(what, lambda: self() or fn(), timeout, interval)


SNAP = re.compile(r"^snapshot-(\d+)-(\d+)-(\d+)$")
SEG = re.compile(r"^(\d{16})-(\d{16})$")


def raft_files(s):
    """(snapshot indexes, first index kept in closed segments or None)."""
    d = s.data_dir / "raft"
    snaps, starts = [], []
    for f in os.listdir(d):
        m = SNAP.match(f)
        if m:
            snaps.append(int(m.group(2)))
        m = SEG.match(f)
        if m:
            starts.append(int(m.group(1)))
    return sorted(snaps), (min(starts) if starts else None)


def compacted_beyond(s, index):
    """True when s's log no longer holds entry index+1: a server whose log
    ends at index can only catch up from s through a snapshot."""
    snaps, first = raft_files(s)
    return bool(snaps) and snaps[-1] > index and first is not None and first > index + 1


@pytest.mark.slow
def test_kill_leader_under_load(make_cluster):
    # --watch-history keeps the state small: the snapshot threshold grows with
    # the state (raft/cluster.c tune_cb), the change log included
    c = make_cluster(3, extra=["--snapshot-threshold", "64", "--snapshot-trailing", "16",
                               "--watch-history", "200"])
    ensure_ns(c.leader(), NS, NS + "-probe")
    crash = CrashWatch(c)
    servers = c.all()
    start_rv = int(servers[0].get(cm_path(NS)).json["metadata"]["resourceVersion"])
    # a watch on every server, from before the first write: the survivors'
    # streams must go on across the failover, identical and gapless
    watches = {s.id: s.watch(cm_path(NS), resourceVersion=str(start_rv), timeout=120)
               for s in servers}
    wl = Workload(servers, threads=8).start()
    try:
        crash.until("300 acknowledged writes", lambda: wl.acked() >= 300, 60)
        old = c.leader()
        survivors = [s for s in servers if s is not old]
        old_last = old.status()["last_index"]
        t_kill = time.monotonic()
        old.kill()
        first = crash.until("a write acknowledged after the kill",
                            lambda: wl.first_ok_sent_after(t_kill), 30, interval=0.05)
        resume_s = first["t1"] - t_kill
        new = c.leader(servers=survivors, timeout=30)
        t_elected = time.monotonic() - t_kill
        unknown = [r for r in wl.records() if r["outcome"] == "unknown"
                   and r["t0"] < t_kill + resume_s]
        print("\nFAILOVER: leader s%d killed -9; new leader s%d; first write acknowledged "
              "%.2fs after the kill (sent to s%d); all survivors agreed on the leader by "
              "%.2fs; %d writes in that window had an unknown outcome"
              % (old.id, new.id, resume_s, first["server"], t_elected, len(unknown)))
        assert resume_s < 15, "writes resumed only %.1fs after the kill" % resume_s
        # Keep writing until the survivors' logs no longer reach back to the
        # killed server's last entry (a few more may have been appended after
        # the status read: +8).
        old_last = max(old_last, max(raft_files(old)[0] or [0]))
        crash.until("the survivors' logs compacted past index %d" % old_last,
                    lambda: all(compacted_beyond(s, old_last + 8) for s in survivors), 90)
        acked_while_down = wl.acked()
        old.start()  # the very same argv
        c.wait_healthy([old], timeout=30)
        t_restart = time.monotonic()
        # it catches up while the writers go on
        crash.until("s%d to catch up" % old.id,
                    lambda: old.status()["applied_index"] >= new.status()["commit_index"] - 50,
                    60, interval=0.2)
        catchup_s = time.monotonic() - t_restart
        crash.until("100 more writes", lambda: wl.acked() >= acked_while_down + 100, 60)
    finally:
        wl.finish()
    crash()
    counts = wl.counts()
    print("FAILOVER: s%d caught up %.2fs after its restart; writes: %s; not 2xx: %s"
          % (old.id, catchup_s, counts, wl.codes()))
    snaps, _ = raft_files(old)
    assert snaps and snaps[-1] > old_last, (
        "s%d holds no snapshot past its old last index %d: %s" % (old.id, old_last, snaps))

    ds = crash.until("replicas to converge", lambda: c.wait_converged(timeout=90), 120)
    print("FAILOVER: converged at revision %d, digest %s, %d objects"
          % (ds[0]["revision"], ds[0]["digest"], ds[0]["objects"]))
    objects = final_objects(c)
    bad = wl.check_against(objects)
    assert not bad, "\n".join(bad[:30])
    # a linearizable read on the restarted server agrees
    r = old.get(cm_path(NS))
    assert r.status == 200
    assert {i["metadata"]["name"]: int(i["metadata"]["resourceVersion"])
            for i in r.json["items"]} == objects
    assert counts.get("ok", 0) >= 500

    # The watch streams: a marker write bounds them. The survivors' live
    # streams (from before the first write, across the failover) hold the same
    # events, in revision order, with every acknowledged create/update at its
    # resourceVersion; a replay of the last 150 revisions on the restarted
    # server (its change log came through the snapshot) matches their tail.
    m = new.req("POST", cm_path(NS), cm("zz-marker"))
    assert m.status == 201, m
    marker = int(m.json["metadata"]["resourceVersion"])
    tail_from = marker - 150
    replay = old.watch(cm_path(NS), resourceVersion=str(tail_from), timeout=120)
    live = {"live on s%d" % s.id: watches[s.id] for s in survivors
            if s.starts == 1}  # (one CrashWatch restarted lost its stream)
    assert live, "no survivor kept its watch"
    got = {}
    for label, w in live.items():
        evs = w.wait_rv(marker, 60)
        got[label] = [ev_key(e) for e in evs if ev_rv(e) <= marker]
    labels = list(got)
    for lb in labels[1:]:
        assert got[lb] == got[labels[0]], "watch streams differ: %s vs %s" % (lb, labels[0])
    seq = got[labels[0]]
    rep = [ev_key(e) for e in replay.wait_rv(marker, 60) if ev_rv(e) <= marker]
    assert rep and rep == [k for k in seq if int(k[2]) > tail_from], \
        "the restarted server's replay differs from the live streams' tail"
    labels.append("replay of the last 150 revisions on s%d" % old.id)
    rvs = [int(k[2]) for k in seq]
    assert rvs == sorted(rvs) and len(set(rvs)) == len(rvs)
    keys = set(seq)
    missing = [(r["op"], r["name"], r["rv"]) for r in wl.records()
               if r["outcome"] == "ok" and r["op"] != "delete"
               and (("ADDED" if r["op"] == "create" else "MODIFIED"), r["name"], str(r["rv"]))
               not in keys]
    assert not missing, "acknowledged writes missing from the watch streams: %s" % missing[:10]
    print("FAILOVER: %d watch events identical on %s" % (len(seq), ", ".join(labels)))


def test_paused_follower_under_load_survives(make_cluster):
    """A follower paused for a second under write load falls behind the
    leader's compacted log; on SIGCONT it gets an InstallSnapshot while it
    takes its own snapshot. It must survive that (libraft 0.22.1 crashed in
    takeSnapshotCb here, ~3 runs in 4, until scripts/libraft-patches/0001)."""
    c = make_cluster(3, extra=["--snapshot-threshold", "16", "--snapshot-trailing", "1",
                               "--watch-history", "20"])
    ensure_ns(c.leader(), NS, NS + "-probe")
    c.tolerate_crash = True  # asserted here
    ld = c.leader()
    for t in range(8):  # a constant set of objects keeps the state small
        assert ld.req("POST", cm_path(NS), cm("k%d" % t)).status == 201
    stop = threading.Event()

    def updater(t):
        i = 0
        while not stop.is_set():
            s = c.all()[(t + i) % 3]
            i += 1
            if not s.alive() or s.paused:
                continue
            try:
                s.req("PUT", cm_path(NS, "k%d" % t), cm("k%d" % t, {"i": str(i)}), timeout=5)
            except Exception:  # noqa: BLE001 - a crashed server: seen below
                stop.wait(0.05)
    ths = [threading.Thread(target=updater, args=(t,), daemon=True) for t in range(8)]
    for th in ths:
        th.start()
    try:
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline:
            ld = c.leader(timeout=30)
            f = [s for s in c.all() if s is not ld][0]
            f.pause()
            time.sleep(1.0)  # the fault itself: a pause of this length
            f.resume()
            # it catches up within a second; watch every server meanwhile
            t_end = time.monotonic() + 1.0
            while time.monotonic() < t_end:
                dead = [s for s in c.all() if not s.alive()]
                assert not dead, "%s died after a 1s pause of s%d:\n%s" % (
                    dead, f.id, "\n".join(c.sanitizer_reports())[:3000])
                time.sleep(0.05)
    finally:
        stop.set()
        for th in ths:
            th.join(10)
    c.wait_converged(timeout=60)


def no_quorum_write(s, name):
    t0 = time.monotonic()
    try:
        r = s.req("POST", cm_path(NS), cm(name), timeout=30)
        code = r.status
        reason = r.json.get("reason") if r.body else None
    except Exception as e:  # noqa: BLE001
        code, reason = repr(e), None
    return code, reason, time.monotonic() - t0


@pytest.mark.slow
def test_no_quorum_then_recovery(make_cluster):
    """Leader and one follower killed: the lone follower answers a write with
    503 within ~10s, nothing is written anywhere; one server back, the
    cluster has a quorum again and writes; the third rejoins identical."""
    c = make_cluster(3, extra=["--heartbeat-timeout", "50ms"])
    ensure_ns(c.leader(), NS, NS + "-probe")
    ld = c.leader()
    lone, other = c.followers(ld)
    assert lone.req("POST", cm_path(NS), cm("before")).status == 201
    c.wait_converged()
    before = lone.digest()
    ld.kill()
    other.kill()
    # At once, lone still believes in the dead leader: forwarding fails, an
    # unknown outcome (504) or no leader (503).
    code, reason, dt = no_quorum_write(lone, "during")
    print("\nNO QUORUM: first write answered %s %s after %.2fs" % (code, reason, dt))
    assert code in (503, 504), (code, reason)
    assert dt <= 12, dt
    # Once it knows there is no leader: 503 after at most two election
    # timeouts (+0.5s), as forward.c promises.
    wait_for("s%d to know there is no leader" % lone.id,
             lambda: lone.status()["leader_id"] == 0, 15)
    code, reason, dt = no_quorum_write(lone, "during")
    print("NO QUORUM: write without a known leader answered %s %s after %.2fs"
          % (code, reason, dt))
    assert code == 503 and reason == "ServiceUnavailable", (code, reason)
    assert dt <= 6, dt
    # a linearizable read cannot be served either; a local one can
    r = lone.get(cm_path(NS, "before"), timeout=30)
    assert r.status in (503, 504), r
    r = lone.get(cm_path(NS, "before") + "?resourceVersion=0")
    assert r.status == 200
    after = lone.digest()
    assert (after["revision"], after["digest"]) == (before["revision"], before["digest"])
    assert lone.get("/readyz").status == 503
    assert lone.status()["last_index"] == lone.status()["commit_index"], lone.status()

    # one comes back: a quorum again
    t0 = time.monotonic()
    other.start()
    c.leader(servers=[lone, other], timeout=30)
    r = wait_for("a write to succeed",
                 lambda: (lambda r: r if r.status == 201 else None)(
                     lone.req("POST", cm_path(NS), cm("after"))), 30, interval=0.2)
    print("NO QUORUM: writes accepted %.2fs after a second server came back"
          % (time.monotonic() - t0))
    for s in (lone, other):
        assert s.get(cm_path(NS, "during")).status == 404
        assert s.get(cm_path(NS, "after")).status == 200
    ld.start()
    ds = c.wait_converged(timeout=60)
    objs = final_objects(c)
    assert set(objs) == {"before", "after"}, objs
    assert ds[0]["objects"] >= 2


@pytest.mark.slow
def test_no_quorum_on_lone_leader_is_bounded(make_cluster):
    """Both followers killed: the leader cannot commit. A write gets 503 or 504
    (outcome unknown) within ~10s rather than hanging; after recovery the
    write is either fully there or absent on every server."""
    c = make_cluster(3, extra=["--heartbeat-timeout", "50ms"])
    ensure_ns(c.leader(), NS, NS + "-probe")
    ld = c.leader()
    f1, f2 = c.followers(ld)
    f1.kill()
    f2.kill()
    code, reason, dt = no_quorum_write(ld, "lonely")
    print("\nLONE LEADER: write answered %s %s after %.2fs" % (code, reason, dt))
    assert code in (503, 504), (code, reason)
    assert dt <= 12, dt
    f1.start()
    f2.start()
    c.leader(timeout=30)
    ds = c.wait_converged(timeout=60)
    present = [s.get(cm_path(NS, "lonely") + "?resourceVersion=0").status for s in c.live()]
    assert len(set(present)) == 1, present
    assert ds[0]["digest"]


@pytest.mark.slow
def test_paused_leader_is_replaced_and_rejoins(make_cluster):
    """SIGSTOP the leader under load: the others elect a new leader and go on;
    after SIGCONT the old leader steps down and converges; no acknowledged
    write is lost."""
    c = make_cluster(3)
    ensure_ns(c.leader(), NS, NS + "-probe")
    servers = c.all()
    wl = Workload(servers, threads=4).start()
    try:
        wait_for("50 writes", lambda: wl.acked() >= 50, 30, interval=0.1)
        old = c.leader()
        rest = [s for s in servers if s is not old]
        t_pause = time.monotonic()
        old.pause()
        new = c.leader(servers=rest, timeout=30)
        t_new = time.monotonic() - t_pause
        assert new is not old
        # a fresh write through each live server, now that a leader is known
        fresh = []
        for s in rest:
            t0 = time.monotonic()
            r = s.req("POST", cm_path(NS + "-probe"), cm("fresh-s%d" % s.id), timeout=30)
            fresh.append((s.id, r.status, round(time.monotonic() - t0, 2)))
        first = wait_for("a write acknowledged after the pause",
                         lambda: wl.first_ok_sent_after(t_pause), 30)
        print("\nPAUSE: leader s%d stopped; new leader s%d known after %.2fs; the writers' "
              "first acknowledged write %.2fs after the pause; fresh writes then: %s"
              % (old.id, new.id, t_new, first["t1"] - t_pause, fresh))
        for sid, code, dt in fresh:
            assert code == 201 and dt < 5, fresh
        n = wl.acked()
        wait_for("100 more writes", lambda: wl.acked() >= n + 100, 60)
        old.resume()
        wait_for("s%d to follow s%d" % (old.id, new.id),
                 lambda: old.status()["role"] == "follower"
                 and old.status()["leader_id"] in (new.id,) + tuple(s.id for s in rest), 30)
        n = wl.acked()
        wait_for("50 more writes", lambda: wl.acked() >= n + 50, 60)
    finally:
        wl.finish()
    c.wait_converged(timeout=60)
    bad = wl.check_against(final_objects(c))
    assert not bad, "\n".join(bad[:30])


@pytest.mark.parametrize("how", ["kill", "term"])
def test_whole_cluster_restart_keeps_state(make_cluster, how):
    """Every server stopped at once (kill -9, or SIGTERM) and started again
    with the same argv: the same replicas (digest, revision), every
    acknowledged write, and the watch history, rebuilt from the snapshots
    and the Raft log."""
    c = make_cluster(3, extra=["--snapshot-threshold", "32", "--snapshot-trailing", "8",
                               "--watch-history", "100"])
    ensure_ns(c.leader(), NS, NS + "-probe")
    wl = Workload(c.all(), threads=4).start()
    try:
        wait_for("200 writes", lambda: wl.acked() >= 200, 60)
        # a snapshot on every server, and entries after it: the restart
        # restores the snapshot and replays the log
        wait_for("a snapshot on every server, then 20 more entries",
                 lambda: all(raft_files(s)[0] and s.status()["applied_index"]
                             > raft_files(s)[0][-1] + 20 for s in c.all()), 60, interval=0.2)
    finally:
        wl.finish()
    before = c.wait_converged()
    objects = final_objects(c)
    assert not wl.check_against(objects)
    for s in c.all():
        if how == "kill":
            s.kill()
        else:
            assert s.stop() == 0
    for s in c.all():
        assert raft_files(s)[0], "s%d took no snapshot" % s.id
        s.start()
    c.wait_healthy()
    c.leader(timeout=30)
    after = c.wait_converged()
    key = lambda d: (d["revision"], d["digest"], d["objects"])  # noqa: E731
    assert key(after[0]) == key(before[0]), (before[0], after[0])
    assert final_objects(c) == objects
    # the change log too: a replay of the last 80 revisions, identical on
    # every server, holding every acknowledged write among them
    last = before[0]["revision"]
    seqs = []
    for s in c.all():
        w = s.watch(cm_path(NS), resourceVersion=str(last - 80))
        evs = w.wait_rv(last, 30)
        seqs.append([ev_key(e) for e in evs])
        w.close()
    assert seqs[0] == seqs[1] == seqs[2]
    assert [int(k[2]) for k in seqs[0]] == list(range(last - 79, last + 1))
    keys = set(seqs[0])
    for r in wl.records():
        if r["outcome"] == "ok" and r["op"] != "delete" and r["rv"] > last - 80:
            t = "ADDED" if r["op"] == "create" else "MODIFIED"
            assert (t, r["name"], str(r["rv"])) in keys, r
    assert c.leader().req("POST", cm_path(NS), cm("after-restart")).status == 201


def test_election_after_leader_pause_is_prompt(make_cluster):
    """In fresh, quiet clusters: SIGSTOP the leader; the two others elect a
    new leader within 5 election timeouts, every time. (libraft seeds its
    election timeouts from the clock only; servers started together split
    votes for 7-21 s until cluster_start seeded it from getrandom.)"""
    times = []
    for _ in range(3):
        c = make_cluster(3)
        ensure_ns(c.leader(), NS, NS + "-probe")
        old = c.leader()
        rest = [s for s in c.all() if s is not old]
        t0 = time.monotonic()
        old.pause()
        c.leader(servers=rest, timeout=60)
        times.append(round(time.monotonic() - t0, 1))
        c.stop_all()
    print("\nELECTION after a paused leader: %s s" % times)
    assert max(times) < 5, times


def test_killed_leader_is_replaced_before_an_election_timeout(make_cluster):
    """kill -9 of the leader: the followers see its API connection close and
    refuse a new one (server/leaderwatch.c), and campaign at once instead of
    waiting for their election timeout. With a 6 s election timeout no
    follower could campaign before 6 s of silence; the new leader is there
    well before, and takes a write. A paused leader is not mistaken for a
    dead one: its followers wait the whole timeout."""
    c = make_cluster(3, extra=["--election-timeout", "6000ms"])
    ensure_ns(c.leader(timeout=60), NS)
    old = c.leader()
    rest = [s for s in c.all() if s is not old]
    time.sleep(1)  # the followers' watch connections are open
    t0 = time.monotonic()
    old.kill()
    new = c.leader(servers=rest, timeout=30)
    dt = time.monotonic() - t0
    assert new.req("POST", cm_path(NS), cm("after-kill")).status == 201
    print("\nLEADER KILLED: new leader after %.2f s (election timeout 6 s)" % dt)
    assert dt < 5, dt
    assert "its process is gone" in " ".join(s.log_text() for s in rest)
    # Paused, the new leader keeps its connections: no hurry, the timeout holds.
    old.start()
    c.wait_healthy()
    ld = c.leader(timeout=60)
    others = [s for s in c.all() if s is not ld]
    time.sleep(1)
    t0 = time.monotonic()
    ld.pause()
    c.leader(servers=others, timeout=60)
    dt = time.monotonic() - t0
    ld.resume()
    print("LEADER PAUSED: new leader after %.2f s" % dt)
    assert dt >= 5.9, dt


def test_sigbus_says_why_and_loses_nothing(make_cluster):
    """A full disk under LMDB's writable map ends a server with SIGBUS (a
    write to the map cannot get a page). The server says so in its log,
    dies of the signal, and after a restart has every acknowledged write.
    (SIGBUS is sent here; a real full disk needs a mount this test may not
    make.)"""
    c = make_cluster(3)
    ld = c.leader()
    f = c.followers(ld)[0]
    ensure_ns(ld, "bus")
    for i in range(5):
        assert ld.req("POST", cm_path("bus"), cm("k%d" % i)).status == 201
    f.down_expected = True
    f.signal(signal.SIGBUS)
    assert f.proc.wait(timeout=10) == -signal.SIGBUS
    assert "is the disk of the data dir" in f.log_text()
    f.start()
    wait_for("the restarted server to serve the writes", lambda: len(
        f.get(cm_path("bus")).json.get("items", [])) == 5, 20)
