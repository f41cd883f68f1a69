/* bench_schedule_report.c — the figures of a `bosun bench schedule` run and
 * the three ways they are given: the text report (stdout), --json FILE and
 * --plot FILE.svg.
 *
 * Figures, over the measured phase's pods (the preemption preset's fill
 * pods are not measured), all from this process's monotonic clock:
 *   - the run: from the first POST sent to the last binding seen; pods/s is
 *     the pods bound over that time;
 *   - steady state: between the binding of the pod that made 10% of the
 *     bound pods and the one that made 90%, (90% - 10%) of the pods over
 *     that time: the rate without the ramp-up and the tail;
 *   - create->bound latency of each bound pod: its binding seen minus its
 *     first POST sent; nearest-rank percentiles (bench_percentile);
 *   - POST->201 latency, and creates per second;
 *   - CPU seconds of the leader (utime + stime between the first POST and
 *     the last binding; per bound pod in ms), of all servers we know the
 *     pid of, of the agents and of this process. The leader's figure is the
 *     whole process: the scheduler, and also the API, Raft and the applies
 *     that the creates and bindings cost.
 * The timeline groups pods in buckets of 1 s (down to 10 ms, so that a run
 * shorter than 20 s still has 20 of them): created (201 received) and bound pods, cumulative, and
 * the p50 and p99 latency of the pods bound in each bucket. The SVG draws
 * both as two charts with axes, ticks, grid and legends, in plain SVG 1.1
 * (no script, no external resource), readable in any browser. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tools/bench_schedule_internal.h"
#include "tools/tools.h"

/* ---- figures ---------------------------------------------------------- */


static uint32_t bsch_u32(uint64_t v) { return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v; }

static int bsch_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static double bsch_cpu_delta(const struct bsch_cpu *c)
{
    return c->pid > 0 && c->before >= 0 && c->after >= 0 ? c->after - c->before : -1;
}

static void bsch_figures_cpu(const struct bsch_run *r, struct bsch_figures *f)
{
    f->leader_cpu_s = bsch_cpu_delta(&r->leader);
    f->servers_cpu_s = -1;
    for (int i = 0; i < r->n_server_cpu; i++) {
        double d = bsch_cpu_delta(&r->server_cpu[i]);
        if (d >= 0)
            f->servers_cpu_s = (f->servers_cpu_s < 0 ? 0 : f->servers_cpu_s) + d;
    }
    f->agents_cpu_s = -1;
    for (int i = 0; i < r->n_agents; i++) {
        double d = bsch_cpu_delta(&r->agent_cpu[i]);
        if (d >= 0)
            f->agents_cpu_s = (f->agents_cpu_s < 0 ? 0 : f->agents_cpu_s) + d;
    }
    f->self_cpu_s = r->self_cpu_after > 0 ? r->self_cpu_after - r->self_cpu_before : -1;
    f->cpu_ms_per_pod = f->leader_cpu_s >= 0 && f->bound > 0
                            ? f->leader_cpu_s * 1e3 / (double)f->bound
                            : -1;
    f->sched_cpu_s = bsch_cpu_delta(&r->sched);
    f->sched_ms_per_pod = f->sched_cpu_s >= 0 && f->bound > 0
                              ? f->sched_cpu_s * 1e3 / (double)f->bound
                              : -1;
    f->ctl_cpu_s = bsch_cpu_delta(&r->ctl);
    f->ctl_ms_per_pod =
        f->ctl_cpu_s >= 0 && f->bound > 0 ? f->ctl_cpu_s * 1e3 / (double)f->bound : -1;
}

static void bsch_figures_fail(struct bsch_figures *f, int status)
{
    for (int k = 0; k < f->n_fail; k++)
        if (f->fail_status[k] == status) {
            f->fail_count[k]++;
            return;
        }
    if (f->n_fail < 8) {
        f->fail_status[f->n_fail] = status;
        f->fail_count[f->n_fail++] = 1;
    }
}

/* Steady state: between the 10% and the 90% binding. */
static void bsch_figures_steady(uint64_t *bound_at, size_t n, struct bsch_figures *f)
{
    if (n < 10)
        return;
    qsort(bound_at, n, sizeof *bound_at, bsch_cmp_u64);
    size_t lo = (size_t)ceil(0.1 * (double)n) - 1, hi = (size_t)ceil(0.9 * (double)n) - 1;
    if (hi <= lo || bound_at[hi] <= bound_at[lo])
        return;
    f->steady_seconds = (double)(bound_at[hi] - bound_at[lo]) / 1e6;
    f->steady_rate = (double)(hi - lo) / f->steady_seconds;
}

