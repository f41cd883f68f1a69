"""The Kubernetes REST API on a 3-server cluster: CRUD through the leader and
through followers, Kubernetes Status errors, bad input that must change
nothing, read-your-writes across servers, resourceVersion semantics and
generateName. The tests share one cluster; each uses its own namespace."""
import threading
import time

import pytest

from conftest import Kubectl, ensure_ns, cm, cm_path, wait_for


@pytest.fixture(autouse=True, scope="module")
def _namespaces(module_cluster):
    """The namespaces this module's tests write into."""
    ensure_ns(module_cluster.leader(), "crud-leader", "crud-follower", "bad-leader",
              "bad-follower", "large", "ryw", "waw", "rvs", "prv", "gen", "cas", "grace", "head")


def assert_status(r, code, reason):
    """r is a Kubernetes Status object answering with HTTP code."""
    assert r.status == code, r
    st = r.json
    assert st["kind"] == "Status", st
    assert st["apiVersion"] == "v1", st
    assert st["status"] == ("Success" if code < 400 else "Failure"), st
    assert st["code"] == code, st
    assert st.get("reason", "") == reason, st
    assert isinstance(st.get("metadata"), dict), st
    if code >= 400:
        assert st["message"], st
    return st


def entry_servers(c):
    """The leader and both followers, labelled."""
    ld = c.leader()
    fs = c.followers(ld)
    return [("leader", ld), ("follower", fs[0]), ("follower2", fs[1])]


def replica_state(c):
    ds = c.wait_converged(timeout=30)
    return ds[0]["revision"], ds[0]["digest"], ds[0]["objects"]


@pytest.mark.parametrize("via", ["leader", "follower"])
def test_crud(module_cluster, via):
    c = module_cluster
    srv = dict(entry_servers(c))[via]
    ns = "crud-" + via
    path, obj = cm_path(ns), cm_path(ns, "one")

    # create
    r = srv.req("POST", path, cm("one", {"a": "1"}, labels={"app": "x"}))
    assert r.status == 201, r
    o = r.json
    assert o["kind"] == "ConfigMap" and o["apiVersion"] == "v1"
    md = o["metadata"]
    assert md["name"] == "one" and md["namespace"] == ns
    assert md["uid"] and md["creationTimestamp"] and md["labels"] == {"app": "x"}
    rv1 = int(md["resourceVersion"])
    assert rv1 > 0
    assert o["data"] == {"a": "1"}

    # get: same object, on every server (linearizable reads)
    for _, s in entry_servers(c):
        g = s.get(obj)
        assert g.status == 200, g
        assert g.json["metadata"]["resourceVersion"] == str(rv1)
        assert g.json["metadata"]["uid"] == md["uid"]
        assert g.json["data"] == {"a": "1"}

    # list
    srv.req("POST", path, cm("two", {"b": "2"})).status == 201
    lst = srv.get(path)
    assert lst.status == 200, lst
    assert lst.json["kind"] == "ConfigMapList" and lst.json["apiVersion"] == "v1"
    names = sorted(i["metadata"]["name"] for i in lst.json["items"])
    assert names == ["one", "two"]
    assert int(lst.json["metadata"]["resourceVersion"]) >= rv1
    # a list of another namespace does not see them
    other = srv.get(cm_path(ns + "-other"))
    assert other.status == 200 and other.json["items"] == []

    # create again: AlreadyExists, nothing changed
    r = srv.req("POST", path, cm("one", {"a": "changed"}))
    st = assert_status(r, 409, "AlreadyExists")
    assert st["details"]["name"] == "one" and st["details"]["kind"] == "configmaps"
    assert srv.get(obj).json["metadata"]["resourceVersion"] == str(rv1)

    # put without resourceVersion: unconditional update
    r = srv.req("PUT", obj, cm("one", {"a": "2"}))
    assert r.status == 200, r
    rv2 = int(r.json["metadata"]["resourceVersion"])
    assert rv2 > rv1
    assert r.json["metadata"]["uid"] == md["uid"], "update must keep the uid"
    assert r.json["metadata"]["creationTimestamp"] == md["creationTimestamp"]

    # put with the current resourceVersion
    r = srv.req("PUT", obj, cm("one", {"a": "3"}, rv=rv2))
    assert r.status == 200, r
    rv3 = int(r.json["metadata"]["resourceVersion"])
    assert rv3 > rv2

    # put with a stale resourceVersion: Conflict, nothing changed
    r = srv.req("PUT", obj, cm("one", {"a": "stale"}, rv=rv2))
    assert_status(r, 409, "Conflict")
    g = srv.get(obj)
    assert g.json["data"] == {"a": "3"} and g.json["metadata"]["resourceVersion"] == str(rv3)

    # put on a missing object: NotFound
    r = srv.req("PUT", cm_path(ns, "missing"), cm("missing", {"x": "y"}))
    assert_status(r, 404, "NotFound")

    # delete with a stale precondition: Conflict
    r = srv.req("DELETE", obj, {"preconditions": {"resourceVersion": str(rv2)}})
    assert_status(r, 409, "Conflict")
    assert srv.get(obj).status == 200

    # delete
    r = srv.req("DELETE", obj)
    st = assert_status(r, 200, "")
    assert st["details"]["name"] == "one" and st["details"]["uid"] == md["uid"]
    for _, s in entry_servers(c):
        g = s.get(obj)
        st = assert_status(g, 404, "NotFound")
        assert st["details"]["name"] == "one" and st["details"]["kind"] == "configmaps"
        assert "not found" in st["message"]
    assert_status(srv.req("DELETE", obj), 404, "NotFound")
    names = [i["metadata"]["name"] for i in srv.get(path).json["items"]]
    assert names == ["two"]

    # create after delete: a new object (new uid)
    r = srv.req("POST", path, cm("one", {"a": "again"}))
    assert r.status == 201, r
    assert r.json["metadata"]["uid"] != md["uid"]
    assert int(r.json["metadata"]["resourceVersion"]) > rv3

    c.wait_converged(timeout=30)


