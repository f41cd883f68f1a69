#!/usr/bin/env python3
"""The controllers' benchmark (issue 5): how long a large Deployment takes
to become available and to roll, and how fast a new leader takes over.

  python3 tests/bench/controllers.py [--nodes 1000] [--replicas 10000]
                                     [--bin build/bosun] [--base-port 17440]
                                     [--election-timeout 1000ms]

It starts its own 3-server cluster (`bosun up --detach`) and `--nodes`
hollow nodes (`bosun agent --hollow`, two processes), then measures, from
the client's side (wall clock, polling the Deployment's status every
200 ms through a follower):

  1. create: a Deployment of --replicas pods (100m cpu each) from its
     creation until status.availableReplicas == replicas;
  2. rollout: a new image (RollingUpdate, maxSurge 25%, maxUnavailable 25%)
     until the new ReplicaSet has every replica available and the old one
     none (updatedReplicas == availableReplicas == replicas, replicas ==
     replicas);
  After the rollout it counts the Events in the namespace (each one a
  replicated write). Then
  3. failover: `kill -9` of the leader; then, from a follower, the time
     until a write is accepted again (a ReplicaSet of 1 replica, posted
     right after the kill and retried until accepted), and until the first
     controller action of the new leader: that ReplicaSet gets its pod.

Prints one line per figure and a JSON summary; everything it started is
stopped at the end (`bosun down`, the agents by pid). Not a test: the
figures depend on the machine; run it on a quiet one and compare runs side
by side."""
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request


def call(url, method, path, body=None, timeout=30):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, None
    except (urllib.error.URLError, OSError):
        return 0, None


def wait(what, fn, timeout, every=0.2):
    end = time.time() + timeout
    while time.time() < end:
        v = fn()
        if v:
            return v
        time.sleep(every)
    raise SystemExit("timed out waiting for " + what)


def leader_of(servers):
    for s in servers:
        st, j = call(s["api"], "GET", "/cluster/status", timeout=5)
        if st == 200 and j and j.get("role") == "leader":
            return s
    return None


