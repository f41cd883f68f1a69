"""`kubectl logs`, `exec` and `cp` through every server of a 3-server
cluster to a hollow agent's kubelet endpoint (pods/log, pods/exec).

One agent (the ASan build) runs 2 hollow nodes with --exec-dir in the
test's directory. The calls go to a follower unless a test says otherwise:
the server reads the pod and its node from its own replica and connects to
the node's kubelet endpoint. Checked: a hollow container's log (the
bosun.dev/hollow-log lines, --tail, --timestamps, --limit-bytes, the
default container), a followed log that ends when its container
terminates, the errors Kubernetes gives (no host, a bad container, a
missing pod, --previous), exec's streams and exit codes, stdin, the
container's env and working directory, cp both ways, a command that does
not exist, a completed pod, an exec that is not an upgrade, and a command
killed when its client goes away."""
import os
import re
import signal
import subprocess
import time

import pytest

from conftest import HollowAgent, Kubectl, ensure_ns, wait_for

NS = "logs-exec"
PREFIX = "lx-"


@pytest.fixture(scope="module")
def lx(module_cluster, tmp_path_factory):
    c = module_cluster
    d = tmp_path_factory.mktemp("lx")
    exec_dir = d / "exec"
    exec_dir.mkdir()
    agent = HollowAgent(c, d, 2, prefix=PREFIX, extra=["--exec-dir", str(exec_dir)])
    ld = c.leader()
    ensure_ns(ld, NS)

    def ready():
        items = ld.get("/api/v1/nodes").json.get("items", [])
        return sum(1 for n in items if n["metadata"]["name"].startswith(PREFIX)) == 2
    wait_for("2 hollow nodes", ready, 60)

    class LX:
        cluster = c
        leader = ld
        follower = c.followers(ld)[0]
        F = Kubectl(follower, tmp_path_factory.mktemp("kf"))
        L = Kubectl(ld, tmp_path_factory.mktemp("kl"))
        dir = exec_dir
    yield LX
    agent.stop(check=True)


def pod(name, annotations=None, restart=None, containers=None, node=True):
    md = {"name": name, "namespace": NS}
    if annotations:
        md["annotations"] = annotations
    spec = {"containers": containers or [
        {"name": "app", "image": "nginx:1.25", "env": [{"name": "GREETING", "value": "hi there"}]},
        {"name": "side", "image": "busybox:1.36"}]}
    if node:
        spec["nodeSelector"] = {"kubernetes.io/hostname": PREFIX + "0000"}
    else:
        spec["schedulerName"] = "e2e-none"
    if restart:
        spec["restartPolicy"] = restart
    return {"apiVersion": "v1", "kind": "Pod", "metadata": md, "spec": spec}


def create_running(lx, body):
    r = lx.leader.req("POST", "/api/v1/namespaces/%s/pods" % NS, body)
    assert r.status == 201, r
    name = body["metadata"]["name"]

    def running():
        p = lx.follower.get("/api/v1/namespaces/%s/pods/%s" % (NS, name)).json
        return p if p.get("status", {}).get("phase") == "Running" else None
    return wait_for("%s Running" % name, running, 30, interval=0.1)


def test_logs(lx):
    create_running(lx, pod("lg", annotations={"bosun.dev/hollow-log": "alpha\nbeta\ngamma"}))
    k = lx.F
    assert k.run("logs", "-n", NS, "lg", "-c", "app").stdout == "alpha\nbeta\ngamma\n"
    assert k.run("logs", "-n", NS, "lg", "-c", "side", "--tail=1").stdout == "gamma\n"
    assert k.run("logs", "-n", NS, "lg", "-c", "app", "--limit-bytes=8").stdout == "alpha\nbe"
    out = k.run("logs", "-n", NS, "lg", "-c", "app", "--timestamps").stdout.splitlines()
    assert len(out) == 3, out
    for line in out:
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z (alpha|beta|gamma)$", line), line
    # kubectl picks the first container and says so
    p = k.run("logs", "-n", NS, "lg")
    assert p.stdout == "alpha\nbeta\ngamma\n" and 'Defaulted container "app"' in p.stderr, p
    # the leader answers the same
    assert lx.L.run("logs", "-n", NS, "lg", "-c", "app").stdout == "alpha\nbeta\ngamma\n"
    # without the annotation: a line saying it started
    create_running(lx, pod("plain", containers=[{"name": "c", "image": "busybox:1.36"}]))
    out = k.run("logs", "-n", NS, "plain").stdout
    assert out.startswith('hollow container "c" started on node %s0000' % PREFIX), out


