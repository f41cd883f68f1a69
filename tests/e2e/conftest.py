"""End-to-end test harness: real `bosun server` processes (the ASan + UBSan
build, build/test/bosun) on 127.0.0.1, driven over HTTP with the Python
standard library only (plus pytest).

Fixtures:
  make_cluster    a factory: make_cluster(3, extra=[flags]) starts three
                  servers bootstrapped from one --peers list and waits until
                  they agree on a leader and hold identical replicas;
  module_cluster  one such 3-server cluster shared by a module's tests.
A Cluster has its Servers (c[1], c.all(), c.live()), finds the leader
(c.leader()), waits for identical replicas (c.wait_converged(): same applied
index, same /cluster/digest at the same revision); a Server can be killed -9,
paused (SIGSTOP) and resumed, stopped (SIGTERM) and started again with the
very same argv, and has HTTP helpers (req, get, status, digest, watch).

Processes: every one is started here, binds 127.0.0.1 only, and is stopped by
its pid in the fixture's teardown, also when the test fails (and killed by the
kernel if pytest itself dies: PR_SET_PDEATHSIG). Ports come from [20000,
32000), below the kernel's ephemeral range, checked free by binding them, so
a restarted server finds its port again and tests do not collide with a
cluster someone else runs. Data directories live in pytest's tmp_path; each
server's output goes to DIR/sN.log, and when a test fails the tail of every
running cluster's logs is printed.

Waits poll with deadlines (wait_for); the few sleeps left are the length of
a fault (a pause) or an observation window, never a synchronization.

Sanitizers: after the servers stop, every log is scanned; a sanitizer report
or a non-zero exit on SIGTERM fails the test, except the known third-party
defects listed in KNOWN_DEFECTS (libraft 0.22.1), which are reported as notes.
"""
import ctypes
import http.client as httpclient
import json
import os
import random
import resource
import re
import selectors
import signal
import socket
import subprocess
import threading
import time
import urllib.parse
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# BOSUN_BIN runs the suite against another build (a copy, so that a rebuild
# in the tree does not change the binary under a running test).
BOSUN = Path(os.environ.get("BOSUN_BIN") or ROOT / "build" / "test" / "bosun")

# Servers that did not shut down cleanly in time are killed; a hung test is
# bounded by the deadlines of the waits below.
STOP_TIMEOUT = 20.0

SANITIZER_MARKERS = (
    "ERROR: AddressSanitizer",
    "ERROR: LeakSanitizer",
    "runtime error:",
    "UndefinedBehaviorSanitizer",
    "ThreadSanitizer",
)


# ---------------------------------------------------------------- environment

def server_env():
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=1")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    env.setdefault("LSAN_OPTIONS", "suppressions=%s" % (ROOT / "tests" / "lsan.supp"))
    return env


try:
    _libc = ctypes.CDLL("libc.so.6", use_errno=True)
except OSError:
    _libc = None
PR_SET_PDEATHSIG = 1


def _child_setup():
    """In the child before exec (no imports or allocations here: other
    threads may hold locks): die with the parent, write no core files."""
    try:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ValueError, OSError):
        pass
    if _libc is not None:
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _leak_blocks(report):
    """The "Direct/Indirect leak of ..." paragraphs of a LeakSanitizer report."""
    blocks, cur = [], None
    for line in report.splitlines():
        if re.match(r"^(Direct|Indirect) leak of", line):
            cur = [line]
            blocks.append(cur)
        elif line.startswith("SUMMARY:"):
            cur = None
        elif cur is not None:
            cur.append(line)
    return ["\n".join(b) for b in blocks]


def libraft_snapshot_leak(report):
    """True if every leak in a LeakSanitizer report is libraft 0.22.1's known
    leak: replicationInstallSnapshot (src/replication.c) ignores an
    InstallSnapshot that arrives while one is being installed ("already
    taking or installing snapshot") and sets *async, so recvInstallSnapshot
    frees neither the message's data (allocated in uvServerAllocCb) nor its
    configuration (decodeInstallSnapshot). It happens when the leader retries
    a large snapshot, and is not bosun's code. Any other leak still fails."""
    blocks = _leak_blocks(report)
    if not blocks or not any("decodeInstallSnapshot" in b for b in blocks):
        return False
    for b in blocks:
        frames = re.findall(r"#\d+ 0x[0-9a-f]+ in (\S+)", b)
        if "decodeInstallSnapshot" in b:
            continue
        if len(frames) >= 2 and frames[1] == "uvServerAllocCb":
            continue
        return False
    return True


