"""Discovery and OpenAPI on a 3-server cluster, through the real kubectl
(/usr/bin/kubectl, v1.32) and raw HTTP: aggregated discovery (apidiscovery v2
with its exact Content-Type) and the legacy documents; api-resources,
api-versions, explain, get all; create -f with kubectl's default
--validate=strict, which needs the OpenAPI v3 documents to advertise
fieldValidation; client-side apply computing its strategic merge patch from
the v3 schemas; the /openapi/v3 index and documents, identical on every
server; 404s for unknown documents.

The expected resources are read from the one resource table,
server/resources.c, so the tests follow it as it grows."""
import json
import re
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT

KUBECTL = "/usr/bin/kubectl"
AGG_V2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
AGG_V2BETA1 = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"
KUBECTL_ACCEPT = AGG_V2 + "," + AGG_V2BETA1 + ",application/json"

pytestmark = pytest.mark.skipif(not Path(KUBECTL).exists(), reason="no kubectl")


# ------------------------------------------------------------------ helpers

def table_resources():
    """The rows of server/resources.c: dicts of group, version, kind, plural,
    singular, namespaced, short names, subresources, categories."""
    src = (ROOT / "server" / "resources.c").read_text()
    row = re.compile(r'\{"([^"]*)", "([^"]*)", "([^"]*)", "([^"]*)", "([^"]*)", (true|false), '
                     r'"([^"]*)", "([^"]*)", "([^"]*)"\}')
    out = []
    for m in row.finditer(src):
        g, v, k, p, s, ns, short, subs, cats = m.groups()
        out.append({"group": g, "version": v, "kind": k, "plural": p, "singular": s,
                    "namespaced": ns == "true", "short": [x for x in short.split(",") if x],
                    "subs": [x for x in subs.split(",") if x],
                    "cats": [x for x in cats.split(",") if x]})
    assert len(out) >= 10, "could not read the resource table"
    return out


def gv(r):
    return r["group"] + "/" + r["version"] if r["group"] else r["version"]


def group_versions():
    seen = []
    for r in table_resources():
        if (r["group"], r["version"]) not in seen:
            seen.append((r["group"], r["version"]))
    return seen


def doc_path(group, version):
    return "apis/%s/%s" % (group, version) if group else "api/" + version


class Kubectl:
    """kubectl pointed at one server, with its own kubeconfig and caches."""

    def __init__(self, server, directory):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.config = self.dir / "kubeconfig"
        self.config.write_text(json.dumps({
            "apiVersion": "v1", "kind": "Config",
            "clusters": [{"name": "b", "cluster": {"server": server.url}}],
            "users": [{"name": "u", "user": {}}],
            "contexts": [{"name": "b", "context": {"cluster": "b", "user": "u"}}],
            "current-context": "b"}))

    def run(self, *args, stdin=None, check=True, timeout=60):
        cmd = [KUBECTL, "--kubeconfig", str(self.config), "--cache-dir",
               str(self.dir / "cache")] + list(args)
        p = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=timeout,
                           env={"PATH": "/usr/bin:/bin", "HOME": str(self.dir)})
        if check:
            assert p.returncode == 0, "%s\nstdout:\n%s\nstderr:\n%s" % (
                " ".join(cmd), p.stdout, p.stderr[-3000:])
        return p


@pytest.fixture(scope="module")
def kubectls(module_cluster, tmp_path_factory):
    """One Kubectl per server: leader first, then the followers."""
    c = module_cluster
    ld = c.leader()
    servers = [ld] + c.followers(ld)
    base = tmp_path_factory.mktemp("kubectl")
    return [Kubectl(s, base / ("s%d" % s.id)) for s in servers]


def servers(c):
    ld = c.leader()
    return [ld] + c.followers(ld)


def namespace(c, name):
    """Creates a namespace over HTTP (kubectl create namespace sends protobuf)."""
    r = c.leader().req("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                                      "metadata": {"name": name}})
    assert r.status == 201, r


def pod(name, image="nginx:1"):
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "labels": {"app": name}},
            "spec": {"containers": [{"name": "c", "image": image,
                                     "ports": [{"containerPort": 80}],
                                     "resources": {"limits": {"cpu": "100m"}}}]}}


