"""Membership and leadership: a 4th server joins with --join and becomes a
voter holding the same replica; leadership moves to a chosen server with
POST /cluster/transfer; roles change with POST /cluster/members/{id}/role;
members are removed with DELETE /cluster/members/{id}; a removed server
comes back with an empty data directory through --join, announcing a
Raft address of a relay in front of it (--advertise-raft-address)."""
import shutil
import socket
import threading
import time

import pytest

from conftest import ensure_ns, cm, cm_path, wait_for


def members(s):
    return {m["id"]: m for m in s.status()["members"]}


def write_some(s, ns, n, prefix="k"):
    for i in range(n):
        r = s.req("POST", cm_path(ns), cm("%s%d" % (prefix, i), {"i": str(i)}))
        assert r.status == 201, r


@pytest.mark.slow
def test_join_becomes_voter_with_same_replica(make_cluster):
    c = make_cluster(3, extra=["--heartbeat-timeout", "50ms", "--snapshot-threshold", "64",
                               "--snapshot-trailing", "16", "--watch-history", "50"])
    ensure_ns(c.leader(), "join", "xfer", "roles")
    ld = c.leader()
    write_some(ld, "join", 100)  # enough that the joiner needs a snapshot
    via = c.followers(ld)[0]
    s4 = c.add_joiner(4, through=via).start()
    c.wait_healthy([s4])
    t0 = time.monotonic()
    wait_for("s4 to be a voter on every server",
             lambda: all(members(s).get(4, {}).get("role") == "voter"
                         for s in c.all()), 90, interval=0.2)
    print("\nJOIN: s4 became a voter %.2fs after starting" % (time.monotonic() - t0))
    m = members(ld)[4]
    assert m["address"] == s4.raft_address and m["api"] == s4.url, m
    st = s4.status()
    assert st["role"] == "follower" and st["member_role"] == "voter", st
    assert st["leader_id"] == ld.id and st["leader_api"] == ld.url, st
    # the joiner serves the API: reads, and writes forwarded to the leader
    assert s4.get(cm_path("join", "k7")).status == 200
    r = s4.req("POST", cm_path("join"), cm("from-s4"))
    assert r.status == 201, r
    assert ld.get(cm_path("join", "from-s4")).status == 200
    ds = c.wait_converged(timeout=60)
    assert len(ds) == 4 and len({d["digest"] for d in ds}) == 1
    # a 4-voter cluster still has a quorum (3) with one down
    s4.kill()
    write_some(via, "join", 5, prefix="while-s4-down")
    # the joined server restarts with the same argv (--join): it is not
    # fresh, so it does not ask to join again, and it catches up
    s4.start()
    c.wait_healthy([s4])
    ds = c.wait_converged(timeout=60)
    assert len(ds) == 4
    assert sorted(members(s4)) == [1, 2, 3, 4]
    assert s4.get(cm_path("join", "while-s4-down4")).status == 200


def transfer(c, via, target_id, attempts=3):
    """POST /cluster/transfer through `via`, once the target has applied
    everything (libraft moves leadership only to an up-to-date server). A
    refusal (409: "did not move within the election timeout") is retried, as
    a client would; returns the answer and the number of attempts."""
    for i in range(1, attempts + 1):
        if target_id:
            ld = c.leader()
            commit = ld.status()["commit_index"]
            wait_for("s%d up to date" % target_id,
                     lambda: c[target_id].status()["applied_index"] >= commit, 15)
        r = via.req("POST", "/cluster/transfer", {"id": target_id}, timeout=30)
        if r.status != 409:
            return r, i
        c.leader(timeout=15)
    return r, attempts


def test_transfer_leadership(make_cluster):
    c = make_cluster(3, extra=["--heartbeat-timeout", "50ms"])
    ensure_ns(c.leader(), "join", "xfer", "roles")
    ld = c.leader()
    a, b = c.followers(ld)
    # asked of the leader
    t0 = time.monotonic()
    r, n = transfer(c, ld, a.id)
    assert r.status == 200, r
    new = c.leader(timeout=15)
    print("\nTRANSFER: s%d -> s%d in %.2fs (%d attempt(s))"
          % (ld.id, new.id, time.monotonic() - t0, n))
    assert new is a
    assert a.req("POST", cm_path("xfer"), cm("after-1")).status == 201
    # asked of a follower: forwarded to the leader
    r, n = transfer(c, b, b.id)
    assert r.status == 200, r
    assert c.leader(timeout=15) is b
    assert ld.req("POST", cm_path("xfer"), cm("after-2")).status == 201
    # id 0: to any other voter
    r, n = transfer(c, b, 0)
    assert r.status == 200, r
    assert c.leader(timeout=15) is not b
    # to a server that is not a member: refused, leadership stays
    cur = c.leader()
    r = cur.req("POST", "/cluster/transfer", {"id": 42}, timeout=30)
    assert r.status >= 400, r
    assert r.json["kind"] == "Status"
    assert c.leader() is cur
    c.wait_converged()