def libraft_take_snapshot_segv(report):
    """libraft 0.22.1 src/legacy.c takeSnapshotCb: when an InstallSnapshot
    arrived while this server was taking its own snapshot, the pending install
    is started with

        r->legacy.snapshot_pending = NULL;
        persist = r->legacy.snapshot_pending;   /* always NULL */
        rv = legacyPersistSnapshotStart(persist);

    (the two assignments are swapped): a NULL dereference, SEGV."""
    return "SEGV" in report and "legacyPersistSnapshotStart" in report and \
        "takeSnapshotCb" in report


KNOWN_DEFECTS = {
    "libraft-install-snapshot-leak": lambda m, rep: m == "ERROR: LeakSanitizer"
    and libraft_snapshot_leak(rep),
    "libraft-take-snapshot-segv": lambda m, rep: m == "ERROR: AddressSanitizer"
    and libraft_take_snapshot_segv(rep),
}


def analyze_log(server, tolerate=None):
    """(an untolerated sanitizer report or None, a note on tolerated ones or
    None) for a server's log (all its runs). tolerate: names of
    KNOWN_DEFECTS (default: the cluster's)."""
    if tolerate is None:
        tolerate = server.cluster.tolerate
    text = server.log_text()
    bad, notes = None, []
    pos = 0
    while True:
        hits = [(text.find(m, pos), m) for m in SANITIZER_MARKERS]
        hits = [(i, m) for i, m in hits if i >= 0]
        if not hits:
            break
        i, m = min(hits)
        end = text.find("SUMMARY:", i)
        end = len(text) if end < 0 else text.find("\n", end) + 1 or len(text)
        rep = text[i:end]
        if m == "ERROR: AddressSanitizer":
            # a crash report's stack comes after SUMMARY's line for SEGVs
            rep = text[i:i + 6000]
        known = [k for k, match in KNOWN_DEFECTS.items() if match(m, rep)]
        if known and known[0] in tolerate:
            summary = [ln for ln in rep.splitlines() if ln.startswith("SUMMARY:")]
            notes.append("tolerated known defect %s (%s)"
                         % (known[0], summary[0] if summary else m))
        elif bad is None:
            bad = "s%d: %s" % (server.id, text[max(0, i - 300):i + 4000])
        pos = max(end, i + 1)
    return bad, "; ".join(notes) or None


# ---------------------------------------------------------------------- ports

_ports_lock = threading.Lock()
_ports_taken = set()
_port_rng = random.Random(os.getpid() * 7919 + int(time.time()))


