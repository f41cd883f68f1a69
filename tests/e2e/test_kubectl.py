"""The real kubectl (v1.32, /usr/bin/kubectl) against a 3-server cluster,
verb by verb, half of the calls against a follower: create, get in every
output format, apply (client-side, twice), apply --server-side with a
conflict, label, annotate, patch (three types), scale, delete with each
propagation policy, get -w seeing changes made on another server, wait
--for=delete, describe, namespaces, selectors and paging, and the error
cases. Each test uses its own namespace."""
import json
import os
import subprocess
import threading
import time

import pytest

from conftest import Kubectl, ensure_ns, wait_for

@pytest.fixture(scope="module")
def kc(module_cluster, tmp_path_factory):
    """kubectl on the leader (kc.L) and on a follower (kc.F)."""
    ld = module_cluster.leader()
    f = module_cluster.followers(ld)[0]

    class K:
        L = Kubectl(ld, tmp_path_factory.mktemp("kl"))
        F = Kubectl(f, tmp_path_factory.mktemp("kf"))
    return K


def pod_yaml(name, image="nginx:1.25", labels="app: web", ns=None):
    return """apiVersion: v1
kind: Pod
metadata:
  name: %s
%s  labels:
    %s
spec:
  containers:
  - name: c
    image: %s
    ports:
    - containerPort: 80
""" % (name, ("  namespace: %s\n" % ns) if ns else "", labels, image)


def deploy_yaml(name, image="nginx:1.25", replicas=2, extra_env=True):
    env = """        env:
        - name: A
          value: "1"
""" if extra_env else ""
    return """apiVersion: apps/v1
kind: Deployment
metadata:
  name: %s
  labels:
    app: %s
spec:
  replicas: %d
  selector:
    matchLabels:
      app: %s
  template:
    metadata:
      labels:
        app: %s
    spec:
      containers:
      - name: c
        image: %s
%s""" % (name, name, replicas, name, name, image, env)


# ---------------------------------------------------------------- create / get

