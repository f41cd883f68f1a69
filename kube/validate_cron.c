/* validate_cron.c — a CronJob's schedule, parsed as robfig/cron/v3 does.
 *
 * Kubernetes accepts a schedule when cron.ParseStandard does: five fields
 * (minute, hour, day of month, month, day of week) with ranges, steps,
 * lists, '*' and '?', month and day names, an optional TZ= or CRON_TZ=
 * prefix, or a descriptor (@yearly, @daily, @every <duration>...), and
 * reports robfig's own error text when it does not.
 *
 * How it works: kube_cron_parse splits the spec into fields and each field
 * into comma-separated ranges, checks every number against the field's
 * bounds and sets one bit per value the field allows (robfig's SpecSchedule:
 * a field written "*" or "?" without a step also gets its star flag, which
 * makes day-of-month and day-of-week combine with AND instead of OR); a
 * descriptor is the five-field spec it stands for, "@every D" a constant
 * delay. kv_cron_parse (validation) is the same parse with the result
 * thrown away; the CronJob controller computes run times from the masks
 * (controllers/cronjob.c). */
#include <assert.h>
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/validate_internal.h"

/* ---- cron schedules (robfig/cron/v3's ParseStandard) ---- */

struct cron_bounds {
    unsigned min, max;
    const char *const *names; /* names[i] stands for min + i... see cron_name */
};

static const char *const cron_months[] = {"jan", "feb", "mar", "apr", "may", "jun", "jul",
                                          "aug", "sep", "oct", "nov", "dec", NULL};
static const char *const cron_days[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL};

static const struct cron_bounds cron_fields[5] = {
    {0, 59, NULL}, {0, 23, NULL}, {1, 31, NULL}, {1, 12, cron_months}, {0, 6, cron_days},
};

/* strconv.Atoi and mustParseInt; false with the error in err. */
static bool cron_int(const char *s, long *out, char *err, size_t errlen)
{
    const char *p = s + (*s == '+' || *s == '-');
    bool ok = *p != '\0';
    for (const char *q = p; *q; q++)
        ok &= isdigit((unsigned char)*q) != 0;
    if (!ok || strlen(p) > 18) {
        struct ubuf q = {0};
        kv_go_quote(&q, s);
        snprintf(err, errlen, "failed to parse int from %s: strconv.Atoi: parsing %s: %s", s,
                 q.data, ok ? "value out of range" : "invalid syntax");
        ubuf_free(&q);
        return false;
    }
    *out = strtol(s, NULL, 10);
    if (*out < 0) {
        snprintf(err, errlen, "negative number (%ld) not allowed: %s", *out, s);
        return false;
    }
    return true;
}

static bool cron_value(const char *s, const struct cron_bounds *b, long *out, char *err,
                       size_t errlen)
{
    for (size_t i = 0; b->names && b->names[i]; i++) {
        if (strcasecmp(s, b->names[i]) == 0) {
            *out = (long)(b->names == cron_months ? i + 1 : i);
            return true;
        }
    }
    return cron_int(s, out, err, errlen);
}

/* getRange: "*", "?", "a", "a-b", each with an optional "/step"; sets the
 * allowed values' bits in *bits (and *star for a bare "*" or "?"). */
