"""OpenAPI v2 (GET /openapi/v2) on a 3-server cluster, through the real
kubectl (/usr/bin/kubectl, v1.32) and raw HTTP.

kubectl validates a `kind: List` file on the client (server-side field
validation cannot check a List): it fetches /openapi/v2 as gnostic protobuf
and checks every item against the definitions. Without the document, apply
and create of a List failed with "error validating data: the server could not
find the requested resource". Covered: apply and create of a List on the
leader and on a follower (and a second apply, which patches), an unknown
field and a missing required field inside an item rejected by kubectl with
Kubernetes' messages, the JSON document (Swagger 2.0 spellings, a definition
for every v3 component and every kind served, identical on every server) and
the protobuf one (decoded here far enough to check its definitions)."""
import json
import re
from pathlib import Path

import pytest

from conftest import ROOT, Kubectl, cm, cm_path, ensure_ns

pytestmark = pytest.mark.skipif(not Path("/usr/bin/kubectl").exists(), reason="no kubectl")

PB_ACCEPT = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
PB_TYPE = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"


# ------------------------------------------------------------------ helpers

def table_gvks():
    """(group, version, kind) of every row of server/resources.c."""
    src = (ROOT / "server" / "resources.c").read_text()
    rows = re.findall(r'\{"([^"]*)", "([^"]*)", "([^"]*)", "([^"]*)", "([^"]*)", (?:true|false), ',
                      src)
    assert len(rows) >= 10, "could not read the resource table"
    return {(g, v, k) for g, v, k, _, _ in rows}


def servers(c):
    ld = c.leader()
    return [ld] + c.followers(ld)


def a_list(*items):
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": list(items)})


@pytest.fixture(scope="module")
def kubectls(module_cluster, tmp_path_factory):
    """One Kubectl per server: leader first, then the followers."""
    base = tmp_path_factory.mktemp("kubectl-v2")
    out = []
    for s in servers(module_cluster):
        home = base / ("s%d" % s.id)
        home.mkdir()
        out.append(Kubectl(s, home))
    return out


@pytest.fixture(scope="module")
def v2(module_cluster):
    r = module_cluster.leader().get("/openapi/v2", headers={"Accept": "application/json"})
    assert r.status == 200, r
    assert r.headers["Content-Type"] == "application/json", r.headers
    return r


def walk(node, fn):
    """Calls fn on every JSON object under node."""
    if isinstance(node, dict):
        fn(node)
        for v in node.values():
            walk(v, fn)
    elif isinstance(node, list):
        for v in node:
            walk(v, fn)


def pb_fields(buf):
    """The (number, value) pairs of one protobuf message; value is an int
    for varints, bytes for length-delimited fields."""
    out, i = [], 0

    def varint():
        nonlocal i
        v = shift = 0
        while True:
            b = buf[i]
            i += 1
            v |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                return v

    while i < len(buf):
        tag = varint()
        num, wire = tag >> 3, tag & 7
        if wire == 0:
            out.append((num, varint()))
        elif wire == 2:
            n = varint()
            out.append((num, buf[i:i + n]))
            i += n
        else:
            raise AssertionError("unexpected wire type %d of field %d" % (wire, num))
    assert i == len(buf), "message overran its length"
    return out


# ---------------------------------------------------------------- kubectl

def test_kubectl_apply_list(module_cluster, kubectls):
    ld = module_cluster.leader()
    ensure_ns(ld, "v2-apply")
    k = kubectls[0]
    doc = a_list(cm("a", {"k": "1"}), cm("b", {"k": "2"}))
    p = k.run("apply", "-n", "v2-apply", "-f", "-", "-v=6", input=doc)
    assert "configmap/a created" in p.stdout and "configmap/b created" in p.stdout, p.stdout
    assert re.search(r"GET \S+/openapi/v2\S* 200", p.stderr), p.stderr[-3000:]
    # The second apply patches (client-side apply's strategic merge patch).
    p = k.run("apply", "-n", "v2-apply", "-f", "-",
              input=a_list(cm("a", {"k": "1"}), cm("b", {"k": "3"})))
    assert "configmap/a unchanged" in p.stdout and "configmap/b configured" in p.stdout, p.stdout
    r = ld.get(cm_path("v2-apply", "b"))
    assert r.status == 200 and r.json["data"] == {"k": "3"}, r