/* How many of the n sorted times are <= t. */
static size_t bsch_count_upto(const uint64_t *v, size_t n, uint64_t t)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid] <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The backlog (started, not yet bound) when half and when nine tenths of
 * the pods had started; start and bound are sorted, n_start >= 10. */
static void bsch_figures_backlog(const uint64_t *start, size_t n_start, const uint64_t *bound,
                                 size_t n_bound, struct bsch_figures *f)
{
    uint64_t half = start[n_start / 2], late = start[n_start * 9 / 10];
    f->backlog_half = (long long)bsch_count_upto(start, n_start, half) -
                      (long long)bsch_count_upto(bound, n_bound, half);
    f->backlog_late = (long long)bsch_count_upto(start, n_start, late) -
                      (long long)bsch_count_upto(bound, n_bound, late);
}

struct bsch_sample {
    int bucket;
    uint32_t us;
};

static int bsch_cmp_sample(const void *a, const void *b)
{
    const struct bsch_sample *x = a, *y = b;
    if (x->bucket != y->bucket)
        return (x->bucket > y->bucket) - (x->bucket < y->bucket);
    return (x->us > y->us) - (x->us < y->us);
}

static int bsch_bucket_of(const struct bsch_figures *f, uint64_t since_us, uint64_t bucket_us)
{
    uint64_t k = since_us / bucket_us;
    return k < (uint64_t)f->n_buckets ? (int)k : f->n_buckets - 1;
}

/* The timeline: cumulative created and bound, latency per bucket. */
static void bsch_figures_timeline(const struct bsch_run *r, const struct bsch_phase *ph,
                                  uint64_t t0, uint64_t t_end, struct bsch_figures *f)
{
    static const double sizes[] = {0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0};
    double span = (double)(t_end - t0) / 1e6;
    f->bucket_s = 1.0; /* at least 20 buckets when the run is shorter than 20 s */
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++)
        if (sizes[k] >= span / 20) {
            f->bucket_s = sizes[k];
            break;
        }
    f->n_buckets = (int)ceil(span / f->bucket_s) + 1;
    f->buckets = xcalloc((size_t)f->n_buckets, sizeof *f->buckets);
    struct bsch_sample *s = xmalloc(((size_t)ph->count + 1) * sizeof *s);
    size_t ns = 0;
    uint64_t bucket_us = (uint64_t)(f->bucket_s * 1e6);
    for (long long i = ph->first; i < ph->first + ph->count; i++) {
        const struct bsch_pod *p = &r->pods[i];
        uint64_t b = atomic_load(&p->bound_us);
        if (p->answered_us >= t0 && atomic_load(&p->status) == 201)
            f->buckets[bsch_bucket_of(f, p->answered_us - t0, bucket_us)].created++;
        uint64_t start = bsch_pod_start_us(p);
        if (b >= t0 && b > 0 && start) {
            int k = bsch_bucket_of(f, b - t0, bucket_us);
            f->buckets[k].bound++;
            s[ns++] = (struct bsch_sample){k, bsch_u32(b > start ? b - start : 0)};
        }
    }
    qsort(s, ns, sizeof *s, bsch_cmp_sample);
    uint32_t *v = xmalloc((ns + 1) * sizeof *v);
    for (size_t a = 0, z; a < ns; a = z) {
        for (z = a; z < ns && s[z].bucket == s[a].bucket; z++)
            v[z - a] = s[z].us;
        struct bsch_bucket *bk = &f->buckets[s[a].bucket];
        bk->n = (long long)(z - a);
        bk->p50 = bench_percentile(v, z - a, 50);
        bk->p99 = bench_percentile(v, z - a, 99);
    }
    for (int k = 0; k < f->n_buckets; k++) {
        f->buckets[k].t = k * f->bucket_s;
        if (k > 0) {
            f->buckets[k].created += f->buckets[k - 1].created;
            f->buckets[k].bound += f->buckets[k - 1].bound;
        }
    }
    free(v);
    free(s);
}