def test_cluster_scoped_and_group_resources(module_cluster):
    c = module_cluster
    _, f = entry_servers(c)[1]
    r = f.req("POST", "/api/v1/namespaces",
              {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}})
    assert r.status == 201, r
    assert "namespace" not in r.json["metadata"]
    g = f.get("/api/v1/namespaces/team-a")
    assert g.status == 200 and g.json["metadata"]["name"] == "team-a"
    # dots are not allowed in namespace names (RFC 1123 label)
    r = f.req("POST", "/api/v1/namespaces",
              {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a.b"}})
    assert_status(r, 422, "Invalid")

    dep = {"apiVersion": "apps/v1", "kind": "Deployment",
           "metadata": {"name": "web"},
           "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                    "template": {"metadata": {"labels": {"app": "web"}},
                                 "spec": {"containers": [{"name": "c", "image": "i"}]}}}}
    path = "/apis/apps/v1/namespaces/team-a/deployments"
    r = f.req("POST", path, dep)
    assert r.status == 201, r
    assert r.json["metadata"]["generation"] == 1
    # a spec change bumps the generation; a label change does not
    dep["spec"]["replicas"] = 3
    r = f.req("PUT", path + "/web", dep)
    assert r.status == 200 and r.json["metadata"]["generation"] == 2, r
    dep["metadata"]["labels"] = {"x": "y"}
    r = f.req("PUT", path + "/web", dep)
    assert r.status == 200 and r.json["metadata"]["generation"] == 2, r
    lst = c.leader().get(path)
    assert lst.json["kind"] == "DeploymentList" and lst.json["apiVersion"] == "apps/v1"
    assert [i["metadata"]["name"] for i in lst.json["items"]] == ["web"]
    # a Deployment path does not take a ConfigMap
    r = f.req("POST", path, cm("x"))
    assert_status(r, 400, "BadRequest")