def _port_free(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def free_port():
    """A port in [20000, 32000) (below the ephemeral range, so an outgoing
    connection cannot take it while a killed server is down), free now and
    not handed out before in this pytest process."""
    with _ports_lock:
        for _ in range(2000):
            p = _port_rng.randrange(20000, 32000)
            # skip the round bases people pick by hand (21001, 26000, ...)
            if p % 1000 < 200 or p in _ports_taken or not _port_free(p):
                continue
            _ports_taken.add(p)
            return p
    raise RuntimeError("no free port found")


# ----------------------------------------------------------------------- HTTP

class Resp:
    def __init__(self, status, body, headers):
        self.status = status
        self.body = body
        self.headers = headers
        self._json = None

    @property
    def json(self):
        if self._json is None:
            self._json = json.loads(self.body.decode()) if self.body else None
        return self._json

    def __repr__(self):
        b = self.body[:300].decode(errors="replace")
        return "<Resp %s %s>" % (self.status, b)


def http(url, method, path, body=None, timeout=15.0, headers=None):
    """One HTTP request on a fresh connection. body: dict/list (JSON), bytes or
    str. Raises OSError/http.client errors on transport failures (timeouts
    included), so callers can tell "no answer" from an answer."""
    u = urllib.parse.urlsplit(url)
    conn = httpclient.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        hdrs = dict(headers or {})
        data = None
        if body is not None:
            if isinstance(body, (dict, list)):
                data = json.dumps(body).encode()
            elif isinstance(body, str):
                data = body.encode()
            else:
                data = body
            hdrs.setdefault("Content-Type", "application/json")
        conn.request(method, path, body=data, headers=hdrs)
        r = conn.getresponse()
        return Resp(r.status, r.read(), dict(r.getheaders()))
    finally:
        conn.close()


class Fatal(AssertionError):
    """Raised inside a wait_for poll: stop waiting, fail now."""


def wait_for(what, fn, timeout, interval=0.05):
    """Polls fn() until it returns something truthy; returns it. Exceptions
    from fn count as "not yet", except Fatal. Fails the test with the last value/error at
    the deadline."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            v = fn()
            if v:
                return v
            last = v
        except Fatal:
            raise
        except Exception as e:  # noqa: BLE001 - not yet
            last = e
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.1fs waiting for %s (last: %r)"
                                 % (timeout, what, last))
        time.sleep(interval)


def cm(name, data=None, ns=None, rv=None, **meta):
    """A ConfigMap body."""
    md = {"name": name}
    if ns:
        md["namespace"] = ns
    if rv is not None:
        md["resourceVersion"] = str(rv)
    md.update(meta)
    o = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": md}
    if data is not None:
        o["data"] = data
    return o


def ensure_ns(s, *names):
    """Creates namespaces (idempotent): objects need theirs to exist."""
    for ns in names:
        r = s.req("POST", "/api/v1/namespaces",
                  {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
        assert r.status in (201, 409), r


def read_socks(socks, done, timeout):
    """Reads non-blocking sockets until done(bytes so far) holds for each,
    it closes, or the timeout passes; returns {socket: bytes}."""
    sel = selectors.DefaultSelector()
    got = {sk: b"" for sk in socks}
    for sk in socks:
        sel.register(sk, selectors.EVENT_READ)
    left = set(socks)
    deadline = time.monotonic() + timeout
    while left and time.monotonic() < deadline:
        for key, _ in sel.select(0.5):
            data = key.fileobj.recv(65536)
            got[key.fileobj] += data
            if not data or done(got[key.fileobj]):
                left.discard(key.fileobj)
                sel.unregister(key.fileobj)
    sel.close()
    return got


def cm_path(ns="default", name=None):
    p = "/api/v1/namespaces/%s/configmaps" % ns
    return p + "/" + name if name else p


class Watch:
    """A watch stream (newline-delimited JSON events over a chunked response),
    read by a background thread into a list. `ended` is set when the server
    ends the stream; close() ends it from our side."""

    def __init__(self, url, path, timeout=60.0, headers=None):
        u = urllib.parse.urlsplit(url)
        self.conn = httpclient.HTTPConnection(u.hostname, u.port, timeout=timeout)
        self.conn.request("GET", path, headers=headers or {})
        self.resp = self.conn.getresponse()
        self.status = self.resp.status
        self.events = []
        self.error = None
        self.cv = threading.Condition()
        self.ended = False
        self.clean_end = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            while True:
                line = self.resp.readline()
                if not line:
                    self.clean_end = True
                    break
                line = line.strip()
                if not line:
                    continue
                ev = json.loads(line.decode())
                ev["_t"] = time.monotonic()
                with self.cv:
                    self.events.append(ev)
                    self.cv.notify_all()
        except Exception as e:  # noqa: BLE001 - recorded, checked by tests
            self.error = e
        finally:
            with self.cv:
                self.ended = True
                self.cv.notify_all()

    def wait(self, what, pred, timeout):
        """Waits until pred(events) is true; returns the events."""
        deadline = time.monotonic() + timeout
        with self.cv:
            while not pred(self.events):
                left = deadline - time.monotonic()
                if left <= 0 or self.ended:
                    if pred(self.events):
                        break
                    raise AssertionError("watch: timed out waiting for %s (ended=%s error=%r, "
                                         "%d events, last: %r)"
                                         % (what, self.ended, self.error, len(self.events),
                                            self.events[-3:]))
                self.cv.wait(min(left, 0.2))
            return list(self.events)

    def wait_count(self, n, timeout):
        return self.wait("%d events" % n, lambda evs: len(evs) >= n, timeout)

    def wait_rv(self, rv, timeout):
        """Until an event with resourceVersion >= rv has arrived."""
        return self.wait("an event at rv >= %d" % rv,
                         lambda evs: any(ev_rv(e) >= rv for e in evs), timeout)

    def wait_end(self, timeout):
        deadline = time.monotonic() + timeout
        with self.cv:
            while not self.ended:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("watch: the stream did not end in %.1fs" % timeout)
                self.cv.wait(min(left, 0.2))
        return list(self.events)

    def close(self):
        try:
            if self.conn.sock is not None:
                self.conn.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.conn.close()
        self.thread.join(5)


def controller_ref(obj):
    """The ownerReference with controller: true, or None."""
    return next((r for r in obj["metadata"].get("ownerReferences", []) if r.get("controller")),
                None)


def ev_rv(e):
    try:
        return int(e["object"]["metadata"]["resourceVersion"])
    except (KeyError, TypeError, ValueError):
        return -1


def ev_key(e):
    """(type, name, resourceVersion) of an event."""
    md = e.get("object", {}).get("metadata", {})
    return (e["type"], md.get("name"), md.get("resourceVersion"))


# -------------------------------------------------------------------- servers

class Server:
    def __init__(self, cluster, sid, extra, peers=None, join=None):
        self.cluster = cluster
        self.id = sid
        self.api_port = free_port()
        self.raft_port = free_port()
        self.data_dir = cluster.dir / ("s%d" % sid)
        self.log_path = cluster.dir / ("s%d.log" % sid)
        self.extra = list(extra)
        self.peers = peers
        self.join = join
        self.proc = None
        self.paused = False
        self.starts = 0
        self.down_expected = False  # set by kill(): a death the test caused

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.api_port

    @property
    def raft_address(self):
        return "127.0.0.1:%d" % self.raft_port

    def peer_spec(self):
        return "%d=%s=%s" % (self.id, self.raft_address, self.url)

    def argv(self):
        a = [str(BOSUN), "server", "--id", str(self.id), "--data-dir", str(self.data_dir),
             "--listen", "127.0.0.1:%d" % self.api_port,
             "--raft-address", self.raft_address]
        if self.join:
            a += ["--join", self.join]
        else:
            a += ["--peers", self.peers]
        return a + self.extra

    def start(self):
        assert not self.alive(), "s%d already running" % self.id
        if self.starts == 0:
            self.argv_used = self.argv()
        log = open(self.log_path, "ab")
        log.write(("\n==== start %d: %s\n" % (self.starts + 1, " ".join(self.argv_used))).encode())
        log.flush()
        self.proc = subprocess.Popen(self.argv_used, stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=server_env(),
                                     preexec_fn=_child_setup, cwd=str(self.cluster.dir))
        log.close()
        self.starts += 1
        self.paused = False
        self.down_expected = False
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def crashed(self):
        """Started, not running, and not killed by the test."""
        return self.proc is not None and not self.alive() and not self.down_expected

    @property
    def pid(self):
        return self.proc.pid

    def signal(self, sig):
        if self.alive():
            os.kill(self.proc.pid, sig)

    def kill(self):
        """kill -9, and reap."""
        self.down_expected = True
        if self.alive():
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.paused = False

    def pause(self):
        self.signal(signal.SIGSTOP)
        self.paused = True

    def resume(self):
        self.signal(signal.SIGCONT)
        self.paused = False

    def stop(self, timeout=STOP_TIMEOUT):
        """SIGTERM (a clean shutdown); SIGKILL if it does not end in time.
        Returns the exit code, or None if it had to be killed."""
        if self.proc is None:
            return None
        if self.proc.poll() is not None:
            return self.proc.returncode
        if self.paused:
            self.resume()
        os.kill(self.proc.pid, signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
            self.cluster.notes.append("s%d did not stop within %.0fs of SIGTERM; killed"
                                      % (self.id, timeout))
            return None

    def restart(self):
        """Start again with the very same argv."""
        self.kill()
        return self.start()

    # HTTP helpers bound to this server
    def req(self, method, path, body=None, timeout=15.0, **kw):
        return http(self.url, method, path, body, timeout=timeout, **kw)

    def get(self, path, **kw):
        return self.req("GET", path, **kw)

    def watch(self, path, timeout=60.0, headers=None, **params):
        """Opens a watch: path plus ?watch=true and params (None values are
        left out), with extra request headers. Closed at teardown if the
        test does not close it."""
        q = {"watch": "true"}
        q.update({k: v for k, v in params.items() if v is not None})
        w = Watch(self.url, path + "?" + urllib.parse.urlencode(q), timeout=timeout,
                  headers=headers)
        self.cluster.watches.append(w)
        return w

    def status(self, timeout=5.0):
        r = self.get("/cluster/status", timeout=timeout)
        assert r.status == 200, r
        return r.json

    def digest(self, timeout=10.0):
        r = self.get("/cluster/digest", timeout=timeout)
        assert r.status == 200, r
        return r.json

    def log_text(self):
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, n=40):
        return "\n".join(self.log_text().splitlines()[-n:])

    def __repr__(self):
        return "s%d(%s)" % (self.id, self.url)


class Cluster:
    def __init__(self, directory, extra=()):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.extra = list(extra)
        self.servers = {}
        self.notes = []
        self.logs_printed = False
        # Set by a test that asserts a crash itself (an xfail'ed bug): the
        # teardown then prints sanitizer reports without failing again.
        self.tolerate_crash = False
        # Known third-party defects whose sanitizer reports do not fail the
        # teardown (see KNOWN_DEFECTS); a test may add to it.
        # Empty since scripts/libraft-patches fixed both (0001, 0007): any
        # occurrence now fails the test.
        self.tolerate = set()
        self.watches = []

    # -- membership of the test's process set
    def create(self, n, extra=None):
        extra = self.extra if extra is None else list(extra)
        ids = range(1, n + 1)
        servers = [Server(self, i, extra) for i in ids]
        peers = ",".join(s.peer_spec() for s in servers)
        for s in servers:
            s.peers = peers
            self.servers[s.id] = s
        return servers

    def add_joiner(self, sid, through, extra=None):
        extra = self.extra if extra is None else list(extra)
        s = Server(self, sid, extra, join=through.url)
        self.servers[sid] = s
        return s

    def __getitem__(self, sid):
        return self.servers[sid]

    def all(self):
        return list(self.servers.values())

    def live(self):
        return [s for s in self.servers.values() if s.alive() and not s.paused]

    # -- waits
    def wait_healthy(self, servers=None, timeout=30.0):
        for s in servers or self.live():
            def ok(s=s):
                if not s.alive():
                    raise Fatal("s%d exited with %s:\n%s" % (s.id, s.proc.returncode,
                                                           s.log_tail(20)))
                return s.get("/healthz", timeout=2).status == 200
            wait_for("s%d /healthz" % s.id, ok, timeout)

    def leader(self, servers=None, timeout=30.0):
        """Waits until every given live server names the same leader, and that
        leader says it is leader. Returns it."""
        def agree():
            ids = set()
            for s in servers or self.live():
                st = s.status(timeout=2)
                ids.add(st["leader_id"])
            if len(ids) != 1 or 0 in ids:
                return None
            lid = ids.pop()
            ld = self.servers.get(lid)
            if ld is None or not ld.alive() or ld.paused:
                return None
            return ld if ld.status(timeout=2)["role"] == "leader" else None
        return wait_for("an agreed leader", agree, timeout)

    def followers(self, leader=None):
        leader = leader or self.leader()
        return [s for s in self.live() if s is not leader]

    def wait_converged(self, servers=None, timeout=60.0):
        """Waits until the given servers have applied the same index and hold
        identical replicas (same digest at the same revision). Returns the
        digest documents."""
        servers = servers or self.live()

        def same():
            sts = [s.status(timeout=3) for s in servers]
            if len({st["applied_index"] for st in sts}) != 1:
                return None
            if len({st["commit_index"] for st in sts}) != 1:
                return None
            ds = [s.digest() for s in servers]
            keys = {(d["revision"], d["digest"], d["objects"]) for d in ds}
            if len(keys) != 1:
                return None
            # Still the same a moment later: nothing in flight.
            sts2 = [s.status(timeout=3) for s in servers]
            if [st["applied_index"] for st in sts2] != [st["applied_index"] for st in sts]:
                return None
            return ds
        return wait_for("replicas to converge on %s" % servers, same, timeout, interval=0.1)

    # -- teardown
    def stop_all(self):
        for w in self.watches:
            w.close()
        # SIGTERM to all at once, then wait for each: stopping in parallel.
        for s in self.servers.values():
            if s.alive():
                if s.paused:
                    s.resume()
                s.signal(signal.SIGTERM)
        codes = {}
        for s in self.servers.values():
            if s.proc is not None:
                codes[s.id] = s.stop()
        return codes

    def sanitizer_reports(self):
        """Untolerated sanitizer reports, one string per server."""
        return [r for r, _ in (analyze_log(s) for s in self.servers.values()) if r]

    def dump_logs(self, n=40):
        parts = []
        for s in self.servers.values():
            parts.append("---- s%d (%s) log tail: %s" % (s.id, s.url, s.log_path))
            parts.append(s.log_tail(n))
        return "\n".join(parts)


# ------------------------------------------------------- kubectl, hollow nodes

KUBECTL = "/usr/bin/kubectl"


class Kubectl:
    """Runs the real kubectl against one server, with its own discovery
    cache (home: a directory of the test's)."""

    def __init__(self, server, home):
        self.server = server
        self.home = home

    def _cmd(self, args):
        env = dict(os.environ, HOME=str(self.home), KUBECONFIG=str(self.home / "none"))
        cmd = [KUBECTL, "--server", self.server.url, "--cache-dir", str(self.home / "cache")]
        return cmd + list(args), env

    def run(self, *args, input=None, ok=True, timeout=60):
        cmd, env = self._cmd(args)
        p = subprocess.run(cmd, input=input, capture_output=True, text=True,
                           timeout=timeout, env=env)
        if ok and p.returncode != 0:
            raise AssertionError("kubectl %s failed (%d):\n%s\n%s"
                                 % (" ".join(args), p.returncode, p.stdout, p.stderr))
        return p

    def json(self, *args):
        return json.loads(self.run(*args, "-o", "json").stdout)

    def popen(self, *args):
        cmd, env = self._cmd(args)
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=env)


class HollowAgent:
    """`bosun agent --hollow N` (the ASan build) against every server of a
    cluster, started by the test and stopped by stop() (SIGTERM, then its
    exit status and log are checked for sanitizer reports). It exits by
    itself after --duration if the test run dies."""

    def __init__(self, cluster, directory, n, prefix="hollow-", extra=(), duration="600s"):
        servers = cluster.all()
        self.log_path = Path(directory) / ("agent-%s.log" % prefix.strip("-"))
        argv = [str(BOSUN), "agent", "--hollow", str(n),
                "--server", ",".join(s.url for s in servers), "--name-prefix", prefix,
                "--cpu", "8", "--memory", "32Gi", "--pods", "110", "--zones", "3",
                "--workers", "8", "--duration", duration] + list(extra)
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=server_env(),
                                     preexec_fn=_child_setup)
        log.close()

    def stop(self, check=True):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        text = self.log_path.read_text(errors="replace")
        if check:
            assert not any(m in text for m in SANITIZER_MARKERS), text[-3000:]
            assert self.proc.returncode == 0, (self.proc.returncode, text[-3000:])


