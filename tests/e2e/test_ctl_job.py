"""Jobs and CronJobs on a 3-server cluster with 6 hollow nodes
(controllers/job.c, controllers/cronjob.c), driven with the real kubectl.
Pods run for bosun.dev/hollow-run-seconds and end Succeeded, or Failed with
bosun.dev/hollow-exit-code.

- A Job of 10 completions at parallelism 3: never more than 3 active pods
  (sampled all along), completes with succeeded == 10 exactly and exactly
  10 Succeeded pods, `kubectl wait --for=condition=complete` returns, no pod
  keeps the tracking finalizer.
- An Indexed Job: completedIndexes "0-4", pods named JOB-INDEX-xxxxx with
  the index annotation, label, hostname and JOB_COMPLETION_INDEX env.
- Failing pods: backoffLimit 1 ends Failed, BackoffLimitExceeded, after
  two failures 10 s apart; a podFailurePolicy FailJob rule fails at once.
- Suspend and resume: no pods while suspended, active pods deleted when
  suspended again, completes after the resume.
- ttlSecondsAfterFinished: the finished Job and its pods are deleted.
- A CronJob ("@every 2s", so the test does not wait for a minute
  boundary): creates NAME-<minutes> Jobs with the scheduled-timestamp
  annotation, lastScheduleTime and lastSuccessfulTime; the history limit
  deletes old Jobs; `kubectl create job --from=cronjob/x` works.
- A CronJob in Asia/Kolkata (+05:30) whose lastScheduleTime is set two
  hours back: its catch-up run is at the last top of a Kolkata hour (half
  past in UTC), annotated in that zone's time; an unknown zone gets the
  UnknownTimeZone Warning and no run.
- Failover: the leader is killed -9 in the middle of a 10-completion Job;
  the new leader finishes it with succeeded exactly 10, 10 Succeeded pods,
  never more than 3 active."""
import json
import threading
import time

from conftest import controller_ref, ensure_ns, wait_for

FINALIZER = "batch.kubernetes.io/job-tracking"


def job(name, completions=1, parallelism=1, run="1", exit_code=None, **spec):
    ann = {"bosun.dev/hollow-run-seconds": run}
    if exit_code is not None:
        ann["bosun.dev/hollow-exit-code"] = str(exit_code)
    body = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
            "spec": {"parallelism": parallelism,
                     "template": {"metadata": {"annotations": ann},
                                  "spec": {"restartPolicy": "Never",
                                           "containers": [{"name": "c", "image": "busybox"}]}}}}
    if completions is not None:
        body["spec"]["completions"] = completions
    body["spec"].update(spec)
    return body


def apply(k, ns, obj):
    k.run("-n", ns, "apply", "-f", "-", input=json.dumps(obj))


def get_job(s, ns, name):
    r = s.get("/apis/batch/v1/namespaces/%s/jobs/%s" % (ns, name), timeout=10)
    return r.json if r.status == 200 else None


def job_pods(s, ns, name):
    r = s.get("/api/v1/namespaces/%s/pods?labelSelector=batch.kubernetes.io/job-name%%3D%s"
              % (ns, name), timeout=10)
    assert r.status == 200, r.text
    return r.json.get("items", [])


def active(p):
    return (p.get("status", {}).get("phase") not in ("Succeeded", "Failed")
            and not p["metadata"].get("deletionTimestamp"))


def cond(obj, type_):
    for c in (obj or {}).get("status", {}).get("conditions", []):
        if c["type"] == type_:
            return c
    return None


def is_true(obj, type_):
    c = cond(obj, type_)
    return bool(c and c["status"] == "True")


class Sampler:
    """Counts a Job's active pods on one server every 100 ms, in a thread,
    and remembers the most seen at once (from the pods and from the Job's
    status.active), and the most Succeeded pods."""

    def __init__(self, servers, ns, name):
        self.servers, self.ns, self.name = servers, ns, name
        self.max_active = self.max_status_active = self.max_succeeded = self.samples = 0
        self.stop = threading.Event()
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        while not self.stop.is_set():
            for s in self.servers():
                try:
                    pods = job_pods(s, self.ns, self.name)
                    j = get_job(s, self.ns, self.name)
                except Exception:
                    continue
                self.max_active = max(self.max_active, sum(1 for p in pods if active(p)))
                self.max_succeeded = max(self.max_succeeded, sum(
                    1 for p in pods if p.get("status", {}).get("phase") == "Succeeded"))
                if j:
                    self.max_status_active = max(self.max_status_active,
                                                 j.get("status", {}).get("active", 0))
                self.samples += 1
                break
            time.sleep(0.1)

    def done(self):
        self.stop.set()
        self.t.join(10)