void bsch_figures_compute(struct bsch_run *r, struct bsch_figures *f)
{
    *f = (struct bsch_figures){.steady_rate = -1, .backlog_half = -1, .backlog_late = -1,
                               .cpu_ms_per_pod = -1, .sched_cpu_s = -1,
                               .ctl_cpu_s = -1, .ctl_ms_per_pod = -1,
                               .sched_ms_per_pod = -1};
    if (r->wl.n_phases == 0 || !r->pods)
        return;
    const struct bsch_phase *ph = &r->wl.phases[r->wl.n_phases - 1];
    size_t n = (size_t)ph->count + 1;
    uint32_t *lat = xmalloc(n * sizeof *lat), *post = xmalloc(n * sizeof *post);
    uint32_t *lag = xmalloc(n * sizeof *lag);
    uint64_t *bound_at = xmalloc(n * sizeof *bound_at), *start_at = xmalloc(n * sizeof *start_at);
    size_t nl = 0, np = 0, ng = 0, ns = 0;
    uint64_t t0 = UINT64_MAX, t_bind = 0, t_answer = 0;
    f->pods = ph->count;
    for (long long i = ph->first; i < ph->first + ph->count; i++) {
        const struct bsch_pod *p = &r->pods[i];
        uint64_t b = atomic_load(&p->bound_us);
        int status = atomic_load(&p->status);
        if (p->sent_us && p->sent_us < t0)
            t0 = p->sent_us;
        if (p->sent_us && status == 201)
            f->created++;
        else if (p->sent_us && (status != 0 || p->answered_us == 0))
            f->failed++, bsch_figures_fail(f, status);
        f->deleted += atomic_load(&p->deleted) != 0;
        if (p->due_us && p->sent_us) {
            lag[ng++] = bsch_u32(p->sent_us > p->due_us ? p->sent_us - p->due_us : 0);
            start_at[ns++] = bsch_pod_start_us(p);
        }
        if (status == 201 && p->answered_us) {
            post[np++] = bsch_u32(p->answered_us - p->sent_us);
            t_answer = p->answered_us > t_answer ? p->answered_us : t_answer;
            if (p->created_ts && (!f->first_created_ts || p->created_ts < f->first_created_ts))
                f->first_created_ts = p->created_ts;
            f->last_created_ts = p->created_ts > f->last_created_ts ? p->created_ts
                                                                     : f->last_created_ts;
        }
        uint64_t start = bsch_pod_start_us(p);
        if (b && start) {
            lat[nl] = bsch_u32(b > start ? b - start : 0);
            bound_at[nl++] = b;
            t_bind = b > t_bind ? b : t_bind;
        }
    }
    f->bound = (long long)nl;
    for (long long i = 0; i < ph->first; i++)
        f->fill_deleted += atomic_load(&r->pods[i].deleted) != 0;
    bench_lat_summarize(lat, nl, &f->lat);
    bench_lat_summarize(post, np, &f->post);
    bench_lat_summarize(lag, ng, &f->lag);
    if (t0 != UINT64_MAX && t_bind > t0) {
        f->seconds = (double)(t_bind - t0) / 1e6;
        f->rate = (double)f->bound / f->seconds;
    }
    if (t0 != UINT64_MAX && t_answer > t0) {
        f->create_seconds = (double)(t_answer - t0) / 1e6;
        f->create_rate = (double)f->created / f->create_seconds;
    }
    bsch_figures_steady(bound_at, nl, f); /* sorts bound_at */
    if (ns >= 10 && nl >= 10) {
        qsort(start_at, ns, sizeof *start_at, bsch_cmp_u64);
        bsch_figures_backlog(start_at, ns, bound_at, nl, f);
    }
    bsch_figures_cpu(r, f);
    if (t0 != UINT64_MAX) {
        uint64_t t_end = t_bind > t_answer ? t_bind : t_answer;
        bsch_figures_timeline(r, ph, t0, t_end > t0 ? t_end : t0, f);
    }
    free(lat);
    free(post);
    free(lag);
    free(bound_at);
    free(start_at);
}

void bsch_figures_free(struct bsch_figures *f)
{
    free(f->buckets);
    f->buckets = NULL;
}

/* Under --create-rate: 1 when binding kept up with creating, 0 when it
 * fell behind, -1 when unknown or not paced. Behind: the backlog grew by
 * more than 100 ms of creates between half and nine tenths of the pods
 * being due, so that the queue, and the latency, would keep growing with a
 * longer run. (A steady-state rate within 5% of the rate asked passed a
 * 150,000-pod run whose backlog grew by 2 s.) */
static int bsch_kept_pace(const struct bsch_options *o, const struct bsch_figures *f)
{
    if (o->create_rate <= 0 || f->backlog_half < 0)
        return -1;
    return (double)(f->backlog_late - f->backlog_half) <= 0.1 * o->create_rate;
}

/* ---- text ------------------------------------------------------------- */

