"""Watches (?watch=true): synthetic ADDED events then live ones, resuming from
a resourceVersion, identical streams on every server, timeoutSeconds,
bookmarks, and 410 Expired for a revision the change log no longer holds."""
import json
import os
import socket
import threading
import time

import pytest

from conftest import ensure_ns, cm, cm_path, ev_key, ev_rv, read_socks


@pytest.fixture(autouse=True, scope="module")
def _namespaces(module_cluster):
    """The namespaces this module's tests write into."""
    ensure_ns(module_cluster.leader(), "w-zero", "w-zero-other", "w-rv", "w-burst", "w-timeout",
              "w-bm", "w-bm-elsewhere", "w-many", "w-stop", "w-slow", "w-stuck")


def create(s, ns, name, data=None):
    r = s.req("POST", cm_path(ns), cm(name, data or {"v": "0"}))
    assert r.status == 201, r
    return int(r.json["metadata"]["resourceVersion"])


def servers(c):
    ld = c.leader()
    return [ld] + c.followers(ld)


def test_watch_from_zero_then_live(module_cluster):
    c = module_cluster
    ld, f1, f2 = servers(c)
    ns = "w-zero"
    for n in ["a", "b", "c"]:
        create(ld, ns, n)
    create(ld, ns + "-other", "noise")  # another namespace: filtered out
    for s, rv in ((f1, "0"), (f2, None)):  # resourceVersion "0" or absent
        items = s.get(cm_path(ns)).json["items"]
        now = [("ADDED", i["metadata"]["name"], i["metadata"]["resourceVersion"]) for i in items]
        assert len(now) >= 3
        w = s.watch(cm_path(ns), resourceVersion=rv)
        assert w.status == 200
        evs = w.wait_count(len(now), 10)
        assert [ev_key(e) for e in evs] == now
        assert all(e["object"]["kind"] == "ConfigMap" for e in evs)
        assert all(e["object"]["metadata"]["namespace"] == ns for e in evs)
        # then the live changes, in order
        d = create(ld, ns, "d" + s.url[-5:])
        # a value new in each round: a PUT that changes nothing writes
        # nothing (no revision, no event), as in Kubernetes
        u = f2.req("PUT", cm_path(ns, "a"), cm("a", {"v": s.url[-5:]}))
        assert u.status == 200
        urv = u.json["metadata"]["resourceVersion"]
        x = f1.req("DELETE", cm_path(ns, "b"))
        assert x.status == 200
        create(ld, ns, "b")  # back, for the next round
        k = len(now)
        evs = w.wait_count(k + 4, 10)
        live = [ev_key(e) for e in evs[k:k + 4]]
        assert live[0] == ("ADDED", "d" + s.url[-5:], str(d))
        assert live[1] == ("MODIFIED", "a", urv)
        assert live[2][0:2] == ("DELETED", "b") and int(live[2][2]) > int(urv)
        assert live[3][0:2] == ("ADDED", "b")
        assert evs[k + 1]["object"]["data"] == {"v": s.url[-5:]}
        # the DELETED event carries the last state of the object
        assert evs[k + 2]["object"]["data"] == {"v": "0"}
        rvs_seen = [ev_rv(e) for e in evs[k:]]
        assert rvs_seen == sorted(rvs_seen) and len(set(rvs_seen)) == len(rvs_seen)
        time.sleep(0.2)
        assert all(e["object"]["metadata"]["namespace"] == ns for e in w.events)
        w.close()


def test_watch_from_resource_version(module_cluster):
    c = module_cluster
    ld, f1, _ = servers(c)
    ns = "w-rv"
    rv1 = create(ld, ns, "x1")
    rv2 = create(ld, ns, "x2")
    rv3 = create(f1, ns, "x3")
    for s in servers(c):
        w = s.watch(cm_path(ns), resourceVersion=str(rv1))
        evs = w.wait_count(2, 10)
        assert [ev_key(e) for e in evs] == [("ADDED", "x2", str(rv2)), ("ADDED", "x3", str(rv3))]
        w.close()
    # from the newest revision: nothing old, only what comes next
    w = f1.watch(cm_path(ns), resourceVersion=str(rv3))
    rv4 = create(ld, ns, "x4")
    evs = w.wait_count(1, 10)
    assert [ev_key(e) for e in evs] == [("ADDED", "x4", str(rv4))]
    time.sleep(0.3)
    assert len(w.events) == 1
    w.close()
    # one object, by field selector
    w = ld.watch(cm_path(ns), resourceVersion=str(rv1), fieldSelector="metadata.name=x3")
    evs = w.wait_count(1, 10)
    assert [ev_key(e) for e in evs] == [("ADDED", "x3", str(rv3))]
    w.close()