def test_logs_follow_ends_with_the_container(lx):
    body = pod("job", annotations={"bosun.dev/hollow-run-seconds": "2"}, restart="Never",
               containers=[{"name": "c", "image": "busybox:1.36"}])
    create_running(lx, body)
    t0 = time.monotonic()
    p = lx.F.run("logs", "-n", NS, "-f", "job", timeout=30)
    took = time.monotonic() - t0
    lines = p.stdout.splitlines()
    assert len(lines) == 2 and "started" in lines[0], lines
    assert lines[1] == 'hollow container "c" exited with code 0 (Completed)', lines
    assert took < 15, took
    # a completed pod's log is still there; exec into it is refused
    assert lx.F.run("logs", "-n", NS, "job").stdout == p.stdout
    e = lx.F.run("exec", "-n", NS, "job", "--", "true", ok=False)
    assert e.returncode != 0
    assert "cannot exec into a container in a completed pod; current phase is Succeeded" in \
        e.stderr, e.stderr


def test_logs_errors(lx):
    k = lx.F
    r = lx.leader.req("POST", "/api/v1/namespaces/%s/pods" % NS, pod("unbound", node=False))
    assert r.status == 201, r
    # no node yet: an empty log, as Kubernetes gives; exec is refused
    e = k.run("logs", "-n", NS, "unbound", "-c", "app")
    assert e.stdout == "", e
    e = k.run("exec", "-n", NS, "unbound", "-c", "app", "--", "true", ok=False)
    assert e.returncode != 0 and "pod unbound does not have a host assigned" in e.stderr, e
    e = k.run("logs", "-n", NS, "nothere", ok=False)
    assert e.returncode != 0 and 'pods "nothere" not found' in e.stderr, e
    create_running(lx, pod("errs"))
    e = k.run("logs", "-n", NS, "errs", "-c", "nope", ok=False)
    assert e.returncode != 0 and "container nope is not valid for pod errs" in e.stderr, e
    e = k.run("logs", "-n", NS, "errs", "-c", "app", "--previous", ok=False)
    assert e.returncode != 0 and \
        'previous terminated container "app" in pod "errs" not found' in e.stderr, e
    # the raw API: no container named on a pod of two
    r = lx.follower.get("/api/v1/namespaces/%s/pods/errs/log" % NS)
    assert r.status == 400 and r.json["reason"] == "BadRequest", r
    assert r.json["message"] == \
        "a container name must be specified for pod errs, choose one of: [app side]", r
    r = lx.follower.get("/api/v1/namespaces/%s/pods/errs/log?container=app&tailLines=x" % NS)
    assert r.status == 400 and "tailLines" in r.json["message"], r
    # the options Kubernetes validates: 422 Invalid, the field named
    base = "/api/v1/namespaces/%s/pods/errs/log?container=app&" % NS
    for q, field, msg in (("tailLines=-1", "tailLines", "must be greater than or equal to 0"),
                          ("limitBytes=0", "limitBytes", "must be greater than 0"),
                          ("sinceSeconds=0", "sinceSeconds", "must be greater than 0"),
                          ("sinceSeconds=5&sinceTime=2026-01-01T00:00:00Z", "sinceSeconds",
                           "at most one of `sinceTime` or `sinceSeconds` may be specified")):
        r = lx.follower.get(base + q)
        assert r.status == 422 and r.json["reason"] == "Invalid", (q, r)
        assert r.json["details"]["causes"][0]["field"] == field, (q, r)
        assert msg in r.json["message"] and 'PodLogOptions "errs" is invalid' in \
            r.json["message"], (q, r)


def test_exec_streams_and_exit_code(lx):
    create_running(lx, pod("ex"))
    for k in (lx.F, lx.L):
        p = k.run("exec", "-n", NS, "ex", "-c", "app", "--", "sh", "-c",
                  'echo "out $GREETING"; echo err >&2; pwd; echo "$HOSTNAME"; exit 3', ok=False)
        assert p.returncode == 3, p
        lines = p.stdout.splitlines()
        assert lines[0] == "out hi there", lines
        assert lines[1] == str(lx.dir / NS / "ex" / "app"), lines
        assert lines[2] == "ex", lines
        assert "err" in p.stderr and "command terminated with exit code 3" in p.stderr, p.stderr
    p = lx.F.run("exec", "-i", "-n", NS, "ex", "-c", "side", "--", "sh", "-c", "wc -c; cat",
                 input="x" * 100000)
    assert p.stdout.split()[0] == "100000", p.stdout[:200]
    # a command that stops reading its stdin early: the rest is dropped
    p = lx.F.run("exec", "-i", "-n", NS, "ex", "-c", "side", "--", "head", "-c", "10",
                 input="y" * 2000000)
    assert p.stdout == "y" * 10, p.stdout[:200]
    p = lx.F.run("exec", "-n", NS, "ex", "-c", "app", "--", "true")
    assert p.returncode == 0, p
    p = lx.F.run("exec", "-n", NS, "ex", "-c", "app", "--", "nosuchcommand-bosun", ok=False)
    assert p.returncode == 1, p
    assert 'exec: "nosuchcommand-bosun": executable file not found in $PATH' in p.stderr, p.stderr
    # not an upgrade: refused with the reason
    r = lx.follower.req("POST", "/api/v1/namespaces/%s/pods/ex/exec?container=app&command=ls" % NS)
    assert r.status == 400 and "Upgrade request required" in r.json["message"], r