def state(s, ns, name):
    """What a failure message shows: the Job's status and its pods."""
    pods = ["%s %s %s%s %s" % (p["metadata"]["name"], p["metadata"]["creationTimestamp"],
                               p["status"].get("phase"),
                               " deleted" if p["metadata"].get("deletionTimestamp") else "",
                               p["metadata"].get("finalizers"))
            for p in job_pods(s, ns, name)]
    evs = s.get("/api/v1/namespaces/%s/events" % ns, timeout=10).json.get("items", [])
    events = ["%s %s %s" % (e.get("lastTimestamp"), e.get("reason"), e.get("message"))
              for e in evs]
    return json.dumps({"status": (get_job(s, ns, name) or {}).get("status"), "pods": pods,
                       "events": sorted(events)}, indent=1)


def check_complete(s, ns, name, completions):
    j = get_job(s, ns, name)
    st = j["status"]
    assert st.get("succeeded") == completions, st
    assert not st.get("failed"), st
    assert is_true(j, "Complete") and is_true(j, "SuccessCriteriaMet"), st
    assert cond(j, "Complete")["reason"] == "CompletionsReached", st
    assert st.get("completionTime") and st.get("startTime"), st
    assert not st.get("uncountedTerminatedPods", {}).get("succeeded"), st
    assert not st.get("active"), st
    pods = job_pods(s, ns, name)
    succeeded = [p for p in pods if p["status"].get("phase") == "Succeeded"]
    assert len(succeeded) == completions, [p["metadata"]["name"] for p in pods]
    assert not any(FINALIZER in p["metadata"].get("finalizers", []) for p in pods)
    return j


def test_job_completions_parallelism(hollow_cluster):
    c = hollow_cluster
    ld = c.leader()
    f = c.followers(ld)[0]
    ns = "job-par"
    ensure_ns(f, ns)
    k = c.kubectl(f)
    apply(k, ns, job("par", completions=10, parallelism=3, run="1"))
    j = get_job(f, ns, "par")
    # the server generates the selector and the template's labels
    uid = j["metadata"]["uid"]
    assert j["spec"]["selector"]["matchLabels"] == {"batch.kubernetes.io/controller-uid": uid}
    labels = j["spec"]["template"]["metadata"]["labels"]
    assert labels["job-name"] == "par" and labels["controller-uid"] == uid, labels
    samp = Sampler(lambda: [f], ns, "par")
    try:
        k.run("-n", ns, "wait", "--for=condition=complete", "job/par", "--timeout=90s",
              timeout=100)
    finally:
        samp.done()
    check_complete(f, ns, "par", 10)
    assert samp.samples > 10
    assert samp.max_active <= 3, samp.max_active
    assert samp.max_status_active <= 3, samp.max_status_active
    assert samp.max_active == 3  # it did run 3 at a time
    pod = job_pods(f, ns, "par")[0]
    assert pod["metadata"]["generateName"] == "par-"
    ref = pod["metadata"]["ownerReferences"][0]
    assert ref["kind"] == "Job" and ref["uid"] == uid and ref["controller"] is True
    out = k.run("-n", ns, "get", "job", "par").stdout
    assert "10/10" in out, out
    out = k.run("-n", ns, "describe", "job", "par").stdout
    assert "0 Active (0 Ready) / 10 Succeeded / 0 Failed" in out, out
    events = k.run("-n", ns, "get", "events", "--field-selector",
                   "involvedObject.name=par").stdout
    assert "SuccessfulCreate" in events and "Completed" in events, events


def test_indexed_job(hollow_cluster):
    c = hollow_cluster
    s = c.leader()
    ns = "job-idx"
    ensure_ns(s, ns)
    k = c.kubectl(s)
    apply(k, ns, job("idx", completions=5, parallelism=5, run="1", completionMode="Indexed"))
    k.run("-n", ns, "wait", "--for=condition=complete", "job/idx", "--timeout=60s", timeout=70)
    j = check_complete(s, ns, "idx", 5)
    assert j["status"]["completedIndexes"] == "0-4", j["status"]
    pods = job_pods(s, ns, "idx")
    seen = set()
    for p in pods:
        ix = p["metadata"]["annotations"]["batch.kubernetes.io/job-completion-index"]
        assert p["metadata"]["labels"]["batch.kubernetes.io/job-completion-index"] == ix
        assert p["metadata"]["name"].startswith("idx-%s-" % ix), p["metadata"]["name"]
        assert p["spec"]["hostname"] == "idx-%s" % ix
        env = p["spec"]["containers"][0]["env"]
        assert env[0]["name"] == "JOB_COMPLETION_INDEX"
        assert "job-completion-index" in env[0]["valueFrom"]["fieldRef"]["fieldPath"]
        seen.add(int(ix))
    assert seen == set(range(5))


