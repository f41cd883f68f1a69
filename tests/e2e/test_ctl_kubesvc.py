"""The `kubernetes` Service of namespace default (controllers/kubesvc.c),
through the real kubectl on three servers.

It exists with Kubernetes' shape (clusterIP 10.96.0.1, port https 443/TCP
to the API port, component=apiserver, provider=kubernetes, no selector);
its Endpoints and EndpointSlices list every voter's API address and port;
nothing of it is rewritten while it is right (resourceVersions stay over
more than one poll). Then the leader is killed -9: its address leaves the
Endpoints and slices once it has not answered the new leader's probes for
3 s, though it is still a voter, and comes back when it is restarted; the
new leader makes the Service again when kubectl deletes it, and when the
member is demoted to standby its address leaves the Endpoints and slices.
"""
import time

from conftest import wait_for

NS = "default"


def addrs(kc):
    """{(ip, port)} of Endpoints default/kubernetes, and of its slices."""
    ep = kc.json("-n", NS, "get", "endpoints", "kubernetes")
    got = {(a["ip"], p["port"]) for s in ep.get("subsets", [])
           for a in s["addresses"] for p in s["ports"]}
    sl = kc.json("-n", NS, "get", "endpointslices", "-l", "kubernetes.io/service-name=kubernetes")
    got_sl = {(a, p["port"]) for s in sl["items"] for e in s.get("endpoints") or []
              for a in e["addresses"] for p in s["ports"]}
    return got, got_sl


def api_of(servers):
    return {("127.0.0.1", s.api_port) for s in servers}


def versions(kc):
    out = {}
    for kind in ("service", "endpoints", "endpointslices"):
        items = kc.json("-n", NS, "get", kind, "-l", "kubernetes.io/service-name=kubernetes") \
            if kind == "endpointslices" else {"items": [kc.json("-n", NS, "get", kind, "kubernetes")]}
        for o in items["items"]:
            out[(kind, o["metadata"]["name"])] = o["metadata"]["resourceVersion"]
    return out


def test_kubernetes_service(make_cluster, tmp_path):
    from conftest import Kubectl
    c = make_cluster(3)
    ld = c.leader()
    kc = Kubectl(ld, tmp_path)
    want = api_of(c.all())
    wait_for("the kubernetes endpoints", lambda: addrs(kc) == (want, want), 20)
    svc = kc.json("-n", NS, "get", "svc", "kubernetes")
    assert svc["spec"]["clusterIP"] == "10.96.0.1"
    assert svc["spec"]["type"] == "ClusterIP"
    assert "selector" not in svc["spec"]
    assert svc["metadata"]["labels"] == {"component": "apiserver", "provider": "kubernetes"}
    assert svc["spec"]["ports"] == [{"name": "https", "port": 443, "protocol": "TCP",
                                     "targetPort": min(s.api_port for s in c.all())}]
    # No write churn: nothing rewritten over three 2 s polls.
    before = versions(kc)
    time.sleep(6)
    assert versions(kc) == before

    ld.kill()
    ld2 = c.leader()
    kc2 = Kubectl(ld2, tmp_path)
    others = api_of(s for s in c.all() if s is not ld)
    wait_for("the dead voter out of the endpoints", lambda: addrs(kc2) == (others, others), 20)
    st = ld2.status()
    assert ld.id in {m["id"] for m in st["members"] if m["role"] == "voter"}, st
    assert {m["id"]: m["reachable"] for m in st["members"]} == \
        {s.id: s is not ld for s in c.all()}, st
    ld.start()
    wait_for("the restarted voter back in the endpoints", lambda: addrs(kc2) == (want, want), 20)
    kc2.run("-n", NS, "delete", "svc", "kubernetes")
    wait_for("the Service made again", lambda: kc2.run(
        "-n", NS, "get", "svc", "kubernetes", ok=False).returncode == 0, 20)
    assert kc2.json("-n", NS, "get", "svc", "kubernetes")["spec"]["clusterIP"] == "10.96.0.1"
    r = ld2.req("POST", "/cluster/members/%d/role" % ld.id, {"role": "standby"}, timeout=60)
    assert r.status == 200, r
    want2 = api_of(s for s in c.all() if s is not ld)
    wait_for("the demoted member out of the endpoints", lambda: addrs(kc2) == (want2, want2), 20)
