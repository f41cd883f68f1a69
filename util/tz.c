/* tz.c — IANA time zones without the C library's global TZ state: a TZif
 * reader (RFC 8536, versions 1 to 4) and the UTC offset in effect at any
 * instant, for CronJobs' spec.timeZone.
 *
 * A TZif file is a header (magic "TZif", version, six big-endian counts),
 * a data block (transition times, the local time type index of each,
 * the types {utoff, isdst, designation index}, designations, leap second
 * records, standard/wall and UT/local indicators), then, for version 2
 * and later, a second header and data block with 64-bit times followed by
 * a footer: a POSIX TZ string between newlines that gives local time after
 * the last transition ("EST5EDT,M3.2.0,M11.1.0"). We read the 64-bit block
 * when there is one (else the 32-bit one), check every count, index and
 * order against the bytes present (a short or inconsistent file is refused
 * with a reason, never read past), and keep the transitions, their types'
 * offsets and the footer's rule.
 *
 * The offset at instant t: before the first transition, type 0's (RFC
 * 8536 3.2); from the last transition on, the footer rule's when there is
 * one; otherwise the type of the last transition at or before t (binary
 * search). A rule with daylight saving time is evaluated for the year of
 * t in local standard time: DST starts at its start date and time in
 * standard time and ends at its end date and time in daylight time
 * (either way round the year, for the southern hemisphere).
 *
 * util_tz_from_civil turns local wall-clock fields into an instant as Go's
 * time.Date does (robfig/cron, which Kubernetes' CronJob controller uses,
 * steps through days and months with it): the offset at the civil time
 * taken as UTC is tried first, and if that instant lies in another offset's
 * period, that offset is used. So a time in a spring-forward gap and a
 * time repeated at a fall-back resolve exactly as Go resolves them.
 *
 * Leap second records are skipped: zoneinfo's "right/" zones are not
 * loaded (CronJobs count POSIX seconds, as Go does). */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

#define TZ_MAX_FILE (1 << 20)     /* real zone files are a few KiB */
#define TZ_MAX_TIMES 100000       /* transitions */
#define TZ_MAX_TYPES 256          /* the type index is one byte */
#define TZ_MAX_OFFSET (26 * 3600) /* beyond any real offset (RFC 8536: -25:59:59..25:59:59) */
#define TZ_DEFAULT_DIR "/usr/share/zoneinfo"

/* A POSIX TZ rule date: Jn (1..365, Feb 29 never counted), n (0..365), or
 * Mm.w.d (day d of week w of month m, w 5 = the last). */
struct tz_date {
    char kind; /* 'J', 'N' or 'M' */
    int n, m, w, d;
};

struct tz_rule {
    bool present; /* the footer had a TZ string */
    bool has_dst;
    int32_t std_off, dst_off; /* seconds east of UTC */
    struct tz_date start, end;
    int32_t start_time, end_time; /* seconds after local midnight; may be < 0 or > 24 h */
};

struct util_tz {
    size_t n_trans;
    int64_t *trans;  /* strictly increasing */
    uint8_t *idx;    /* trans[i]'s type: < n_types */
    size_t n_types;  /* >= 1 */
    int32_t *utoff;  /* each type's offset, seconds east of UTC */
    struct tz_rule rule;
};

/* ---- reading bytes ---- */

struct rd {
    const unsigned char *p;
    size_t len, pos;
};