def test_failing_pods(hollow_cluster):
    c = hollow_cluster
    ld = c.leader()
    f = c.followers(ld)[-1]
    ns = "job-fail"
    ensure_ns(f, ns)
    k = c.kubectl(f)
    apply(k, ns, job("backoff", run="0.5", exit_code=3, backoffLimit=1))
    apply(k, ns, job("policy", run="0.5", exit_code=42, backoffLimit=6,
                     podFailurePolicy={"rules": [
                         {"action": "FailJob",
                          "onExitCodes": {"operator": "In", "values": [42]}}]}))
    k.run("-n", ns, "wait", "--for=condition=failed", "job/policy", "--timeout=40s", timeout=50)
    j = get_job(f, ns, "policy")
    assert cond(j, "Failed")["reason"] == "PodFailurePolicy", j["status"]
    assert "failed with exit code 42 matching FailJob rule at index 0" in \
        cond(j, "Failed")["message"]
    assert is_true(j, "FailureTarget")
    assert j["status"].get("failed") == 1, j["status"]
    t0 = time.time()
    k.run("-n", ns, "wait", "--for=condition=failed", "job/backoff", "--timeout=60s",
          timeout=70)
    j = get_job(f, ns, "backoff")
    st = j["status"]
    assert cond(j, "Failed")["reason"] == "BackoffLimitExceeded", st
    assert cond(j, "Failed")["message"] == "Job has reached the specified backoff limit"
    assert st.get("failed") == 2 and not st.get("succeeded"), st
    pods = job_pods(f, ns, "backoff")
    assert len(pods) == 2, [p["metadata"]["name"] for p in pods]
    term = pods[0]["status"]["containerStatuses"][0]["state"]["terminated"]
    assert term["exitCode"] == 3 and term["reason"] == "Error", term
    # the second pod came only after the 10 s backoff
    starts = sorted(p["metadata"]["creationTimestamp"] for p in pods)
    gap = time.mktime(time.strptime(starts[1], "%Y-%m-%dT%H:%M:%SZ")) - \
        time.mktime(time.strptime(starts[0], "%Y-%m-%dT%H:%M:%SZ"))
    assert gap >= 9, (starts, time.time() - t0)
    assert not any(FINALIZER in p["metadata"].get("finalizers", []) for p in pods)


def test_suspend_resume(hollow_cluster):
    c = hollow_cluster
    s = c.leader()
    ns = "job-suspend"
    ensure_ns(s, ns)
    k = c.kubectl(c.followers(s)[0])
    apply(k, ns, job("sus", completions=2, parallelism=2, run="4", suspend=True))
    wait_for("the Suspended condition", lambda: is_true(get_job(s, ns, "sus"), "Suspended"), 20)
    j = get_job(s, ns, "sus")
    assert cond(j, "Suspended")["reason"] == "JobSuspended"
    assert not j["status"].get("startTime") and not job_pods(s, ns, "sus")
    k.run("-n", ns, "patch", "job", "sus", "-p", '{"spec":{"suspend":false}}')
    wait_for("two active pods", lambda: get_job(s, ns, "sus")["status"].get("active") == 2, 20)
    j = get_job(s, ns, "sus")
    assert cond(j, "Suspended")["status"] == "False" and j["status"].get("startTime")
    k.run("-n", ns, "patch", "job", "sus", "-p", '{"spec":{"suspend":true}}')
    wait_for("the pods to go", lambda: not any(active(p) for p in job_pods(s, ns, "sus"))
             and not get_job(s, ns, "sus")["status"].get("active"), 20)
    j = get_job(s, ns, "sus")
    assert is_true(j, "Suspended") and not j["status"].get("failed"), j["status"]
    k.run("-n", ns, "patch", "job", "sus", "-p", '{"spec":{"suspend":false}}')
    k.run("-n", ns, "wait", "--for=condition=complete", "job/sus", "--timeout=40s", timeout=50)
    check_complete(s, ns, "sus", 2)


def test_ttl_after_finished(hollow_cluster):
    c = hollow_cluster
    s = c.leader()
    ns = "job-ttl"
    ensure_ns(s, ns)
    k = c.kubectl(s)
    apply(k, ns, job("ttl", run="0.5", ttlSecondsAfterFinished=2))
    wait_for("the job to complete", lambda: is_true(get_job(s, ns, "ttl"), "Complete"), 30)
    done = time.time()
    wait_for("the job to be deleted", lambda: get_job(s, ns, "ttl") is None, 30)
    assert time.time() - done >= 1.0
    wait_for("its pods to be deleted", lambda: not job_pods(s, ns, "ttl"), 30)