static void bsch_print_cpu(FILE *out, const char *what, double s)
{
    if (s >= 0)
        fprintf(out, "%s %.2f s", what, s);
    else
        fprintf(out, "%s n/a", what);
}

static void bsch_print_check(FILE *out, bool first, const char *what, long long bad)
{
    fprintf(out, "  %-14s %-48s %s", first ? "checks" : "", what, bad ? "FAILED" : "ok");
    if (bad)
        fprintf(out, " (%lld)", bad);
    fputc('\n', out);
}

static void bsch_print_checks(FILE *out, const struct bsch_run *r, const struct bsch_checks *c)
{
    if (!c->ran) {
        fprintf(out, "  %-14s not run: %s\n", "checks",
                r->interrupted ? "interrupted" : "the final state could not be read");
        return;
    }
    bsch_print_check(out, true, "every pod bound", c->unbound);
    bsch_print_check(out, false, "bound once (nodeName never changed)", c->rebound);
    bsch_print_check(out, false, "the watch saw the final node", c->watch_mismatch);
    bsch_print_check(out, false, "bound to an existing node", c->missing_node);
    bsch_print_check(out, false, "no node over-committed (cpu, memory, pods)", c->overcommitted);
    bsch_print_check(out, false, "nodeSelector and required node affinity", c->selector);
    bsch_print_check(out, false, "NoSchedule/NoExecute taints tolerated", c->taints);
    bsch_print_check(out, false, "required pod anti-affinity (hostname)", c->anti_affinity);
    bsch_print_check(out, false, "topology spread within maxSkew", c->spread);
    if (c->example[0])
        fprintf(out, "  %-14s %s\n", "first failure", c->example);
}

static void bsch_print_lat(FILE *out, const char *label, const struct bench_lat *l)
{
    fprintf(out, "  %-14s p50 %.1f ms  p90 %.1f ms  p99 %.1f ms  max %.1f ms  mean %.1f ms\n",
            label, l->p50 / 1e3, l->p90 / 1e3, l->p99 / 1e3, l->max / 1e3, l->mean_us / 1e3);
}