static bool rd_has(const struct rd *r, size_t n)
{
    return r->pos <= r->len && r->len - r->pos >= n;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

struct tz_header {
    char version; /* 0, '2', '3', '4' */
    uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
};

static bool fail(char *err, size_t errlen, const char *why)
{
    snprintf(err, errlen, "%s", why);
    return false;
}

static bool header_read(struct rd *r, struct tz_header *h, char *err, size_t errlen)
{
    if (!rd_has(r, 44))
        return fail(err, errlen, "truncated header");
    const unsigned char *p = r->p + r->pos;
    if (memcmp(p, "TZif", 4) != 0)
        return fail(err, errlen, "not a TZif file");
    h->version = (char)p[4];
    if (h->version != 0 && (h->version < '2' || h->version > '4'))
        return fail(err, errlen, "unknown TZif version");
    h->isutcnt = be32(p + 20);
    h->isstdcnt = be32(p + 24);
    h->leapcnt = be32(p + 28);
    h->timecnt = be32(p + 32);
    h->typecnt = be32(p + 36);
    h->charcnt = be32(p + 40);
    r->pos += 44;
    if (h->typecnt == 0 || h->typecnt > TZ_MAX_TYPES || h->charcnt == 0 ||
        h->timecnt > TZ_MAX_TIMES || h->leapcnt > TZ_MAX_TIMES || h->charcnt > TZ_MAX_FILE)
        return fail(err, errlen, "bad counts");
    if ((h->isutcnt && h->isutcnt != h->typecnt) || (h->isstdcnt && h->isstdcnt != h->typecnt))
        return fail(err, errlen, "bad indicator counts");
    return true;
}

/* The data block's size for times of tsize bytes (4 or 8). */
static size_t block_size(const struct tz_header *h, size_t tsize)
{
    return (size_t)h->timecnt * tsize + h->timecnt + (size_t)h->typecnt * 6 + h->charcnt +
           (size_t)h->leapcnt * (tsize + 4) + h->isstdcnt + h->isutcnt;
}

/* Reads the data block (times of tsize bytes) into tz; checks indexes,
 * order, offsets and designation indexes. */
static bool block_read(struct rd *r, const struct tz_header *h, size_t tsize, struct util_tz *tz,
                       char *err, size_t errlen)
{
    if (!rd_has(r, block_size(h, tsize)))
        return fail(err, errlen, "truncated data block");
    const unsigned char *p = r->p + r->pos;
    tz->n_trans = h->timecnt;
    tz->n_types = h->typecnt;
    tz->trans = xcalloc(h->timecnt + 1, sizeof *tz->trans);
    tz->idx = xcalloc(h->timecnt + 1, 1);
    tz->utoff = xcalloc(h->typecnt, sizeof *tz->utoff);
    for (size_t i = 0; i < h->timecnt; i++, p += tsize) {
        tz->trans[i] = tsize == 8 ? be64(p) : (int64_t)(int32_t)be32(p);
        if (i > 0 && tz->trans[i] <= tz->trans[i - 1])
            return fail(err, errlen, "transitions out of order");
    }
    for (size_t i = 0; i < h->timecnt; i++, p++) {
        if (*p >= h->typecnt)
            return fail(err, errlen, "transition type out of range");
        tz->idx[i] = *p;
    }
    for (size_t i = 0; i < h->typecnt; i++, p += 6) {
        int32_t off = (int32_t)be32(p);
        if (off < -TZ_MAX_OFFSET || off > TZ_MAX_OFFSET)
            return fail(err, errlen, "offset out of range");
        if (p[4] > 1 || p[5] >= h->charcnt)
            return fail(err, errlen, "bad local time type");
        tz->utoff[i] = off;
    }
    r->pos += block_size(h, tsize);
    return true;
}

/* ---- the footer's POSIX TZ string ---- */

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* A zone abbreviation: three or more letters, or <...> of letters, digits,
 * '+' and '-' (three or more). */
static bool tzs_name(const char **s)
{
    const char *p = *s;
    size_t n = 0;
    if (*p == '<') {
        for (p++; is_alpha(*p) || is_digit(*p) || *p == '+' || *p == '-'; p++)
            n++;
        if (*p != '>' || n < 3)
            return false;
        *s = p + 1;
        return true;
    }
    for (; is_alpha(*p); p++)
        n++;
    *s = p;
    return n >= 3;
}

/* A number of at most max_digits digits, at most max. */
static bool tzs_num(const char **s, int max_digits, int max, int *out)
{
    int v = 0, n = 0;
    for (; is_digit(**s) && n < max_digits; (*s)++, n++)
        v = v * 10 + (**s - '0');
    *out = v;
    return n > 0 && v <= max && !is_digit(**s);
}

/* [+|-]hh[:mm[:ss]] in seconds, hours at most max_hours. */
static bool tzs_hms(const char **s, int max_hours, int32_t *out)
{
    int sign = 1, h, m = 0, sec = 0;
    if (**s == '+' || **s == '-')
        sign = *(*s)++ == '-' ? -1 : 1;
    if (!tzs_num(s, 3, max_hours, &h))
        return false;
    if (**s == ':') {
        (*s)++;
        if (!tzs_num(s, 2, 59, &m))
            return false;
        if (**s == ':') {
            (*s)++;
            if (!tzs_num(s, 2, 59, &sec))
                return false;
        }
    }
    *out = sign * (h * 3600 + m * 60 + sec);
    return true;
}

static bool tzs_date(const char **s, struct tz_date *d)
{
    memset(d, 0, sizeof *d);
    if (**s == 'J') {
        (*s)++;
        d->kind = 'J';
        return tzs_num(s, 3, 365, &d->n) && d->n >= 1;
    }
    if (**s != 'M') {
        d->kind = 'N';
        return tzs_num(s, 3, 365, &d->n);
    }
    (*s)++;
    d->kind = 'M';
    if (!tzs_num(s, 2, 12, &d->m) || d->m < 1 || *(*s)++ != '.')
        return false;
    if (!tzs_num(s, 1, 5, &d->w) || d->w < 1 || *(*s)++ != '.')
        return false;
    return tzs_num(s, 1, 6, &d->d);
}

/* ",date[/time]": the time defaults to 02:00; RFC 8536's extension allows
 * -167..167 hours. */
static bool tzs_when(const char **s, struct tz_date *d, int32_t *t)
{
    if (*(*s)++ != ',' || !tzs_date(s, d))
        return false;
    *t = 7200;
    if (**s == '/') {
        (*s)++;
        return tzs_hms(s, 167, t);
    }
    return true;
}

/* std offset [dst [offset] [,start[/time],end[/time]]]; POSIX offsets are
 * west of UTC, stored here east. An empty string means no rule. */
static bool rule_parse(const char *s, struct tz_rule *r)
{
    memset(r, 0, sizeof *r);
    if (!*s)
        return true;
    int32_t west;
    if (!tzs_name(&s) || !tzs_hms(&s, 24, &west))
        return false;
    r->present = true;
    r->std_off = -west;
    if (!*s)
        return true;
    if (!tzs_name(&s))
        return false;
    r->has_dst = true;
    r->dst_off = r->std_off + 3600;
    if (*s && *s != ',') {
        if (!tzs_hms(&s, 24, &west))
            return false;
        r->dst_off = -west;
    }
    if (!*s) { /* no rule: the US rule, as POSIX leaves it to the implementation */
        const char *us = ",M3.2.0,M11.1.0";
        return tzs_when(&us, &r->start, &r->start_time) && tzs_when(&us, &r->end, &r->end_time);
    }
    return tzs_when(&s, &r->start, &r->start_time) && tzs_when(&s, &r->end, &r->end_time) && !*s;
}

static bool footer_read(struct rd *r, struct tz_rule *rule, char *err, size_t errlen)
{
    if (!rd_has(r, 1) || r->p[r->pos] != '\n')
        return fail(err, errlen, "missing footer");
    const unsigned char *start = r->p + r->pos + 1;
    const unsigned char *nl = memchr(start, '\n', r->len - r->pos - 1);
    if (!nl || nl - start > 255)
        return fail(err, errlen, "bad footer");
    char text[256];
    memcpy(text, start, (size_t)(nl - start));
    text[nl - start] = '\0';
    if (strlen(text) != (size_t)(nl - start) || !rule_parse(text, rule))
        return fail(err, errlen, "bad TZ string in footer");
    return true;
}

/* ---- civil dates ---- */

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; m 1..12). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* The year of the day `days` after 1970-01-01. */
static int64_t year_of_days(int64_t days)
{
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    return yoe + era * 400 + (mp >= 10);
}