def test_change_role_and_remove_members(make_cluster):
    c = make_cluster(3, extra=["--heartbeat-timeout", "50ms"])
    ensure_ns(c.leader(), "join", "xfer", "roles")
    ld = c.leader()
    f1, f2 = c.followers(ld)
    # bad requests change nothing
    r = f1.req("POST", "/cluster/members", {"id": 0, "address": "x"})
    assert r.status == 400, r
    r = ld.req("POST", "/cluster/members/%d/role" % f1.id, {"role": "captain"})
    assert r.status == 400, r
    r = ld.req("DELETE", "/cluster/members/77", timeout=30)
    assert r.status >= 400 and r.json["kind"] == "Status", r
    assert sorted(members(ld)) == [1, 2, 3]

    # demote a follower to standby (through the other follower), and back
    r = f2.req("POST", "/cluster/members/%d/role" % f1.id, {"role": "standby"}, timeout=60)
    assert r.status == 200, r
    wait_for("s%d standby everywhere" % f1.id,
             lambda: all(members(s)[f1.id]["role"] == "standby" for s in c.all()), 15)
    assert f1.status()["role"] == "standby"
    assert f1.req("POST", cm_path("roles"), cm("while-standby")).status == 201
    r = ld.req("POST", "/cluster/members/%d/role" % f1.id, {"role": "voter"}, timeout=60)
    assert r.status == 200, r
    wait_for("s%d voter everywhere" % f1.id,
             lambda: all(members(s)[f1.id]["role"] == "voter" for s in c.all()), 15)

    # remove a follower: two members remain and keep writing
    r = f1.req("DELETE", "/cluster/members/%d" % f2.id, timeout=30)
    assert r.status == 200, r
    wait_for("s%d gone from the configuration" % f2.id,
             lambda: all(sorted(members(s)) == sorted([ld.id, f1.id]) for s in (ld, f1)), 15)
    # The removed server, still running, hears from no leader: it must not
    # disrupt the two members (pre-vote): watch their term for 3 election
    # timeouts.
    term = ld.status()["term"]
    t_end = time.monotonic() + 3.0
    while time.monotonic() < t_end:
        st = ld.status()
        assert st["role"] == "leader" and st["term"] == term, st
        assert f1.status()["leader_id"] == ld.id
        time.sleep(0.1)
    f2.stop()
    assert f1.req("POST", cm_path("roles"), cm("after-remove")).status == 201
    c.wait_converged(servers=[ld, f1])

    # remove the leader itself: the other server leads alone
    r = ld.req("DELETE", "/cluster/members/%d" % ld.id, timeout=30)
    assert r.status == 200, r
    wait_for("s%d to lead alone" % f1.id,
             lambda: f1.status()["role"] == "leader" and sorted(members(f1)) == [f1.id], 20)
    ld.stop()
    r = f1.req("POST", cm_path("roles"), cm("alone"))
    assert r.status == 201, r
    assert len(f1.get(cm_path("roles")).json["items"]) == 3


class Relay:
    """A TCP relay on 127.0.0.1 to target (host:port), counting the bytes
    it carries; a thread per direction per connection, all daemons, closed
    by close()."""

    def __init__(self, target):
        host, port = target.rsplit(":", 1)
        self.target = (host, int(port))
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(16)
        self.address = "127.0.0.1:%d" % self.lsock.getsockname()[1]
        self.carried = 0
        self.socks = []
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closed:
            try:
                a, _ = self.lsock.accept()
                b = socket.create_connection(self.target, timeout=5)
            except OSError:
                return
            self.socks += [a, b]
            for x, y in ((a, b), (b, a)):
                threading.Thread(target=self._pump, args=(x, y), daemon=True).start()

    def _pump(self, src, dst):
        try:
            src.settimeout(None)
            while True:
                data = src.recv(65536)
                if not data:
                    break
                self.carried += len(data)
                dst.sendall(data)
        except OSError:
            pass
        for sk in (src, dst):
            try:
                sk.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self):
        self.closed = True
        self.lsock.close()
        for sk in self.socks:
            sk.close()


def test_removed_server_rejoins_empty_behind_a_relay(make_cluster):
    """s3 is removed, its data directory emptied, and started again with
    --join and --advertise-raft-address naming a relay in front of its Raft
    port (what `bosun chaos` does with its fault proxy): the cluster records
    the relay's address, the leader reaches s3 only through it, and s3 gets
    the whole state back and becomes a voter again. Before the flag, a
    joining server could only announce the address it listens on."""
    c = make_cluster(3)
    ensure_ns(c.leader(), "rejoin")
    ld = c.leader()
    write_some(ld, "rejoin", 50)
    s3 = next(s for s in c.all() if s.id != ld.id)
    via = next(s for s in c.all() if s.id not in (ld.id, s3.id))
    r = via.req("DELETE", "/cluster/members/%d" % s3.id, timeout=40)
    assert r.status == 200, r
    wait_for("s%d out of the configuration" % s3.id,
             lambda: s3.id not in members(ld), 30, interval=0.2)
    s3.kill()
    shutil.rmtree(s3.data_dir)
    write_some(ld, "rejoin", 5, prefix="while-out")
    relay = Relay(s3.raft_address)
    try:
        argv = list(s3.argv_used)
        i = argv.index("--peers")
        del argv[i:i + 2]
        s3.argv_used = argv + ["--join", via.url, "--advertise-raft-address", relay.address]
        s3.start()
        c.wait_healthy([s3])
        wait_for("s%d a voter again on every server" % s3.id,
                 lambda: all(members(s).get(s3.id, {}).get("role") == "voter"
                             for s in c.live()), 90, interval=0.2)
        assert members(ld)[s3.id]["address"] == relay.address, members(ld)[s3.id]
        ds = c.wait_converged(timeout=60)
        assert len(ds) == 3 and len({d["digest"] for d in ds}) == 1
        assert s3.get(cm_path("rejoin", "while-out4")).status == 200
        assert relay.carried > 0
    finally:
        relay.close()