@pytest.mark.parametrize("via", ["leader", "follower"])
def test_bad_input_changes_nothing(module_cluster, via):
    c = module_cluster
    srv = dict(entry_servers(c))[via]
    ns = "bad-" + via
    path = cm_path(ns)
    assert srv.req("POST", path, cm("exists", {"k": "v"})).status == 201
    before = replica_state(c)

    def bad(method, p, body, code, reason, **kw):
        r = srv.req(method, p, body, **kw)
        return assert_status(r, code, reason)

    # malformed JSON, non-object JSON, empty body
    bad("POST", path, b'{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {', 400, "BadRequest")
    bad("POST", path, b"[1, 2, 3]", 400, "BadRequest")
    bad("POST", path, b"", 400, "BadRequest")
    bad("PUT", cm_path(ns, "exists"), b"{not json", 400, "BadRequest")
    # a body over 3 MiB
    big = b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"big"},"data":{"k":"' + \
        b"x" * (3 << 20) + b'"}}'
    bad("POST", path, big, 413, "RequestEntityTooLarge", timeout=60)
    bad("PUT", cm_path(ns, "exists"), big, 413, "RequestEntityTooLarge", timeout=60)
    # kind / apiVersion / namespace not matching the path
    o = cm("wrongkind")
    o["kind"] = "Secret"
    bad("POST", path, o, 400, "BadRequest")
    o = cm("wrongav")
    o["apiVersion"] = "apps/v1"
    bad("POST", path, o, 400, "BadRequest")
    bad("POST", path, cm("wrongns", ns="elsewhere"), 400, "BadRequest")
    bad("PUT", cm_path(ns, "exists"), {"apiVersion": "v1", "kind": "Secret",
                                       "metadata": {"name": "exists"}}, 400, "BadRequest")
    # metadata that is not an object
    bad("POST", path, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": "x"}, 400,
        "BadRequest")
    # a body whose media type is not JSON
    bad("POST", path, cm("typed"), 415, "UnsupportedMediaType",
        headers={"Content-Type": "text/plain"})
    bad("PUT", cm_path(ns, "exists"), cm("exists", {"k": "typed"}), 415, "UnsupportedMediaType",
        headers={"Content-Type": "application/xml"})
    # dryRun=All: answered as if done, and nothing is written
    r = srv.req("POST", path + "?dryRun=All", cm("dry", {"k": "v"}))
    assert r.status == 201 and r.json["metadata"]["name"] == "dry", r
    r = srv.req("PUT", cm_path(ns, "exists") + "?dryRun=All", cm("exists", {"k": "dry"}))
    assert r.status == 200 and r.json["data"] == {"k": "dry"}, r
    r = srv.req("DELETE", cm_path(ns, "exists") + "?dryRun=All")
    assert r.status == 200 and r.json["kind"] == "Status", r
    assert srv.get(cm_path(ns, "dry")).status == 404
    # (a PUT whose body names another object, or carries an invalid
    # resourceVersion: test_put_bad_name_or_rv, they crash the server)
    bad("GET", cm_path(ns, "exists") + "?resourceVersion=abc", None, 400, "BadRequest")
    # missing or invalid names: 422 Invalid with a cause on metadata.name
    for name in ["", "UPPER", "-lead", "trail-", "a_b", "x" * 254, "sp ace"]:
        o = cm(name) if name else {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}}
        st = bad("POST", path, o, 422, "Invalid")
        causes = st["details"]["causes"]
        assert causes and causes[0]["field"] == "metadata.name", st
        assert st["details"]["kind"] == "ConfigMap", st
    # unknown paths and resources
    for p in ["/nope", "/api/v1/namespaces/%s/widgets" % ns, "/apis/nogroup/v1",
              "/apis/nogroup/v1/namespaces/x/things", "/api/v2/namespaces/x/configmaps",
              "/api/v1/namespaces/%s/configmaps/exists/bogus" % ns]:
        bad("GET", p, None, 404, "NotFound")
        bad("POST", p, cm("exists"), 404, "NotFound")
    # a cluster-scoped path for a namespaced resource
    bad("GET", "/api/v1/configmaps/exists", None, 404, "NotFound")
    # a method a collection does not support
    r = srv.req("PUT", path, cm("x"))
    assert r.status == 405, r

    after = replica_state(c)
    assert after == before, "bad requests changed the replicas"
    g = srv.get(cm_path(ns, "exists"))
    assert g.status == 200 and g.json["data"] == {"k": "v"}


@pytest.mark.parametrize("case", ["name-mismatch", "invalid-rv"])
def test_put_bad_name_or_rv(make_cluster, case):
    """A PUT whose body names another object, or has a resourceVersion that
    is not a number: 400 BadRequest, and the server lives on."""
    c = make_cluster(1)
    ensure_ns(c.leader(), "p")
    c.tolerate_crash = True  # the failure is asserted here, not at teardown
    s = c[1]
    assert s.req("POST", cm_path("p"), cm("exists")).status == 201
    body = cm("other") if case == "name-mismatch" else cm("exists", rv="abc")
    try:
        r = s.req("PUT", cm_path("p", "exists"), body, timeout=10)
    except Exception as e:  # noqa: BLE001 - the server died mid-request
        r = e
    wait_for("s1 to answer or exit", lambda: not s.alive() or s.get("/healthz").status == 200, 10)
    assert s.alive(), "the server died on a bad PUT:\n" + "\n".join(c.sanitizer_reports())
    assert not c.sanitizer_reports(), c.sanitizer_reports()
    assert_status(r, 400, "BadRequest")


def test_large_object_below_the_limit(module_cluster):
    c = module_cluster
    _, f = entry_servers(c)[1]
    value = "v" * (1 << 20)
    r = f.req("POST", cm_path("large"), cm("big", {"k": value}), timeout=60)
    assert r.status == 201, r
    for _, s in entry_servers(c):
        g = s.get(cm_path("large", "big"), timeout=60)
        assert g.status == 200 and len(g.json["data"]["k"]) == len(value)
    c.wait_converged(timeout=60)


def test_request_head_limit(module_cluster):
    """A connection's memory (server/http.c, HTTP_CONN_MEMORY) bounds a
    request's head: 12 KiB of headers, far beyond what kubectl sends, is
    served; 20 KiB is refused with 431, and the server goes on."""
    c = module_cluster
    for _, s in entry_servers(c):
        r = s.req("POST", cm_path("head"), cm("h-%d" % s.id, {"k": "v"}),
                  headers={"X-Pad": "x" * (12 << 10)})
        assert r.status == 201, r
        r = s.get(cm_path("head"), headers={"X-Pad": "x" * (20 << 10)})
        assert r.status == 431, r
        assert s.get(cm_path("head", "h-%d" % s.id)).status == 200


