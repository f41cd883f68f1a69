"""PersistentVolume binding (controllers/volumes.c) and StorageClasses, with
the real kubectl, on a 3-server cluster with 6 hollow nodes.

- Static binding: volumes of 1Gi, 5Gi and 10Gi; a 3Gi claim binds to the
  5Gi one (smallest fit) on both sides (claimRef with the uid, volumeName,
  the bind-completed and bound-by-controller annotations, capacity and
  access modes in the claim's status); a claim no volume can serve (access
  mode) stays Pending; deleting the claim of a Retain volume leaves it
  Released; a bound claim whose volume is deleted is Lost.
- Dynamic provisioning: StorageClasses of the bosun.dev/hostpath
  provisioner (`kubectl get sc` columns, the default class marked), a
  claim with no class gets the default one (admission, or later if there
  was no default class when it was made), each claim gets a
  volume pvc-<uid> under the class's path; deleting the claims deletes the
  Delete volume and releases the Retain one; a WaitForFirstConsumer claim
  waits for a pod, then binds with node affinity to the pod's node.
- Failover: the leader is killed while claims are being provisioned; the
  new leader finishes, with exactly one volume per claim.
- Protection: new claims and volumes get the pvc-protection and
  pv-protection finalizers; a deleted claim stays (Terminating) while a
  pod uses it, a deleted volume while it is bound to an existing claim;
  the pod's deletion lets the claim go, and the claim's the volume; a
  namespace holding a claim in use still empties and goes."""
import json
import time

from conftest import ensure_ns, wait_for

PROV = "bosun.dev/hostpath"


def pv(name, size, modes=("ReadWriteOnce",), cls="", policy="Retain", labels=None):
    return {"apiVersion": "v1", "kind": "PersistentVolume",
            "metadata": {"name": name, "labels": labels or {}},
            "spec": {"capacity": {"storage": size}, "accessModes": list(modes),
                     "storageClassName": cls, "persistentVolumeReclaimPolicy": policy,
                     "hostPath": {"path": "/data/" + name}}}


def pvc(name, size, modes=("ReadWriteOnce",), cls=None):
    spec = {"accessModes": list(modes), "resources": {"requests": {"storage": size}}}
    if cls is not None:
        spec["storageClassName"] = cls
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": name}, "spec": spec}


def sc(name, policy="Delete", mode="Immediate", default=False, path=None):
    o = {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
         "metadata": {"name": name}, "provisioner": PROV, "reclaimPolicy": policy,
         "volumeBindingMode": mode}
    if default:
        o["metadata"]["annotations"] = {"storageclass.kubernetes.io/is-default-class": "true"}
    if path:
        o["parameters"] = {"path": path}
    return o


def claim_pod(name, claim_name):
    """A pod that mounts the claim claim_name."""
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [{"name": "c", "image": "busybox"}],
                     "volumes": [{"name": "d",
                                  "persistentVolumeClaim": {"claimName": claim_name}}]}}


def apply(k, *objs, ns=None):
    """kubectl apply of several objects, as a stream of documents (a v1
    List fails kubectl's client-side validation against bosun)."""
    args = ["apply", "-f", "-"] + (["-n", ns] if ns else [])
    k.run(*args, input="\n".join(json.dumps(o) for o in objs))


def get(s, path):
    r = s.get(path, timeout=10)
    return r.json if r.status == 200 else None


def claim(s, ns, name):
    return get(s, "/api/v1/namespaces/%s/persistentvolumeclaims/%s" % (ns, name))


def volume(s, name):
    return get(s, "/api/v1/persistentvolumes/" + name)


def phase(o):
    return (o or {}).get("status", {}).get("phase")


def wait_phase(s, ns, name, want, timeout=30):
    wait_for("claim %s/%s %s" % (ns, name, want),
             lambda: phase(claim(s, ns, name)) == want, timeout)
    return claim(s, ns, name)


