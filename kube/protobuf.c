/* protobuf.c — decodes Kubernetes protobuf request bodies into JSON.
 *
 * kubectl 1.32's generators (`kubectl create configmap|secret|deployment|
 * job|cronjob|service|quota|priorityclass ...`) POST their objects as
 * application/vnd.kubernetes.protobuf and do not fall back to JSON, while
 * bosun works in JSON throughout. This file turns such a body into the JSON
 * object the same client would have sent.
 *
 * The wire format (k8s.io/apimachinery/pkg/runtime/serializer/protobuf):
 * the 4-byte magic "k8s\0", then a runtime.Unknown message
 *     typeMeta = 1 { apiVersion = 1, kind = 2 }, raw = 2 (the object's own
 *     protobuf encoding), contentEncoding = 3, contentType = 4.
 * The kind names a type of the schema (kube.h), and the schema drives the
 * decoding of raw: every protobuf field number is looked up among the
 * type's fields, and its value type says what wire type to expect and how
 * the value looks in JSON. Members Go inlines into its parent's JSON
 * (type->inlines) arrive as nested messages and are decoded into the
 * parent's JSON object. meta/v1 Time, MicroTime, Duration, resource.Quantity,
 * intstr.IntOrString, RawExtension and FieldsV1 have a protobuf shape unlike
 * their JSON and are rendered the way their Go MarshalJSON renders them.
 *
 * We follow the semantics of Kubernetes' gogo-generated unmarshalers:
 * unknown fields are skipped, a message field that occurs twice is merged,
 * repeated scalars may be packed or not, the last scalar wins. We refuse
 * what Go would refuse (truncation, a length past the end, a wire type the
 * field cannot have) and, because the result is JSON for jansson, strings
 * that are not valid UTF-8 or contain NUL, which bosun's JSON path refuses
 * too. The input is untrusted: every read is bounds-checked against the
 * enclosing message, nesting is limited to PB_MAX_DEPTH, and a failure
 * frees whatever was built. The state of one decode lives in a struct
 * pb_ctx on the caller's stack.
 *
 * Caveats. Go's marshalers write every non-pointer scalar, so "" / 0 /
 * false arrive for fields a JSON client would have left out (omitempty);
 * they are kept, because the schema does not say which fields are Go
 * pointers, whose explicit zero (`replicas: 0`) matters. Quantities are
 * passed through as sent (Go clients send the canonical form) and not
 * validated here. */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/kube.h"
#include "util/util.h"

#define PB_MAX_DEPTH 64

/* Wire types (protobuf encoding spec). */
enum {
    PB_VARINT = 0,
    PB_FIXED64 = 1,
    PB_LEN = 2,
    PB_GROUP_START = 3,
    PB_GROUP_END = 4,
    PB_FIXED32 = 5,
};

/* Go's zero time.Time (0001-01-01T00:00:00Z) in Unix seconds: metav1.Time
 * and MicroTime render it as JSON null. */
#define PB_GO_ZERO_TIME INT64_C(-62135596800)
/* The range RFC 3339's four-digit years can show: 0000-01-01T00:00:00Z to
 * 9999-12-31T23:59:59Z. */
#define PB_MIN_TIME INT64_C(-62167219200)
#define PB_MAX_TIME INT64_C(253402300799)

/* One decode: where errors go, and the JSON path to the field being
 * decoded, for messages like "spec.template.metadata: truncated varint". */
struct pb_ctx {
    char *err;
    size_t errlen;
    char path[256];
    size_t path_len;
};

/* A bounded reader over one message. Invariant: p <= end. */
struct pb_in {
    const uint8_t *p, *end;
};

/* MicroTime fields. The schema maps meta/v1 Time and MicroTime to the one
 * value type KUBE_V_TIME, but their JSON differs (MicroTime always has six
 * fractional digits), so the few MicroTime fields of the served packages
 * are listed here; a unit test checks this list against generated.proto. */
static const struct {
    const char *type, *field;
} pb_micro_times[] = {
    {"io.k8s.api.coordination.v1.LeaseSpec", "acquireTime"},
    {"io.k8s.api.coordination.v1.LeaseSpec", "renewTime"},
    {"io.k8s.api.core.v1.Event", "eventTime"},
    {"io.k8s.api.core.v1.EventSeries", "lastObservedTime"},
    {"io.k8s.api.events.v1.Event", "eventTime"},
    {"io.k8s.api.events.v1.EventSeries", "lastObservedTime"},
};

bool kube_protobuf_micro_time(const char *type_name, const char *field)
{
    for (size_t i = 0; i < sizeof pb_micro_times / sizeof pb_micro_times[0]; i++)
        if (strcmp(pb_micro_times[i].type, type_name) == 0 &&
            strcmp(pb_micro_times[i].field, field) == 0)
            return true;
    return false;
}

/* ---- errors and paths ---- */

