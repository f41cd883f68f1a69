"""The HorizontalPodAutoscaler (controllers/autoscaler.c) and the pod
metrics behind it (agent/metrics.c, served as metrics.k8s.io), with the
real kubectl, on a 3-server cluster with 6 hollow nodes.

A Deployment of 2 pods requesting 100m cpu, each annotated
bosun.dev/hollow-cpu-usage 100m (100% of the request), under an HPA with
a 50% target, minReplicas 2, maxReplicas 5 and a scale-down stabilization
window of 0:
- `kubectl top pods` and `kubectl top nodes` show the usage, `kubectl get
  hpa` the targets ("cpu: 100%/50%");
- the HPA doubles it (ceil(2 x 100/50) = 4: SuccessfulRescale "New size:
  4"), then the leader is killed, and the new leader goes on to the
  maximum, 5 (4 pods at 100% would want 8), and stays there
  (ScalingLimited, TooManyReplicas);
- the pods' usage drops to 10m (10%): the HPA scales down at once (window
  0) to the minimum, 2 (ceil(5 x 10/50) = 1, TooFewReplicas)."""
import json
import time

from conftest import ensure_ns, wait_for

NS = "hpa"
USAGE = "bosun.dev/hollow-cpu-usage"


def deployment(name, replicas, usage):
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": NS},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {
                         "metadata": {"labels": {"app": name}, "annotations": {USAGE: usage}},
                         "spec": {"containers": [{
                             "name": "c", "image": "busybox",
                             "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}]}}}}


def hpa(name, target, lo, hi):
    return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": name, "namespace": NS},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment",
                                        "name": target},
                     "minReplicas": lo, "maxReplicas": hi,
                     "metrics": [{"type": "Resource", "resource": {
                         "name": "cpu", "target": {"type": "Utilization",
                                                   "averageUtilization": 50}}}],
                     "behavior": {"scaleDown": {"stabilizationWindowSeconds": 0}}}}


def apply(k, obj):
    k.run("apply", "-f", "-", input=json.dumps(obj))


def replicas(s, name):
    r = s.get("/apis/apps/v1/namespaces/%s/deployments/%s" % (NS, name), timeout=10)
    return r.json["spec"]["replicas"] if r.status == 200 else None


def hpa_status(s, name):
    r = s.get("/apis/autoscaling/v2/namespaces/%s/horizontalpodautoscalers/%s" % (NS, name),
              timeout=10)
    return r.json.get("status", {}) if r.status == 200 else {}


def condition(st, type_):
    return next((c for c in st.get("conditions", []) if c["type"] == type_), {})


def running_pods(s, app):
    items = s.get("/api/v1/namespaces/%s/pods?labelSelector=app%%3D%s" % (NS, app),
                  timeout=10).json.get("items", [])
    return [p for p in items if p.get("status", {}).get("phase") == "Running"
            and not p["metadata"].get("deletionTimestamp")]


def rescale_events(k):
    ev = k.json("get", "events", "-n", NS, "--field-selector", "reason=SuccessfulRescale")
    return sorted((e["message"] for e in ev["items"]))


def test_hpa_scales_on_cpu_with_failover(hollow_cluster):
    c = hollow_cluster
    ld = c.leader()
    f = c.followers(ld)[0]
    k = c.kubectl(f)
    ensure_ns(f, NS)
    apply(k, deployment("web", 2, "100m"))
    wait_for("2 running pods", lambda: len(running_pods(f, "web")) == 2, 60)
    # The agent reports each pod's usage once it has been Ready a window.
    wait_for("kubectl top pods", lambda: len([
        line for line in k.run("top", "pods", "-n", NS, ok=False).stdout.splitlines()
        if line.startswith("web-") and " 100m " in line]) == 2, 40)
    nodes = k.run("top", "nodes").stdout.splitlines()
    assert nodes[0].split()[:2] == ["NAME", "CPU(cores)"], nodes
    assert any(line.startswith("hollow-") and "200m" in line for line in nodes) or \
        sum(1 for line in nodes if line.startswith("hollow-") and " 100m " in line) == 2, nodes
    apply(k, hpa("web", "web", 2, 5))
    wait_for("the HPA to double the deployment", lambda: replicas(f, "web") == 4, 45)
    assert "New size: 4; reason: cpu resource utilization (percentage of request) above " \
        "target" in rescale_events(k), rescale_events(k)
    # The controller scales the target, then writes its status (as Kubernetes'
    # reconcileAutoscaler does): the status may come a moment after the scale.
    st = wait_for("the HPA status after the scale", lambda: (lambda st: st if st.get(
        "desiredReplicas") == 4 else None)(hpa_status(f, "web")), 20)
    assert st["desiredReplicas"] == 4 and st["currentReplicas"] == 2, st
    assert st["currentMetrics"][0]["resource"]["current"]["averageUtilization"] == 100, st
    assert condition(st, "ScalingActive")["status"] == "True", st
    out = k.run("get", "hpa", "-n", NS).stdout
    assert "cpu: 100%/50%" in out and "Deployment/web" in out, out
    # Failover: the new leader keeps scaling, to the maximum.
    ld.kill()
    try:
        wait_for("the HPA to reach its maximum", lambda: replicas(f, "web") == 5, 90)
        wait_for("ScalingLimited TooManyReplicas", lambda: condition(
            hpa_status(f, "web"), "ScalingLimited").get("reason") == "TooManyReplicas", 40)
        assert replicas(f, "web") == 5
        assert "New size: 5; reason: cpu resource utilization (percentage of request) above " \
            "target" in rescale_events(k), rescale_events(k)
    finally:
        ld.restart()
        c.wait_healthy()
    # Low usage: down to the minimum at once (stabilization window 0).
    wait_for("5 running pods", lambda: len(running_pods(f, "web")) == 5, 60)
    k.run("annotate", "pods", "-n", NS, "-l", "app=web", USAGE + "=10m", "--overwrite")
    t0 = time.time()
    wait_for("the HPA to scale down to its minimum", lambda: replicas(f, "web") == 2, 60)
    assert time.time() - t0 < 45
    st = wait_for("the HPA status after the scale", lambda: (lambda st: st if st.get(
        "desiredReplicas") == 2 else None)(hpa_status(f, "web")), 20)
    assert st["desiredReplicas"] == 2, st
    assert "New size: 2; reason: All metrics below target" in rescale_events(k)
    assert condition(st, "ScalingLimited").get("reason") == "TooFewReplicas", st
    assert st.get("lastScaleTime"), st
    k.run("delete", "hpa", "-n", NS, "web")
    k.run("delete", "deployment", "-n", NS, "web")