def test_read_your_writes_across_followers(module_cluster):
    """A write acknowledged by one follower is seen by a linearizable read
    (no resourceVersion) on the other follower, at once."""
    c = module_cluster
    _, f1 = entry_servers(c)[1]
    _, f2 = entry_servers(c)[2]
    ns = "ryw"
    for i in range(25):
        a, b = (f1, f2) if i % 2 == 0 else (f2, f1)
        name = "k%d" % i
        r = a.req("POST", cm_path(ns), cm(name, {"i": str(i)}))
        assert r.status == 201, r
        rv = r.json["metadata"]["resourceVersion"]
        g = b.get(cm_path(ns, name))
        assert g.status == 200, (i, g)
        assert g.json["metadata"]["resourceVersion"] == rv
        lst = b.get(cm_path(ns))
        assert name in [x["metadata"]["name"] for x in lst.json["items"]]
        assert int(lst.json["metadata"]["resourceVersion"]) >= int(rv)
        r = a.req("PUT", cm_path(ns, name), cm(name, {"i": "updated"}))
        assert r.status == 200, r
        g = b.get(cm_path(ns, name))
        assert g.json["data"] == {"i": "updated"}, (i, g)
        assert g.json["metadata"]["resourceVersion"] == r.json["metadata"]["resourceVersion"]


def test_update_after_create_on_other_server(module_cluster):
    """Write-after-write across servers: create through one server, then at
    once update and delete through another. Both must see the create."""
    c = module_cluster
    ld, f1, f2 = [s for _, s in entry_servers(c)]
    ns = "waw"
    failures = []
    for i in range(24):
        a, b = [(ld, f1), (ld, f2), (f1, f2), (f2, f1)][i % 4]
        name = "w%d" % i
        r = a.req("POST", cm_path(ns), cm(name, {"i": "0"}))
        assert r.status == 201, r
        rv = r.json["metadata"]["resourceVersion"]
        u = b.req("PUT", cm_path(ns, name), cm(name, {"i": "1"}, rv=rv))
        if u.status != 200:
            failures.append(("update", a.id, b.id, name, u.status, u.json.get("reason")))
            continue
        d = b.req("DELETE", cm_path(ns, name))
        if d.status != 200:
            failures.append(("delete", b.id, name, d.status))
    assert not failures, failures


def test_resource_version_semantics(module_cluster):
    c = module_cluster
    ld, f1, f2 = [s for _, s in entry_servers(c)]
    ns = "rvs"
    r = f1.req("POST", cm_path(ns), cm("base"))
    assert r.status == 201
    cur = int(r.json["metadata"]["resourceVersion"])

    # resourceVersion=0: this replica, at once
    g = f2.get(cm_path(ns) + "?resourceVersion=0")
    assert g.status == 200

    # resourceVersion=N for a revision not reached yet waits for it
    want = cur + 1
    got = {}

    def reader():
        t0 = time.monotonic()
        got["r"] = f2.get(cm_path(ns) + "?resourceVersion=%d" % want, timeout=20)
        got["t"] = time.monotonic() - t0
    th = threading.Thread(target=reader)
    th.start()
    wait_for("the reader to be waiting", lambda: th.is_alive(), 5)
    # Give the GET time to arrive before the write it waits for. (Not a
    # synchronization: were it late, it would still be answered only once
    # revision `want` exists; the check below just would prove less.)
    time.sleep(0.3)
    assert "r" not in got, "a read at a future revision answered before it was reached"
    w = ld.req("POST", cm_path(ns), cm("later"))
    assert w.status == 201
    th.join(20)
    assert not th.is_alive()
    r = got["r"]
    assert r.status == 200, r
    assert int(r.json["metadata"]["resourceVersion"]) >= want
    assert "later" in [i["metadata"]["name"] for i in r.json["items"]]

    # resourceVersion=N on a single object
    g = f1.get(cm_path(ns, "later") + "?resourceVersion=%s" % w.json["metadata"]["resourceVersion"])
    assert g.status == 200 and g.json["metadata"]["name"] == "later"

    # a revision far in the future: a Timeout after a bounded wait
    t0 = time.monotonic()
    g = f2.get(cm_path(ns) + "?resourceVersion=%d" % (cur + 10 ** 6), timeout=30)
    dt = time.monotonic() - t0
    assert_status(g, 504, "Timeout")
    assert dt < 15, dt


MERGE = {"Content-Type": "application/merge-patch+json"}
STRATEGIC = {"Content-Type": "application/strategic-merge-patch+json"}
JSONPATCH = {"Content-Type": "application/json-patch+json"}


