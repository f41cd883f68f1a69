"""`make run`'s script (scripts/run.sh), as a new user meets it: three
servers in the foreground and three hollow nodes beside them, in a
directory of the test's own (RUN_DIR) and on free ports.

Checked: the servers elect a leader and the kubeconfig it prints works;
the 3 hollow nodes become Ready without anything else started; a pod made
with `kubectl run` goes Running on one of them; `kubectl logs` and `exec`
answer; and when `bosun up` (which the script becomes) is stopped with
SIGINT, as a terminal's Ctrl-C would, the servers and the agent are all
gone. The script runs the release build (build/bosun), as `make run` does;
everything is stopped by its pid, also when the test fails."""
import os
import signal
import subprocess
import time

import pytest

from conftest import ROOT, Kubectl, _port_free, free_port, wait_for


def pids_of(pattern):
    p = subprocess.run(["pgrep", "-f", "--", pattern], capture_output=True, text=True)
    return [int(x) for x in p.stdout.split()]


def base_port():
    """A base P with P+1..P+3 and P+101..P+103 free."""
    for _ in range(50):
        p = free_port()
        base = p - 1
        if all(_port_free(base + d) for d in (2, 3, 101, 102, 103)):
            return base
    raise RuntimeError("no free port range")


def test_make_run_servers_and_hollow_nodes(tmp_path):
    if not (ROOT / "build" / "bosun").exists():
        pytest.skip("build/bosun (the release build make run uses) is not built")
    run_dir = tmp_path / "run"
    base = base_port()
    env = dict(os.environ, RUN_DIR=str(run_dir))
    log = open(tmp_path / "run.log", "wb")
    proc = subprocess.Popen(["bash", "scripts/run.sh", "--base-port", str(base)], cwd=str(ROOT),
                            env=env, stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL)
    log.close()
    exec_dir = str(run_dir.resolve() / "exec")
    try:
        kubeconfig = run_dir / "cluster" / "kubeconfig"
        wait_for("the kubeconfig", kubeconfig.exists, 30)

        class Server:
            url = "http://127.0.0.1:%d" % (base + 1)
        home = tmp_path / "home"
        home.mkdir()
        k = Kubectl(Server, home)

        def nodes_ready():
            p = k.run("get", "nodes", "--no-headers", ok=False)
            lines = [line for line in p.stdout.splitlines() if " Ready " in line]
            return len(lines) == 3
        wait_for("3 hollow nodes Ready", nodes_ready, 60, interval=0.5)
        k.run("run", "web", "--image=nginx")

        def running():
            p = k.run("get", "pod", "web", "-o", "jsonpath={.status.phase}", ok=False)
            return p.stdout == "Running"
        wait_for("the pod Running", running, 30, interval=0.3)
        assert k.run("logs", "web").stdout.startswith('hollow container "web" started')
        assert k.run("exec", "web", "--", "pwd").stdout.strip() == exec_dir + "/default/web/web"
        assert pids_of("--exec-dir " + exec_dir), "the agent should be running"
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        out = (tmp_path / "run.log").read_text(errors="replace")
    assert proc.returncode == 0, out[-3000:]
    assert "cluster stopped" in out, out[-3000:]
    wait_for("the agent gone with bosun up", lambda: not pids_of("--exec-dir " + exec_dir), 15,
             interval=0.2)
    assert not pids_of("--data-dir %s/cluster/s" % run_dir.resolve())