# ---------------------------------------------------------------- discovery

def test_aggregated_discovery(module_cluster):
    c = module_cluster
    rows = table_resources()
    for s in servers(c):
        found = {}
        for path, core in (("/api", True), ("/apis", False)):
            r = s.get(path, headers={"Accept": KUBECTL_ACCEPT})
            assert r.status == 200, r
            assert r.headers["Content-Type"] == AGG_V2, r.headers
            d = r.json
            assert d["kind"] == "APIGroupDiscoveryList", d
            assert d["apiVersion"] == "apidiscovery.k8s.io/v2"
            names = [i["metadata"]["name"] for i in d["items"]]
            assert (names == [""]) if core else ("" not in names and "apps" in names), names
            for item in d["items"]:
                for ver in item["versions"]:
                    assert ver["freshness"] == "Current"
                    for res in ver["resources"]:
                        found[(item["metadata"]["name"], ver["version"], res["resource"])] = res
        assert len(found) == len(rows)
        for row in rows:
            res = found[(row["group"], row["version"], row["plural"])]
            assert res["responseKind"] == {"group": row["group"], "version": row["version"],
                                           "kind": row["kind"]}
            assert res["scope"] == ("Namespaced" if row["namespaced"] else "Cluster")
            assert res["singularResource"] == row["singular"]
            assert sorted(res["verbs"]) == ["create", "delete", "deletecollection", "get",
                                            "list", "patch", "update", "watch"]
            assert res.get("shortNames", []) == row["short"]
            assert res.get("categories", []) == row["cats"]
            assert [x["subresource"] for x in res.get("subresources", [])] == row["subs"]
    # Kubernetes' kinds and verbs of subresources
    subs = {(r["resource"], x["subresource"]): x for r in found.values()
            for x in r.get("subresources", [])}
    assert subs[("deployments", "scale")]["responseKind"] == {
        "group": "autoscaling", "version": "v1", "kind": "Scale"}
    assert sorted(subs[("deployments", "scale")]["verbs"]) == ["get", "patch", "update"]
    assert subs[("pods", "status")]["responseKind"]["kind"] == "Pod"
    assert subs[("pods", "log")]["verbs"] == ["get"]
    assert subs[("pods", "exec")]["responseKind"]["kind"] == "PodExecOptions"
    assert subs[("pods", "eviction")]["responseKind"] == {
        "group": "policy", "version": "v1", "kind": "Eviction"}
    assert subs[("pods", "binding")]["verbs"] == ["create"]


def test_aggregated_discovery_v2beta1_and_legacy(module_cluster):
    s = module_cluster.leader()
    r = s.get("/apis", headers={"Accept": AGG_V2BETA1 + ",application/json"})
    assert r.status == 200 and r.headers["Content-Type"] == AGG_V2BETA1, r.headers
    assert r.json["apiVersion"] == "apidiscovery.k8s.io/v2beta1"
    # plain JSON first, or no Accept at all: the legacy documents
    for accept in ("application/json", "application/json," + AGG_V2, None):
        h = {"Accept": accept} if accept else {}
        a = s.get("/api", headers=h)
        assert a.status == 200 and a.headers["Content-Type"] == "application/json", a
        assert a.json["kind"] == "APIVersions" and a.json["versions"] == ["v1"]
        g = s.get("/apis", headers=h)
        assert g.headers["Content-Type"] == "application/json"
        assert g.json["kind"] == "APIGroupList"
    groups = {x["name"]: x for x in g.json["groups"]}
    assert set(groups) == {grp for grp, _ in group_versions() if grp}
    assert groups["apps"]["preferredVersion"] == {"groupVersion": "apps/v1", "version": "v1"}
    ag = s.get("/apis/apps")
    assert ag.status == 200 and ag.json["kind"] == "APIGroup" and ag.json["name"] == "apps"
    assert s.get("/apis/nosuch.example.com").status == 404
    assert s.get("/apis/apps/v9").status == 404