@pytest.mark.parametrize("side", ["L", "F"])
def test_create_and_get_every_format(kc, module_cluster, side):
    k = getattr(kc, side)
    ns = "k-get-" + side.lower()
    ensure_ns(module_cluster.leader(), ns)
    k.run("-n", ns, "create", "-f", "-", input=pod_yaml("web"))  # default --validate=strict
    k.run("-n", ns, "create", "-f", "-", input=deploy_yaml("d1"))
    # human output: the server's Table columns (d1's pods exist too now:
    # the Deployment controller made them; -l app=web leaves them out)
    out = k.run("-n", ns, "get", "pods", "-l", "app=web").stdout.splitlines()
    assert out[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"], out
    assert out[1].split()[:3] == ["web", "0/1", "Pending"], out
    wide = k.run("-n", ns, "get", "pods", "-o", "wide").stdout.splitlines()
    assert wide[0].split()[:7] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE"]
    dep = k.run("-n", ns, "get", "deploy").stdout.splitlines()
    assert dep[0].split() == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"], dep
    assert dep[1].split()[:2] == ["d1", "0/2"], dep
    # --show-labels and -A need the row objects
    lab = k.run("-n", ns, "get", "pods", "-l", "app=web", "--show-labels").stdout.splitlines()
    assert lab[0].split()[-1] == "LABELS" and lab[1].split()[-1] == "app=web", lab
    alln = k.run("get", "pods", "-A").stdout.splitlines()
    assert alln[0].split()[0] == "NAMESPACE"
    assert any(ln.split()[:2] == [ns, "web"] for ln in alln[1:]), alln
    # machine formats
    y = k.run("-n", ns, "get", "pod", "web", "-o", "yaml").stdout
    assert "terminationMessagePath: /dev/termination-log" in y  # defaulted
    j = k.json("-n", ns, "get", "pod", "web")
    assert j["spec"]["restartPolicy"] == "Always" and j["metadata"]["uid"]
    assert j["spec"]["containers"][0]["imagePullPolicy"] == "IfNotPresent"
    assert k.run("-n", ns, "get", "pods", "-l", "app=web", "-o", "name").stdout.split() == [
        "pod/web"]
    jp = k.run("-n", ns, "get", "pod", "web", "-o", "jsonpath={.spec.containers[0].image}")
    assert jp.stdout == "nginx:1.25"
    cc = k.run("-n", ns, "get", "pods", "-l", "app=web", "-o",
               "custom-columns=N:.metadata.name,I:.spec.containers[0].image")
    assert cc.stdout.split() == ["N", "I", "web", "nginx:1.25"]
    d = k.json("-n", ns, "get", "deploy", "d1")
    assert d["spec"]["strategy"]["type"] == "RollingUpdate"
    assert d["spec"]["revisionHistoryLimit"] == 10 and d["metadata"]["generation"] == 1


def test_sort_by_and_selectors_and_paging(kc, module_cluster):
    ns = "k-sel"
    ensure_ns(module_cluster.leader(), ns)
    for i, (name, tier) in enumerate([("a", "web"), ("b", "db"), ("c", "web"), ("d", "cache"),
                                      ("e", "db")]):
        kc.L.run("-n", ns, "create", "configmap", name, "--from-literal=i=%d" % (9 - i))
        kc.L.run("-n", ns, "label", "configmap", name, "tier=" + tier)
    kc.F.run("-n", ns, "label", "configmap", "a", "canary=yes")
    names = lambda *sel: kc.F.run("-n", ns, "get", "cm", "-o", "name", *sel).stdout.split()
    assert names("-l", "tier=web") == ["configmap/a", "configmap/c"]
    assert names("-l", "tier!=web") == ["configmap/b", "configmap/d", "configmap/e"]
    assert names("-l", "tier in (db,cache)") == ["configmap/b", "configmap/d", "configmap/e"]
    assert names("-l", "tier notin (db,cache),tier") == ["configmap/a", "configmap/c"]
    assert names("-l", "canary") == ["configmap/a"]
    assert names("-l", "!canary,tier=web") == ["configmap/c"]
    assert names("--field-selector", "metadata.name=d") == ["configmap/d"]
    assert names("--field-selector", "metadata.name!=d", "-l", "tier=db") == ["configmap/b",
                                                                              "configmap/e"]
    # paging: kubectl follows metadata.continue
    assert names("--chunk-size=2", "-l", "tier") == ["configmap/a", "configmap/b", "configmap/c",
                                                     "configmap/d", "configmap/e"]
    srt = kc.F.run("-n", ns, "get", "cm", "-l", "tier", "--sort-by=.data.i", "-o",
                   "custom-columns=N:.metadata.name", "--no-headers").stdout.split()
    assert srt == ["e", "d", "c", "b", "a"]
    bad = kc.F.run("-n", ns, "get", "cm", "-l", "tier in (a", ok=False)
    assert bad.returncode != 0, bad
    bad = kc.F.run("-n", ns, "get", "cm", "--field-selector", "data.i=1", ok=False)
    assert bad.returncode != 0 and "field label not supported" in bad.stderr


# ---------------------------------------------------------------- apply

def test_apply_client_side_twice(kc, module_cluster):
    ns = "k-apply"
    ensure_ns(module_cluster.leader(), ns)
    kc.L.run("-n", ns, "apply", "-f", "-", input=deploy_yaml("web"))
    d = kc.F.json("-n", ns, "get", "deploy", "web")
    assert "kubectl.kubernetes.io/last-applied-configuration" in d["metadata"]["annotations"]
    # a change of image and the removal of the env var, applied on a follower
    kc.F.run("-n", ns, "apply", "-f", "-", input=deploy_yaml("web", image="nginx:1.26",
                                                                  replicas=3, extra_env=False))
    d = kc.L.json("-n", ns, "get", "deploy", "web")
    c = d["spec"]["template"]["spec"]["containers"][0]
    assert c["image"] == "nginx:1.26" and "env" not in c, c
    assert d["spec"]["replicas"] == 3 and d["metadata"]["generation"] == 2
    # unchanged apply is a no-op: kubectl computes an empty patch and sends nothing.
    # (The resourceVersion is no witness: the Deployment controller writes status.)
    last = d["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
    out = kc.L.run("-n", ns, "apply", "-f", "-", input=deploy_yaml("web", image="nginx:1.26",
                                                                    replicas=3, extra_env=False))
    assert "deployment.apps/web unchanged" in out.stdout, out.stdout
    d = kc.L.json("-n", ns, "get", "deploy", "web")
    assert d["metadata"]["generation"] == 2
    assert d["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] == last


def test_apply_server_side_conflict_and_force(kc, module_cluster):
    ns = "k-ssa"
    ensure_ns(module_cluster.leader(), ns)
    kc.F.run("-n", ns, "apply", "--server-side", "-f", "-", input=deploy_yaml("web"))
    d = kc.L.json("-n", ns, "get", "deploy", "web", "--show-managed-fields")
    managers = {m["manager"]: m["operation"] for m in d["metadata"]["managedFields"]}
    assert managers.get("kubectl") == "Apply", managers
    other = deploy_yaml("web", replicas=5)
    p = kc.L.run("-n", ns, "apply", "--server-side", "--field-manager=other", "-f", "-",
                 input=other, ok=False)
    assert p.returncode != 0
    assert "conflict" in p.stderr.lower() and ".spec.replicas" in p.stderr, p.stderr
    kc.L.run("-n", ns, "apply", "--server-side", "--field-manager=other", "--force-conflicts",
             "-f", "-", input=other)
    assert kc.F.json("-n", ns, "get", "deploy", "web")["spec"]["replicas"] == 5


# ---------------------------------------------------------------- label, annotate, patch, scale

def test_label_annotate_patch_scale(kc, module_cluster):
    ns = "k-patch"
    ensure_ns(module_cluster.leader(), ns)
    kc.L.run("-n", ns, "create", "-f", "-", input=deploy_yaml("web"))
    kc.F.run("-n", ns, "label", "deploy", "web", "team=blue")
    kc.F.run("-n", ns, "annotate", "deploy", "web", "note=hello")
    d = kc.L.json("-n", ns, "get", "deploy", "web")
    assert d["metadata"]["labels"]["team"] == "blue"
    assert d["metadata"]["annotations"]["note"] == "hello"
    p = kc.F.run("-n", ns, "label", "deploy", "web", "team=red", ok=False)
    assert p.returncode != 0 and "already has a value" in p.stderr
    kc.F.run("-n", ns, "label", "deploy", "web", "team=red", "--overwrite")
    kc.L.run("-n", ns, "label", "deploy", "web", "team-")
    assert "team" not in kc.F.json("-n", ns, "get", "deploy", "web")["metadata"]["labels"]
    # strategic: containers merge by name
    kc.F.run("-n", ns, "patch", "deploy", "web", "-p",
             '{"spec":{"template":{"spec":{"containers":[{"name":"side","image":"busybox"}]}}}}')
    cs = kc.L.json("-n", ns, "get", "deploy", "web")["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in cs] == ["side", "c"] or [c["name"] for c in cs] == ["c", "side"]
    # merge: lists are replaced
    kc.L.run("-n", ns, "patch", "deploy", "web", "--type=merge", "-p",
             '{"spec":{"template":{"spec":{"containers":[{"name":"only","image":"x"}]}}}}')
    cs = kc.F.json("-n", ns, "get", "deploy", "web")["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in cs] == ["only"]
    # json patch
    kc.F.run("-n", ns, "patch", "deploy", "web", "--type=json", "-p",
             '[{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"y"}]')
    assert kc.L.json("-n", ns, "get", "deploy", "web")["spec"]["template"]["spec"][
        "containers"][0]["image"] == "y"
    bad = kc.F.run("-n", ns, "patch", "deploy", "web", "--type=json", "-p",
                   '[{"op":"remove","path":"/spec/nope"}]', ok=False)
    assert bad.returncode != 0
    # scale through /scale
    kc.F.run("-n", ns, "scale", "deploy", "web", "--replicas=4")
    assert kc.L.json("-n", ns, "get", "deploy", "web")["spec"]["replicas"] == 4
    kc.L.run("-n", ns, "scale", "deploy", "web", "--current-replicas=4", "--replicas=1")
    assert kc.F.json("-n", ns, "get", "deploy", "web")["spec"]["replicas"] == 1
    bad = kc.L.run("-n", ns, "scale", "deploy", "web", "--current-replicas=7", "--replicas=2",
                   ok=False)
    assert bad.returncode != 0
    # dry run writes nothing (a ConfigMap, because the Deployment controller writes
    # the Deployment's status whenever it likes, which moves its resourceVersion)
    kc.L.run("-n", ns, "create", "configmap", "dry")
    rv = kc.L.json("-n", ns, "get", "cm", "dry")["metadata"]["resourceVersion"]
    out = kc.F.run("-n", ns, "label", "cm", "dry", "dry=run", "--dry-run=server")
    assert "server dry run" in out.stdout, out.stdout
    d = kc.L.json("-n", ns, "get", "cm", "dry")
    assert d["metadata"]["resourceVersion"] == rv and "labels" not in d["metadata"]


# ---------------------------------------------------------------- delete, GC

def owned_cm(name, owner, uid, block=False):
    return json.dumps({"apiVersion": "v1", "kind": "ConfigMap",
                       "metadata": {"name": name, "ownerReferences": [
                           {"apiVersion": "v1", "kind": "ConfigMap", "name": owner, "uid": uid,
                            "blockOwnerDeletion": block}]}})


@pytest.mark.parametrize("cascade", ["background", "foreground", "orphan"])
def test_delete_propagation(kc, module_cluster, cascade):
    ns = "k-del-" + cascade
    ensure_ns(module_cluster.leader(), ns)
    kc.L.run("-n", ns, "create", "configmap", "owner")
    uid = kc.L.json("-n", ns, "get", "cm", "owner")["metadata"]["uid"]
    for d in ("dep1", "dep2"):
        kc.F.run("-n", ns, "create", "-f", "-", input=owned_cm(d, "owner", uid, True))
    kc.F.run("-n", ns, "delete", "cm", "owner", "--cascade=" + cascade, timeout=60)
    assert kc.L.run("-n", ns, "get", "cm", "owner", ok=False).returncode != 0

    def left():
        return sorted(i["metadata"]["name"] for i in kc.L.json("-n", ns, "get", "cm")["items"]
                      if i["metadata"]["name"].startswith("dep"))
    if cascade == "orphan":
        assert left() == ["dep1", "dep2"]
        for i in kc.L.json("-n", ns, "get", "cm")["items"]:
            assert not i["metadata"].get("ownerReferences"), i
    else:
        wait_for("the dependents to be collected", lambda: left() == [], 30)


def test_delete_collection_by_selector(kc, module_cluster):
    ns = "k-delcol"
    ensure_ns(module_cluster.leader(), ns)
    for name, tier in (("a", "x"), ("b", "y"), ("c", "x")):
        kc.L.run("-n", ns, "create", "configmap", name)
        kc.L.run("-n", ns, "label", "cm", name, "tier=" + tier)
    # kubectl deletes one by one; the API also deletes a whole selection
    r = module_cluster.followers()[0].req(
        "DELETE", "/api/v1/namespaces/%s/configmaps?labelSelector=tier%%3Dx" % ns)
    assert r.status == 200 and r.json["status"] == "Success", r
    left = kc.L.run("-n", ns, "get", "cm", "-o", "name").stdout.split()
    assert left == ["configmap/b"], left
    kc.F.run("-n", ns, "delete", "cm", "--all")
    assert kc.L.run("-n", ns, "get", "cm", "-o", "name").stdout.split() == []


def test_finalizers_hold_deletion(kc, module_cluster):
    ns = "k-fin"
    ensure_ns(module_cluster.leader(), ns)
    kc.L.run("-n", ns, "create", "-f", "-", input=json.dumps({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "held", "finalizers": ["example.com/hold"]}}))
    kc.F.run("-n", ns, "delete", "cm", "held", "--wait=false")
    o = kc.L.json("-n", ns, "get", "cm", "held")
    assert o["metadata"]["deletionTimestamp"]
    kc.F.run("-n", ns, "patch", "cm", "held", "--type=json", "-p",
             '[{"op":"remove","path":"/metadata/finalizers"}]')
    wait_for("the object to go", lambda: kc.L.run("-n", ns, "get", "cm", "held",
                                                  ok=False).returncode != 0, 10)


def test_terminating_namespace_refuses_creates(kc, module_cluster):
    """While a namespace is being deleted (held here by an object with a
    finalizer), a create in it is refused with 403 NamespaceTerminating."""
    ns = "k-ns-held"
    kc.F.run("create", "namespace", ns)
    kc.L.run("-n", ns, "create", "-f", "-", input=json.dumps({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "held", "finalizers": ["example.com/hold"]}}))
    kc.F.run("delete", "namespace", ns, "--wait=false")
    wait_for("the namespace to be terminating", lambda: kc.L.json(
        "get", "namespace", ns)["status"].get("phase") == "Terminating", 10)
    p = kc.L.run("-n", ns, "create", "configmap", "late", ok=False)
    assert p.returncode != 0 and "is being terminated" in p.stderr, p.stderr
    kc.F.run("-n", ns, "patch", "cm", "held", "--type=json", "-p",
             '[{"op":"remove","path":"/metadata/finalizers"}]')
    wait_for("the namespace to go", lambda: kc.L.run("get", "namespace", ns,
                                                     ok=False).returncode != 0, 60)


def test_namespace_deletion(kc, module_cluster):
    ns = "k-ns-gone"
    kc.F.run("create", "namespace", ns)
    kc.L.run("-n", ns, "create", "configmap", "a")
    kc.L.run("-n", ns, "create", "-f", "-", input=pod_yaml("p"))
    kc.F.run("delete", "namespace", ns, "--wait=false")
    # The namespace may already be gone: emptying it takes milliseconds.
    g = kc.L.run("get", "namespace", ns, "-o", "json", ok=False)
    p = kc.L.run("-n", ns, "create", "configmap", "late", ok=False)
    assert p.returncode != 0 and ("being terminated" in p.stderr or "not found" in p.stderr)
    if g.returncode == 0:
        assert json.loads(g.stdout)["status"]["phase"] == "Terminating"
    wait_for("the namespace to go", lambda: kc.L.run("get", "namespace", ns,
                                                     ok=False).returncode != 0, 60)
    p = kc.L.run("-n", ns, "create", "configmap", "x", ok=False)
    assert p.returncode != 0 and 'namespaces "%s" not found' % ns in p.stderr


def test_every_namespace_has_a_default_service_account(kc, module_cluster):
    """The service account controller (controllers/serviceaccount.c): a new
    namespace gets ServiceAccount "default", a deleted one comes back, the
    built-in namespaces have theirs, and a namespace being deleted still
    goes."""
    ns = "k-sa"
    kc.F.run("create", "namespace", ns)
    wait_for("the default account", lambda: kc.L.run("-n", ns, "get", "sa", "default",
                                                     ok=False).returncode == 0, 20)
    got = kc.L.run("get", "sa", "-A", "-o", "json").stdout
    have = {(i["metadata"]["namespace"], i["metadata"]["name"]) for i in json.loads(got)["items"]}
    for n in ("default", "kube-system", "kube-public", "kube-node-lease", ns):
        assert (n, "default") in have, have
    uid = kc.L.json("-n", ns, "get", "sa", "default")["metadata"]["uid"]
    kc.F.run("-n", ns, "delete", "sa", "default")
    wait_for("the account to come back", lambda: kc.L.run(
        "-n", ns, "get", "sa", "default", "-o", "jsonpath={.metadata.uid}",
        ok=False).stdout not in ("", uid), 20)
    kc.F.run("delete", "namespace", ns, "--wait=false")
    wait_for("the namespace to go", lambda: kc.L.run("get", "namespace", ns,
                                                     ok=False).returncode != 0, 60)


# ---------------------------------------------------------------- watch, wait, describe

def test_get_watch_sees_changes_from_another_server(kc, module_cluster):
    ns = "k-watch"
    ensure_ns(module_cluster.leader(), ns)
    kc.L.run("-n", ns, "create", "configmap", "first")
    w = kc.F.popen("-n", ns, "get", "cm", "-w")
    lines = []
    t = threading.Thread(target=lambda: [lines.append(ln) for ln in w.stdout], daemon=True)
    t.start()
    try:
        wait_for("the initial list", lambda: any(ln.startswith("first") for ln in lines), 20)
        kc.L.run("-n", ns, "create", "configmap", "second")
        wait_for("the watched ADDED row", lambda: any(ln.startswith("second") for ln in lines), 20)
        assert lines[0].split()[:2] == ["NAME", "DATA"], lines
    finally:
        w.kill()
        w.wait(10)


def test_wait_for_delete_and_describe(kc, module_cluster):
    ns = "k-wait"
    ensure_ns(module_cluster.leader(), ns)
    kc.L.run("-n", ns, "create", "-f", "-", input=pod_yaml("p"))
    d = kc.F.run("-n", ns, "describe", "pod", "p").stdout
    assert "Name:" in d and "p" in d and "nginx:1.25" in d and "Events:" in d
    # describe finds the pod's events by involvedObject field selectors
    uid = kc.L.json("-n", ns, "get", "pod", "p")["metadata"]["uid"]
    kc.L.run("-n", ns, "create", "-f", "-", input=json.dumps({
        "apiVersion": "v1", "kind": "Event", "metadata": {"name": "p.1"},
        "involvedObject": {"kind": "Pod", "namespace": ns, "name": "p", "uid": uid,
                           "apiVersion": "v1"},
        "reason": "Testing", "message": "an event about p", "type": "Normal",
        "source": {"component": "e2e"}, "count": 1}))
    kc.L.run("-n", ns, "create", "-f", "-", input=json.dumps({
        "apiVersion": "v1", "kind": "Event", "metadata": {"name": "other.1"},
        "involvedObject": {"kind": "Pod", "namespace": ns, "name": "other", "uid": "x"},
        "reason": "NotForP", "message": "about another pod", "type": "Normal"}))
    d = kc.F.run("-n", ns, "describe", "pod", "p").stdout
    assert "Testing" in d and "an event about p" in d and "NotForP" not in d, d
    ev = kc.F.run("-n", ns, "get", "events").stdout
    assert "Testing" in ev and "pod/p" in ev, ev
    waiter = kc.F.popen("-n", ns, "wait", "--for=delete", "pod/p", "--timeout=30s")
    time.sleep(1)
    kc.L.run("-n", ns, "delete", "pod", "p")
    out, err = waiter.communicate(timeout=40)
    assert waiter.returncode == 0, (out, err)


# ---------------------------------------------------------------- generators (protobuf bodies)

def test_create_generators(kc, module_cluster):
    ns = "k-gen"
    ensure_ns(module_cluster.leader(), ns)
    kc.F.run("-n", ns, "create", "configmap", "c", "--from-literal=a=b")
    kc.F.run("-n", ns, "create", "secret", "generic", "s", "--from-literal=pw=hunter2")
    kc.F.run("-n", ns, "create", "deployment", "d", "--image=nginx", "--replicas=2")
    kc.F.run("-n", ns, "create", "service", "clusterip", "svc", "--tcp=80:8080")
    kc.F.run("-n", ns, "create", "serviceaccount", "sa")
    kc.F.run("-n", ns, "create", "job", "j", "--image=busybox")
    assert kc.L.json("-n", ns, "get", "cm", "c")["data"] == {"a": "b"}
    assert kc.L.json("-n", ns, "get", "secret", "s")["data"] == {"pw": "aHVudGVyMg=="}
    svc = kc.L.json("-n", ns, "get", "svc", "svc")
    assert svc["spec"]["clusterIP"].startswith("10.96.")
    assert svc["spec"]["ports"][0]["targetPort"] == 8080
    assert kc.L.json("-n", ns, "get", "deploy", "d")["spec"]["replicas"] == 2


# ---------------------------------------------------------------- errors

def test_error_cases(kc, module_cluster):
    ns = "k-err"
    ensure_ns(module_cluster.leader(), ns)
    p = kc.F.run("-n", ns, "get", "widgets", ok=False)
    assert p.returncode != 0 and 'the server doesn\'t have a resource type "widgets"' in p.stderr
    p = kc.F.run("-n", ns, "create", "-f", "-", input="kind: Pod\n  bad: [yaml", ok=False)
    assert p.returncode != 0
    # unknown field under the default strict validation
    bad = pod_yaml("x").replace("spec:\n", "spec:\n  bogusField: 1\n")
    p = kc.F.run("-n", ns, "create", "-f", "-", input=bad, ok=False)
    assert p.returncode != 0 and "bogusField" in p.stderr, p.stderr
    # with --validate=warn: created without the field, and kubectl warns
    p = kc.F.run("-n", ns, "create", "-f", "-", "--validate=warn", input=bad)
    assert "unknown field" in p.stderr and "bogusField" in p.stderr, p.stderr
    assert "bogusField" not in kc.L.run("-n", ns, "get", "pod", "x", "-o", "yaml").stdout
    # invalid object: 422 with the field named
    p = kc.F.run("-n", ns, "create", "-f", "-", input=pod_yaml("Bad_Name"), ok=False)
    assert p.returncode != 0 and "is invalid" in p.stderr and "metadata.name" in p.stderr
    # immutable field
    kc.L.run("-n", ns, "create", "-f", "-", input=deploy_yaml("web"))
    p = kc.F.run("-n", ns, "patch", "deploy", "web", "--type=merge", "-p",
                 '{"spec":{"selector":{"matchLabels":{"app":"other"}}}}', ok=False)
    assert p.returncode != 0 and "immutable" in p.stderr, p.stderr
    # a stale resourceVersion: replace with an old copy
    old = kc.L.run("-n", ns, "get", "deploy", "web", "-o", "json").stdout
    kc.L.run("-n", ns, "label", "deploy", "web", "x=y")
    p = kc.F.run("-n", ns, "replace", "-f", "-", input=old, ok=False)
    assert p.returncode != 0 and "the object has been modified" in p.stderr, p.stderr
    # too many JSON patch operations: 413, nothing written
    f = module_cluster.followers()[0]
    ops = [{"op": "add", "path": "/metadata/labels/l%d" % i, "value": "v"} for i in range(10001)]
    r = f.req("PATCH", "/apis/apps/v1/namespaces/%s/deployments/web" % ns, ops,
              headers={"Content-Type": "application/json-patch+json"})
    assert r.status == 413 and r.json["reason"] == "RequestEntityTooLarge", r
    # a patch that does not apply: 422, with the failing path
    r = f.req("PATCH", "/apis/apps/v1/namespaces/%s/deployments/web" % ns,
              [{"op": "test", "path": "/spec/replicas", "value": 99}],
              headers={"Content-Type": "application/json-patch+json"})
    assert r.status == 422 and "/spec/replicas" in r.json["message"], r
    # not found
    p = kc.F.run("-n", ns, "get", "deploy", "nope", ok=False)
    assert p.returncode != 0 and 'deployments.apps "nope" not found' in p.stderr


def test_pod_binding(kc, module_cluster):
    """pods/binding sets spec.nodeName once (what the scheduler will do);
    a second binding is a 409, and a pod update may not move the pod."""
    ns = "k-bind"
    ensure_ns(module_cluster.leader(), ns)
    kc.L.run("-n", ns, "create", "-f", "-", input=pod_yaml("p"))
    f = module_cluster.followers()[0]
    b = {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "p"},
         "target": {"apiVersion": "v1", "kind": "Node", "name": "node-1"}}
    r = f.req("POST", "/api/v1/namespaces/%s/pods/p/binding" % ns, b)
    assert r.status == 201 and r.json["status"] == "Success", r
    r = f.req("POST", "/api/v1/namespaces/%s/pods/p/binding" % ns, b)
    assert r.status == 409 and "already assigned" in r.json["message"], r
    wide = kc.L.run("-n", ns, "get", "pod", "p", "-o", "wide").stdout.splitlines()
    assert wide[1].split()[6] == "node-1", wide
    conds = kc.L.json("-n", ns, "get", "pod", "p")["status"]["conditions"]
    assert {"type": "PodScheduled", "status": "True"}.items() <= conds[0].items()
    p = kc.F.run("-n", ns, "patch", "pod", "p", "--type=merge", "-p",
                 '{"spec":{"nodeName":"node-2"}}', ok=False)
    assert p.returncode != 0 and "Forbidden" in p.stderr, p.stderr
    assert kc.L.run("-n", ns, "get", "pods", "--field-selector", "spec.nodeName=node-1",
                    "-o", "name").stdout.split() == ["pod/p"]
