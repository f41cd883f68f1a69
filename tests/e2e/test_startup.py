"""`bosun server` start-up fails fast and clearly: one stderr line and a
non-zero exit for the mistakes people make, --help exits 0 and documents
every flag. Each process here is bounded by a timeout and stopped by pid."""
import os
import re
import signal
import socket
import subprocess
import time

import pytest

from conftest import BOSUN, ROOT, free_port, http, server_env, wait_for, _child_setup

TIMEOUT = 20


def run(args, timeout=TIMEOUT):
    return subprocess.run([str(BOSUN), "server"] + args, capture_output=True, text=True,
                          env=server_env(), timeout=timeout, stdin=subprocess.DEVNULL,
                          preexec_fn=_child_setup)


def base_args(tmp_path, sid=1, data=None, api=None, raft=None, peers=None):
    api = api or free_port()
    raft = raft or free_port()
    if peers is None:
        peers = "%d=127.0.0.1:%d=http://127.0.0.1:%d" % (sid, raft, api)
    return ["--id", str(sid), "--data-dir", str(data or tmp_path / "data"),
            "--listen", "127.0.0.1:%d" % api, "--raft-address", "127.0.0.1:%d" % raft,
            "--peers", peers]


def one_line_error(r, *words):
    """r failed with exactly one stderr line, naming each of words."""
    assert r.returncode != 0, (r.returncode, r.stderr)
    assert r.returncode > 0, "killed by signal %d:\n%s" % (-r.returncode, r.stderr[-3000:])
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, "expected one line, got:\n" + r.stderr[-3000:]
    line = lines[0]
    assert line.startswith("bosun server: "), line
    for w in words:
        assert w in line, (w, line)
    return line


def test_api_port_in_use(tmp_path):
    blocker = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    blocker.bind(("127.0.0.1", 0))
    blocker.listen(1)
    port = blocker.getsockname()[1]
    try:
        r = run(base_args(tmp_path, api=port))
    finally:
        blocker.close()
    one_line_error(r, "127.0.0.1:%d" % port, "in use")


def test_raft_port_in_use(tmp_path):
    blocker = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    blocker.bind(("127.0.0.1", 0))
    blocker.listen(1)
    port = blocker.getsockname()[1]
    try:
        r = run(base_args(tmp_path, raft=port))
    finally:
        blocker.close()
    one_line_error(r, "127.0.0.1:%d" % port, "in use")


def test_data_dir_of_another_server(tmp_path):
    d = tmp_path / "data"
    d.mkdir()
    (d / "bosun-id").write_text("server-id=9\n")
    r = run(base_args(tmp_path, data=d))
    one_line_error(r, str(d), "9")
    assert os.listdir(d) == ["bosun-id"], "a refused start changed the directory"
    assert (d / "bosun-id").read_text() == "server-id=9\n"


def test_data_dir_not_ours(tmp_path):
    d = tmp_path / "data"
    d.mkdir()
    (d / "notes.txt").write_text("precious\n")
    r = run(base_args(tmp_path, data=d))
    one_line_error(r, str(d), "not empty")
    assert sorted(os.listdir(d)) == ["notes.txt"]


def test_bad_identity_file(tmp_path):
    d = tmp_path / "data"
    d.mkdir()
    (d / "bosun-id").write_text("hello\n")
    r = run(base_args(tmp_path, data=d))
    one_line_error(r, "bosun-id")


def test_peers_without_this_server(tmp_path):
    peers = "2=127.0.0.1:%d=http://127.0.0.1:%d,3=127.0.0.1:%d=http://127.0.0.1:%d" % (
        free_port(), free_port(), free_port(), free_port())
    r = run(base_args(tmp_path, sid=1, peers=peers))
    one_line_error(r, "--peers", "1")
    assert not (tmp_path / "data").exists(), "flags are checked before the data directory"


@pytest.mark.parametrize("extra,words", [
    (["--bogus"], ["--bogus"]),
    (["--snapshot-threshold"], ["--snapshot-threshold"]),
    (["--election-timeout", "soon"], ["soon", "--election-timeout"]),
    (["--log-level", "loud"], ["loud", "--log-level"]),
    (["--join", "http://127.0.0.1:1"], ["--peers", "--join"]),
    (["stray"], ["stray"]),
])
def test_bad_flags(tmp_path, extra, words):
    r = run(base_args(tmp_path) + extra)
    one_line_error(r, *words)
    assert not (tmp_path / "data").exists()


def test_required_flags(tmp_path):
    r = run(["--id", "1", "--peers", "1=127.0.0.1:1=http://127.0.0.1:2"])
    one_line_error(r, "--data-dir", "--raft-address")
    r = run(["--id", "0"] + base_args(tmp_path)[2:])
    one_line_error(r, "--id")


def test_bad_value_with_equals_sign(tmp_path):
    r = run(base_args(tmp_path) + ["--election-timeout=abc"])
    one_line_error(r, "abc", "--election-timeout")