def test_legacy_resource_lists(module_cluster):
    s = module_cluster.leader()
    rows = table_resources()
    for grp, ver in group_versions():
        r = s.get("/" + doc_path(grp, ver))
        assert r.status == 200, r
        d = r.json
        assert d["kind"] == "APIResourceList" and d["groupVersion"] == (
            grp + "/" + ver if grp else ver)
        entries = {e["name"]: e for e in d["resources"]}
        for row in (x for x in rows if (x["group"], x["version"]) == (grp, ver)):
            e = entries[row["plural"]]
            assert e["kind"] == row["kind"] and e["namespaced"] == row["namespaced"]
            assert e["singularName"] == row["singular"]
            assert e.get("shortNames", []) == row["short"]
            assert e.get("categories", []) == row["cats"]
            for sub in row["subs"]:
                assert row["plural"] + "/" + sub in entries, (row, sorted(entries))
    core = {e["name"]: e for e in s.get("/api/v1").json["resources"]}
    assert core["pods/log"]["kind"] == "Pod" and core["pods/log"]["verbs"] == ["get"]
    assert core["pods/status"]["kind"] == "Pod"
    apps = {e["name"]: e for e in s.get("/apis/apps/v1").json["resources"]}
    scale = apps["deployments/scale"]
    assert (scale["group"], scale["version"], scale["kind"]) == ("autoscaling", "v1", "Scale")


def test_kubectl_api_resources_and_versions(kubectls):
    rows = table_resources()
    for k in kubectls:
        out = k.run("api-resources").stdout.splitlines()
        header = out[0].split()
        assert header == ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"], out[0]
        listed = {}
        for line in out[1:]:
            f = line.split()
            if len(f) == 4:  # no short names
                f = [f[0], ""] + f[1:]
            listed[(f[2], f[0])] = f
        assert len(listed) == len(rows), out
        for row in rows:
            f = listed[(gv(row), row["plural"])]
            assert f[1] == ",".join(row["short"]), f
            assert f[3] == ("true" if row["namespaced"] else "false"), f
            assert f[4] == row["kind"], f
        versions = k.run("api-versions").stdout.split()
        assert sorted(versions) == sorted({gv(r) for r in rows})


def test_kubectl_explain(kubectls):
    k = kubectls[1]
    out = k.run("explain", "pod.spec.containers").stdout
    assert "KIND:       Pod" in out and "VERSION:    v1" in out
    assert "FIELD: containers <[]Container>" in out
    assert re.search(r"^  name\t<string> -required-$", out, re.M), out
    assert re.search(r"^  image\t<string>$", out, re.M), out
    assert "List of containers belonging to the pod" in out
    out = k.run("explain", "deployment.spec.strategy", "--recursive").stdout
    assert "GROUP:      apps" in out and "KIND:       Deployment" in out
    assert "FIELD: strategy <DeploymentStrategy>" in out
    assert re.search(r"^  rollingUpdate\t<RollingUpdateDeployment>$", out, re.M), out
    assert re.search(r"^    maxSurge\t<IntOrString>$", out, re.M), out
    out = k.run("explain", "pods.metadata.creationTimestamp").stdout
    assert "FIELD: creationTimestamp <string>" in out
    bad = k.run("explain", "pod.spec.nosuchfield", check=False)
    assert bad.returncode != 0 and "nosuchfield" in bad.stderr


def test_kubectl_create_strict_validation_on_follower(module_cluster, kubectls):
    c = module_cluster
    k = kubectls[1]  # a follower
    namespace(c, "disc-create")
    p = k.run("create", "-n", "disc-create", "-f", "-", "-v=6", stdin=json.dumps(pod("web")))
    assert "pod/web created" in p.stdout
    # kubectl found fieldValidation on the Pod's PATCH operations: it asks
    # the server to validate, and never falls back to OpenAPI v2.
    posts = [ln for ln in p.stderr.splitlines() if " POST " in ln]
    assert any("fieldValidation=Strict" in ln for ln in posts), p.stderr[-3000:]
    assert "/openapi/v2" not in p.stderr
    assert "/openapi/v3/api/v1?hash=" in p.stderr
    r = c.leader().get("/api/v1/namespaces/disc-create/pods/web")
    assert r.status == 200 and r.json["spec"]["containers"][0]["image"] == "nginx:1"