def test_static_binding_smallest_fit(hollow_cluster):
    c = hollow_cluster
    ld = c.leader()
    f = c.followers(ld)[0]
    k = c.kubectl(f)
    ns = "vol-static"
    ensure_ns(f, ns)
    apply(k, pv("st-1g", "1Gi"), pv("st-5g", "5Gi"), pv("st-10g", "10Gi"),
          pv("st-rox", "20Gi", modes=("ReadOnlyMany",)))
    wait_for("the volumes Available", lambda: all(
        phase(volume(f, n)) == "Available" for n in ("st-1g", "st-5g", "st-10g")), 30)
    k.run("apply", "-n", ns, "-f", "-", input=json.dumps(pvc("three", "3Gi", cls="")))
    k.run("apply", "-n", ns, "-f", "-",
          input=json.dumps(pvc("shared", "1Gi", modes=("ReadWriteMany",), cls="")))
    got = wait_phase(f, ns, "three", "Bound")
    assert got["spec"]["volumeName"] == "st-5g", got
    ann = got["metadata"]["annotations"]
    assert ann["pv.kubernetes.io/bind-completed"] == "yes", ann
    assert ann["pv.kubernetes.io/bound-by-controller"] == "yes", ann
    assert got["status"]["capacity"]["storage"] == "5Gi", got["status"]
    assert got["status"]["accessModes"] == ["ReadWriteOnce"], got["status"]
    v = volume(f, "st-5g")
    assert v["status"]["phase"] == "Bound", v
    assert v["spec"]["claimRef"]["uid"] == got["metadata"]["uid"], v["spec"]
    assert v["spec"]["claimRef"]["namespace"] == ns and v["spec"]["claimRef"]["name"] == "three"
    out = k.run("get", "pv,pvc", "-n", ns).stdout
    assert any("st-5g" in line and "Bound" in line and ns + "/three" in line
               for line in out.splitlines()), out
    assert any(line.startswith("persistentvolumeclaim/three") and "Bound" in line and
               "st-5g" in line for line in out.splitlines()), out
    # No read-write-many volume: that claim waits.
    assert phase(claim(f, ns, "shared")) == "Pending"
    ev = k.json("get", "events", "-n", ns, "--field-selector", "involvedObject.name=shared")
    assert any(e["reason"] == "FailedBinding" for e in ev["items"]), ev
    # An 8Gi claim takes the 10Gi volume. Deleting that volume only marks
    # it while it is bound (pv-protection); once its finalizer is taken off
    # by hand it goes, and the claim is lost.
    k.run("apply", "-n", ns, "-f", "-", input=json.dumps(pvc("eight", "8Gi", cls="")))
    assert wait_phase(f, ns, "eight", "Bound")["spec"]["volumeName"] == "st-10g"
    k.run("delete", "pv", "st-10g", "--wait=false")
    time.sleep(1)
    v = volume(f, "st-10g")
    assert v["metadata"]["deletionTimestamp"], v
    assert v["metadata"]["finalizers"] == ["kubernetes.io/pv-protection"], v
    assert phase(claim(f, ns, "eight")) == "Bound"
    k.run("patch", "pv", "st-10g", "--type=merge", "-p", '{"metadata":{"finalizers":null}}')
    got = wait_phase(f, ns, "eight", "Lost")
    ev = k.json("get", "events", "-n", ns, "--field-selector", "involvedObject.name=eight")
    assert any(e["reason"] == "ClaimLost" for e in ev["items"]), ev
    # The claim goes: its Retain volume is Released, and kept.
    k.run("delete", "pvc", "-n", ns, "three")
    wait_for("st-5g Released", lambda: phase(volume(f, "st-5g")) == "Released", 30)
    assert phase(volume(f, "st-1g")) == "Available"
    k.run("delete", "pv", "st-1g", "st-5g", "st-rox")