/* Writes "protobuf: <path>: <reason>" to the caller's buffer; a path too
 * long to leave room for the reason keeps its tail ("...a.b: reason"). */
__attribute__((format(printf, 2, 3))) static int pb_fail(struct pb_ctx *c, const char *fmt, ...)
{
    if (!c->err || c->errlen == 0)
        return -1;
    char reason[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    const char *path = c->path;
    size_t room = c->errlen > 64 + strlen(reason) ? c->errlen - 64 - strlen(reason) : 16;
    bool cut = c->path_len > room;
    if (cut)
        path += c->path_len - room;
    snprintf(c->err, c->errlen, "protobuf: %s%s%s%s", cut ? "..." : "", path,
             c->path_len ? ": " : "", reason);
    return -1;
}

/* Appends ".name" to the path; returns the length to restore with
 * pb_path_pop. A path that no longer fits is cut short. */
static size_t pb_path_push(struct pb_ctx *c, const char *name)
{
    size_t old = c->path_len, n = strlen(name), room = sizeof c->path - 1 - old;
    if (old && room) {
        c->path[c->path_len++] = '.';
        room--;
    }
    if (n > room)
        n = room;
    memcpy(c->path + c->path_len, name, n);
    c->path_len += n;
    c->path[c->path_len] = '\0';
    return old;
}

static void pb_path_pop(struct pb_ctx *c, size_t old)
{
    c->path_len = old;
    c->path[old] = '\0';
}

/* ---- the wire ---- */

static int pb_varint(struct pb_ctx *c, struct pb_in *in, uint64_t *v)
{
    uint64_t x = 0;
    *v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (in->p == in->end)
            return pb_fail(c, "truncated varint");
        uint8_t b = *in->p++;
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = x;
            return 0;
        }
    }
    return pb_fail(c, "varint longer than 10 bytes");
}

/* The next field's number and wire type: 1, or 0 at the end of the
 * message, or -1 on a malformed tag. */
static int pb_next(struct pb_ctx *c, struct pb_in *in, unsigned *num, unsigned *wire)
{
    *num = *wire = 0;
    if (in->p == in->end)
        return 0;
    uint64_t tag;
    if (pb_varint(c, in, &tag) < 0)
        return -1;
    if (tag >> 3 == 0 || tag >> 3 > 0x1fffffff)
        return pb_fail(c, "illegal field number %" PRIu64, tag >> 3);
    *num = (unsigned)(tag >> 3);
    *wire = (unsigned)(tag & 7);
    return 1;
}

static int pb_fixed(struct pb_ctx *c, struct pb_in *in, size_t n, uint64_t *v)
{
    *v = 0;
    if ((size_t)(in->end - in->p) < n)
        return pb_fail(c, "truncated %zu-byte fixed value", n);
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++)
        x |= (uint64_t)in->p[i] << (8 * i);
    in->p += n;
    *v = x;
    return 0;
}

/* A length-delimited value: its bytes, as a reader of their own. */
static int pb_len(struct pb_ctx *c, struct pb_in *in, struct pb_in *sub)
{
    uint64_t n;
    sub->p = sub->end = in->p;
    if (pb_varint(c, in, &n) < 0)
        return -1;
    if (n > (uint64_t)(in->end - in->p))
        return pb_fail(c, "length %" PRIu64 " beyond the end of the message (%zu bytes left)", n,
                       (size_t)(in->end - in->p));
    sub->p = in->p;
    sub->end = in->p + n;
    in->p += n;
    return 0;
}

/* Skips the value of an unknown field; groups (deprecated, but legal) are
 * skipped up to their matching end tag. */
static int pb_skip(struct pb_ctx *c, struct pb_in *in, unsigned num, unsigned wire, int depth)
{
    uint64_t v;
    struct pb_in sub;
    switch (wire) {
    case PB_VARINT:
        return pb_varint(c, in, &v);
    case PB_FIXED64:
        return pb_fixed(c, in, 8, &v);
    case PB_FIXED32:
        return pb_fixed(c, in, 4, &v);
    case PB_LEN:
        return pb_len(c, in, &sub);
    case PB_GROUP_START:
        if (depth >= PB_MAX_DEPTH)
            return pb_fail(c, "nesting deeper than %d", PB_MAX_DEPTH);
        for (;;) {
            unsigned n, w;
            int r = pb_next(c, in, &n, &w);
            if (r <= 0)
                return r < 0 ? -1 : pb_fail(c, "group %u not ended", num);
            if (w == PB_GROUP_END)
                return n == num ? 0 : pb_fail(c, "group %u ended by tag %u", num, n);
            if (pb_skip(c, in, n, w, depth + 1) < 0)
                return -1;
        }
    case PB_GROUP_END:
        return pb_fail(c, "unexpected end of group %u", num);
    default:
        return pb_fail(c, "illegal wire type %u", wire);
    }
}