static bool cron_range(const char *expr, const struct cron_bounds *b, uint64_t *bits, bool *star,
                       char *err, size_t errlen)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", expr);
    char *slash = strchr(buf, '/');
    if (slash && strchr(slash + 1, '/')) {
        snprintf(err, errlen, "too many slashes: %s", expr);
        return false;
    }
    if (slash)
        *slash = '\0';
    long start, end, step = 1;
    bool single = !strchr(buf, '-'), is_star = false;
    if (strcmp(buf, "*") == 0 || strcmp(buf, "?") == 0) {
        start = b->min;
        end = b->max;
        is_star = true;
    } else {
        char *dash = strchr(buf, '-');
        if (dash && strchr(dash + 1, '-')) {
            snprintf(err, errlen, "too many hyphens: %s", expr);
            return false;
        }
        if (dash)
            *dash = '\0';
        if (!cron_value(buf, b, &start, err, errlen))
            return false;
        end = start;
        if (dash && !cron_value(dash + 1, b, &end, err, errlen))
            return false;
    }
    if (slash) {
        if (!cron_int(slash + 1, &step, err, errlen))
            return false;
        if (single && strcmp(buf, "*") != 0 && strcmp(buf, "?") != 0)
            end = b->max;
    }
    if (start < (long)b->min)
        snprintf(err, errlen, "beginning of range (%ld) below minimum (%u): %s", start, b->min,
                 expr);
    else if (end > (long)b->max)
        snprintf(err, errlen, "end of range (%ld) above maximum (%u): %s", end, b->max, expr);
    else if (start > end)
        snprintf(err, errlen, "beginning of range (%ld) beyond end of range (%ld): %s", start, end,
                 expr);
    else if (step == 0)
        snprintf(err, errlen, "step of range should be a positive number: %s", expr);
    else {
        for (long v = start; v <= end; v += step)
            *bits |= 1ull << v;
        if (is_star && step == 1)
            *star = true;
        return true;
    }
    return false;
}

/* time.ParseDuration's syntax, for "@every <duration>": NULL when s
 * parses, else Go's error (without the quoted input) in err. */
static const char *go_duration_error(const char *s, char *err, size_t errlen)
{
    static const char *const units[] = {"ns", "us", "\xc2\xb5s", "\xce\xbcs", "ms",
                                        "s",  "m",  "h",         NULL};
    const char *p = s + (*s == '+' || *s == '-');
    if (strcmp(p, "0") == 0)
        return NULL;
    if (!*p)
        return "time: invalid duration";
    while (*p) {
        const char *num = p;
        while (isdigit((unsigned char)*p))
            p++;
        bool digits = p > num;
        if (*p == '.') {
            const char *frac = ++p;
            while (isdigit((unsigned char)*p))
                p++;
            digits |= p > frac;
        }
        if (!digits)
            return "time: invalid duration";
        const char *unit = p;
        while (*p && *p != '.' && !isdigit((unsigned char)*p))
            p++;
        if (p == unit)
            return "time: missing unit in duration";
        struct ubuf q = {0};
        ubuf_append(&q, unit, (size_t)(p - unit));
        bool known = str_in(q.data, units);
        if (!known) {
            struct ubuf u = {0};
            kv_go_quote(&u, q.data);
            snprintf(err, errlen, "time: unknown unit %s in duration", u.data);
            ubuf_free(&u);
        }
        ubuf_free(&q);
        if (!known)
            return err;
    }
    return NULL;
}

/* The value of a duration go_duration_error accepted, in whole seconds. */
static int64_t go_duration_seconds(const char *s)
{
    static const struct {
        const char *unit;
        double ns;
    } units[] = {{"ns", 1}, {"us", 1e3}, {"\xc2\xb5s", 1e3}, {"\xce\xbcs", 1e3}, {"ms", 1e6},
                 {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}};
    const char *p = s + (*s == '+' || *s == '-');
    double total = 0;
    while (*p) {
        char *end;
        double v = strtod(p, &end);
        p = end;
        size_t best = 0, best_len = 0;
        for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
            size_t l = strlen(units[i].unit);
            if (strncmp(p, units[i].unit, l) == 0 && l > best_len) {
                best = i;
                best_len = l;
            }
        }
        if (!best_len)
            break;
        total += v * units[best].ns;
        p += best_len;
    }
    return *s == '-' ? -(int64_t)(total / 1e9) : (int64_t)(total / 1e9);
}

static void cron_fields_parse_into(const char *fields, struct kube_cron *out);