# -------------------------------------------------------------------- fixtures

@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: a test that takes tens of seconds")


@pytest.fixture(scope="session", autouse=True)
def _bosun_built():
    if not BOSUN.exists():
        pytest.exit("%s is missing: run `make deps && make build/test/bosun` first" % BOSUN,
                    returncode=2)


# Clusters whose servers may be running: their logs are printed when a test
# fails, whichever fixture made them.
ACTIVE = []


class ClusterPool:
    """Makes clusters under one directory and tears them all down."""

    def __init__(self, directory):
        self.dir = Path(directory)
        self.made = []

    def __call__(self, n=3, extra=(), start=True, wait=True, name=None):
        c = Cluster(self.dir / (name or "c%d" % len(self.made)), extra)
        self.made.append(c)
        ACTIVE.append(c)
        c.create(n)
        if start:
            for s in c.all():
                s.start()
            if wait:
                c.wait_healthy()
                ld = c.leader(timeout=30)
                # The new leader records every member's API URL (internal
                # records, n writes) and creates the 4 system namespaces:
                # wait for them, so that a test starts from a quiet cluster.
                wait_for("the members records and system namespaces",
                         lambda: ld.digest()["objects"] >= n + 4, 20)
                # And the `kubernetes` Service's objects (controllers/kubesvc.c):
                # one EndpointSlice per API port, the last thing it writes.
                wait_for("the kubernetes Service's endpoints", lambda: len(ld.get(
                    "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices"
                    "?labelSelector=kubernetes.io/service-name%3Dkubernetes",
                    timeout=5).json.get("items", [])) >= n, 20)
                c.wait_converged(timeout=30)
        return c

    def teardown(self, failed):
        reports, exits = [], []
        for c in self.made:
            codes = c.stop_all()
            if c in ACTIVE:
                ACTIVE.remove(c)
            bad = False
            for s in c.all():
                rep, tolerated = analyze_log(s)
                code = codes.get(s.id)
                if tolerated:
                    c.notes.append("s%d: %s" % (s.id, tolerated))
                if c.tolerate_crash:
                    if rep:
                        c.notes.append("s%d: tolerated sanitizer report (asserted by the "
                                       "test):\n%s" % (s.id, rep[:3000]))
                    continue
                if rep:
                    reports.append(rep)
                    bad = True
                elif code not in (0, -signal.SIGKILL) and not tolerated:
                    # 0 after SIGTERM; a server the test killed -9 has -9.
                    exits.append("s%d exited with %r on SIGTERM" % (s.id, code))
                    bad = True
            if (failed or bad) and not c.logs_printed:
                print("\n" + c.dump_logs())
            for n in c.notes:
                print("note:", n)
        if reports:
            pytest.fail("sanitizer reports:\n" + "\n\n".join(reports), pytrace=False)
        if exits:
            pytest.fail("unclean shutdown: " + "; ".join(exits), pytrace=False)