/* Two's complement without implementation-defined conversions. */
static int64_t pb_int64(uint64_t v)
{
    return v <= INT64_MAX ? (int64_t)v : -(int64_t)(~v) - 1;
}

/* Go's int32 fields keep the low 32 bits of the varint. */
static int32_t pb_int32(uint64_t v)
{
    uint32_t u = (uint32_t)v;
    return u <= INT32_MAX ? (int32_t)u : -(int32_t)(~u) - 1;
}

/* ---- JSON leaves ---- */

/* A JSON string of the bytes, which must be UTF-8 without NUL. */
static int pb_string(struct pb_ctx *c, struct pb_in *s, json_t **out)
{
    size_t n = (size_t)(s->end - s->p);
    if (memchr(s->p, '\0', n))
        return pb_fail(c, "string contains NUL");
    *out = json_stringn((const char *)s->p, n);
    return *out ? 0 : pb_fail(c, "string is not valid UTF-8");
}

/* Go's encoding/json renders []byte as standard base64 with padding. */
static json_t *pb_base64(const uint8_t *p, size_t n)
{
    struct ubuf b = {0};
    util_base64_encode(p, n, &b);
    json_t *s = json_stringn_nocheck(b.data ? b.data : "", b.len);
    ubuf_free(&b);
    return s;
}

static int pb_real(struct pb_ctx *c, double d, json_t **out)
{
    if (!isfinite(d))
        return pb_fail(c, "%g cannot be represented in JSON", d);
    *out = json_real(d);
    return 0;
}

/* The JSON of a scalar field from a varint, for bool and the integers. */
static json_t *pb_from_varint(enum kube_vtype vt, uint64_t v)
{
    switch (vt) {
    case KUBE_V_BOOL:
        return json_boolean(v != 0);
    case KUBE_V_INT32:
        return json_integer(pb_int32(v));
    default:
        return json_integer(pb_int64(v));
    }
}

/* A double (fixed64) or, since the schema folds proto float into
 * KUBE_V_DOUBLE, a float (fixed32). */
static int pb_from_fixed(struct pb_ctx *c, struct pb_in *in, unsigned wire, json_t **out)
{
    uint64_t v;
    if (pb_fixed(c, in, wire == PB_FIXED64 ? 8 : 4, &v) < 0)
        return -1;
    if (wire == PB_FIXED64) {
        double d;
        memcpy(&d, &v, sizeof d);
        return pb_real(c, d, out);
    }
    uint32_t u = (uint32_t)v;
    float f;
    memcpy(&f, &u, sizeof f);
    return pb_real(c, f, out);
}

/* ---- meta/v1 Time and MicroTime ---- */

/* Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm). */
static void pb_civil(int64_t days, int64_t *y, unsigned *m, unsigned *d)
{
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    unsigned doe = (unsigned)(days - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* RFC 3339 in UTC, as Go's time.RFC3339 ("2006-01-02T15:04:05Z") or, with
 * micro, time.RFC3339Micro ("2006-01-02T15:04:05.000000Z"). */
static int pb_rfc3339(struct pb_ctx *c, int64_t secs, int32_t nanos, bool micro, json_t **out)
{
    if (secs < PB_MIN_TIME || secs > PB_MAX_TIME)
        return pb_fail(c, "time %" PRId64 "s is outside years 0000-9999", secs);
    int64_t days = (secs >= 0 ? secs : secs - 86399) / 86400;
    unsigned sod = (unsigned)(secs - days * 86400);
    int64_t y;
    unsigned mo, d;
    pb_civil(days, &y, &mo, &d);
    char buf[40];
    int n = snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02u:%02u:%02u", (int)y, mo, d, sod / 3600,
                     sod / 60 % 60, sod % 60);
    if (micro)
        n += snprintf(buf + n, sizeof buf - (size_t)n, ".%06d", nanos / 1000);
    snprintf(buf + n, sizeof buf - (size_t)n, "Z");
    *out = json_string(buf);
    return 0;
}

/* Timestamp {seconds = 1, nanos = 2}. Go's metav1.Time keeps whole seconds
 * only (its Unmarshal drops nanos); MicroTime keeps microseconds. An empty
 * message and Go's zero time are JSON null. */
static int pb_time(struct pb_ctx *c, struct pb_in *in, bool micro, json_t **out)
{
    if (in->p == in->end) {
        *out = json_null();
        return 0;
    }
    int64_t secs = 0;
    int32_t nanos = 0;
    unsigned num, wire;
    int r;
    while ((r = pb_next(c, in, &num, &wire)) > 0) {
        uint64_t v;
        if (num == 1 || num == 2) {
            if (wire != PB_VARINT)
                return pb_fail(c, "time field %u has wire type %u, want varint", num, wire);
            if (pb_varint(c, in, &v) < 0)
                return -1;
            if (num == 1)
                secs = pb_int64(v);
            else
                nanos = pb_int32(v);
        } else if (pb_skip(c, in, num, wire, 0) < 0) {
            return -1;
        }
    }
    if (r < 0)
        return -1;
    if (!micro)
        nanos = 0;
    /* time.Unix normalises nanos into [0, 1e9). */
    int64_t carry = nanos / 1000000000 - (nanos % 1000000000 < 0);
    nanos = (int32_t)(nanos - carry * 1000000000);
    if ((carry > 0 && secs > INT64_MAX - carry) || (carry < 0 && secs < INT64_MIN - carry))
        return pb_fail(c, "time out of range");
    secs += carry;
    if (secs == PB_GO_ZERO_TIME && nanos == 0) {
        *out = json_null();
        return 0;
    }
    return pb_rfc3339(c, secs, nanos, micro, out);
}

/* ---- meta/v1 Duration ---- */

/* Writes v's fraction v/10^prec into the tail of buf ending at w, without
 * trailing zeros (Go's fmtFrac); returns the new start, v/10^prec in *v. */
static size_t pb_fmt_frac(char *buf, size_t w, uint64_t *v, int prec)
{
    bool print = false;
    for (int i = 0; i < prec; i++) {
        unsigned digit = (unsigned)(*v % 10);
        print = print || digit != 0;
        if (print)
            buf[--w] = (char)('0' + digit);
        *v /= 10;
    }
    if (print)
        buf[--w] = '.';
    return w;
}

/* Writes v in decimal into the tail of buf ending at w (Go's fmtInt). */
static size_t pb_fmt_int(char *buf, size_t w, uint64_t v)
{
    do {
        buf[--w] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    return w;
}

/* Go's time.Duration.String: "1h2m3.5s", "1.5ms", "0s". */
static json_t *pb_duration_string(int64_t d)
{
    char buf[32];
    size_t w = sizeof buf;
    uint64_t u = d < 0 ? 0 - (uint64_t)d : (uint64_t)d;
    if (u < 1000000000) {
        int prec;
        buf[--w] = 's';
        if (u == 0)
            return json_string("0s");
        if (u < 1000) {
            prec = 0;
            buf[--w] = 'n';
        } else if (u < 1000000) {
            prec = 3;
            buf[--w] = '\xb5'; /* U+00B5 MICRO SIGN, as Go writes it */
            buf[--w] = '\xc2';
        } else {
            prec = 6;
            buf[--w] = 'm';
        }
        w = pb_fmt_frac(buf, w, &u, prec);
        w = pb_fmt_int(buf, w, u);
    } else {
        buf[--w] = 's';
        w = pb_fmt_frac(buf, w, &u, 9);
        w = pb_fmt_int(buf, w, u % 60);
        u /= 60;
        if (u > 0) {
            buf[--w] = 'm';
            w = pb_fmt_int(buf, w, u % 60);
            u /= 60;
            if (u > 0) {
                buf[--w] = 'h';
                w = pb_fmt_int(buf, w, u);
            }
        }
    }
    if (d < 0)
        buf[--w] = '-';
    return json_stringn(buf + w, sizeof buf - w);
}

/* Duration {duration = 1 (int64 nanoseconds)}. */
static int pb_duration(struct pb_ctx *c, struct pb_in *in, json_t **out)
{
    int64_t d = 0;
    unsigned num, wire;
    int r;
    while ((r = pb_next(c, in, &num, &wire)) > 0) {
        uint64_t v;
        if (num != 1) {
            if (pb_skip(c, in, num, wire, 0) < 0)
                return -1;
            continue;
        }
        if (wire != PB_VARINT)
            return pb_fail(c, "duration has wire type %u, want varint", wire);
        if (pb_varint(c, in, &v) < 0)
            return -1;
        d = pb_int64(v);
    }
    if (r < 0)
        return -1;
    *out = pb_duration_string(d);
    return 0;
}

/* ---- resource.Quantity, intstr.IntOrString, RawExtension/FieldsV1 ---- */

/* Quantity {string = 1}: Go clients send the canonical form, which is also
 * the JSON. A message without the string is Go's zero Quantity, "0". */
static int pb_quantity(struct pb_ctx *c, struct pb_in *in, json_t **out)
{
    json_t *s = NULL;
    unsigned num, wire;
    int r;
    while ((r = pb_next(c, in, &num, &wire)) > 0) {
        struct pb_in sub;
        if (num != 1) {
            if (pb_skip(c, in, num, wire, 0) < 0)
                break;
            continue;
        }
        if (wire != PB_LEN) {
            pb_fail(c, "quantity has wire type %u, want length-delimited", wire);
            break;
        }
        json_decref(s);
        s = NULL;
        if (pb_len(c, in, &sub) < 0 || pb_string(c, &sub, &s) < 0)
            break;
        if (json_string_length(s) == 0) {
            pb_fail(c, "empty quantity");
            break;
        }
    }
    if (r != 0) {
        json_decref(s);
        return -1;
    }
    *out = s ? s : json_string("0");
    return 0;
}

/* IntOrString {type = 1 (0 int, 1 string), intVal = 2, strVal = 3}. */
static int pb_int_or_string(struct pb_ctx *c, struct pb_in *in, json_t **out)
{
    int64_t type = 0;
    int32_t ival = 0;
    struct pb_in sval = {in->p, in->p}; /* empty */
    unsigned num, wire;
    int r;
    while ((r = pb_next(c, in, &num, &wire)) > 0) {
        uint64_t v;
        if (num < 1 || num > 3) {
            if (pb_skip(c, in, num, wire, 0) < 0)
                return -1;
            continue;
        }
        if (wire != (num == 3 ? PB_LEN : PB_VARINT))
            return pb_fail(c, "intstr field %u has wire type %u", num, wire);
        if (num == 3) {
            if (pb_len(c, in, &sval) < 0)
                return -1;
            continue;
        }
        if (pb_varint(c, in, &v) < 0)
            return -1;
        if (num == 1)
            type = pb_int64(v);
        else
            ival = pb_int32(v);
    }
    if (r < 0)
        return -1;
    if (type == 0) {
        *out = json_integer(ival);
        return 0;
    }
    if (type == 1)
        return pb_string(c, &sval, out);
    return pb_fail(c, "intstr type %" PRId64 " is neither 0 (int) nor 1 (string)", type);
}

static json_t *pb_envelope(struct pb_ctx *c, const uint8_t *buf, size_t len, int depth);

/* RawExtension and FieldsV1 {raw = 1}: JSON text, which Go's MarshalJSON
 * copies out as it is. A RawExtension can also carry an object in
 * Kubernetes protobuf (magic and all), as watch events do; that is decoded
 * like a body. No raw, or an empty one, is null. */
static int pb_raw(struct pb_ctx *c, struct pb_in *in, int depth, json_t **out)
{
    struct pb_in raw = {in->p, in->p};
    unsigned num, wire;
    int r;
    while ((r = pb_next(c, in, &num, &wire)) > 0) {
        if (num != 1) {
            if (pb_skip(c, in, num, wire, 0) < 0)
                return -1;
            continue;
        }
        if (wire != PB_LEN)
            return pb_fail(c, "raw has wire type %u, want length-delimited", wire);
        if (pb_len(c, in, &raw) < 0)
            return -1;
    }
    if (r < 0)
        return -1;
    size_t n = (size_t)(raw.end - raw.p);
    if (n == 0) {
        *out = json_null();
        return 0;
    }
    if (n >= 4 && memcmp(raw.p, "k8s\0", 4) == 0) {
        *out = pb_envelope(c, raw.p, n, depth + 1);
        return *out ? 0 : -1;
    }
    json_error_t e;
    *out = json_loadb((const char *)raw.p, n, JSON_DECODE_ANY, &e);
    return *out ? 0 : pb_fail(c, "raw JSON: %s", e.text);
}

/* ---- messages ---- */

static int pb_message(struct pb_ctx *c, const struct kube_type *t, struct pb_in *in, json_t *obj,
                      int depth);

/* The wire type a single value of vt has (lists of numbers may also come
 * packed, as PB_LEN). */
static unsigned pb_wire_of(enum kube_vtype vt)
{
    switch (vt) {
    case KUBE_V_BOOL:
    case KUBE_V_INT32:
    case KUBE_V_INT64:
        return PB_VARINT;
    case KUBE_V_DOUBLE:
        return PB_FIXED64;
    default:
        return PB_LEN;
    }
}

/* One value of field f (owned by type t), whose tag has been read. */
static int pb_value(struct pb_ctx *c, const struct kube_type *t, const struct kube_field *f,
                    unsigned wire, struct pb_in *in, int depth, json_t **out)
{
    unsigned want = pb_wire_of(f->vtype);
    if (wire != want && !(want == PB_FIXED64 && wire == PB_FIXED32))
        return pb_fail(c, "wire type %u, want %u", wire, want);
    if (want == PB_VARINT) {
        uint64_t v;
        if (pb_varint(c, in, &v) < 0)
            return -1;
        *out = pb_from_varint(f->vtype, v);
        return 0;
    }
    if (want == PB_FIXED64)
        return pb_from_fixed(c, in, wire, out);
    struct pb_in sub;
    if (pb_len(c, in, &sub) < 0)
        return -1;
    if (depth >= PB_MAX_DEPTH && f->vtype != KUBE_V_STRING && f->vtype != KUBE_V_BYTES)
        return pb_fail(c, "nesting deeper than %d", PB_MAX_DEPTH);
    switch (f->vtype) {
    case KUBE_V_STRING:
        return pb_string(c, &sub, out);
    case KUBE_V_BYTES:
        *out = pb_base64(sub.p, (size_t)(sub.end - sub.p));
        return *out ? 0 : pb_fail(c, "out of memory");
    case KUBE_V_OBJECT:
        *out = json_object();
        if (pb_message(c, f->type, &sub, *out, depth + 1) == 0)
            return 0;
        json_decref(*out);
        *out = NULL;
        return -1;
    case KUBE_V_TIME:
        return pb_time(c, &sub, kube_protobuf_micro_time(t->name, f->name), out);
    case KUBE_V_DURATION:
        return pb_duration(c, &sub, out);
    case KUBE_V_QUANTITY:
        return pb_quantity(c, &sub, out);
    case KUBE_V_INT_OR_STRING:
        return pb_int_or_string(c, &sub, out);
    case KUBE_V_RAW:
        return pb_raw(c, &sub, depth + 1, out);
    default:
        return pb_fail(c, "value type %d has no protobuf form", (int)f->vtype);
    }
}

/* The zero value Go gives a map entry that has no value. */
static json_t *pb_zero(enum kube_vtype vt)
{
    switch (vt) {
    case KUBE_V_STRING:
    case KUBE_V_BYTES:
        return json_string("");
    case KUBE_V_BOOL:
        return json_false();
    case KUBE_V_INT32:
    case KUBE_V_INT64:
    case KUBE_V_INT_OR_STRING:
        return json_integer(0);
    case KUBE_V_DOUBLE:
        return json_real(0);
    case KUBE_V_OBJECT:
        return json_object();
    case KUBE_V_QUANTITY:
        return json_string("0");
    case KUBE_V_DURATION:
        return json_string("0s");
    default:
        return json_null();
    }
}

/* The JSON member named name, created as an empty object or array (per
 * want) when absent or of another shape. */
static json_t *pb_member(json_t *obj, const char *name, json_type want)
{
    json_t *m = json_object_get(obj, name);
    if (m && json_typeof(m) == want)
        return m;
    m = want == JSON_ARRAY ? json_array() : json_object();
    json_object_set_new(obj, name, m);
    return m;
}

/* A map<string, V> entry {key = 1, value = 2} into obj[f->name]. */
static int pb_map_entry(struct pb_ctx *c, const struct kube_type *t, const struct kube_field *f,
                        struct pb_in *in, json_t *obj, int depth)
{
    json_t *key = NULL, *val = NULL;
    unsigned num, wire;
    int r;
    if (depth >= PB_MAX_DEPTH)
        return pb_fail(c, "nesting deeper than %d", PB_MAX_DEPTH);
    while ((r = pb_next(c, in, &num, &wire)) > 0) {
        struct pb_in sub;
        json_t *v = NULL;
        if (num == 1 && wire != PB_LEN)
            r = pb_fail(c, "map key has wire type %u, want length-delimited", wire);
        else if (num == 1)
            r = pb_len(c, in, &sub) < 0 ? -1 : pb_string(c, &sub, &v);
        else if (num == 2)
            r = pb_value(c, t, f, wire, in, depth, &v);
        else
            r = pb_skip(c, in, num, wire, depth);
        if (r < 0)
            break;
        json_t **slot = num == 1 ? &key : &val;
        if (v) {
            json_decref(*slot);
            *slot = v;
        }
    }
    if (r == 0) {
        json_object_set_new(pb_member(obj, f->name, JSON_OBJECT),
                            key ? json_string_value(key) : "", val ? val : pb_zero(f->vtype));
        val = NULL;
    }
    json_decref(key);
    json_decref(val);
    return r;
}

/* Appends the elements of a packed repeated scalar to arr. */
static int pb_packed(struct pb_ctx *c, const struct kube_field *f, struct pb_in *in,
                     json_t *arr)
{
    unsigned want = pb_wire_of(f->vtype);
    struct pb_in sub;
    if (pb_len(c, in, &sub) < 0)
        return -1;
    while (sub.p < sub.end) {
        json_t *v = NULL;
        if (want == PB_VARINT) {
            uint64_t x;
            if (pb_varint(c, &sub, &x) < 0)
                return -1;
            v = pb_from_varint(f->vtype, x);
        } else if (pb_from_fixed(c, &sub, PB_FIXED64, &v) < 0) {
            return -1;
        }
        json_array_append_new(arr, v);
    }
    return 0;
}

static bool pb_is_zero(json_t *v)
{
    return (json_is_string(v) && json_string_length(v) == 0) ||
           (json_is_integer(v) && json_integer_value(v) == 0) ||
           (json_is_real(v) && json_real_value(v) == 0.0) || json_is_false(v);
}

/* One occurrence of field f in a message of type t, into obj. Lists
 * append, maps add an entry, messages merge into what an earlier
 * occurrence left, other values replace. */
static int pb_field(struct pb_ctx *c, const struct kube_type *t, const struct kube_field *f,
                    unsigned wire, struct pb_in *in, json_t *obj, int depth)
{
    if (f->map) {
        struct pb_in sub;
        if (wire != PB_LEN)
            return pb_fail(c, "map entry has wire type %u, want length-delimited", wire);
        if (pb_len(c, in, &sub) < 0)
            return -1;
        return pb_map_entry(c, t, f, &sub, obj, depth + 1);
    }
    if (f->repeated && wire == PB_LEN && pb_wire_of(f->vtype) != PB_LEN)
        return pb_packed(c, f, in, pb_member(obj, f->name, JSON_ARRAY));
    json_t *prev = json_object_get(obj, f->name);
    if (!f->repeated && f->vtype == KUBE_V_OBJECT && json_is_object(prev) && wire == PB_LEN) {
        struct pb_in sub;
        if (pb_len(c, in, &sub) < 0)
            return -1;
        if (depth >= PB_MAX_DEPTH)
            return pb_fail(c, "nesting deeper than %d", PB_MAX_DEPTH);
        return pb_message(c, f->type, &sub, prev, depth + 1);
    }
    json_t *v;
    if (pb_value(c, t, f, wire, in, depth, &v) < 0)
        return -1;
    if (f->repeated) {
        json_array_append_new(pb_member(obj, f->name, JSON_ARRAY), v);
    } else if (f->omit_zero && pb_is_zero(v)) {
        /* Go writes every plain field to protobuf, but its JSON leaves a
         * zero omitempty one out: so do we (defaulting then sees it unset,
         * as it would from kubectl's JSON). Pointers keep an explicit 0. */
        json_decref(v);
        json_object_del(obj, f->name);
    } else {
        json_object_set_new(obj, f->name, v);
    }
    return 0;
}

/* The field of t with protobuf number num, or NULL. Fields flattened from
 * inline members carry the member's numbers, not t's, so are skipped. */
static const struct kube_field *pb_lookup(const struct kube_type *t, unsigned num, bool *inl)
{
    for (unsigned i = 0; i < t->n_inlines; i++)
        if (t->inlines[i].num == num) {
            *inl = true;
            return &t->inlines[i];
        }
    *inl = false;
    for (unsigned i = 0; i < t->n_fields; i++)
        if (!t->fields[i].inlined && t->fields[i].num == num)
            return &t->fields[i];
    return NULL;
}

/* An inline member: a nested message whose fields go into obj itself. */
static int pb_inline(struct pb_ctx *c, const struct kube_field *f, unsigned wire,
                     struct pb_in *in, json_t *obj, int depth)
{
    struct pb_in sub;
    if (wire != PB_LEN || f->vtype != KUBE_V_OBJECT)
        return pb_fail(c, "inline member has wire type %u, want length-delimited", wire);
    if (pb_len(c, in, &sub) < 0)
        return -1;
    if (depth >= PB_MAX_DEPTH)
        return pb_fail(c, "nesting deeper than %d", PB_MAX_DEPTH);
    return pb_message(c, f->type, &sub, obj, depth + 1);
}

/* Decodes the message in `in`, of type t, into the JSON object obj. */
static int pb_message(struct pb_ctx *c, const struct kube_type *t, struct pb_in *in, json_t *obj,
                      int depth)
{
    unsigned num, wire;
    int r;
    while ((r = pb_next(c, in, &num, &wire)) > 0) {
        bool inl;
        const struct kube_field *f = pb_lookup(t, num, &inl);
        if (!f) {
            if (pb_skip(c, in, num, wire, depth) < 0)
                return -1;
            continue;
        }
        size_t mark = inl ? c->path_len : pb_path_push(c, f->name);
        r = inl ? pb_inline(c, f, wire, in, obj, depth) : pb_field(c, t, f, wire, in, obj, depth);
        if (r < 0)
            return -1;
        pb_path_pop(c, mark);
    }
    return r;
}

/* ---- the envelope ---- */

/* Copies a string value of the envelope into buf as a C string. */
static int pb_cstring(struct pb_ctx *c, struct pb_in *in, char *buf, size_t size,
                      const char *what)
{
    struct pb_in s;
    if (pb_len(c, in, &s) < 0)
        return -1;
    size_t n = (size_t)(s.end - s.p);
    if (n >= size)
        return pb_fail(c, "%s longer than %zu bytes", what, size - 1);
    if (memchr(s.p, '\0', n))
        return pb_fail(c, "%s contains NUL", what);
    memcpy(buf, s.p, n);
    buf[n] = '\0';
    return 0;
}

/* runtime.TypeMeta {apiVersion = 1, kind = 2}. */
static int pb_type_meta(struct pb_ctx *c, struct pb_in *in, char *api_version, char *kind,
                        size_t size)
{
    unsigned num, wire;
    int r;
    while ((r = pb_next(c, in, &num, &wire)) > 0) {
        if (num != 1 && num != 2) {
            r = pb_skip(c, in, num, wire, 0);
        } else if (wire != PB_LEN) {
            r = pb_fail(c, "typeMeta field %u has wire type %u", num, wire);
        } else {
            r = pb_cstring(c, in, num == 1 ? api_version : kind, size,
                           num == 1 ? "apiVersion" : "kind");
        }
        if (r < 0)
            return -1;
    }
    return r;
}

/* runtime.Unknown {typeMeta = 1, raw = 2, contentEncoding = 3,
 * contentType = 4}. Like Go's decoder we read only typeMeta and raw. */
static int pb_unknown(struct pb_ctx *c, struct pb_in *in, char *api_version, char *kind,
                      size_t size, struct pb_in *raw)
{
    unsigned num, wire;
    int r;
    while ((r = pb_next(c, in, &num, &wire)) > 0) {
        struct pb_in sub;
        if (num == 1 || num == 2) {
            if (wire != PB_LEN)
                return pb_fail(c, "envelope field %u has wire type %u", num, wire);
            if (pb_len(c, in, &sub) < 0)
                return -1;
            if (num == 2)
                *raw = sub;
            else if (pb_type_meta(c, &sub, api_version, kind, size) < 0)
                return -1;
        } else if (pb_skip(c, in, num, wire, 0) < 0) {
            return -1;
        }
    }
    return r;
}

/* Splits "group/version" or "version" (the core group) in place, as
 * schema.ParseGroupVersion does. */
static int pb_group_version(struct pb_ctx *c, char *api_version, const char **group,
                            const char **version)
{
    char *slash = strchr(api_version, '/');
    if (!slash) {
        *group = "";
        *version = api_version;
        return 0;
    }
    if (strchr(slash + 1, '/'))
        return pb_fail(c, "unexpected apiVersion \"%s\"", api_version);
    *slash = '\0';
    *group = api_version;
    *version = slash + 1;
    return 0;
}

/* The magic and the envelope: the kind's type, and its raw encoding. */
static const struct kube_type *pb_envelope_kind(struct pb_ctx *c, const uint8_t *buf, size_t len,
                                                struct pb_in *raw)
{
    char api_version[256] = "", kind[256] = "";
    const char *group = "", *version = "";
    struct pb_in in = {buf, buf + len};
    if (len < 4 || memcmp(buf, "k8s\0", 4) != 0) {
        pb_fail(c, "no \"k8s\\0\" magic: not a Kubernetes protobuf message");
        return NULL;
    }
    in.p += 4;
    if (pb_unknown(c, &in, api_version, kind, sizeof kind, raw) < 0)
        return NULL;
    if (!*kind || !*api_version) {
        pb_fail(c, "envelope has no %s", *kind ? "apiVersion" : "kind");
        return NULL;
    }
    if (pb_group_version(c, api_version, &group, &version) < 0)
        return NULL;
    const struct kube_type *t = kube_schema_kind(group, version, kind);
    if (!t)
        pb_fail(c, "unknown kind %s%s%s/%s", group, *group ? "/" : "", version, kind);
    return t;
}

/* A whole body: the object with apiVersion and kind (spelled as the
 * schema spells them) and the fields of raw. */
static json_t *pb_envelope(struct pb_ctx *c, const uint8_t *buf, size_t len, int depth)
{
    struct pb_in raw = {buf, buf};
    if (depth >= PB_MAX_DEPTH) {
        pb_fail(c, "nesting deeper than %d", PB_MAX_DEPTH);
        return NULL;
    }
    const struct kube_type *t = pb_envelope_kind(c, buf, len, &raw);
    if (!t)
        return NULL;
    json_t *obj = json_object();
    json_object_set_new(obj, "apiVersion", *t->group ? json_sprintf("%s/%s", t->group, t->version)
                                                     : json_string(t->version));
    json_object_set_new(obj, "kind", json_string(t->kind));
    if (pb_message(c, t, &raw, obj, depth + 1) < 0) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

json_t *kube_protobuf_decode(const void *buf, size_t len, char *err, size_t errlen)
{
    struct pb_ctx c = {.err = err, .errlen = errlen};
    if (err && errlen)
        err[0] = '\0';
    if (!buf && len)
        len = 0;
    return pb_envelope(&c, buf ? buf : "", len, 0);
}

json_t *kube_protobuf_decode_message(const struct kube_type *t, const void *buf, size_t len,
                                     char *err, size_t errlen)
{
    struct pb_ctx c = {.err = err, .errlen = errlen};
    const uint8_t *p = buf ? buf : (const void *)"";
    struct pb_in in = {p, p + (buf ? len : 0)};
    if (err && errlen)
        err[0] = '\0';
    json_t *obj = json_object();
    if (pb_message(&c, t, &in, obj, 1) == 0)
        return obj;
    json_decref(obj);
    return NULL;
}