static bool cron_descriptor(const char *spec, struct kube_cron *out, char *err, size_t errlen)
{
    static const char *const known[] = {"@yearly", "@annually", "@monthly", "@weekly",
                                        "@daily",  "@midnight", "@hourly",  NULL};
    static const char *const as_fields[] = {"0 0 1 1 *", "0 0 1 1 *", "0 0 1 * *", "0 0 * * 0",
                                            "0 0 * * *", "0 0 * * *", "0 * * * *"};
    for (size_t i = 0; known[i]; i++)
        if (strcmp(spec, known[i]) == 0) {
            cron_fields_parse_into(as_fields[i], out);
            return true;
        }
    if (strncmp(spec, "@every ", 7) == 0) {
        char why[128];
        const char *e = go_duration_error(spec + 7, why, sizeof why);
        if (!e) {
            /* robfig's Every: at least a second, whole seconds. */
            int64_t d = go_duration_seconds(spec + 7);
            out->every_s = d < 1 ? 1 : d;
            return true;
        }
        struct ubuf q = {0};
        kv_go_quote(&q, spec + 7);
        snprintf(err, errlen, "failed to parse duration %s: %s %s", spec, e, q.data);
        ubuf_free(&q);
        return false;
    }
    snprintf(err, errlen, "unrecognized descriptor: %s", spec);
    return false;
}

/* The five fields of a descriptor, which always parse. */
static void cron_fields_parse_into(const char *fields, struct kube_cron *out)
{
    char err[160];
    const char *why = kube_cron_parse(fields, out, err, sizeof err);
    assert(!why);
    (void)why;
}

const char *kube_cron_parse(const char *spec, struct kube_cron *out, char *err, size_t errlen)
{
    struct kube_cron scratch;
    if (!out)
        out = &scratch;
    memset(out, 0, sizeof *out);
    if (!*spec)
        return "empty spec string";
    if (strncmp(spec, "TZ=", 3) == 0 || strncmp(spec, "CRON_TZ=", 8) == 0) {
        const char *space = strchr(spec, ' ');
        if (!space) {
            snprintf(err, errlen, "provided bad location %s: unknown time zone",
                     strchr(spec, '=') + 1);
            return err;
        }
        while (*space == ' ')
            space++;
        spec = space;
    }
    if (spec[0] == '@')
        return cron_descriptor(spec, out, err, errlen) ? NULL : err;
    char *copy = xstrdup(spec), *save = NULL;
    char *fields[6];
    size_t n = 0, total = 0;
    struct ubuf joined = {0};
    for (char *tok = strtok_r(copy, " \t\n\r\v\f", &save); tok;
         tok = strtok_r(NULL, " \t\n\r\v\f", &save)) {
        if (n < 6)
            fields[n++] = tok;
        ubuf_appendf(&joined, "%s%s", total++ ? " " : "", tok);
    }
    const char *result = NULL;
    if (total != 5) {
        snprintf(err, errlen, "expected exactly 5 fields, found %zu: [%s]", total,
                 joined.data ? joined.data : "");
        result = err;
    }
    uint64_t *masks[5] = {&out->minute, &out->hour, &out->dom, &out->month, &out->dow};
    bool stars[5] = {false};
    for (size_t f = 0; !result && f < 5; f++) {
        char *save2 = NULL;
        for (char *r = strtok_r(fields[f], ",", &save2); r && !result;
             r = strtok_r(NULL, ",", &save2))
            if (!cron_range(r, &cron_fields[f], masks[f], &stars[f], err, errlen))
                result = err;
    }
    out->dom_star = stars[2];
    out->dow_star = stars[4];
    ubuf_free(&joined);
    free(copy);
    return result;
}

/* cron.ParseStandard: NULL when spec parses, else the error text in err. */
const char *kv_cron_parse(const char *spec, char *err, size_t errlen)
{
    return kube_cron_parse(spec, NULL, err, errlen);
}
