/* chaos_report.c — what a `bosun chaos` run shows: the figures printed with
 * the verdict, and DIR/report.html.
 *
 * Unavailability. For each fault, the time from its reference point to the
 * completion of the first ok write (create, update or delete) invoked at or
 * after that point. The reference is the moment a majority could talk
 * again; every fault the runner injects leaves a connected majority (one
 * server killed, paused or isolated, a minority split off, a ring whose
 * every node reaches a majority), so it is the fault's start: the figure is
 * how long the cluster took to accept writes again, e.g. to elect a new
 * leader after the old one was killed. Figures are grouped by kind, with the
 * faults aimed at the leader apart from the others. With watch.jsonl, each
 * server's watch figures follow (events, bookmarks, reconnects, 410s); the
 * watch verdict is in the checker's text.
 *
 * report.html is one self-contained file (inline SVG and CSS, no script, no
 * external resource): the verdict and figures, then a timeline whose x axis
 * is seconds since the first operation: fault bands (one colour per kind,
 * labelled), a strip of leader terms (one colour per leader), and every
 * operation as a dot at (invoke, latency) on a log scale, coloured by result;
 * unknown results (no answer) sit in a lane above the plot. Runs with many
 * operations draw every k-th so the file stays small. */
#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tools/chaos_internal.h"

enum {
    REP_W = 1100, /* the SVG's size and margins */
    REP_LEFT = 60,
    REP_RIGHT = 20,
    REP_TOP = 20,
    REP_TERMS_H = 18,
    REP_UNKNOWN_H = 16,
    REP_PLOT_H = 300,
    REP_BOTTOM = 40,
    REP_MAX_DOTS = 40000,
};

static bool rep_is_write(enum chaos_fn fn)
{
    return fn == CHAOS_CREATE || fn == CHAOS_UPDATE || fn == CHAOS_DELETE;
}

int64_t chaos_fault_unavailability(const struct chaos_history *h, const struct chaos_fault *f)
{
    int64_t ref = f->start, best = -1;
    for (size_t i = 0; i < h->n; i++) {
        const struct chaos_op *op = &h->ops[i];
        if (op->result != CHAOS_OK || !rep_is_write(op->fn) || op->invoke < ref)
            continue;
        if (best < 0 || op->complete < best)
            best = op->complete;
    }
    return best < 0 ? -1 : best - ref;
}

/* ---------------------------------------------------------------- figures */

/* The group a fault's figure belongs to: its kind, and leader or not. */
static int rep_group(const struct chaos_fault *f)
{
    return (int)f->kind * 2 + (f->leader ? 1 : 0);
}

static void rep_group_name(int g, char *buf, size_t len)
{
    enum chaos_fault_kind k = (enum chaos_fault_kind)(g / 2);
    const char *whom = g % 2 ? "the leader" : "a follower";
    if (k == CHAOS_F_PARTITION_LEADER)
        snprintf(buf, len, "isolate the leader");
    else if (k == CHAOS_F_PARTITION)
        snprintf(buf, len, "partition%s", g % 2 ? " (leader in the minority)" : "");
    else if (k == CHAOS_F_DISK)
        snprintf(buf, len, "slow or full disk, %s", whom);
    else if (k == CHAOS_F_MEMBERSHIP)
        snprintf(buf, len, "remove and add back %s", whom);
    else if (k == CHAOS_F_TRANSFER)
        snprintf(buf, len, "transfer leadership");
    else
        snprintf(buf, len, "%s %s", k == CHAOS_F_KILL ? "kill" : "pause", whom);
}