@pytest.mark.parametrize("via", ["leader", "follower"])
def test_patch_resource_version_is_a_precondition(module_cluster, via, tmp_path):
    """As in Kubernetes, metadata.resourceVersion in a patch is a
    precondition: a patch naming the current revision applies, one naming an
    older revision is refused with 409 Conflict and writes nothing (before
    this, it was applied to the newer object: a node agent's stale "Running"
    patch overwrote the pod's terminal status). Also through kubectl label
    --resource-version. A follower that lags the named revision reads fresh
    first."""
    c = module_cluster
    srv = dict(entry_servers(c))[via]
    ld = c.leader()
    ns = "prv"
    name = "p-" + via
    r = ld.req("POST", cm_path(ns), cm(name, {"a": "1"}))
    assert r.status == 201, r
    rv1 = r.json["metadata"]["resourceVersion"]
    # Right after the leader's write: the follower may not have applied it.
    r = srv.req("PATCH", cm_path(ns, name),
                {"metadata": {"resourceVersion": rv1}, "data": {"a": "2"}}, headers=MERGE)
    assert r.status == 200, r
    rv2 = r.json["metadata"]["resourceVersion"]
    assert int(rv2) > int(rv1) and r.json["data"]["a"] == "2"
    for hdrs, body in ((MERGE, {"metadata": {"resourceVersion": rv1}, "data": {"a": "3"}}),
                       (STRATEGIC, {"metadata": {"resourceVersion": rv1}, "data": {"a": "3"}}),
                       (JSONPATCH, [{"op": "replace", "path": "/metadata/resourceVersion",
                                     "value": rv1},
                                    {"op": "replace", "path": "/data/a", "value": "3"}])):
        r = srv.req("PATCH", cm_path(ns, name), body, headers=hdrs)
        st = assert_status(r, 409, "Conflict")
        assert "the object has been modified" in st["message"], st
        assert st["details"]["name"] == name, st
    r = srv.req("PATCH", cm_path(ns, name) + "?fieldManager=t",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n"
                "  resourceVersion: \"%s\"\ndata:\n  a: \"3\"\n" % (name, rv1),
                headers={"Content-Type": "application/apply-patch+yaml"})
    assert_status(r, 409, "Conflict")
    r = srv.req("PATCH", cm_path(ns, name),
                {"metadata": {"resourceVersion": "abc"}, "data": {"a": "3"}}, headers=MERGE)
    assert_status(r, 400, "BadRequest")
    # The JSON patch's test op sees the resourceVersion as read.
    r = srv.req("PATCH", cm_path(ns, name),
                [{"op": "test", "path": "/metadata/resourceVersion", "value": rv2},
                 {"op": "replace", "path": "/data/a", "value": "4"}], headers=JSONPATCH)
    assert r.status == 200, r
    rv3 = r.json["metadata"]["resourceVersion"]
    g = ld.get(cm_path(ns, name))
    assert g.json["data"] == {"a": "4"} and g.json["metadata"]["resourceVersion"] == rv3, g
    k = Kubectl(srv, tmp_path)
    p = k.run("label", "-n", ns, "configmap", name, "x=y", "--resource-version", rv1, ok=False)
    assert p.returncode != 0 and "the object has been modified" in p.stderr, p
    k.run("label", "-n", ns, "configmap", name, "x=y", "--resource-version", rv3)
    g = ld.get(cm_path(ns, name))
    assert g.json["metadata"]["labels"] == {"x": "y"}, g
    # The /scale subresource (kubectl scale --resource-version checks on its
    # own, before it sends its patch with the resourceVersion).
    dep = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
           "spec": {"replicas": 0, "selector": {"matchLabels": {"app": name}},
                    "template": {"metadata": {"labels": {"app": name}},
                                 "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}
    r = ld.req("POST", "/apis/apps/v1/namespaces/%s/deployments" % ns, dep)
    assert r.status == 201, r
    drv = r.json["metadata"]["resourceVersion"]
    ld.req("PATCH", "/apis/apps/v1/namespaces/%s/deployments/%s" % (ns, name),
           {"metadata": {"annotations": {"touched": "yes"}}}, headers=MERGE)
    scale = "/apis/apps/v1/namespaces/%s/deployments/%s/scale" % (ns, name)
    r = srv.req("PATCH", scale, {"metadata": {"resourceVersion": drv}, "spec": {"replicas": 0}},
                headers=MERGE)
    assert_status(r, 409, "Conflict")


def test_generate_name(module_cluster):
    c = module_cluster
    ns = "gen"
    names = set()
    for _, s in entry_servers(c):
        for _ in range(4):
            o = {"apiVersion": "v1", "kind": "ConfigMap",
                 "metadata": {"generateName": "job-run-"}, "data": {"k": "v"}}
            r = s.req("POST", cm_path(ns), o)
            assert r.status == 201, r
            n = r.json["metadata"]["name"]
            assert n.startswith("job-run-") and len(n) > len("job-run-"), n
            assert r.json["metadata"]["generateName"] == "job-run-"
            names.add(n)
            assert s.get(cm_path(ns, n)).status == 200
    assert len(names) == 12, names
    # a long prefix is cut so the name stays valid
    o = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "p" * 80 + "-"}}
    r = c.leader().req("POST", cm_path(ns), o)
    assert r.status == 201, r
    assert len(r.json["metadata"]["name"]) <= 63
    # an explicit name wins over generateName
    o = {"apiVersion": "v1", "kind": "ConfigMap",
         "metadata": {"name": "explicit", "generateName": "gen-"}}
    r = c.leader().req("POST", cm_path(ns), o)
    assert r.status == 201 and r.json["metadata"]["name"] == "explicit"
    # an invalid prefix gives an invalid name
    o = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "Bad_"}}
    assert_status(c.leader().req("POST", cm_path(ns), o), 422, "Invalid")
    lst = c.leader().get(cm_path(ns))
    assert len(lst.json["items"]) == 14