def test_kubectl_create_list_on_follower(module_cluster, kubectls):
    ld = module_cluster.leader()
    ensure_ns(ld, "v2-create")
    k = kubectls[1]  # a follower
    deploy = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
              "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "web"}},
                       "strategy": {"rollingUpdate": {"maxSurge": 1, "maxUnavailable": "25%"}},
                       "template": {"metadata": {"labels": {"app": "web"}}, "spec": {
                           "containers": [{"name": "c", "image": "nginx:1",
                                           "ports": [{"containerPort": 80}],
                                           "resources": {"limits": {"cpu": "100m",
                                                                    "memory": 64}}}]}}}}
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
           "spec": {"selector": {"app": "web"},
                    "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}}
    p = k.run("create", "-n", "v2-create", "-f", "-",
              input=a_list(cm("c"), deploy, svc))
    for name in ("configmap/c", "deployment.apps/web", "service/web"):
        assert name + " created" in p.stdout, p.stdout
    assert ld.get("/apis/apps/v1/namespaces/v2-create/deployments/web").status == 200
    # apply on a follower too
    p = k.run("apply", "-n", "v2-create", "-f", "-", input=a_list(cm("d"), cm("e")))
    assert "configmap/d created" in p.stdout and "configmap/e created" in p.stdout, p.stdout


def test_kubectl_list_unknown_field_rejected(module_cluster, kubectls):
    ld = module_cluster.leader()
    ensure_ns(ld, "v2-bad")
    bad = cm("bad", {"k": "v"})
    bad["data2"] = {"k": "v"}
    doc = a_list(cm("good"), bad)
    for k, verb in ((kubectls[0], "apply"), (kubectls[2], "create")):
        p = k.run(verb, "-n", "v2-bad", "-f", "-", input=doc, ok=False)
        assert p.returncode != 0, p.stdout
        assert 'unknown field "data2" in io.k8s.api.core.v1.ConfigMap' in p.stderr, p.stderr
        assert "--validate=false" in p.stderr, p.stderr
    # kubectl validates the whole file first: nothing was created.
    assert ld.get(cm_path("v2-bad", "good")).status == 404
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
           "spec": {"containers": [{"image": "nginx:1"}]}}
    p = kubectls[1].run("create", "-n", "v2-bad", "-f", "-", input=a_list(pod), ok=False)
    assert p.returncode != 0
    assert 'missing required field "name" in io.k8s.api.core.v1.Container' in p.stderr, p.stderr
    # --validate=false sends the List without looking at it.
    p = kubectls[0].run("create", "-n", "v2-bad", "--validate=false", "-f", "-",
                        input=a_list(cm("good")))
    assert "configmap/good created" in p.stdout, p.stdout


def test_kubectl_explain_still_v3(kubectls):
    p = kubectls[2].run("explain", "configmap.data", "-v=6")
    assert "map[string]string" in p.stdout, p.stdout
    assert "/openapi/v2" not in p.stderr


# ---------------------------------------------------------------- documents