static int rep_cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void rep_group_figures(const struct chaos_run_record *r, const int64_t *un, struct ubuf *out)
{
    int64_t *v = xcalloc((size_t)r->nfaults + 1, sizeof *v);
    for (int g = 0; g < 2 * CHAOS_NFAULTKIND; g++) {
        int n = 0, never = 0;
        for (int i = 0; i < r->nfaults; i++)
            if (rep_group(&r->faults[i]) == g) {
                if (un[i] >= 0)
                    v[n++] = un[i];
                else
                    never++;
            }
        if (n + never == 0)
            continue;
        char name[64];
        rep_group_name(g, name, sizeof name);
        ubuf_appendf(out, "  %-34s %3d", name, n + never);
        if (n > 0) {
            qsort(v, (size_t)n, sizeof *v, rep_cmp_i64);
            int p99 = (int)ceil(0.99 * n) - 1;
            ubuf_appendf(out, "   median %.3f s  p99 %.3f s  max %.3f s", (double)v[(n - 1) / 2] / 1e9,
                         (double)v[p99 < 0 ? 0 : p99] / 1e9, (double)v[n - 1] / 1e9);
        }
        if (never)
            ubuf_appendf(out, "   %d without any ok write after it", never);
        ubuf_appendf(out, "\n");
    }
    free(v);
}

void chaos_figures(const struct chaos_run_record *r, struct ubuf *out)
{
    const struct chaos_history *h = r->h;
    long long by[CHAOS_NFN][CHAOS_NRESULT] = {{0}}, res[CHAOS_NRESULT] = {0};
    for (size_t i = 0; i < h->n; i++) {
        by[h->ops[i].fn][h->ops[i].result]++;
        res[h->ops[i].result]++;
    }
    double secs = (double)(h->t_end - h->t0) / 1e9;
    ubuf_appendf(out, "operations: %zu in %.1f s (%.0f/s): ok %lld, fail %lld, unknown %lld\n",
                 h->n, secs, secs > 0 ? (double)h->n / secs : 0.0, res[CHAOS_OK], res[CHAOS_FAIL],
                 res[CHAOS_UNKNOWN]);
    ubuf_appendf(out, "  ok writes %lld (create %lld, update %lld, delete %lld), ok reads %lld\n",
                 by[CHAOS_CREATE][CHAOS_OK] + by[CHAOS_UPDATE][CHAOS_OK] + by[CHAOS_DELETE][CHAOS_OK],
                 by[CHAOS_CREATE][CHAOS_OK], by[CHAOS_UPDATE][CHAOS_OK],
                 by[CHAOS_DELETE][CHAOS_OK], by[CHAOS_GET][CHAOS_OK]);
    int kinds[CHAOS_NFAULTKIND] = {0};
    for (int i = 0; i < r->nfaults; i++)
        kinds[r->faults[i].kind]++;
    ubuf_appendf(out, "faults: %d", r->nfaults);
    for (int k = 0; k < CHAOS_NFAULTKIND; k++)
        if (kinds[k])
            ubuf_appendf(out, "  %s %d", chaos_fault_kind_name((enum chaos_fault_kind)k), kinds[k]);
    ubuf_appendf(out, "\nunavailability (fault start to the first ok write invoked after it):\n");
    int64_t *un = xcalloc((size_t)r->nfaults + 1, sizeof *un);
    for (int i = 0; i < r->nfaults; i++) {
        const struct chaos_fault *f = &r->faults[i];
        un[i] = chaos_fault_unavailability(h, f);
        char at[32], u[32];
        chaos_time_fmt(h, f->start, at, sizeof at);
        if (un[i] >= 0)
            snprintf(u, sizeof u, "%.3f s", (double)un[i] / 1e9);
        else
            snprintf(u, sizeof u, "never");
        ubuf_appendf(out, "  %8s s  %-44s %5.1f s long   %s\n", at, f->what,
                     (double)(f->end - f->start) / 1e9, u);
    }
    if (r->nfaults)
        ubuf_appendf(out, "by kind:\n");
    rep_group_figures(r, un, out);
    free(un);
    if (h->watch) {
        ubuf_appendf(out, "watch streams (one watcher per server, watch.jsonl):\n");
        chaos_watch_figures(h->watch, out);
    }
}

/* ---------------------------------------------------------------- HTML */