void bsch_report_print(FILE *out, const struct bsch_run *r, const struct bsch_figures *f,
                       const struct bsch_checks *c)
{
    const struct bsch_options *o = r->o;
    char rate[32];
    snprintf(rate, sizeof rate, o->create_rate > 0 ? "%.0f/s" : "max", o->create_rate);
    fprintf(out, "bosun bench schedule: preset %s, %lld nodes, %lld pods, %d server(s), "
                 "create rate %s, %d clients, run %s\n",
            r->wl.preset, o->nodes, o->pods, r->n_servers, rate, o->clients, r->id);
    if (r->wl.skipped) {
        fprintf(out, "  skipped: the server does not serve scheduling.k8s.io/v1 priorityclasses\n");
        return;
    }
    if (r->wl.n_phases > 1)
        fprintf(out, "  %-14s %lld low-priority pods filled the nodes first (not measured); "
                     "%lld of them deleted (preempted)\n",
                "fill", r->wl.phases[0].count, f->fill_deleted);
    fprintf(out, "  %-14s %lld created, %lld bound, %lld create errors", "pods", f->created,
            f->bound, f->failed);
    for (int k = 0; k < f->n_fail; k++)
        fprintf(out, "%s%lld x %s%d", k ? ", " : " (", f->fail_count[k],
                f->fail_status[k] ? "HTTP " : "no answer ", f->fail_status[k]);
    fprintf(out, "%s%s\n", f->n_fail ? ")" : "",
            r->timed_out ? "; TIMED OUT" : r->interrupted ? "; INTERRUPTED" : "");
    fprintf(out, "  %-14s %.1f pods/s whole run (first create to last binding, %.2f s)\n",
            "throughput", f->rate, f->seconds);
    if (f->steady_rate >= 0)
        fprintf(out, "  %-14s %.1f pods/s steady state (10%% to 90%% bound, %.2f s)\n", "",
                f->steady_rate, f->steady_seconds);
    fprintf(out, "  %-14s %.1f pods/s (%.2f s); POST to 201 p50 %.1f ms p99 %.1f ms\n", "creates",
            f->create_rate, f->create_seconds, f->post.p50 / 1e3, f->post.p99 / 1e3);
    if (o->create_rate > 0) {
        fprintf(out, "  %-14s POSTs sent after their due time p50 %.1f ms p99 %.1f ms max %.1f ms"
                     " (create->bound counts from the due time)\n",
                "", f->lag.p50 / 1e3, f->lag.p99 / 1e3, f->lag.max / 1e3);
        int kept = bsch_kept_pace(o, f);
        if (kept >= 0)
            fprintf(out, "  %-14s %s: %lld pods waiting to be bound when half were due, %lld at "
                         "nine tenths%s\n",
                    "pace", kept ? "kept" : "FELL BEHIND", f->backlog_half, f->backlog_late,
                    kept ? "" : " (a longer run would queue more pods and wait longer)");
    }
    bsch_print_lat(out, "create->bound", &f->lat);
    fprintf(out, "  %-14s ", "CPU");
    char what[96];
    snprintf(what, sizeof what, "leader s%d (pid %d)", r->leader_id, (int)r->leader.pid);
    bsch_print_cpu(out, what, f->leader_cpu_s);
    if (f->cpu_ms_per_pod >= 0)
        fprintf(out, " = %.3f ms/pod", f->cpu_ms_per_pod);
    if (f->sched_ms_per_pod >= 0)
        fprintf(out, " (its scheduler thread %.2f s = %.3f ms/pod", f->sched_cpu_s,
                f->sched_ms_per_pod);
    if (f->sched_ms_per_pod >= 0 && f->ctl_ms_per_pod >= 0)
        fprintf(out, ", controllers thread %.2f s = %.3f ms/pod", f->ctl_cpu_s,
                f->ctl_ms_per_pod);
    if (f->sched_ms_per_pod >= 0)
        fputc(')', out);
    bsch_print_cpu(out, "; all servers", f->servers_cpu_s);
    bsch_print_cpu(out, "; agents", f->agents_cpu_s);
    bsch_print_cpu(out, "; this process", f->self_cpu_s);
    fputc('\n', out);
    if (r->leader_id_after && r->leader_id_after != r->leader_id)
        fprintf(out, "  %-14s the leader changed during the run (s%d to s%d): the leader CPU "
                     "figure is s%d's alone\n", "", r->leader_id, r->leader_id_after, r->leader_id);
    fprintf(out, "  %-14s %lld events, %lld reopened, %lld relists\n", "watch",
            (long long)atomic_load(&r->watch_events), (long long)atomic_load(&r->watch_reconnects),
            (long long)atomic_load(&r->watch_relists));
    bsch_print_checks(out, r, c);
    fprintf(out, "  %-14s %s\n", "result",
            bsch_checks_ok(c) && !r->timed_out && !r->interrupted && f->bound == f->created &&
                    f->failed == 0
                ? "PASS"
                : "FAIL");
}

/* ---- JSON ------------------------------------------------------------- */

static json_t *bsch_json_num(double v) { return v >= 0 ? json_real(v) : json_null(); }

static json_t *bsch_json_lat(const struct bench_lat *l)
{
    return json_pack("{s:I, s:f, s:f, s:f, s:f, s:f}", "n", (json_int_t)l->n, "p50", l->p50 / 1e3,
                     "p90", l->p90 / 1e3, "p99", l->p99 / 1e3, "max", l->max / 1e3, "mean",
                     l->mean_us / 1e3);
}

static json_t *bsch_json_checks(const struct bsch_checks *c)
{
    json_t *j = json_pack(
        "{s:b, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "ran", c->ran, "ok",
        bsch_checks_ok(c), "nodes_seen", (json_int_t)c->nodes_seen, "pods_seen",
        (json_int_t)c->pods_seen, "unbound", (json_int_t)c->unbound, "rebound",
        (json_int_t)c->rebound, "watch_mismatch", (json_int_t)c->watch_mismatch, "missing_node",
        (json_int_t)c->missing_node, "overcommitted", (json_int_t)c->overcommitted, "selector",
        (json_int_t)c->selector, "taints", (json_int_t)c->taints, "anti_affinity",
        (json_int_t)c->anti_affinity, "spread", (json_int_t)c->spread);
    json_object_set_new(j, "first_violation",
                        c->example[0] ? json_string(c->example) : json_null());
    return j;
}

static json_t *bsch_json_timeline(const struct bsch_figures *f)
{
    json_t *t = json_array(), *cr = json_array(), *bd = json_array(), *p50 = json_array(),
           *p99 = json_array();
    for (int k = 0; k < f->n_buckets; k++) {
        const struct bsch_bucket *b = &f->buckets[k];
        json_array_append_new(t, json_real(b->t));
        json_array_append_new(cr, json_integer(b->created));
        json_array_append_new(bd, json_integer(b->bound));
        json_array_append_new(p50, b->n ? json_real(b->p50 / 1e3) : json_null());
        json_array_append_new(p99, b->n ? json_real(b->p99 / 1e3) : json_null());
    }
    return json_pack("{s:f, s:o, s:o, s:o, s:o, s:o}", "bucket_s", f->bucket_s, "t", t, "created",
                     cr, "bound", bd, "p50_ms", p50, "p99_ms", p99);
}

