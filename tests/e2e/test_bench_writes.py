"""`bosun bench writes` end to end: its counts must match what the cluster
holds, not any speed. The load generator reads and writes its sockets
itself (tools/bench.c: event loops, httpc_response_scan), so these runs
check that every request it counts as a success is a ConfigMap the servers
hold, that it spreads its clients over every server, and that a dead
server is counted as failures and still ends the run on time.

The runs use the sanitizer build (build/test/bosun) for the benchmark and
the servers of this harness's cluster, whose logs the fixture checks."""
import json
import socket
import subprocess
import time

from conftest import BOSUN, ensure_ns, http, server_env, _child_setup

RUN_TIMEOUT = 300  # seconds: ASan servers, a loaded machine


def bench(args, timeout=RUN_TIMEOUT):
    return subprocess.run([str(BOSUN), "bench", "writes"] + [str(a) for a in args],
                          capture_output=True, text=True, env=server_env(), timeout=timeout,
                          stdin=subprocess.DEVNULL, preexec_fn=_child_setup)


def configmaps(server, ns):
    r = http(server.url, "GET", "/api/v1/namespaces/%s/configmaps" % ns)
    assert r.status == 200, r.body
    return r.json["items"]


def test_counted_creates_are_stored(module_cluster):
    c = module_cluster
    ns = "bench-writes"
    ensure_ns(c.live()[0], ns)
    urls = ",".join(s.url for s in c.live())
    count = 600
    r = bench(["--servers", urls, "--clients", 24, "--threads", 2, "--count", count,
               "--size", 2048, "--namespace", ns, "--json"])
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    assert res["errors"] == 0 and res["errors_by_status"] == {}, res
    assert res["attempts"] == count, res
    # The first 5% of a counted run are warm-up, the rest measured.
    assert count * 0.95 - 24 <= res["ops"] <= count, res
    assert 0 < res["p50_ms"] <= res["p90_ms"] <= res["p99_ms"] <= res["max_ms"], res
    items = configmaps(c.live()[0], ns)
    assert len(items) == count
    names = {i["metadata"]["name"] for i in items}
    assert names == {n for n in names if n.startswith("bench-%s-" % res["run"])}
    # Client k sends its requests to server k % 3, numbered from 0.
    per_client = {}
    for n in names:
        _, _, k, i = n.split("-")
        per_client.setdefault(int(k), set()).add(int(i))
    assert sorted(per_client) == list(range(24))
    for k, seq in per_client.items():
        assert seq == set(range(len(seq))), (k, sorted(seq))
    sizes = {len(json.dumps(i["data"])) for i in items}
    assert max(sizes) < 2048 and min(sizes) > 1500, sizes


def test_dead_server_counts_failures(module_cluster):
    c = module_cluster
    ns = "bench-writes-dead"
    ensure_ns(c.live()[0], ns)
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        dead = "http://127.0.0.1:%d" % s.getsockname()[1]
    t0 = time.monotonic()
    r = bench(["--servers", "%s,%s" % (c.live()[0].url, dead), "--clients", 4,
               "--duration", "3s", "--namespace", ns, "--json"])
    took = time.monotonic() - t0
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    assert res["ops"] > 0, res
    assert res["errors_by_status"].get("0", 0) > 0, res  # no answer from the dead one
    assert took < 20, took
    # Every measured success was stored, and nothing it counted as failed
    # (a request that ends past the deadline is neither).
    stored = len(configmaps(c.live()[0], ns))
    assert res["ops"] <= stored <= res["attempts"] - res["errors"], (stored, res)