def test_kubectl_apply_uses_v3_schemas(module_cluster, kubectls):
    k = kubectls[2]
    namespace(module_cluster, "disc-apply")
    p = k.run("apply", "-n", "disc-apply", "-f", "-", stdin=json.dumps(pod("app")))
    assert "pod/app created" in p.stdout
    # The second apply computes a strategic merge patch from the v3 schema
    # (containers merge by name); whether the server applies it is the
    # patch engine's business, not discovery's.
    p = k.run("apply", "-n", "disc-apply", "-f", "-", "-v=8",
              stdin=json.dumps(pod("app", image="nginx:2")), check=False)
    assert "error calculating patch from openapi v3" not in p.stderr
    assert "OpenAPI V3 path does not support strategic merge patch" not in p.stderr
    assert "/openapi/v3/api/v1?hash=" in p.stderr
    patches = [ln for ln in p.stderr.splitlines() if "$setElementOrder/containers" in ln]
    assert patches, p.stderr[-3000:]
    assert "application/strategic-merge-patch+json" in p.stderr


def test_kubectl_get_all(module_cluster, kubectls):
    c = module_cluster
    ns = "disc-all"
    ld = c.leader()
    namespace(c, ns)
    assert ld.req("POST", "/api/v1/namespaces/%s/pods" % ns, pod("p")).status == 201
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
           "spec": {"ports": [{"port": 80}]}}
    assert ld.req("POST", "/api/v1/namespaces/%s/services" % ns, svc).status == 201
    cmap = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "not-in-all"}}
    assert ld.req("POST", "/api/v1/namespaces/%s/configmaps" % ns, cmap).status == 201
    p = kubectls[1].run("get", "all", "-n", ns, "-o", "name", "-v=6")
    names = p.stdout.split()
    assert "pod/p" in names and "service/s" in names, p.stdout
    assert not any("not-in-all" in n for n in names)
    # one list per resource of category "all"
    listed = {m.group(1) for m in re.finditer(r"GET \S+/namespaces/%s/([a-z]+)\?" % ns,
                                              p.stderr)}
    assert listed == {r["plural"] for r in table_resources() if "all" in r["cats"]}, listed


# ------------------------------------------------------------------ OpenAPI

def test_openapi_index_same_on_every_server(module_cluster):
    c = module_cluster
    roots = []
    for s in servers(c):
        r = s.get("/openapi/v3")
        assert r.status == 200 and r.headers["Content-Type"] == "application/json", r
        roots.append(r.json)
    assert roots[0] == roots[1] == roots[2]
    paths = roots[0]["paths"]
    assert set(paths) == {doc_path(g, v) for g, v in group_versions()}
    for p, entry in paths.items():
        url = entry["serverRelativeURL"]
        assert re.fullmatch(r"/openapi/v3/%s\?hash=[0-9A-F]{16}" % re.escape(p), url), url
    docs = [s.get(paths["api/v1"]["serverRelativeURL"]).body for s in servers(c)]
    assert docs[0] == docs[1] == docs[2]