def test_discovery_and_health(module_cluster):
    c = module_cluster
    for _, s in entry_servers(c):
        assert s.get("/healthz").status == 200
        assert s.get("/readyz").status == 200
        v = s.get("/api")
        assert v.status == 200 and v.json["kind"] == "APIVersions"
        rl = s.get("/api/v1")
        assert rl.status == 200
        assert "configmaps" in [r["name"] for r in rl.json["resources"]]
        g = s.get("/apis")
        assert "apps" in [x["name"] for x in g.json["groups"]]
        assert s.get("/version").json["major"] == "1"


def test_concurrent_compare_and_swap(module_cluster):
    """Optimistic concurrency across servers: threads increment one counter
    with read-modify-write PUTs carrying the resourceVersion they read, each
    through another server, retrying on 409 Conflict. No increment is lost
    and none is applied twice."""
    c = module_cluster
    all_s = [s for _, s in entry_servers(c)]
    ns = "cas"
    assert all_s[0].req("POST", cm_path(ns), cm("counter", {"n": "0"})).status == 201
    threads, per_thread = 6, 8
    errors, conflicts, done = [], [0], []
    lock = threading.Lock()

    def worker(t):
        for k in range(per_thread):
            for attempt in range(200):
                g = all_s[(t + k + attempt) % 3].get(cm_path(ns, "counter"))
                if g.status != 200:
                    with lock:
                        errors.append(("get", g.status))
                    return
                n = int(g.json["data"]["n"])
                rv = g.json["metadata"]["resourceVersion"]
                r = all_s[(t + k + attempt + 1) % 3].req(
                    "PUT", cm_path(ns, "counter"), cm("counter", {"n": str(n + 1)}, rv=rv))
                if r.status == 200:
                    with lock:
                        done.append((n + 1, int(r.json["metadata"]["resourceVersion"])))
                    break
                if r.status != 409:
                    with lock:
                        errors.append(("put", r.status, r.body[:200]))
                    return
                with lock:
                    conflicts[0] += 1
            else:
                with lock:
                    errors.append(("gave up", t, k))
    ths = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for th in ths:
        th.start()
    for th in ths:
        th.join(120)
    assert not errors, errors
    total = threads * per_thread
    assert len(done) == total
    # every successful PUT wrote a distinct value 1..total, in rv order
    assert sorted(v for v, _ in done) == list(range(1, total + 1))
    assert [v for v, _ in sorted(done, key=lambda x: x[1])] == list(range(1, total + 1))
    for s in all_s:
        g = s.get(cm_path(ns, "counter"))
        assert g.json["data"]["n"] == str(total)
    print("\nCAS: %d increments, %d conflicts retried" % (total, conflicts[0]))


def test_paged_list_is_one_snapshot(module_cluster):
    """limit/continue: every page shows the state at the first page's
    revision, whatever is written in between (created, modified, deleted
    objects), on a follower as on the leader."""
    c = module_cluster
    ld, f = c.leader(), c.followers()[0]
    ns = "paging"
    ensure_ns(ld, ns)
    for i in range(10):
        assert ld.req("POST", cm_path(ns), cm("o%02d" % i, {"v": "0"})).status == 201
    first = f.get(cm_path(ns) + "?limit=3")
    assert first.status == 200, first
    snap_rv = first.json["metadata"]["resourceVersion"]
    names = [i["metadata"]["name"] for i in first.json["items"]]
    assert names == ["o00", "o01", "o02"]
    token = first.json["metadata"]["continue"]
    # writes after the first page: a modified one ahead, a deleted one
    # ahead, a new one ahead, a modified one behind
    assert ld.req("PUT", cm_path(ns, "o05"), cm("o05", {"v": "changed"})).status == 200
    assert ld.req("DELETE", cm_path(ns, "o07")).status == 200
    assert ld.req("POST", cm_path(ns), cm("o04a", {"v": "new"})).status == 201
    assert ld.req("PUT", cm_path(ns, "o01"), cm("o01", {"v": "changed"})).status == 200
    seen = list(first.json["items"])
    while token:
        s = f if len(seen) % 2 else ld
        page = s.get(cm_path(ns) + "?limit=3&continue=" + token)
        assert page.status == 200, page
        assert page.json["metadata"]["resourceVersion"] == snap_rv
        seen += page.json["items"]
        token = page.json["metadata"].get("continue")
    assert [i["metadata"]["name"] for i in seen] == ["o%02d" % i for i in range(10)]
    o05 = [i for i in seen if i["metadata"]["name"] == "o05"][0]
    assert o05["data"] == {"v": "0"} and int(o05["metadata"]["resourceVersion"]) <= int(snap_rv)
    # a fresh list sees the new state
    now = [i["metadata"]["name"] for i in f.get(cm_path(ns)).json["items"]]
    assert now == ["o00", "o01", "o02", "o03", "o04", "o04a", "o05", "o06", "o08", "o09"]
    # a bad token is a 400
    bad = f.get(cm_path(ns) + "?limit=3&continue=garbage")
    assert bad.status == 400, bad