int bsch_report_json(const char *path, const struct bsch_run *r, const struct bsch_figures *f,
                     const struct bsch_checks *c)
{
    const struct bsch_options *o = r->o;
    json_t *errs = json_object();
    for (int k = 0; k < f->n_fail; k++) {
        char key[16];
        snprintf(key, sizeof key, "%d", f->fail_status[k]);
        json_object_set_new(errs, key, json_integer(f->fail_count[k]));
    }
    json_t *j = json_pack("{s:s, s:s, s:I, s:I, s:i, s:i, s:f, s:I, s:I, s:I, s:I, s:o}",
                          "run", r->id, "preset", r->wl.preset, "nodes", (json_int_t)o->nodes,
                          "pods", (json_int_t)o->pods, "servers", r->n_servers, "clients",
                          o->clients, "create_rate", o->create_rate, "created",
                          (json_int_t)f->created, "bound", (json_int_t)f->bound, "create_errors",
                          (json_int_t)f->failed, "deleted", (json_int_t)f->deleted,
                          "errors_by_status", errs);
    json_object_set_new(j, "fill_pods",
                        json_integer(r->wl.n_phases > 1 ? r->wl.phases[0].count : 0));
    json_object_set_new(j, "fill_pods_deleted", json_integer(f->fill_deleted));
    json_object_set_new(j, "seconds", json_real(f->seconds));
    json_object_set_new(j, "pods_per_s", json_real(f->rate));
    json_object_set_new(j, "steady_pods_per_s", bsch_json_num(f->steady_rate));
    json_object_set_new(j, "steady_seconds", json_real(f->steady_seconds));
    json_object_set_new(j, "create_seconds", json_real(f->create_seconds));
    json_object_set_new(j, "create_pods_per_s", json_real(f->create_rate));
    json_object_set_new(j, "latency_ms", bsch_json_lat(&f->lat));
    json_object_set_new(j, "post_latency_ms", bsch_json_lat(&f->post));
    if (o->create_rate > 0)
        json_object_set_new(j, "send_lag_ms", bsch_json_lat(&f->lag));
    int kept = bsch_kept_pace(o, f);
    json_object_set_new(j, "kept_pace", kept < 0 ? json_null() : json_boolean(kept));
    json_object_set_new(j, "backlog_half", f->backlog_half < 0 ? json_null()
                                                             : json_integer(f->backlog_half));
    json_object_set_new(j, "backlog_late", f->backlog_late < 0 ? json_null()
                                                             : json_integer(f->backlog_late));
    json_object_set_new(j, "leader_id", json_integer(r->leader_id));
    json_object_set_new(j, "leader_id_after", json_integer(r->leader_id_after));
    json_object_set_new(j, "leader_pid", json_integer(r->leader.pid));
    json_object_set_new(j, "leader_cpu_s", bsch_json_num(f->leader_cpu_s));
    json_object_set_new(j, "scheduler_cpu_s", bsch_json_num(f->sched_cpu_s));
    json_object_set_new(j, "scheduler_ms_per_pod", bsch_json_num(f->sched_ms_per_pod));
    json_object_set_new(j, "controllers_cpu_s", bsch_json_num(f->ctl_cpu_s));
    json_object_set_new(j, "controllers_ms_per_pod", bsch_json_num(f->ctl_ms_per_pod));
    json_object_set_new(j, "cpu_ms_per_pod", bsch_json_num(f->cpu_ms_per_pod));
    json_object_set_new(j, "servers_cpu_s", bsch_json_num(f->servers_cpu_s));
    json_object_set_new(j, "agents_cpu_s", bsch_json_num(f->agents_cpu_s));
    json_object_set_new(j, "client_cpu_s", bsch_json_num(f->self_cpu_s));
    json_object_set_new(j, "first_creation_timestamp", json_integer(f->first_created_ts));
    json_object_set_new(j, "last_creation_timestamp", json_integer(f->last_created_ts));
    json_object_set_new(j, "watch",
                        json_pack("{s:I, s:I, s:I}", "events",
                                  (json_int_t)atomic_load(&r->watch_events), "reopened",
                                  (json_int_t)atomic_load(&r->watch_reconnects), "relists",
                                  (json_int_t)atomic_load(&r->watch_relists)));
    json_object_set_new(j, "timed_out", json_boolean(r->timed_out));
    json_object_set_new(j, "interrupted", json_boolean(r->interrupted));
    json_object_set_new(j, "skipped", json_boolean(r->wl.skipped));
    json_object_set_new(j, "checks", bsch_json_checks(c));
    json_object_set_new(j, "timeline", bsch_json_timeline(f));
    int rc = json_dump_file(j, path, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
    json_decref(j);
    if (rc != 0)
        bsch_say("cannot write --json %s", path);
    return rc == 0 ? 0 : -1;
}

/* ---- SVG -------------------------------------------------------------- */

enum { SVG_W = 960, SVG_H = 760, SVG_LEFT = 90, SVG_RIGHT = 930 };

/* One chart: its box on the page and the ranges of its axes. */
struct bsch_chart {
    double x0, y0, w, h;     /* the plot area, in pixels (y0 at the top) */
    double xmax, ymax;       /* the axes run from 0 */
};

static double bsch_nice_step(double range)
{
    if (range <= 0)
        return 1;
    double raw = range / 5, mag = pow(10, floor(log10(raw))), f = raw / mag;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

static double bsch_nice_max(double v)
{
    double step = bsch_nice_step(v > 0 ? v : 1);
    return ceil((v > 0 ? v : 1) / step) * step;
}

static double bsch_px(const struct bsch_chart *c, double x) { return c->x0 + x / c->xmax * c->w; }
static double bsch_py(const struct bsch_chart *c, double y)
{
    return c->y0 + c->h - y / c->ymax * c->h;
}

static void bsch_svg_axes(FILE *f, const struct bsch_chart *c, const char *title,
                          const char *ylabel)
{
    fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" class=\"h\">%s</text>\n", c->x0, c->y0 - 12, title);
    double xs = bsch_nice_step(c->xmax), ys = bsch_nice_step(c->ymax);
    for (double y = 0; y <= c->ymax + ys / 1e6; y += ys) {
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"g\"/>\n", c->x0,
                bsch_py(c, y), c->x0 + c->w, bsch_py(c, y));
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" class=\"t\" text-anchor=\"end\">%g</text>\n",
                c->x0 - 6, bsch_py(c, y) + 4, y);
    }
    for (double x = 0; x <= c->xmax + xs / 1e6; x += xs) {
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"g\"/>\n",
                bsch_px(c, x), c->y0, bsch_px(c, x), c->y0 + c->h);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" class=\"t\" text-anchor=\"middle\">%g</text>\n",
                bsch_px(c, x), c->y0 + c->h + 16, x);
    }
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" class=\"a\"/>\n",
            c->x0, c->y0, c->w, c->h);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" class=\"t\" text-anchor=\"middle\">seconds since the "
               "first create</text>\n", c->x0 + c->w / 2, c->y0 + c->h + 34);
    fprintf(f, "<text transform=\"translate(%.1f %.1f) rotate(-90)\" class=\"t\" "
               "text-anchor=\"middle\">%s</text>\n", c->x0 - 58, c->y0 + c->h / 2, ylabel);
}