def test_help_documents_every_flag():
    r = subprocess.run([str(BOSUN), "server", "--help"], capture_output=True, text=True,
                       env=server_env(), timeout=TIMEOUT)
    assert r.returncode == 0, r
    out = r.stdout
    assert out.startswith("usage: bosun server"), out
    # every long option the parser accepts (server/main.c's option table)
    src = (ROOT / "server" / "main.c").read_text()
    flags = re.findall(r'\{"([a-z][a-z-]+)", [01], 0, \'.\'\}', src)
    assert len(flags) >= 15, flags
    for f in flags:
        if f != "help":
            assert re.search(r"^\s+--%s\b" % re.escape(f), out, re.M), "--%s undocumented" % f
    for f in ["--id", "--data-dir", "--listen", "--raft-address", "--peers", "--join",
              "--election-timeout", "--heartbeat-timeout", "--snapshot-threshold",
              "--snapshot-trailing", "--watch-history", "--bookmark-interval"]:
        assert f in out
    r2 = subprocess.run([str(BOSUN), "server", "-h"], capture_output=True, text=True,
                        env=server_env(), timeout=TIMEOUT)
    assert r2.returncode == 0 and r2.stdout == out


def test_data_dir_in_use_by_a_running_server(tmp_path):
    d = tmp_path / "data"
    args = base_args(tmp_path, data=d)
    log = open(tmp_path / "first.log", "wb")
    first = subprocess.Popen([str(BOSUN), "server"] + args, stdout=log, stderr=subprocess.STDOUT,
                             env=server_env(), stdin=subprocess.DEVNULL,
                             preexec_fn=_child_setup)
    second = None
    try:
        api = int(args[args.index("--listen") + 1].split(":")[1])
        wait_for("the first server", lambda: http("http://127.0.0.1:%d" % api, "GET",
                                                    "/healthz", timeout=2).status == 200, 20)
        # the same directory and id, other ports
        args2 = base_args(tmp_path, data=d)
        second = subprocess.Popen([str(BOSUN), "server"] + args2, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, env=server_env(),
                                  stdin=subprocess.DEVNULL, preexec_fn=_child_setup)
        try:
            _, err = second.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            err = None
        assert err is not None, "a second server runs on a data directory in use"
        assert second.returncode > 0
        lines = [ln for ln in err.decode().splitlines() if ln.strip()]
        assert len(lines) == 1 and "in use" in lines[0], lines
    finally:
        for p in (second, first):
            if p is not None and p.poll() is None:
                os.kill(p.pid, signal.SIGKILL)
                p.wait(10)
        log.close()


def test_clean_shutdown_on_sigterm(tmp_path):
    """A started server stops on SIGTERM, promptly, with exit 0 (and no
    sanitizer report), and starts again from the same directory."""
    args = base_args(tmp_path)
    api = int(args[args.index("--listen") + 1].split(":")[1])
    url = "http://127.0.0.1:%d" % api
    for round_ in range(2):
        log = open(tmp_path / ("run%d.log" % round_), "wb")
        p = subprocess.Popen([str(BOSUN), "server"] + args, stdout=log, stderr=subprocess.STDOUT,
                             env=server_env(), stdin=subprocess.DEVNULL, preexec_fn=_child_setup)
        try:
            wait_for("the server to lead", lambda: http(url, "GET", "/readyz",
                                                        timeout=2).status == 200, 20)
            if round_ == 0:
                wait_for("namespace d", lambda: http(url, "POST", "/api/v1/namespaces", {
                    "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "d"}},
                    timeout=5).status in (201, 409), 20)
                r = http(url, "POST", "/api/v1/namespaces/d/configmaps",
                         {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kept"}})
                assert r.status == 201, r
            else:
                r = http(url, "GET", "/api/v1/namespaces/d/configmaps/kept")
                assert r.status == 200, r
            t0 = time.monotonic()
            os.kill(p.pid, signal.SIGTERM)
            code = p.wait(15)
            dt = time.monotonic() - t0
        finally:
            if p.poll() is None:
                os.kill(p.pid, signal.SIGKILL)
                p.wait(10)
            log.close()
        text = (tmp_path / ("run%d.log" % round_)).read_text(errors="replace")
        assert code == 0, text[-3000:]
        assert "Sanitizer" not in text, text[-3000:]
        assert dt < 10, dt


@pytest.mark.parametrize("memory", [True, False])
def test_state_replica_in_memory_or_on_disk(tmp_path, memory):
    """The LMDB replica is derived state (rebuilt from the Raft log at every
    start): by default it lives in /dev/shm with its name already removed,
    so it never reaches the disk and its memory goes with the process;
    --state-memory none keeps it in DATA_DIR/state."""
    args = base_args(tmp_path) + ([] if memory else ["--state-memory", "none"])
    api = int(args[args.index("--listen") + 1].split(":")[1])
    url = "http://127.0.0.1:%d" % api
    log = open(tmp_path / "run.log", "wb")
    p = subprocess.Popen([str(BOSUN), "server"] + args, stdout=log, stderr=subprocess.STDOUT,
                         env=server_env(), stdin=subprocess.DEVNULL, preexec_fn=_child_setup)
    try:
        wait_for("the server to lead", lambda: http(url, "GET", "/readyz",
                                                    timeout=2).status == 200, 20)
        body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "kept-"}}
        wait_for("a write (once the default namespace is made)", lambda: http(
            url, "POST", "/api/v1/namespaces/default/configmaps", body).status == 201, 20)
        maps = open("/proc/%d/maps" % p.pid).read()
        on_disk = str(tmp_path / "data" / "state" / "data.mdb")
        if memory:
            assert re.search(r"/dev/shm/bosun-state-\w+/data\.mdb \(deleted\)", maps), maps
            assert not os.path.exists(on_disk)
        else:
            assert on_disk in maps and os.path.exists(on_disk)
        os.kill(p.pid, signal.SIGTERM)
        assert p.wait(TIMEOUT) == 0
    finally:
        if p.poll() is None:
            os.kill(p.pid, signal.SIGKILL)
            p.wait(10)
        log.close()