static bool leap_year(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int64_t y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap_year(y) ? 29 : days[m - 1];
}

/* The day (since the epoch) a rule date falls on in year y. */
static int64_t rule_day(const struct tz_date *d, int64_t y)
{
    int64_t jan1 = days_from_civil(y, 1, 1);
    if (d->kind == 'J')
        return jan1 + d->n - 1 + (leap_year(y) && d->n >= 60);
    if (d->kind == 'N')
        return jan1 + d->n;
    int64_t first = days_from_civil(y, d->m, 1);
    int wday = (int)(((first + 4) % 7 + 7) % 7); /* 1970-01-01 was a Thursday */
    int64_t day = first + (d->d - wday + 7) % 7 + (int64_t)(d->w - 1) * 7;
    while (day >= first + month_days(y, d->m))
        day -= 7;
    return day;
}

static int32_t rule_offset(const struct tz_rule *r, int64_t t)
{
    if (!r->has_dst)
        return r->std_off;
    /* Beyond +-2^40 s (34,000 years) the year is only a matter of
     * arithmetic overflow: clamp. */
    const int64_t lim = (int64_t)1 << 40;
    t = t < -lim ? -lim : t > lim ? lim : t;
    int64_t local = t + r->std_off;
    int64_t y = year_of_days(local >= 0 ? local / 86400 : (local - 86399) / 86400);
    int64_t start = rule_day(&r->start, y) * 86400 + r->start_time - r->std_off;
    int64_t end = rule_day(&r->end, y) * 86400 + r->end_time - r->dst_off;
    bool dst = start < end ? start <= t && t < end : !(end <= t && t < start);
    return dst ? r->dst_off : r->std_off;
}