static void rep_escape(struct ubuf *out, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '<')
            ubuf_appendf(out, "&lt;");
        else if (*s == '>')
            ubuf_appendf(out, "&gt;");
        else if (*s == '&')
            ubuf_appendf(out, "&amp;");
        else if (*s == '"')
            ubuf_appendf(out, "&quot;");
        else
            ubuf_append(out, s, 1);
    }
}

static const char *const rep_fault_colour[CHAOS_NFAULTKIND] = {"#e45756", "#f2b134", "#4c78a8",
                                                                "#9d6fb0", "#8c6d31", "#17becf",
                                                                "#e377c2"};
static const char *const rep_leader_colour[] = {"#bbbbbb", "#1b9e77", "#d95f02", "#7570b3",
                                                "#e7298a", "#66a61e", "#e6ab02", "#a6761d"};
static const char *const rep_result_colour[CHAOS_NRESULT] = {"#2ca02c", "#1f77b4", "#d62728"};

struct rep_axes {
    int64_t t0, t1;
    int plot_top, plot_bottom;
    double lat_min_ms, lat_max_ms;
};

static double rep_x(const struct rep_axes *a, int64_t t)
{
    double span = (double)(a->t1 - a->t0);
    double f = span > 0 ? (double)(t - a->t0) / span : 0;
    f = f < 0 ? 0 : f > 1 ? 1 : f;
    return REP_LEFT + f * (REP_W - REP_LEFT - REP_RIGHT);
}

static double rep_y(const struct rep_axes *a, double ms)
{
    double lo = log10(a->lat_min_ms), hi = log10(a->lat_max_ms);
    double v = log10(ms < a->lat_min_ms ? a->lat_min_ms : ms > a->lat_max_ms ? a->lat_max_ms : ms);
    return a->plot_bottom - (v - lo) / (hi - lo) * (a->plot_bottom - a->plot_top);
}

static void rep_svg_faults(const struct chaos_run_record *r, const struct rep_axes *a,
                           struct ubuf *out)
{
    for (int i = 0; i < r->nfaults; i++) {
        const struct chaos_fault *f = &r->faults[i];
        double x0 = rep_x(a, f->start), x1 = rep_x(a, f->end ? f->end : a->t1);
        ubuf_appendf(out,
                     "<rect x='%.1f' y='%d' width='%.1f' height='%d' fill='%s' opacity='0.18'>"
                     "<title>",
                     x0, REP_TOP, x1 - x0 < 1 ? 1 : x1 - x0, a->plot_bottom - REP_TOP,
                     rep_fault_colour[f->kind]);
        rep_escape(out, f->what);
        ubuf_appendf(out, "</title></rect>\n<text x='%.1f' y='%d' font-size='9' fill='%s' "
                          "transform='rotate(90 %.1f %d)'>",
                     x0 + 2, a->plot_top + 4, rep_fault_colour[f->kind], x0 + 2, a->plot_top + 4);
        rep_escape(out, f->what);
        ubuf_appendf(out, "</text>\n");
    }
}

static void rep_svg_terms(const struct chaos_run_record *r, const struct rep_axes *a,
                          struct ubuf *out)
{
    int y = REP_TOP;
    for (int i = 0; i < r->nterms; i++) {
        const struct chaos_term *t = &r->terms[i];
        int64_t end = i + 1 < r->nterms ? r->terms[i + 1].t : a->t1;
        if (end < a->t0)
            continue;
        double x0 = rep_x(a, t->t), x1 = rep_x(a, end);
        int ci = t->leader > 0 ? 1 + (t->leader - 1) % 7 : 0;
        ubuf_appendf(out,
                     "<rect x='%.1f' y='%d' width='%.1f' height='%d' fill='%s'><title>%s%d, "
                     "term %" PRIu64 "</title></rect>\n",
                     x0, y, x1 - x0 < 0.5 ? 0.5 : x1 - x0, REP_TERMS_H, rep_leader_colour[ci],
                     t->leader > 0 ? "leader s" : "no leader ", t->leader, t->term);
        if (t->leader > 0 && x1 - x0 > 40)
            ubuf_appendf(out,
                         "<text x='%.1f' y='%d' font-size='10' fill='white'>s%d term %" PRIu64
                         "</text>\n",
                         x0 + 3, y + 13, t->leader, t->term);
    }
}