def test_list_items_are_the_objects_as_get_returns_them(module_cluster):
    """A List as JSON is written straight from the stored encoding: each item
    is the object exactly as a GET of it returns it (escapes, non-ASCII,
    numbers, nested values, resourceVersion), around them the List's kind,
    apiVersion and metadata, on a follower as on the leader; an empty list
    is a List with no items."""
    c = module_cluster
    ld, f = c.leader(), c.followers()[0]
    ns = "listtext"
    ensure_ns(ld, ns)
    odd = {"quote": 'a"b\\c', "ctl": "tab\there\nline\u0001", "utf8": "h\u00e9llo \u2603 \U0001f600",
           "slash": "</script>", "empty": ""}
    for i, data in enumerate([odd, {"n": "1"}, {}]):
        body = cm("t%d" % i, data)
        body["metadata"]["labels"] = {"k": "v%d" % i}
        body["metadata"]["annotations"] = {"big": "x" * 3000}
        assert ld.req("POST", cm_path(ns), body).status == 201
    for s in (ld, f):
        whole = s.get(cm_path(ns))
        assert whole.status == 200, whole
        j = whole.json
        assert (j["kind"], j["apiVersion"]) == ("ConfigMapList", "v1")
        assert int(j["metadata"]["resourceVersion"]) > 0 and "continue" not in j["metadata"]
        assert [i["metadata"]["name"] for i in j["items"]] == ["t0", "t1", "t2"]
        for item in j["items"]:
            one = s.get(cm_path(ns, item["metadata"]["name"]))
            assert one.json == item
        assert j["items"][0]["data"] == odd
        page = s.get(cm_path(ns) + "?limit=2&labelSelector=k%21%3Dv1")
        assert [i["metadata"]["name"] for i in page.json["items"]] == ["t0", "t2"]
        page = s.get(cm_path(ns) + "?limit=1")
        assert page.json["metadata"]["continue"] and len(page.json["items"]) == 1
        empty = s.get(cm_path(ns) + "?labelSelector=k%3Dnone")
        assert empty.json == {"kind": "ConfigMapList", "apiVersion": "v1",
                              "metadata": {"resourceVersion": empty.json["metadata"]
                                           ["resourceVersion"]}, "items": []}


TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"


def test_table_list_rows_are_the_rows_get_returns(module_cluster):
    """A LIST as a Table is written as text while it is read (render.c:
    cells from the object without managedFields, the row's object straight
    from the stored encoding): each row is the row a Table GET of that
    object returns, for every includeObject, on a follower as on the
    leader; the Table around them has the columns, revision and continue."""
    c = module_cluster
    ld, f = c.leader(), c.followers()[0]
    ns = "tabletext"
    ensure_ns(ld, ns)
    base = "/api/v1/namespaces/%s/" % ns
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": "p0", "labels": {"app": "t"},
                        "annotations": {"a": "t\u00e9st \"q\""}},
           "spec": {"nodeName": "n1", "containers": [{"name": "c", "image": "i"}]}}
    assert ld.req("POST", base + "pods?fieldManager=tabletest", pod).status == 201
    for i in range(3):
        assert ld.req("POST", cm_path(ns), cm("c%d" % i, {"k": "v\"%d" % i})).status == 201
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s0"},
           "spec": {"ports": [{"port": 80}]}}
    assert ld.req("POST", base + "services", svc).status == 201
    for s in (ld, f):
        for res, names in (("pods", ["p0"]), ("configmaps", ["c0", "c1", "c2"]),
                           ("services", ["s0"])):
            for inc in ("", "&includeObject=Metadata", "&includeObject=Object",
                        "&includeObject=None"):
                t = s.get(base + res + "?x=1" + inc, headers={"Accept": TABLE})
                assert t.status == 200, t
                j = t.json
                assert (j["kind"], j["apiVersion"]) == ("Table", "meta.k8s.io/v1")
                assert int(j["metadata"]["resourceVersion"]) > 0
                assert [r.get("object", {}).get("metadata", {}).get("name")
                        for r in j["rows"]] == (names if "None" not in inc else [None] * len(names))
                age = [cd["name"] for cd in j["columnDefinitions"]].index("Age")
                for name, row in zip(names, j["rows"]):
                    one = s.get(base + res + "/" + name + "?x=1" + inc,
                                headers={"Accept": TABLE}).json
                    assert one["columnDefinitions"] == j["columnDefinitions"]
                    # AGE is of each request's moment: a second may pass between
                    got = one["rows"][0]
                    assert len(one["rows"]) == 1
                    assert got["cells"][age].endswith("s") and row["cells"][age].endswith("s")
                    got["cells"][age] = row["cells"][age]
                    assert got == row
                if res == "pods" and "None" not in inc:
                    assert j["rows"][0]["object"]["metadata"]["managedFields"]
        page = s.get(base + "configmaps?limit=2", headers={"Accept": TABLE}).json
        assert len(page["rows"]) == 2 and page["metadata"]["continue"]
        rest = s.get(base + "configmaps?limit=2&continue=" + page["metadata"]["continue"],
                     headers={"Accept": TABLE}).json
        assert [r["object"]["metadata"]["name"] for r in rest["rows"]] == ["c2"]
        empty = s.get(base + "configmaps?labelSelector=none%3Dx", headers={"Accept": TABLE}).json
        assert empty["rows"] == [] and empty["columnDefinitions"]