def test_openapi_gv_documents(module_cluster):
    s = module_cluster.followers()[0]
    rows = table_resources()
    for grp, ver in group_versions():
        r = s.get("/openapi/v3/" + doc_path(grp, ver))
        assert r.status == 200, r
        d = r.json
        assert d["openapi"] == "3.0.0" and d["info"]["title"] == "Kubernetes"
        schemas = d["components"]["schemas"]
        for name in ("Status", "DeleteOptions", "Patch", "ObjectMeta"):
            assert "io.k8s.apimachinery.pkg.apis.meta.v1." + name in schemas
        kinds = {}
        for name, sc in schemas.items():
            for x in sc.get("x-kubernetes-group-version-kind", []):
                kinds[(x["group"], x["version"], x["kind"])] = name
            for prop in sc.get("properties", {}).values():
                for ref in re.findall(r'"\$ref": "#/components/schemas/([^"]+)"',
                                      json.dumps(prop)):
                    assert ref in schemas, (name, ref)
        prefix = "/" + doc_path(grp, ver)
        for row in (x for x in rows if (x["group"], x["version"]) == (grp, ver)):
            gvk = {"group": grp, "version": ver, "kind": row["kind"]}
            assert (grp, ver, row["kind"]) in kinds and (grp, ver, row["kind"] + "List") in kinds
            coll = prefix + ("/namespaces/{namespace}/" if row["namespaced"] else "/") + row["plural"]
            item = coll + "/{name}"
            assert set(d["paths"][coll]) >= {"get", "post", "delete"}
            assert set(d["paths"][item]) >= {"get", "put", "patch", "delete"}
            if row["namespaced"]:
                assert d["paths"][prefix + "/" + row["plural"]]["get"][
                    "x-kubernetes-action"] == "list"
            patch = d["paths"][item]["patch"]
            assert patch["x-kubernetes-group-version-kind"] == gvk
            assert patch["x-kubernetes-action"] == "patch"
            assert "fieldValidation" in [p["name"] for p in patch["parameters"]
                                         if p["in"] == "query"]
            content = patch["requestBody"]["content"]
            assert set(content) == {"application/json-patch+json",
                                    "application/merge-patch+json",
                                    "application/strategic-merge-patch+json",
                                    "application/apply-patch+yaml"}
            assert content["application/strategic-merge-patch+json"]["schema"]["$ref"] == \
                "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Patch"
            ok = d["paths"][item]["get"]["responses"]["200"]["content"]["application/json"]
            assert ok["schema"]["$ref"] == "#/components/schemas/" + kinds[
                (grp, ver, row["kind"])]
            for sub in row["subs"]:
                assert item + "/" + sub in d["paths"], (row, sub)
    # the shapes Kubernetes gives its fields
    core = s.get("/openapi/v3/api/v1").json["components"]["schemas"]
    spec = core["io.k8s.api.core.v1.PodSpec"]["properties"]
    ctrs = spec["containers"]
    assert ctrs["type"] == "array" and ctrs["x-kubernetes-patch-merge-key"] == "name"
    assert ctrs["x-kubernetes-patch-strategy"] == "merge"
    assert ctrs["x-kubernetes-list-type"] == "map" and ctrs["x-kubernetes-list-map-keys"] == ["name"]
    assert ctrs["items"]["allOf"] == [{"$ref": "#/components/schemas/io.k8s.api.core.v1.Container"}]
    assert "name" in core["io.k8s.api.core.v1.Container"]["required"]
    assert core["io.k8s.api.core.v1.Pod"]["x-kubernetes-group-version-kind"] == [
        {"group": "", "version": "v1", "kind": "Pod"}]
    assert spec["nodeSelector"]["type"] == "object"
    assert spec["nodeSelector"]["additionalProperties"]["type"] == "string"
    assert spec["activeDeadlineSeconds"] == {
        "description": spec["activeDeadlineSeconds"]["description"],
        "type": "integer", "format": "int64"}
    meta = core["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"]["properties"]
    assert meta["creationTimestamp"]["allOf"] == [
        {"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Time"}]
    assert core["io.k8s.apimachinery.pkg.apis.meta.v1.Time"]["format"] == "date-time"
    assert core["io.k8s.apimachinery.pkg.api.resource.Quantity"]["oneOf"] == [
        {"type": "string"}, {"type": "number"}]
    assert core["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]["format"] == "int-or-string"
    apps = s.get("/openapi/v3/apis/apps/v1").json
    scale = apps["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"]
    assert scale["patch"]["x-kubernetes-group-version-kind"] == {
        "group": "autoscaling", "version": "v1", "kind": "Scale"}
    assert "io.k8s.api.autoscaling.v1.Scale" in apps["components"]["schemas"]


def test_openapi_not_found(module_cluster):
    s = module_cluster.leader()
    for path in ("/openapi/v3/apis/nosuch.example.com/v1", "/openapi/v3/apis/apps/v9",
                 "/openapi/v3/api/v2", "/openapi/v2/api/v1", "/openapi", "/openapi/v3x"):
        r = s.get(path)
        assert r.status == 404, (path, r)
        assert r.json["kind"] == "Status" and r.json["reason"] == "NotFound", r