def _failed(node):
    return any(getattr(node, "rep_" + w, None) is not None
               and getattr(node, "rep_" + w).failed for w in ("setup", "call"))


@pytest.fixture(autouse=True)
def _logs_on_failure(request):
    """When a test fails, prints the log tails of every running cluster."""
    yield
    if _failed(request.node):
        for c in ACTIVE:
            print("\n" + c.dump_logs())
            c.logs_printed = True


@pytest.fixture
def make_cluster(request, tmp_path):
    """Factory: make_cluster(n, extra=[...flags]) starts n servers from one
    --peers list, waits until they are healthy, agree on a leader and hold
    identical replicas, and returns the Cluster. Every server is stopped at
    teardown."""
    pool = ClusterPool(tmp_path)
    yield pool
    pool.teardown(_failed(request.node))


@pytest.fixture(scope="module")
def module_cluster(request, tmp_path_factory):
    """One 3-server cluster shared by the tests of a module (each test uses
    its own namespace). Bookmarks every 500ms."""
    pool = ClusterPool(tmp_path_factory.mktemp("shared"))
    c = pool(3, extra=["--bookmark-interval", "500ms"])
    yield c
    pool.teardown(request.session.testsfailed > 0)


@pytest.fixture(scope="module")
def hollow_cluster(request, tmp_path_factory):
    """A 3-server cluster with 6 hollow nodes (8 cpu, 32Gi, 110 pods each,
    3 zones, prefix "hollow-") for the tests of a module: what controllers
    are tested against. Yields the Cluster; its .agent is the HollowAgent and
    its .kubectl(server) makes a Kubectl for a server."""
    d = tmp_path_factory.mktemp("hollow")
    pool = ClusterPool(d)
    c = pool(3, extra=["--bookmark-interval", "500ms"])
    c.agent = HollowAgent(c, d, 6)
    homes = iter(range(1000))
    c.kubectl = lambda server: Kubectl(server, tmp_path_factory.mktemp("kc%d" % next(homes)))

    def nodes_ready():
        items = c.leader().get("/api/v1/nodes", timeout=30).json.get("items", [])
        return sum(1 for n in items if any(
            cd.get("type") == "Ready" and cd.get("status") == "True"
            for cd in n.get("status", {}).get("conditions", []))) >= 6
    wait_for("6 hollow nodes Ready", nodes_ready, 60)
    yield c
    failed = request.session.testsfailed > 0
    try:
        c.agent.stop(check=not failed)
    finally:
        pool.teardown(failed)