static void rep_svg_dots(const struct chaos_run_record *r, const struct rep_axes *a,
                         struct ubuf *out)
{
    const struct chaos_history *h = r->h;
    size_t step = h->n > REP_MAX_DOTS ? (h->n + REP_MAX_DOTS - 1) / REP_MAX_DOTS : 1;
    int unknown_y = a->plot_top - REP_UNKNOWN_H / 2;
    for (int res = 0; res < CHAOS_NRESULT; res++) {
        ubuf_appendf(out, "<g fill='%s' opacity='0.6'>\n", rep_result_colour[res]);
        for (size_t i = 0; i < h->n; i += step) {
            const struct chaos_op *op = &h->ops[i];
            if ((int)op->result != res)
                continue;
            double x = rep_x(a, op->invoke);
            if (op->result == CHAOS_UNKNOWN) {
                ubuf_appendf(out, "<rect x='%.1f' y='%d' width='2' height='6'/>\n", x - 1,
                             unknown_y - 3);
                continue;
            }
            double ms = (double)(op->complete - op->invoke) / 1e6;
            ubuf_appendf(out, "<circle cx='%.1f' cy='%.1f' r='1.4'/>\n", x, rep_y(a, ms));
        }
        ubuf_appendf(out, "</g>\n");
    }
}

static void rep_svg_axes(const struct rep_axes *a, struct ubuf *out)
{
    ubuf_appendf(out, "<g stroke='#999' stroke-width='0.5' font-size='10' fill='#444'>\n");
    for (double ms = a->lat_min_ms; ms <= a->lat_max_ms * 1.001; ms *= 10) {
        double y = rep_y(a, ms);
        ubuf_appendf(out, "<line x1='%d' x2='%d' y1='%.1f' y2='%.1f'/>", REP_LEFT,
                     REP_W - REP_RIGHT, y, y);
        ubuf_appendf(out, "<text x='%d' y='%.1f' stroke='none' text-anchor='end'>%g ms</text>\n",
                     REP_LEFT - 4, y + 3, ms);
    }
    double secs = (double)(a->t1 - a->t0) / 1e9;
    double tick = secs <= 30 ? 2 : secs <= 120 ? 10 : secs <= 900 ? 60 : 300;
    for (double s = 0; s <= secs; s += tick) {
        double x = rep_x(a, a->t0 + (int64_t)(s * 1e9));
        ubuf_appendf(out, "<line x1='%.1f' x2='%.1f' y1='%d' y2='%d'/>", x, x, a->plot_bottom,
                     a->plot_bottom + 4);
        ubuf_appendf(out, "<text x='%.1f' y='%d' stroke='none' text-anchor='middle'>%g s</text>\n",
                     x, a->plot_bottom + 16, s);
    }
    ubuf_appendf(out, "<text x='%d' y='%d' stroke='none' text-anchor='end'>no answer</text>\n",
                 REP_LEFT - 4, a->plot_top - REP_UNKNOWN_H / 2 + 3);
    ubuf_appendf(out, "</g>\n");
}

static void rep_svg(const struct chaos_run_record *r, struct ubuf *out)
{
    const struct chaos_history *h = r->h;
    struct rep_axes a = {.t0 = h->t0, .t1 = h->t_end > h->t0 ? h->t_end : h->t0 + 1};
    for (int i = 0; i < r->nfaults; i++)
        if (r->faults[i].end > a.t1)
            a.t1 = r->faults[i].end;
    a.plot_top = REP_TOP + REP_TERMS_H + 4 + REP_UNKNOWN_H;
    a.plot_bottom = a.plot_top + REP_PLOT_H;
    a.lat_min_ms = 0.1;
    a.lat_max_ms = 10000;
    int height = a.plot_bottom + REP_BOTTOM;
    ubuf_appendf(out,
                 "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' "
                 "viewBox='0 0 %d %d' font-family='sans-serif'>\n"
                 "<rect width='100%%' height='100%%' fill='white'/>\n",
                 REP_W, height, REP_W, height);
    rep_svg_axes(&a, out);
    rep_svg_faults(r, &a, out);
    rep_svg_terms(r, &a, out);
    rep_svg_dots(r, &a, out);
    ubuf_appendf(out, "<text x='%d' y='%d' font-size='11' fill='#444'>seconds since the first "
                      "operation; latency on a log scale</text>\n",
                 REP_LEFT, height - 6);
    ubuf_appendf(out, "</svg>\n");
}