/* ---- the interface ---- */

struct util_tz *util_tz_parse(const unsigned char *data, size_t len, char *err, size_t errlen)
{
    struct rd r = {data, len, 0};
    struct tz_header h;
    struct util_tz *tz = xcalloc(1, sizeof *tz);
    bool ok = header_read(&r, &h, err, errlen);
    if (ok && h.version != 0) { /* skip the 32-bit block: the 64-bit one follows */
        ok = rd_has(&r, block_size(&h, 4));
        if (!ok)
            fail(err, errlen, "truncated data block");
        r.pos += ok ? block_size(&h, 4) : 0;
        ok = ok && header_read(&r, &h, err, errlen);
    }
    ok = ok && block_read(&r, &h, h.version ? 8 : 4, tz, err, errlen);
    if (ok && h.version)
        ok = footer_read(&r, &tz->rule, err, errlen);
    if (!ok) {
        util_tz_free(tz);
        return NULL;
    }
    return tz;
}

/* An IANA name: non-empty, relative, no "." or ".." element, of letters,
 * digits and "/_-+." only (what Go's LoadLocation would open). */
static bool zone_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (!n || n > 255 || name[0] == '/' || name[n - 1] == '/')
        return false;
    for (const char *p = name; *p; p++)
        if (!is_alpha(*p) && !is_digit(*p) && !strchr("/_-+.", *p))
            return false;
    for (const char *p = name; p; p = strchr(p, '/')) {
        p += *p == '/';
        if (p[0] == '.' && (p[1] == '/' || !p[1] || (p[1] == '.' && (p[2] == '/' || !p[2]))))
            return false;
    }
    return true;
}

struct util_tz *util_tz_load(const char *dir, const char *name, char *err, size_t errlen)
{
    char path[4352];
    if (strstr(name, "..") || name[0] == '/' || name[0] == '\\') { /* Go's errLocation */
        snprintf(err, errlen, "time: invalid location name");
        return NULL;
    }
    if (!zone_name_ok(name)) {
        snprintf(err, errlen, "unknown time zone %s", name);
        return NULL;
    }
    snprintf(path, sizeof path, "%s/%s", dir ? dir : TZ_DEFAULT_DIR, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "unknown time zone %s", name);
        return NULL;
    }
    unsigned char *buf = xmalloc(TZ_MAX_FILE);
    size_t len = fread(buf, 1, TZ_MAX_FILE, f);
    bool too_big = len == TZ_MAX_FILE && fgetc(f) != EOF;
    fclose(f);
    char why[128] = "file too large";
    struct util_tz *tz = too_big ? NULL : util_tz_parse(buf, len, why, sizeof why);
    free(buf);
    if (!tz)
        snprintf(err, errlen, "unknown time zone %s: %s", name, why);
    return tz;
}

void util_tz_free(struct util_tz *tz)
{
    if (!tz)
        return;
    free(tz->trans);
    free(tz->idx);
    free(tz->utoff);
    free(tz);
}

int32_t util_tz_offset(const struct util_tz *tz, int64_t t)
{
    if (!tz)
        return 0;
    assert(tz->n_types >= 1);
    if (tz->n_trans == 0)
        return tz->rule.present ? rule_offset(&tz->rule, t) : tz->utoff[0];
    if (t < tz->trans[0])
        return tz->utoff[0];
    if (t >= tz->trans[tz->n_trans - 1] && tz->rule.present)
        return rule_offset(&tz->rule, t);
    size_t lo = 0, hi = tz->n_trans; /* trans[lo] <= t < trans[hi] */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (tz->trans[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    assert(tz->idx[lo] < tz->n_types);
    return tz->utoff[tz->idx[lo]];
}

int64_t util_tz_from_civil(const struct util_tz *tz, int64_t civil)
{
    int32_t guess = util_tz_offset(tz, civil);
    return civil - util_tz_offset(tz, civil - guess);
}