def test_watch_streams_identical_on_every_server(module_cluster):
    """A burst of concurrent writes through all three servers: the watches on
    the leader and on both followers deliver the very same sequence, which
    holds every acknowledged write at its resourceVersion, in revision order."""
    c = module_cluster
    all_s = servers(c)
    ns = "w-burst"
    start = ld_rv = int(all_s[0].get(cm_path(ns)).json["metadata"]["resourceVersion"])
    watches = [s.watch(cm_path(ns), resourceVersion=str(start)) for s in all_s]
    acked, errors = [], []
    lock = threading.Lock()

    def writer(t):
        s = all_s[t % 3]
        for i in range(10):
            name = "t%d-%d" % (t, i % 4)
            if i < 4:
                r = s.req("POST", cm_path(ns), cm(name, {"i": str(i)}))
                typ, ok = "ADDED", 201
            elif i < 8:
                r = all_s[(t + i) % 3].req("PUT", cm_path(ns, name), cm(name, {"i": str(i)}))
                typ, ok = "MODIFIED", 200
            else:
                r = s.req("DELETE", cm_path(ns, name))
                typ, ok = "DELETED", 200
            with lock:
                if r.status == ok:
                    rv = (r.json["metadata"]["resourceVersion"] if typ != "DELETED"
                          else None)
                    acked.append((typ, name, rv))
                else:
                    errors.append((typ, name, r.status, r.body[:200]))
    threads = [threading.Thread(target=writer, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    assert len(acked) == 80
    final = int(all_s[0].get(cm_path(ns)).json["metadata"]["resourceVersion"])
    assert final > ld_rv
    seqs = []
    for w in watches:
        evs = w.wait_rv(final, 30)
        seqs.append([ev_key(e) for e in evs if ev_rv(e) <= final])
    assert seqs[0] == seqs[1] == seqs[2], "the servers' watch streams differ"
    seq = seqs[0]
    rvs = [int(k[2]) for k in seq]
    assert rvs == sorted(rvs) and len(set(rvs)) == len(rvs), "not in revision order"
    assert len(seq) == 80, "%d events for 80 acknowledged writes" % len(seq)
    got = {(t, n, rv) for t, n, rv in seq}
    for typ, name, rv in acked:
        if rv is not None:
            assert (typ, name, rv) in got, (typ, name, rv)
    assert sorted((t, n) for t, n, _ in seq) == sorted((t, n) for t, n, _ in acked)
    for w in watches:
        w.close()


def test_watch_timeout_seconds_ends_stream(module_cluster):
    c = module_cluster
    f = servers(c)[1]
    t0 = time.monotonic()
    w = f.watch(cm_path("w-timeout"), timeoutSeconds="2")
    w.wait_end(15)
    dt = time.monotonic() - t0
    assert w.clean_end and w.error is None, w.error
    assert 1.5 <= dt <= 6, dt
    # with a write during the watch too
    t0 = time.monotonic()
    w = f.watch(cm_path("w-timeout"), timeoutSeconds="2", resourceVersion="0")
    create(c.leader(), "w-timeout", "during")
    evs = w.wait_end(15)
    dt = time.monotonic() - t0
    assert w.clean_end and 1.5 <= dt <= 6, dt
    assert [e["type"] for e in evs] == ["ADDED"]


def test_table_watch_ages_are_of_the_event(module_cluster):
    """kubectl get -w: each Table event's AGE is computed when the event is
    sent, as Kubernetes' printers do, not when the watch began (an object
    created 3 s into the watch had AGE <invalid>)."""
    c = module_cluster
    f = servers(c)[1]
    ensure_ns(c.leader(), "w-table")
    accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
    w = f.watch(cm_path("w-table"), headers={"Accept": accept},
                resourceVersion=str(create(c.leader(), "w-table", "first")))
    time.sleep(3)
    create(c.leader(), "w-table", "later")
    evs = w.wait_count(1, 10)
    w.close()
    t = evs[0]["object"]
    assert t["kind"] == "Table", t
    age = [col["name"] for col in t["columnDefinitions"]].index("Age")
    assert t["rows"][0]["cells"][age] in ("0s", "1s", "2s"), t["rows"][0]


def test_bookmarks(module_cluster):
    """--bookmark-interval 500ms: an idle watch with allowWatchBookmarks gets
    BOOKMARKs carrying the current revision, also past filtered changes."""
    c = module_cluster
    ld, f1, _ = servers(c)
    ns = "w-bm"
    rv = create(ld, ns, "one")
    w = f1.watch(cm_path(ns), resourceVersion=str(rv), allowWatchBookmarks="true")
    plain = f1.watch(cm_path(ns), resourceVersion=str(rv))
    evs = w.wait("2 bookmarks", lambda e: sum(x["type"] == "BOOKMARK" for x in e) >= 2, 10)
    bms = [e for e in evs if e["type"] == "BOOKMARK"]
    for b in bms:
        assert b["object"]["kind"] == "ConfigMap" and b["object"]["apiVersion"] == "v1"
        assert ev_rv(b) >= rv
    gap = bms[1]["_t"] - bms[0]["_t"]
    assert 0.3 <= gap <= 3, gap
    # a change in another namespace: the next bookmark's revision covers it
    other = create(ld, ns + "-elsewhere", "x")
    w.wait("a bookmark at >= %d" % other,
           lambda e: any(x["type"] == "BOOKMARK" and ev_rv(x) >= other for x in e), 10)
    assert all(e["type"] == "BOOKMARK" for e in w.events)
    # without allowWatchBookmarks: no bookmarks at all
    assert plain.events == []
    w.close()
    plain.close()


def test_too_old_resource_version_is_expired(make_cluster):
    c = make_cluster(3, extra=["--watch-history", "10", "--heartbeat-timeout", "50ms"])
    ensure_ns(c.leader(), "w-old")
    ld = c.leader()
    f = c.followers(ld)[0]
    ns = "w-old"
    first = create(ld, ns, "k0")
    for i in range(1, 30):
        create(ld if i % 2 else f, ns, "k%d" % i)
    last = int(ld.get(cm_path(ns)).json["metadata"]["resourceVersion"])
    c.wait_converged()
    for s in (ld, f):
        w = s.watch(cm_path(ns), resourceVersion=str(first))
        evs = w.wait_end(10)
        assert len(evs) == 1, evs
        e = evs[0]
        assert e["type"] == "ERROR"
        st = e["object"]
        assert st["kind"] == "Status" and st["status"] == "Failure"
        assert st["code"] == 410 and st["reason"] == "Expired", st
    # a revision still in the change log works
    w = f.watch(cm_path(ns), resourceVersion=str(last - 5))
    evs = w.wait_count(5, 10)
    assert [ev_rv(e) for e in evs] == list(range(last - 4, last + 1))
    assert all(e["type"] == "ADDED" for e in evs)
    w.close()
    # a watch from "0" still lists everything
    w = f.watch(cm_path(ns), resourceVersion="0")
    evs = w.wait_count(30, 10)
    assert sorted(e["object"]["metadata"]["name"] for e in evs) == sorted(
        "k%d" % i for i in range(30))
    w.close()


def test_idle_watch_keeps_up_with_other_resources(make_cluster):
    """A parked watch of ConfigMaps while Secrets churn past the whole
    change log (--watch-history 10): the hub moves the idle watch along,
    so its next event is that event, not a 410 Expired."""
    c = make_cluster(3, extra=["--watch-history", "10", "--heartbeat-timeout", "50ms"])
    ld = c.leader()
    f = c.followers(ld)[0]
    ensure_ns(ld, "w-adv")
    rv = create(ld, "w-adv", "before")
    c.wait_converged()
    w = f.watch(cm_path("w-adv"), resourceVersion=str(rv))
    time.sleep(0.5)  # parked
    for i in range(40):
        r = ld.req("POST", "/api/v1/namespaces/w-adv/secrets",
                   {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s%d" % i}})
        assert r.status == 201, r
    create(ld, "w-adv", "after")
    evs = w.wait_count(1, 10)
    w.close()
    assert evs[0]["type"] == "ADDED", evs[0]
    assert evs[0]["object"]["metadata"]["name"] == "after"


def threads_of(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    raise AssertionError("no Threads line for %d" % pid)


def open_raw_watches(server, path, n):
    """n watch streams as bare sockets (no thread each on our side either);
    returns the sockets once each has its response headers."""
    socks = []
    port = int(server.url.rsplit(":", 1)[1])
    for _ in range(n):
        sk = socket.create_connection(("127.0.0.1", port), timeout=10)
        sk.sendall(("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path).encode())
        socks.append(sk)
    for sk in socks:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sk.recv(4096)
            assert chunk, "stream closed before its headers"
            head += chunk
        assert head.startswith(b"HTTP/1.1 200"), head[:80]
        sk.setblocking(False)
    return socks


def await_text(socks, text, timeout):
    """Until every socket has received `text` somewhere in its stream."""
    want = text.encode()
    got = read_socks(socks, lambda b: want in b, timeout)
    return [got[sk] for sk in socks if want not in got[sk]]


def test_idle_watches_hold_no_threads(module_cluster):
    """A watch stream has no thread of its own: 400 open streams on a
    follower add almost no threads to it, and an event reaches all of them.
    (With a thread per connection this grew by 400.)"""
    c = module_cluster
    ld, f1, _ = servers(c)
    ns = "w-many"
    rv = create(ld, ns, "seed")
    before = threads_of(f1.pid)
    socks = open_raw_watches(f1, cm_path(ns) + "?watch=true&resourceVersion=%d" % rv, 400)
    try:
        time.sleep(1.5)  # long enough for every stream to have parked
        during = threads_of(f1.pid)
        assert during - before < 40, (before, during)
        create(f1, ns, "hello-everyone")
        missed = await_text(socks, '"name":"hello-everyone"', 30)
        assert not missed, "%d of 400 watches missed the event" % len(missed)
    finally:
        for sk in socks:
            sk.close()
    # the streams of clients that hung up end within the liveness check
    wait_ok = time.monotonic() + 10
    while time.monotonic() < wait_ok and threads_of(f1.pid) - before >= 40:
        time.sleep(0.2)
    assert f1.get("/healthz").status == 200


def test_many_watches_get_every_event_in_order(module_cluster):
    """Above 1,024 parked watches the hub cuts each pass in two and a
    second thread sends one half (watch.c, HUB_SPLIT_MIN): 1,300 streams on
    a follower each get five quick events, all of them, in order."""
    c = module_cluster
    ld, f1, _ = servers(c)
    ns = "w-many"
    rv = create(ld, ns, "split-seed")
    socks = open_raw_watches(f1, cm_path(ns) + "?watch=true&resourceVersion=%d" % rv, 1300)
    names = [b'"name":"split-%d"' % i for i in range(5)]

    def in_order(b):
        at = 0
        for n in names:
            at = b.find(n, at)
            if at < 0:
                return False
        return True

    try:
        time.sleep(1.5)  # every stream parked
        for i in range(5):
            create(ld if i % 2 else f1, ns, "split-%d" % i)
        got = read_socks(socks, in_order, 60)
        bad = [got[sk] for sk in socks if not in_order(got[sk])]
        assert not bad, "%d of 1300 watches missed or reordered events: %r" % (
            len(bad), bad[0][-300:])
    finally:
        for sk in socks:
            sk.close()
    assert f1.get("/healthz").status == 200


def sockets_of(pid):
    n = 0
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            n += os.readlink("/proc/%d/fd/%s" % (pid, fd)).startswith("socket:")
        except OSError:
            pass  # closed meanwhile
    return n


def settled_sockets(pid):
    """The server's sockets once an earlier test's streams have closed: the
    count after it held still for a second (10 s at most)."""
    last, since, deadline = sockets_of(pid), time.monotonic(), time.monotonic() + 10
    while time.monotonic() < deadline and time.monotonic() - since < 1:
        time.sleep(0.1)
        n = sockets_of(pid)
        if n != last:
            last, since = n, time.monotonic()
    return last


def test_hung_up_watches_are_closed(module_cluster):
    """An idle watch whose client hangs up is closed by the server: the
    hub's epoll set reports the hang-up (watch.c, struct hub_hups), as no
    periodic look runs for a watch in it. 300 parked streams on a
    follower, closed by the client: the follower's sockets go back down.
    Run after test_watch_timeout_seconds_ends_stream, whose idle keep-alive
    connection once held every closed watch's socket open (libmicrohttpd
    frees a connection whose reader failed only in a timeout scan that
    stops at the oldest live connection)."""
    c = module_cluster
    ld, f1, _ = servers(c)
    ns = "w-many"
    rv = create(ld, ns, "hangup-seed")
    before = settled_sockets(f1.pid)
    socks = open_raw_watches(f1, cm_path(ns) + "?watch=true&resourceVersion=%d" % rv, 300)
    time.sleep(1.5)  # every stream parked, past its first look
    assert sockets_of(f1.pid) >= before + 290
    for sk in socks:
        sk.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and sockets_of(f1.pid) > before + 10:
        time.sleep(0.1)
    assert sockets_of(f1.pid) <= before + 10, (before, sockets_of(f1.pid))
    assert f1.get("/healthz").status == 200


def test_server_stops_cleanly_with_open_watches(make_cluster):
    """SIGTERM while watches are parked, mid-stream and just opened: the
    server ends every stream and exits 0 (libmicrohttpd refuses to stop
    with a suspended connection, so each must be resumed first)."""
    c = make_cluster(3)
    ld = c.leader()
    f = c.followers(ld)[0]
    ensure_ns(ld, "w-stop")
    create(ld, "w-stop", "a")
    ws = [f.watch(cm_path("w-stop"), resourceVersion=r) for r in ("0", None, "1")]
    for w in ws[:2]:
        w.wait_count(1, 10)
    assert f.stop(timeout=20) == 0, f.log_tail()
    for w in ws:
        w.wait_end(10)


def test_watch_selector_transitions(module_cluster):
    """A watch with a label or field selector sees an object enter its
    selection as ADDED and leave it as DELETED (Kubernetes' watch filtering),
    ignores objects outside it, and gets the same whole objects an
    unfiltered watch gets (the selector reads only the selected fields;
    the event goes out from the shared rendering)."""
    c = module_cluster
    ld, f1, _ = servers(c)
    ns = "w-sel"
    ensure_ns(ld, ns)
    rv0 = create(ld, ns, "seed")
    sel = f1.watch(cm_path(ns), resourceVersion=str(rv0), labelSelector="app=web")
    allw = f1.watch(cm_path(ns), resourceVersion=str(rv0))
    x = cm("x", {"v": "1"})
    x["metadata"]["labels"] = {"app": "web"}
    assert ld.req("POST", cm_path(ns), x).status == 201
    create(ld, ns, "other")  # never selected
    for app, v in (("db", "2"), ("web", "3"), ("web", "4")):
        x["data"] = {"v": v}
        x["metadata"]["labels"] = {"app": app}
        assert ld.req("PUT", cm_path(ns, "x"), x).status == 200
    assert ld.req("DELETE", cm_path(ns, "x")).status == 200
    evs = sel.wait_count(5, 10)
    time.sleep(0.3)
    assert [(e["type"], e["object"]["data"]["v"]) for e in sel.events] == [
        ("ADDED", "1"), ("DELETED", "2"), ("ADDED", "3"), ("MODIFIED", "4"), ("DELETED", "4")]
    full = {ev_rv(e): e["object"] for e in allw.wait_count(6, 10)}
    for e in evs:
        assert e["object"] == full[ev_rv(e)]
    # a field selector on pods: spec.nodeName (the hollow nodes' watch)
    pw = f1.watch("/api/v1/namespaces/%s/pods" % ns, resourceVersion=str(rv0),
                  fieldSelector="spec.nodeName=n1")
    for name, node in (("on-n2", "n2"), ("on-n1", "n1")):
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
               "spec": {"nodeName": node, "containers": [{"name": "c", "image": "i"}]}}
        assert ld.req("POST", "/api/v1/namespaces/%s/pods" % ns, pod).status == 201
    pe = pw.wait_count(1, 10)
    time.sleep(0.3)
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in pw.events] == [
        ("ADDED", "on-n1")]
    assert pe[0]["object"]["spec"]["containers"][0]["image"] == "i"


def slow_watch(server, path):
    """A watch from a client with a tiny receive buffer that reads nothing
    until asked: the server's sends soon find the socket full."""
    port = int(server.url.rsplit(":", 1)[1])
    sk = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sk.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sk.settimeout(10)
    sk.connect(("127.0.0.1", port))
    sk.sendall(("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path).encode())
    return sk


def pile_up(ld, server, ns, n):
    """A slow watch on server from a fresh revision, then n ConfigMaps of
    200 KiB created: (the socket, their names, the revision)."""
    rv = create(ld, ns, "w000")
    sk = slow_watch(server, cm_path(ns) + "?watch=true&resourceVersion=%d" % rv)
    time.sleep(0.5)
    big = "x" * (200 * 1024)
    names = ["w%03d" % i for i in range(1, n + 1)]
    for name in names:
        create(ld, ns, name, {"big": big})
    return sk, names, rv


def read_chunked(sk, want_names, timeout):
    """Reads a chunked watch stream until the last of want_names was seen
    and a second passed without more bytes, or the stream ends, or timeout;
    returns (names of the whole events, in order; ended cleanly with the
    zero chunk; hit EOF)."""
    sk.settimeout(1)
    buf = b""
    deadline = time.monotonic() + timeout
    eof = False
    while time.monotonic() < deadline:
        try:
            b = sk.recv(1 << 20)
        except socket.timeout:
            b = None
        if b == b"":
            eof = True
            break
        if b:
            buf += b
        elif want_names[-1].encode() in buf:
            break  # the last one seen, and a second without more bytes
    head, _, body = buf.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head[:80]
    names, clean = [], False
    data = b""
    while body:
        line, sep, rest = body.partition(b"\r\n")
        if not sep:
            break
        size = int(line.split(b";")[0], 16)
        if size == 0:
            clean = True
            break
        if len(rest) < size + 2:
            break  # a chunk cut short: the stream was cut off
        data += rest[:size]
        assert rest[size:size + 2] == b"\r\n", "chunk framing broken"
        body = rest[size + 2:]
    for line in data.split(b"\n"):
        if line:
            ev = json.loads(line)
            assert ev["type"] == "ADDED", ev["type"]
            names.append(ev["object"]["metadata"]["name"])
    return names, clean, eof


def test_slow_watcher_gets_everything_in_order(module_cluster):
    """A watcher that reads nothing while 6 MB of events pile up (more than
    the kernel's socket buffers take: the rest waits in the server) then
    reads: every event, in order, each chunk whole."""
    ld, f1, _ = servers(module_cluster)
    sk, names, rv = pile_up(ld, f1, "w-slow", 30)
    try:
        got, clean, eof = read_chunked(sk, names, 60)
        assert got == names, (got[:5], len(got))
        assert not eof
    finally:
        sk.close()
    assert f1.get("/healthz").status == 200


def test_stuck_watcher_is_cut_off(module_cluster):
    """A watcher that never reads while far more piles up than the server
    keeps for it (16 MB of events) is cut off, as Kubernetes closes
    watchers too slow for their buffers: its stream ends, what it got is an
    unbroken prefix, and the server serves others as before."""
    ld, f1, _ = servers(module_cluster)
    ns = "w-stuck"
    sk, names, rv = pile_up(ld, f1, ns, 80)
    try:
        time.sleep(1)  # a pass of the hub or two after the last event
        got, clean, eof = read_chunked(sk, names, 60)
        assert eof and not clean, (len(got), clean, eof)
        assert got == names[:len(got)] and len(got) < len(names), len(got)
    finally:
        sk.close()
    r = f1.watch(cm_path(ns), resourceVersion=str(rv))
    assert len(r.wait_count(len(names), 30)) == len(names)