/* A polyline of (t + dt, value(k)) over the buckets that have a value;
 * cumulative lines start at the origin. */
static void bsch_svg_line(FILE *f, const struct bsch_chart *c, const struct bsch_figures *fg,
                          double dt, double (*value)(const struct bsch_bucket *b), bool need_n,
                          const char *color)
{
    fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", color);
    if (!need_n)
        fprintf(f, "%.1f,%.1f ", bsch_px(c, 0), bsch_py(c, 0));
    for (int k = 0; k < fg->n_buckets; k++) {
        const struct bsch_bucket *b = &fg->buckets[k];
        if (need_n && b->n == 0)
            continue;
        double x = fmin(b->t + dt, c->xmax);
        fprintf(f, "%.1f,%.1f ", bsch_px(c, x), bsch_py(c, value(b)));
    }
    fputs("\"/>\n", f);
}

/* A legend of n entries in a white box, top left or bottom right. */
static void bsch_svg_legend(FILE *f, const struct bsch_chart *c, bool bottom_right, int n,
                            const char *const *colors, const char *const *labels)
{
    double w = 200, h = 10 + 18 * n;
    double x = bottom_right ? c->x0 + c->w - w - 10 : c->x0 + 10;
    double y = bottom_right ? c->y0 + c->h - h - 10 : c->y0 + 10;
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"white\" "
               "fill-opacity=\"0.85\" stroke=\"#bbb\"/>\n", x, y, w, h);
    for (int i = 0; i < n; i++) {
        double ly = y + 18 + 18 * i;
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                   "stroke-width=\"3\"/>\n<text x=\"%.1f\" y=\"%.1f\" class=\"t\">%s</text>\n",
                x + 8, ly - 4, x + 30, ly - 4, colors[i], x + 36, ly, labels[i]);
    }
}