def cronjob(name, schedule, **spec):
    body = {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": name},
            "spec": {"schedule": schedule,
                     "jobTemplate": {"spec": job("x", run="0.5")["spec"]}}}
    body["spec"].update(spec)
    return body


def cron_jobs(s, ns, uid):
    items = s.get("/apis/batch/v1/namespaces/%s/jobs" % ns, timeout=10).json.get("items", [])
    return [j for j in items
            if any(r["uid"] == uid for r in j["metadata"].get("ownerReferences", []))]


def test_cronjob(hollow_cluster):
    c = hollow_cluster
    s = c.leader()
    ns = "cron"
    ensure_ns(s, ns)
    k = c.kubectl(c.followers(s)[0])
    apply(k, ns, cronjob("every", "@every 2s", successfulJobsHistoryLimit=1,
                         concurrencyPolicy="Forbid"))
    cj = s.get("/apis/batch/v1/namespaces/%s/cronjobs/every" % ns).json
    uid = cj["metadata"]["uid"]
    wait_for("a run", lambda: cron_jobs(s, ns, uid), 30)
    first = cron_jobs(s, ns, uid)[0]
    ann = first["metadata"]["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"]
    minutes = int(time.mktime(time.strptime(ann, "%Y-%m-%dT%H:%M:%SZ")) - time.timezone) // 60
    assert first["metadata"]["name"] == "every-%d" % minutes, (first["metadata"]["name"], ann)

    def succeeded():
        st = s.get("/apis/batch/v1/namespaces/%s/cronjobs/every" % ns).json.get("status", {})
        return st if st.get("lastSuccessfulTime") and st.get("lastScheduleTime") else None
    st = wait_for("lastSuccessfulTime", succeeded, 40)
    k.run("-n", ns, "patch", "cronjob", "every", "-p", '{"spec":{"suspend":true}}')
    # a manual run from the CronJob's template
    k.run("-n", ns, "create", "job", "manual", "--from=cronjob/every")
    m = get_job(s, ns, "manual")
    assert m["metadata"]["ownerReferences"][0]["uid"] == uid
    assert m["metadata"]["annotations"]["cronjob.kubernetes.io/instantiate"] == "manual"
    k.run("-n", ns, "wait", "--for=condition=complete", "job/manual", "--timeout=30s",
          timeout=40)
    # the history limit leaves one successful Job
    wait_for("one successful job left", lambda: sum(
        1 for j in cron_jobs(s, ns, uid) if is_true(j, "Complete")) == 1, 30)
    names = [j["metadata"]["name"] for j in cron_jobs(s, ns, uid)]
    assert len(names) == len(set(names))
    assert st["lastScheduleTime"]


def test_cronjob_time_zone(hollow_cluster):
    c = hollow_cluster
    s = c.leader()
    ns = "cron-tz"
    ensure_ns(s, ns)
    k = c.kubectl(c.followers(s)[0])
    apply(k, ns, cronjob("kol", "0 * * * *", timeZone="Asia/Kolkata"))
    # A zone this machine does not have is refused, as validateTimeZone's
    # time.LoadLocation refuses it; nothing is written.
    r = k.run("-n", ns, "apply", "-f", "-", ok=False,
              input=json.dumps(cronjob("mars", "* * * * *", timeZone="Mars/Olympus_Mons")))
    assert r.returncode != 0 and 'spec.timeZone: Invalid value: "Mars/Olympus_Mons": unknown ' \
        "time zone Mars/Olympus_Mons" in r.stderr, r.stderr
    assert s.get("/apis/batch/v1/namespaces/%s/cronjobs/mars" % ns).status == 404
    path = "/apis/batch/v1/namespaces/%s/cronjobs/kol" % ns
    # Two hours back: the controller catches up with the latest run time.
    back = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 7200))
    for _ in range(20):
        cj = s.get(path).json
        cj.setdefault("status", {})["lastScheduleTime"] = back
        r = s.req("PUT", path + "/status", cj)
        if r.status == 200:
            break
        assert r.status == 409, r
    uid = cj["metadata"]["uid"]
    job = wait_for("the catch-up run", lambda: (cron_jobs(s, ns, uid) or [None])[0], 30)
    t = int(job["metadata"]["name"].rsplit("-", 1)[1]) * 60
    assert (t + 19800) % 3600 == 0, job["metadata"]["name"]  # a top of the hour in Kolkata
    assert time.time() - 3600 < t <= time.time(), job["metadata"]["name"]
    ann = job["metadata"]["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"]
    assert ann == time.strftime("%Y-%m-%dT%H:%M:%S+05:30", time.gmtime(t + 19800)), ann