static void rep_legend(struct ubuf *out)
{
    ubuf_appendf(out, "<p class='legend'>");
    for (int k = 0; k < CHAOS_NFAULTKIND; k++)
        ubuf_appendf(out, "<span style='background:%s;opacity:0.5'>&nbsp;&nbsp;&nbsp;</span> %s "
                          "&nbsp; ",
                     rep_fault_colour[k], chaos_fault_kind_name((enum chaos_fault_kind)k));
    for (int res = 0; res < CHAOS_NRESULT; res++)
        ubuf_appendf(out, "<span style='color:%s'>&#9679;</span> %s &nbsp; ", rep_result_colour[res],
                     chaos_result_name((enum chaos_result)res));
    ubuf_appendf(out, "&nbsp; top strip: the leader and its term (grey: none)</p>\n");
}

int chaos_report_html(const struct chaos_run_record *r, const char *path)
{
    struct ubuf b = {0};
    bool pass = strcmp(r->verdict, "PASS") == 0;
    ubuf_appendf(&b, "<!DOCTYPE html>\n<html><head><meta charset='utf-8'>\n<title>bosun chaos: "
                     "%s</title>\n<style>body{font-family:sans-serif;margin:20px;color:#222}"
                     "pre{background:#f6f6f6;padding:10px;overflow-x:auto;font-size:12px}"
                     ".verdict{font-size:28px;font-weight:bold;color:%s}"
                     ".legend{font-size:12px}</style></head><body>\n",
                 r->verdict, pass ? "#2ca02c" : "#d62728");
    ubuf_appendf(&b, "<h1>bosun chaos</h1>\n<p><code>");
    rep_escape(&b, r->command);
    ubuf_appendf(&b, "</code> &mdash; %d servers</p>\n<p class='verdict'>", r->servers);
    rep_escape(&b, r->verdict);
    ubuf_appendf(&b, "</p>\n<h2>Timeline</h2>\n");
    rep_legend(&b);
    rep_svg(r, &b);
    ubuf_appendf(&b, "<h2>Figures</h2>\n<pre>");
    struct ubuf fig = {0};
    chaos_figures(r, &fig);
    ubuf_append(&fig, "", 1);
    rep_escape(&b, fig.data);
    ubuf_free(&fig);
    ubuf_appendf(&b, "</pre>\n<h2>Checks</h2>\n<pre>");
    rep_escape(&b, r->checker_text);
    rep_escape(&b, r->notes);
    ubuf_appendf(&b, "</pre>\n<p>Linearizability is checked per key (Wing &amp; Gong's search "
                     "with Lowe's memoization); unknown results may have taken effect at any "
                     "time after their invoke, or never. The final state of every server is "
                     "appended as reads, so a lost acknowledged write fails; the servers' "
                     "digests must agree. A watcher on every server records its watch "
                     "streams: in strictly increasing revisions, without a gap against the "
                     "revisions known from the other servers and the acknowledged writes, "
                     "resumed from the last revision seen. Files: history.jsonl, faults.jsonl, "
                     "final.json, watch.jsonl; "
                     "<code>bosun chaos check DIR</code> judges them again.</p>\n"
                     "</body></html>\n");
    FILE *f = fopen(path, "w");
    int rc = -1;
    if (f) {
        rc = fwrite(b.data, 1, b.len, f) == b.len ? 0 : -1;
        rc |= fclose(f) == 0 ? 0 : -1;
    }
    ubuf_free(&b);
    return rc;
}