def test_paged_list_token_expires(make_cluster):
    """A continue token whose revision the change log no longer reaches back
    to is answered 410 Expired (the client relists)."""
    c = make_cluster(1, extra=["--watch-history", "10"])
    s = c.leader()
    ensure_ns(s, "exp")
    for i in range(5):
        assert s.req("POST", cm_path("exp"), cm("o%d" % i)).status == 201
    first = s.get(cm_path("exp") + "?limit=2")
    token = first.json["metadata"]["continue"]
    for i in range(20):  # pushes the first page's revision out of the log
        assert s.req("PUT", cm_path("exp", "o4"), cm("o4", {"i": str(i)})).status == 200
    r = s.get(cm_path("exp") + "?limit=2&continue=" + token)
    assert_status(r, 410, "Expired")


def rfc3339(s):
    return time.mktime(time.strptime(s, "%Y-%m-%dT%H:%M:%SZ"))


def test_graceful_pod_deletion(module_cluster):
    """A pod that a node may be running is deleted gracefully, as on
    Kubernetes: marked with deletionTimestamp = now + its grace period and
    kept (a status update does not finish it) until a delete with grace 0,
    which its kubelet sends; a later delete may only shorten the period. A
    pod no node runs (unbound, or Succeeded/Failed) goes at once."""
    c = module_cluster
    ld, f = c.leader(), c.followers(c.leader())[0]
    ns, base = "grace", "/api/v1/namespaces/grace/pods"

    def pod(name, **spec):
        spec.setdefault("containers", [{"name": "c", "image": "x"}])
        return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}

    def delete(name, grace=None, **kw):
        body = {"kind": "DeleteOptions", "apiVersion": "v1"}
        if grace is not None:
            body["gracePeriodSeconds"] = grace
        return f.req("DELETE", "%s/%s" % (base, name), body, **kw)

    assert ld.req("POST", base, pod("bound", nodeName="ghost",
                                    terminationGracePeriodSeconds=30)).status == 201
    r = delete("bound")
    assert r.status == 200 and r.json["kind"] == "Pod", r
    md = r.json["metadata"]
    assert md["deletionGracePeriodSeconds"] == 30, md
    left = rfc3339(md["deletionTimestamp"]) - time.mktime(time.gmtime())
    assert 25 <= left <= 31, md
    # still there, and a status update (the kubelet's) does not finish it
    assert ld.get("%s/bound" % base).status == 200
    r = ld.req("PATCH", "%s/bound/status" % base, {"status": {"phase": "Failed"}},
               headers={"Content-Type": "application/merge-patch+json"})
    assert r.status == 200, r
    assert ld.get("%s/bound" % base).status == 200
    # only a shorter period is taken, and the timestamp moves back with it
    r = delete("bound", 40)
    assert ld.get("%s/bound" % base).json["metadata"]["deletionGracePeriodSeconds"] == 30
    r = delete("bound", 10)
    md2 = ld.get("%s/bound" % base).json["metadata"]
    assert md2["deletionGracePeriodSeconds"] == 10, md2
    assert rfc3339(md["deletionTimestamp"]) - rfc3339(md2["deletionTimestamp"]) == 20, (md, md2)
    # grace 0: gone
    r = delete("bound", 0)
    assert r.status == 200, r
    assert ld.get("%s/bound" % base).status == 404
    # no node runs these: they go at once
    assert ld.req("POST", base, pod("unbound")).status == 201
    assert delete("unbound").status == 200
    assert ld.get("%s/unbound" % base).status == 404
    assert ld.req("POST", base, pod("done", nodeName="ghost")).status == 201
    r = ld.req("PATCH", "%s/done/status" % base, {"status": {"phase": "Succeeded"}},
               headers={"Content-Type": "application/merge-patch+json"})
    assert r.status == 200, r
    assert delete("done").status == 200
    assert ld.get("%s/done" % base).status == 404