def test_job_survives_leader_failover(hollow_cluster):
    c = hollow_cluster
    ld = c.leader()
    survivors = c.followers(ld)
    ns = "job-failover"
    ensure_ns(ld, ns)
    k = c.kubectl(survivors[0])
    apply(k, ns, job("fo", completions=10, parallelism=3, run="2"))
    samp = Sampler(lambda: survivors, ns, "fo")
    try:
        wait_for("some completions", lambda: 2 <= sum(
            1 for p in job_pods(survivors[0], ns, "fo")
            if p["status"].get("phase") == "Succeeded"), 40)
        ld.kill()
        new = c.leader(servers=c.live())
        assert new is not ld
        r = k.run("-n", ns, "wait", "--for=condition=complete", "job/fo", "--timeout=60s",
                  timeout=70, ok=False)
        assert r.returncode == 0, state(survivors[0], ns, "fo")
    finally:
        samp.done()
        ld.start()
        c.wait_healthy()
    check_complete(survivors[0], ns, "fo", 10)
    assert samp.max_active <= 3, samp.max_active
    assert samp.max_status_active <= 3, samp.max_status_active
    assert samp.max_succeeded <= 10, samp.max_succeeded


def test_job_adopts_orphan_and_releases_relabelled_pod(hollow_cluster):
    """getPodsForJob: an orphan pod that the Job's (manual) selector
    matches is adopted, with the tracking finalizer, and is its active pod:
    no other is made while it runs. Relabelled out of the selector it is
    released, finalizer removed, and the Job makes a pod of its own, which
    completes it."""
    c = hollow_cluster
    ld = c.leader()
    ns = "job-adopt"
    ensure_ns(ld, ns)
    labels = {"app": "adopt-job"}
    pods_path = "/api/v1/namespaces/%s/pods" % ns
    orphan = {"apiVersion": "v1", "kind": "Pod",
              "metadata": {"name": "stray", "labels": labels,
                           "annotations": {"bosun.dev/hollow-run-seconds": "60"}},
              "spec": {"restartPolicy": "Never",
                       "containers": [{"name": "c", "image": "busybox"}]}}
    r = ld.req("POST", pods_path, orphan)
    assert r.status == 201, r
    body = job("adopter", completions=1, run="1", manualSelector=True,
               selector={"matchLabels": labels})
    body["spec"]["template"]["metadata"]["labels"] = labels
    r = ld.req("POST", "/apis/batch/v1/namespaces/%s/jobs" % ns, body)
    assert r.status == 201, r
    uid = r.json["metadata"]["uid"]

    def adopted():
        p = ld.get(pods_path + "/stray").json
        ref = controller_ref(p)
        return ref if ref and ref["uid"] == uid and FINALIZER in p["metadata"].get(
            "finalizers", []) else None
    ref = wait_for("the orphan adopted with the finalizer", adopted, 15)
    assert ref == {"apiVersion": "batch/v1", "kind": "Job", "name": "adopter", "uid": uid,
                   "controller": True, "blockOwnerDeletion": True}, ref
    wait_for("status.active 1", lambda: (get_job(ld, ns, "adopter")["status"].get("active")
                                         == 1), 10)
    time.sleep(1)  # a sync or two more: nothing is added beside it
    assert [p["metadata"]["name"] for p in ld.get(pods_path).json["items"]] == ["stray"]

    r = ld.req("PATCH", pods_path + "/stray", {"metadata": {"labels": {"app": "gone"}}},
               headers={"Content-Type": "application/merge-patch+json"})
    assert r.status == 200, r
    wait_for("the Job complete with a pod of its own",
             lambda: is_true(get_job(ld, ns, "adopter"), "Complete"), 20)
    items = {p["metadata"]["name"]: p for p in ld.get(pods_path).json["items"]}
    stray = items.pop("stray")
    assert not controller_ref(stray), stray["metadata"]
    assert FINALIZER not in stray["metadata"].get("finalizers", []), stray["metadata"]
    assert [controller_ref(p)["uid"] for p in items.values()] == [uid], items.keys()
    assert get_job(ld, ns, "adopter")["status"].get("succeeded") == 1
    r = ld.req("DELETE", pods_path + "/stray")
    assert r.status in (200, 202), r