def deployment(name, replicas, image):
    labels = {"app": name}
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "strategy": {"type": "RollingUpdate",
                                  "rollingUpdate": {"maxSurge": "25%",
                                                    "maxUnavailable": "25%"}},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{
                                      "name": "c", "image": image,
                                      "resources": {"requests": {"cpu": "100m"}}}]}}}}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--nodes", type=int, default=1000)
    ap.add_argument("--replicas", type=int, default=10000)
    ap.add_argument("--bin", default="build/bosun")
    ap.add_argument("--base-port", type=int, default=17440)
    ap.add_argument("--timeout", type=int, default=1800, help="seconds per phase")
    ap.add_argument("--election-timeout", default="",
                    help="the servers' --election-timeout (default: theirs, 1000ms)")
    a = ap.parse_args()
    d = tempfile.mkdtemp(prefix="bosun-bench-ctl-")
    argv = [a.bin, "up", "--servers", "3", "--dir", d, "--base-port", str(a.base_port),
            "--detach"]
    if a.election_timeout:
        argv += ["--", "--election-timeout", a.election_timeout]
    up = subprocess.run(argv, capture_output=True, text=True)
    if up.returncode != 0:
        sys.exit("bosun up failed: " + up.stderr)
    servers = json.load(open(os.path.join(d, "cluster.json")))["servers"]
    agents = []
    result = {"nodes": a.nodes, "replicas": a.replicas,
              "election_timeout": a.election_timeout or "default"}
    try:
        urls = ",".join(s["api"] for s in servers)
        half = a.nodes // 2
        for i, n in enumerate((half, a.nodes - half)):
            log = open(os.path.join(d, "agent%d.log" % i), "wb")
            agents.append(subprocess.Popen(
                [a.bin, "agent", "--hollow", str(n), "--server", urls, "--name-prefix",
                 "h%d-" % i, "--cpu", "4", "--memory", "32Gi", "--pods", "110",
                 "--zones", "3", "--workers", "16", "--duration", "7200s"],
                stdout=log, stderr=subprocess.STDOUT))
        ld = wait("a leader", lambda: leader_of(servers), 30)
        f = [s for s in servers if s is not ld][0]

        def ready_nodes():
            st, j = call(f["api"], "GET", "/api/v1/nodes", timeout=60)
            return st == 200 and len(j["items"]) >= a.nodes
        wait("%d nodes" % a.nodes, ready_nodes, 300, every=1)

        def dstatus():
            st, j = call(f["api"], "GET",
                          "/apis/apps/v1/namespaces/default/deployments/big", timeout=30)
            return j.get("status", {}) if st == 200 and j else {}

        t0 = time.time()
        st, _ = call(f["api"], "POST", "/apis/apps/v1/namespaces/default/deployments",
                     deployment("big", a.replicas, "nginx:1.25"))
        assert st == 201, st
        wait("the Deployment to be available",
             lambda: dstatus().get("availableReplicas", 0) >= a.replicas, a.timeout)
        result["create_s"] = round(time.time() - t0, 2)
        print("create: %d replicas available after %.1f s (%.0f pods/s)"
              % (a.replicas, result["create_s"], a.replicas / result["create_s"]), flush=True)

        t0 = time.time()
        st, _ = call(f["api"], "PATCH", "/apis/apps/v1/namespaces/default/deployments/big",
                     {"spec": {"template": {"spec": {"containers": [
                         {"name": "c", "image": "nginx:1.26"}]}}}})
        if st != 200:  # merge patch needs its own content type
            req = urllib.request.Request(
                f["api"] + "/apis/apps/v1/namespaces/default/deployments/big",
                data=json.dumps({"spec": {"template": {"spec": {"containers": [
                    {"name": "c", "image": "nginx:1.26"}]}}}}).encode(), method="PATCH",
                headers={"Content-Type": "application/strategic-merge-patch+json"})
            urllib.request.urlopen(req, timeout=30).read()

        def rolled():
            s = dstatus()
            return (s.get("updatedReplicas") == a.replicas and
                    s.get("availableReplicas") == a.replicas and
                    s.get("replicas") == a.replicas and
                    s.get("observedGeneration", 0) >= 2)
        wait("the rollout", rolled, a.timeout)
        result["rollout_s"] = round(time.time() - t0, 2)
        print("rollout: %d replicas replaced in %.1f s" % (a.replicas, result["rollout_s"]),
              flush=True)
        st, j = call(f["api"], "GET", "/api/v1/namespaces/default/events", timeout=120)
        if st == 200:  # each a replicated write the controllers and scheduler made
            result["events"] = len(j["items"])
            print("events: %d in the namespace after the rollout" % result["events"], flush=True)

        ld = leader_of(servers)
        f = [s for s in servers if s is not ld][0]
        # The probe lives in a namespace of its own: listing its pods must
        # not scan the big Deployment's (that took 140-270 ms a poll).
        st, _ = call(f["api"], "POST", "/api/v1/namespaces",
                     {"apiVersion": "v1", "kind": "Namespace",
                      "metadata": {"name": "failover"}})
        assert st in (201, 409), st
        rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet",
              "metadata": {"name": "after-failover", "namespace": "failover"},
              "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "after"}},
                       "template": {"metadata": {"labels": {"app": "after"}},
                                    "spec": {"containers": [{"name": "c", "image": "x"}]}}}}
        os.kill(ld["pid"], signal.SIGKILL)
        t0 = time.time()
        # A follower holds a write until a new leader takes it (or times
        # out: then again; 409 means an earlier try went through).
        while True:
            st, _ = call(f["api"], "POST", "/apis/apps/v1/namespaces/failover/replicasets", rs,
                         timeout=30)
            if st in (201, 409):
                break
            if time.time() - t0 > 120:
                raise SystemExit("no write accepted within 120 s of the kill: %d" % st)
            time.sleep(0.01)
        result["failover_write_s"] = round(time.time() - t0, 3)

        def rs_pod():
            st, j = call(f["api"], "GET",
                          "/api/v1/namespaces/failover/pods?labelSelector=app%3Dafter", timeout=10)
            return st == 200 and len(j["items"]) >= 1
        wait("the new leader's first controller action", rs_pod, 60, every=0.02)
        result["failover_controller_s"] = round(time.time() - t0, 3)
        print("failover: first write accepted %.3f s after kill -9 of the leader, first "
              "controller action after %.3f s" % (result["failover_write_s"],
                                                   result["failover_controller_s"]), flush=True)
        print(json.dumps(result))
    finally:
        for p in agents:
            p.terminate()
        for p in agents:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
        subprocess.run([a.bin, "down", "--dir", d], capture_output=True)


if __name__ == "__main__":
    main()