static double bsch_v_created(const struct bsch_bucket *b) { return (double)b->created; }
static double bsch_v_bound(const struct bsch_bucket *b) { return (double)b->bound; }
static double bsch_v_p50(const struct bsch_bucket *b) { return b->p50 / 1e3; }
static double bsch_v_p99(const struct bsch_bucket *b) { return b->p99 / 1e3; }

int bsch_report_svg(const char *path, const struct bsch_run *r, const struct bsch_figures *fg)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        bsch_say("cannot write --plot %s", path);
        return -1;
    }
    double span = fg->n_buckets ? fg->buckets[fg->n_buckets - 1].t + fg->bucket_s : 1, lmax = 0;
    for (int k = 0; k < fg->n_buckets; k++)
        if (fg->buckets[k].n)
            lmax = fmax(lmax, fg->buckets[k].p99 / 1e3);
    struct bsch_chart top = {SVG_LEFT, 110, SVG_RIGHT - SVG_LEFT, 250, bsch_nice_max(span),
                             bsch_nice_max((double)(fg->pods > 0 ? fg->pods : 1))};
    struct bsch_chart bottom = top;
    bottom.y0 = 460;
    bottom.ymax = bsch_nice_max(lmax);
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" "
               "height=\"%d\" viewBox=\"0 0 %d %d\">\n"
               "<style>text{font-family:sans-serif;font-size:12px;fill:#222}"
               ".h{font-size:14px;font-weight:bold}.g{stroke:#ddd;stroke-width:1}"
               ".a{fill:none;stroke:#444;stroke-width:1}</style>\n"
               "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
            SVG_W, SVG_H, SVG_W, SVG_H);
    fprintf(f, "<text x=\"%d\" y=\"30\" class=\"h\">bosun bench schedule: preset %s, %lld nodes, "
               "%lld pods, %d server(s), run %s</text>\n",
            SVG_LEFT, r->wl.preset, r->o->nodes, r->o->pods, r->n_servers, r->id);
    fprintf(f, "<text x=\"%d\" y=\"52\" class=\"t\">%.0f pods/s whole run, %.0f pods/s steady; "
               "create to bound p50 %.1f ms, p99 %.1f ms, max %.1f ms; %lld of %lld bound</text>\n",
            SVG_LEFT, fg->rate, fg->steady_rate > 0 ? fg->steady_rate : 0, fg->lat.p50 / 1e3,
            fg->lat.p99 / 1e3, fg->lat.max / 1e3, fg->bound, fg->pods);
    bsch_svg_axes(f, &top, "Pods created and bound", "pods");
    bsch_svg_line(f, &top, fg, fg->bucket_s, bsch_v_created, false, "#1f77b4");
    bsch_svg_line(f, &top, fg, fg->bucket_s, bsch_v_bound, false, "#2ca02c");
    static const char *const top_colors[] = {"#1f77b4", "#2ca02c"};
    static const char *const top_labels[] = {"created (201 received)", "bound (seen in the watch)"};
    bsch_svg_legend(f, &top, true, 2, top_colors, top_labels);
    char title[128];
    snprintf(title, sizeof title, "Create to bound latency of the pods bound in each %g s",
             fg->bucket_s);
    bsch_svg_axes(f, &bottom, title, "milliseconds");
    bsch_svg_line(f, &bottom, fg, fg->bucket_s / 2, bsch_v_p50, true, "#ff7f0e");
    bsch_svg_line(f, &bottom, fg, fg->bucket_s / 2, bsch_v_p99, true, "#d62728");
    static const char *const lat_colors[] = {"#ff7f0e", "#d62728"};
    static const char *const lat_labels[] = {"p50", "p99"};
    bsch_svg_legend(f, &bottom, false, 2, lat_colors, lat_labels);
    fputs("</svg>\n", f);
    int rc = fclose(f) == 0 ? 0 : -1;
    if (rc != 0)
        bsch_say("cannot write --plot %s", path);
    return rc;
}