def test_v2_json_document(module_cluster, v2):
    d = v2.json
    assert d["swagger"] == "2.0" and d["info"]["title"] == "Kubernetes", d.get("info")
    defs, paths = d["definitions"], d["paths"]
    # The same schemas and paths as the v3 documents, under the same names.
    s = module_cluster.leader()
    for entry in s.get("/openapi/v3").json["paths"].values():
        url = entry["serverRelativeURL"]
        v3 = s.get(url).json
        missing = set(v3["components"]["schemas"]) - set(defs)
        assert not missing, (url, sorted(missing))
        assert not set(v3["paths"]) - set(paths), url
    # A definition for every kind served, marked with its group/version/kind.
    gvks = {(g["group"], g["version"], g["kind"])
            for sch in defs.values() for g in sch.get("x-kubernetes-group-version-kind", [])}
    assert not table_gvks() - gvks, sorted(table_gvks() - gvks)
    # v2 spellings: direct $refs into #/definitions/ that resolve; no v3 keywords.
    problems = []

    def check(o):
        ref = o.get("$ref")
        if ref is not None and not (ref.startswith("#/definitions/")
                                    and ref[len("#/definitions/"):] in defs):
            problems.append(ref)
        for key in ("allOf", "oneOf", "anyOf", "requestBody", "content", "components"):
            if key in o:
                problems.append(key)
    walk(d, check)
    assert not problems, problems[:10]
    cmap = defs["io.k8s.api.core.v1.ConfigMap"]
    assert cmap["x-kubernetes-group-version-kind"] == [
        {"group": "", "kind": "ConfigMap", "version": "v1"}]
    assert cmap["properties"]["metadata"]["$ref"] == \
        "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
    assert cmap["properties"]["data"] == {
        "type": "object", "additionalProperties": {"type": "string"},
        "description": cmap["properties"]["data"]["description"]}
    containers = defs["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"]
    assert containers["items"] == {"$ref": "#/definitions/io.k8s.api.core.v1.Container"}
    assert containers["x-kubernetes-patch-merge-key"] == "name"
    assert containers["x-kubernetes-patch-strategy"] == "merge"
    assert "name" in defs["io.k8s.api.core.v1.Container"]["required"]
    assert defs["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]["type"] == "string"
    assert defs["io.k8s.apimachinery.pkg.api.resource.Quantity"]["type"] == "string"
    # Operations: body parameter, typed query parameters, gvk, fieldValidation.
    patch = paths["/api/v1/namespaces/{namespace}/configmaps/{name}"]["patch"]
    assert patch["x-kubernetes-group-version-kind"] == {
        "group": "", "kind": "ConfigMap", "version": "v1"}
    assert "application/strategic-merge-patch+json" in patch["consumes"]
    params = {p["name"]: p for p in patch["parameters"]}
    assert params["body"]["in"] == "body"
    assert params["body"]["schema"]["$ref"].endswith(".meta.v1.Patch")
    assert params["fieldValidation"]["type"] == "string"
    assert patch["responses"]["200"]["schema"]["$ref"] == \
        "#/definitions/io.k8s.api.core.v1.ConfigMap"


def test_v2_same_on_every_server(module_cluster, v2):
    for s in servers(module_cluster)[1:]:
        r = s.get("/openapi/v2", headers={"Accept": "application/json"})
        assert r.status == 200 and r.body == v2.body, s


def test_v2_protobuf(module_cluster, v2):
    """What kubectl reads: gnostic's openapi_v2.Document."""
    defs = v2.json["definitions"]
    for s in servers(module_cluster):
        r = s.get("/openapi/v2", headers={"Accept": PB_ACCEPT})
        assert r.status == 200, r
        assert r.headers["Content-Type"] == PB_TYPE, r.headers
        doc = pb_fields(r.body)
        top = dict(doc)
        assert top[1] == b"2.0", top.get(1)
        assert dict(pb_fields(top[2]))[1] == b"Kubernetes"  # info.title
        names = {}
        for num, named in pb_fields(top[9]):  # definitions: NamedSchema
            assert num == 1
            f = dict(pb_fields(named))
            names[f[1].decode()] = f[2]
        assert set(names) == set(defs)
        # ConfigMap: vendor extension 31 holds the gvk as YAML (JSON).
        ext = [dict(pb_fields(v)) for n, v in pb_fields(names["io.k8s.api.core.v1.ConfigMap"])
               if n == 31]
        gvk = [e for e in ext if e[1] == b"x-kubernetes-group-version-kind"]
        assert gvk and json.loads(dict(pb_fields(gvk[0][2]))[2]) == [
            {"group": "", "kind": "ConfigMap", "version": "v1"}]
        assert sum(1 for n, _ in doc if n == 8) == 1  # paths