def test_dynamic_provisioning(hollow_cluster):
    c = hollow_cluster
    ld = c.leader()
    f = c.followers(ld)[0]
    k = c.kubectl(f)
    kl = c.kubectl(ld)
    ns = "vol-dyn"
    ensure_ns(f, ns)
    # Created with no class while there is no default class: it waits, and
    # gets the default class once there is one (retroactive assignment).
    apply(k, pvc("retro", "1Gi"), ns=ns)
    assert "storageClassName" not in claim(f, ns, "retro")["spec"]
    apply(k, sc("hp-delete", "Delete", default=True, path="/tmp/bosun-vols"),
          sc("hp-retain", "Retain"), sc("hp-late", "Delete", mode="WaitForFirstConsumer"))
    try:
        out = k.run("get", "sc").stdout.splitlines()
        assert out[0].split() == ["NAME", "PROVISIONER", "RECLAIMPOLICY", "VOLUMEBINDINGMODE",
                                  "ALLOWVOLUMEEXPANSION", "AGE"], out
        row = next(line.split() for line in out if line.startswith("hp-delete"))
        assert row[:6] == ["hp-delete", "(default)", PROV, "Delete", "Immediate", "false"], row
        row = next(line.split() for line in out if line.startswith("hp-late"))
        assert row[1:4] == [PROV, "Delete", "WaitForFirstConsumer"], row
        apply(kl, pvc("gone", "2Gi", cls="hp-delete"), pvc("kept", "1Gi", cls="hp-retain"),
              pvc("defaulted", "1Gi"), pvc("late", "1Gi", cls="hp-late"), ns=ns)
        assert claim(f, ns, "defaulted")["spec"]["storageClassName"] == "hp-delete"
        wait_for("the default class given to the older claim", lambda: claim(
            f, ns, "retro")["spec"].get("storageClassName") == "hp-delete", 30)
        vols = {}
        for name in ("gone", "kept", "defaulted", "retro"):
            got = wait_phase(f, ns, name, "Bound")
            uid = got["metadata"]["uid"]
            assert got["spec"]["volumeName"] == "pvc-" + uid, got
            vols[name] = v = volume(f, "pvc-" + uid)
            assert v["metadata"]["annotations"]["pv.kubernetes.io/provisioned-by"] == PROV
            assert v["spec"]["claimRef"]["uid"] == uid
            assert v["status"]["phase"] == "Bound"
        assert vols["gone"]["spec"]["hostPath"]["path"] == \
            "/tmp/bosun-vols/" + vols["gone"]["metadata"]["name"]
        assert vols["gone"]["spec"]["capacity"]["storage"] == "2Gi"
        assert vols["gone"]["spec"]["persistentVolumeReclaimPolicy"] == "Delete"
        assert vols["kept"]["spec"]["hostPath"]["path"].startswith("/var/lib/bosun/volumes/")
        assert vols["kept"]["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
        # WaitForFirstConsumer: nothing until a pod that uses it has a node.
        assert phase(claim(f, ns, "late")) == "Pending"
        ev = k.json("get", "events", "-n", ns, "--field-selector", "involvedObject.name=late")
        assert any(e["reason"] == "WaitForFirstConsumer" for e in ev["items"]), ev
        k.run("apply", "-n", ns, "-f", "-", input=json.dumps(claim_pod("user", "late")))
        got = wait_phase(f, ns, "late", "Bound")
        node = get(f, "/api/v1/namespaces/%s/pods/user" % ns)["spec"]["nodeName"]
        assert got["metadata"]["annotations"]["volume.kubernetes.io/selected-node"] == node
        aff = volume(f, got["spec"]["volumeName"])["spec"]["nodeAffinity"]
        assert aff["required"]["nodeSelectorTerms"][0]["matchExpressions"][0]["values"] == [node]
        # Claims go: the Delete volume goes, the Retain one is Released.
        k.run("delete", "pvc", "-n", ns, "gone", "kept")
        wait_for("the Delete volume deleted",
                 lambda: volume(f, vols["gone"]["metadata"]["name"]) is None, 30)
        wait_for("the Retain volume Released",
                 lambda: phase(volume(f, vols["kept"]["metadata"]["name"])) == "Released", 30)
        k.run("delete", "pv", vols["kept"]["metadata"]["name"])
    finally:
        k.run("delete", "sc", "hp-delete", "hp-retain", "hp-late", ok=False)


def test_provisioning_survives_failover(hollow_cluster):
    c = hollow_cluster
    ld = c.leader()
    f = c.followers(ld)[0]
    k = c.kubectl(f)
    ns = "vol-failover"
    ensure_ns(f, ns)
    apply(k, sc("hp-fo", "Delete"))
    try:
        n = 12
        apply(k, *[pvc("c%02d" % i, "1Gi", cls="hp-fo") for i in range(n)], ns=ns)
        ld.kill()
        try:
            wait_for("a new leader", lambda: c.leader(servers=c.live(), timeout=30) is not None, 40)
            wait_for("every claim Bound", lambda: all(
                phase(claim(f, ns, "c%02d" % i)) == "Bound" for i in range(n)), 60)
            vols = [v for v in f.get("/api/v1/persistentvolumes").json["items"]
                    if v["spec"].get("storageClassName") == "hp-fo"]
            assert len(vols) == n, [v["metadata"]["name"] for v in vols]
            for i in range(n):
                got = claim(f, ns, "c%02d" % i)
                assert got["spec"]["volumeName"] == "pvc-" + got["metadata"]["uid"]
        finally:
            ld.restart()
            c.wait_healthy()
    finally:
        k.run("delete", "pvc", "-n", ns, "--all", ok=False)
        k.run("delete", "sc", "hp-fo", ok=False)


def test_storage_protection(hollow_cluster):
    c = hollow_cluster
    ld = c.leader()
    f = c.followers(ld)[0]
    k = c.kubectl(f)
    ns = "vol-protect"
    ensure_ns(f, ns)
    apply(k, pv("pr-1g", "1Gi", labels={"use": "protect"}))
    want = pvc("data", "1Gi", cls="")
    want["spec"]["selector"] = {"matchLabels": {"use": "protect"}}
    apply(k, want, claim_pod("user", "data"), ns=ns)
    got = wait_phase(f, ns, "data", "Bound")
    assert got["metadata"]["finalizers"] == ["kubernetes.io/pvc-protection"], got
    assert volume(f, "pr-1g")["metadata"]["finalizers"] == ["kubernetes.io/pv-protection"]
    # Both deleted while in use: only marked.
    k.run("delete", "pvc", "-n", ns, "data", "--wait=false")
    k.run("delete", "pv", "pr-1g", "--wait=false")
    time.sleep(1.5)
    got = claim(f, ns, "data")
    assert got and got["metadata"]["deletionTimestamp"], got
    assert "Terminating" in k.run("get", "pvc", "-n", ns, "data").stdout
    v = volume(f, "pr-1g")
    assert v and v["metadata"]["deletionTimestamp"] and phase(v) == "Bound", v
    # The pod goes: then the claim, then the volume.
    k.run("delete", "pod", "-n", ns, "user", "--wait=false")
    wait_for("the claim gone", lambda: claim(f, ns, "data") is None, 30)
    wait_for("the volume gone", lambda: volume(f, "pr-1g") is None, 30)
    # A namespace with a claim in use still empties and goes.
    apply(k, pvc("more", "1Gi", cls="nothing"), claim_pod("user2", "more"), ns=ns)
    k.run("delete", "namespace", ns, "--wait=false")
    wait_for("the namespace gone", lambda: get(f, "/api/v1/namespaces/" + ns) is None, 60)