def test_exec_refused_by_the_kubelet_says_why_at_once(lx):
    """A refusal from the kubelet (here: an init container, which has ended)
    reaches kubectl at once, and with its reason: kubectl retries a refused
    WebSocket over SPDY and shows that answer, which the kubelet gives too."""
    body = pod("init", containers=[{"name": "c", "image": "busybox:1.36"}])
    body["spec"]["initContainers"] = [{"name": "setup", "image": "busybox:1.36"}]
    create_running(lx, body)
    t0 = time.monotonic()
    e = lx.F.run("exec", "-n", NS, "init", "-c", "setup", "--", "true", ok=False)
    took = time.monotonic() - t0
    assert e.returncode != 0 and "container setup is not running in pod init" in e.stderr, e
    assert took < 8, took
    r = lx.follower.get("/api/v1/namespaces/%s/pods/init/log" % NS)  # c: the only container
    assert r.status == 200 and r.body.startswith(b'hollow container "c" started'), r
    r = lx.follower.get("/api/v1/namespaces/%s/pods/init/exec?command=true" % NS)
    assert r.status == 400 and "Upgrade request required" in r.json["message"], r


def test_exec_with_a_terminal(lx):
    """kubectl exec -it, with kubectl on a terminal of its own (a pty made
    here): the command gets a terminal (tty answers a /dev/pts path) of
    kubectl's size, a shell reads lines from it, and its exit code is
    kubectl's."""
    import pty
    create_running(lx, pod("tty", containers=[{"name": "c", "image": "busybox:1.36"}]))
    cmd, env = lx.F._cmd(["exec", "-it", "-n", NS, "tty", "--", "sh"])
    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.execve(cmd[0], cmd, env)
        finally:
            os._exit(127)
    try:
        import fcntl
        import struct
        import termios
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 111, 0, 0))
        os.write(fd, b"tty; stty size; echo $((6*7)); exit 7\n")
        out = b""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: kubectl is gone
                break
            if not chunk:
                break
            out += chunk
        _, status = os.waitpid(pid, 0)
    finally:
        os.close(fd)
    text = out.decode(errors="replace")
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 7, (status, text)
    assert re.search(r"/dev/pts/\d+", text), text
    assert "33 111" in text, text
    assert "\n42" in text.replace("\r", ""), text


def test_cp_both_ways(lx, tmp_path):
    create_running(lx, pod("cp", containers=[{"name": "c", "image": "busybox:1.36"}]))
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_text("first file\n")
    (src / "sub").mkdir()
    (src / "sub" / "b.bin").write_bytes(os.urandom(200000))
    lx.F.run("cp", str(src), "%s/cp:copied" % NS)
    inside = lx.dir / NS / "cp" / "c" / "copied"
    assert (inside / "a.txt").read_text() == "first file\n"
    assert (inside / "sub" / "b.bin").read_bytes() == (src / "sub" / "b.bin").read_bytes()
    back = tmp_path / "back"
    lx.L.run("cp", "%s/cp:copied" % NS, str(back))
    assert (back / "a.txt").read_text() == "first file\n"
    assert (back / "sub" / "b.bin").read_bytes() == (src / "sub" / "b.bin").read_bytes()


def marker_running(marker):
    p = subprocess.run(["pgrep", "-f", marker], capture_output=True, text=True)
    return p.returncode == 0


def test_exec_command_killed_when_the_client_goes(lx):
    create_running(lx, pod("gone", containers=[{"name": "c", "image": "busybox:1.36"}]))
    marker = "bosun-e2e-marker-%d" % os.getpid()
    proc = lx.F.popen("exec", "-n", NS, "gone", "--", "sh", "-c",
                      "echo started; sleep 120; echo %s" % marker)
    try:
        assert proc.stdout.readline().strip() == "started"
        assert marker_running(marker)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        wait_for("the command to be killed", lambda: not marker_running(marker), 15,
                 interval=0.2)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
