/* validate_syntax.c — the name and value syntaxes of Kubernetes validation.
 *
 * apimachinery's pkg/util/validation with its exact messages: DNS-1123
 * labels and subdomains, DNS-1035 labels, qualified names, label values,
 * ConfigMap keys, port names, environment variable names, path segments,
 * IPs, CIDRs and percents; the name rules of objects (generic.go, with a
 * generateName prefix's trailing dash masked); the field checks every kind
 * builds on them (DNS label, subdomain, qualified name, non-negative, port
 * number or name, IP); and the reading of quantities.
 *
 * How it works: each kv_is_* syntax appends Go's messages to a struct msgs
 * ([]string in Go), matching the regular expressions of the Go code with
 * small hand-written scanners; kv_invalid_each then makes one Invalid cause
 * per message, as the Go callers do, so a value can fail several rules at
 * once with the same causes Kubernetes reports. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/kube.h"
#include "kube/validate_internal.h"

/* ==== syntaxes (apimachinery/pkg/util/validation) ==== */

static void msgs_add(struct msgs *ms, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void msgs_add(struct msgs *ms, const char *fmt, ...)
{
    if (ms->n >= 4)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ms->m[ms->n++], sizeof ms->m[0], fmt, ap);
    va_end(ap);
}

/* One Invalid cause per message, as the callers of the Is* functions do. */
void kv_invalid_each(struct vctx *c, const char *child, const char *value, const struct msgs *ms)
{
    for (int i = 0; i < ms->n; i++)
        kv_invalid(c, child, value, ms->m[i]);
}

#define DNS1123_LABEL_FMT "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
#define QNAME_FMT "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"

static const char dns1123_label_msg[] =
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "
    "used for validation is '" DNS1123_LABEL_FMT "')";
static const char dns1123_subdomain_msg[] =
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
    "for validation is '" DNS1123_LABEL_FMT "(\\." DNS1123_LABEL_FMT ")*')";
static const char dns1035_label_msg[] =
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "
    "'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
static const char qualified_name_msg[] =
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
    "validation is '" QNAME_FMT "')";
static const char label_value_msg[] =
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
    "'my_value',  or '12345', regex used for validation is '(" QNAME_FMT ")?')";
static const char config_key_msg[] =
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. "
    "'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is "
    "'[-._a-zA-Z0-9]+')";
const char kv_not_negative_msg[] = "must be greater than or equal to 0";
const char kv_immutable_msg[] = "field is immutable";

static bool is_lower_alnum(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
}

static bool is_alnum(char ch)
{
    return isalnum((unsigned char)ch) != 0;
}

/* [a-z0-9]([-a-z0-9]*[a-z0-9])? over s[0..n). */
static bool match_dns_label(const char *s, size_t n)
{
    if (n == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
        return false;
    for (size_t i = 1; i + 1 < n; i++)
        if (!is_lower_alnum(s[i]) && s[i] != '-')
            return false;
    return true;
}

static bool match_subdomain(const char *s)
{
    for (;;) {
        const char *dot = strchr(s, '.');
        size_t n = dot ? (size_t)(dot - s) : strlen(s);
        if (!match_dns_label(s, n))
            return false;
        if (!dot)
            return true;
        s = dot + 1;
    }
}

/* ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9] over s[0..n). */
static bool match_qname(const char *s, size_t n)
{
    if (n == 0 || !is_alnum(s[0]) || !is_alnum(s[n - 1]))
        return false;
    for (size_t i = 1; i + 1 < n; i++)
        if (!is_alnum(s[i]) && !strchr("-_.", s[i]))
            return false;
    return true;
}

void kv_is_dns1123_label(const char *s, struct msgs *ms)
{
    size_t n = strlen(s);
    if (n > 63)
        msgs_add(ms, "must be no more than 63 characters");
    if (!match_dns_label(s, n))
        msgs_add(ms, "%s", dns1123_label_msg);
}

void kv_is_dns1123_subdomain(const char *s, struct msgs *ms)
{
    if (strlen(s) > 253)
        msgs_add(ms, "must be no more than 253 characters");
    if (!match_subdomain(s))
        msgs_add(ms, "%s", dns1123_subdomain_msg);
}

static void is_dns1035_label(const char *s, struct msgs *ms)
{
    size_t n = strlen(s);
    if (n > 63)
        msgs_add(ms, "must be no more than 63 characters");
    if (!match_dns_label(s, n) || !(s[0] >= 'a' && s[0] <= 'z'))
        msgs_add(ms, "%s", dns1035_label_msg);
}

/* IsQualifiedName: [prefix/]name. */
void kv_is_qualified_name(const char *s, struct msgs *ms)
{
    const char *slash = strchr(s, '/');
    const char *name = s;
    if (slash && strchr(slash + 1, '/')) {
        msgs_add(ms,
                 "a qualified name %s with an optional DNS subdomain prefix and '/' (e.g. "
                 "'example.com/MyName')",
                 qualified_name_msg);
        return;
    }
    if (slash) {
        size_t plen = (size_t)(slash - s);
        char prefix[300];
        snprintf(prefix, sizeof prefix, "%.*s", (int)(plen < 299 ? plen : 299), s);
        if (plen == 0) {
            msgs_add(ms, "prefix part must be non-empty");
        } else {
            struct msgs pm = {0};
            kv_is_dns1123_subdomain(prefix, &pm);
            for (int i = 0; i < pm.n; i++)
                msgs_add(ms, "prefix part %s", pm.m[i]);
        }
        name = slash + 1;
    }
    size_t n = strlen(name);
    if (n == 0)
        msgs_add(ms, "name part must be non-empty");
    else if (n > 63)
        msgs_add(ms, "name part must be no more than 63 characters");
    if (!match_qname(name, n))
        msgs_add(ms, "name part %s", qualified_name_msg);
}

void kv_is_label_value(const char *s, struct msgs *ms)
{
    size_t n = strlen(s);
    if (n > 63)
        msgs_add(ms, "must be no more than 63 characters");
    if (n > 0 && !match_qname(s, n))
        msgs_add(ms, "%s", label_value_msg);
}

void kv_is_config_map_key(const char *s, struct msgs *ms)
{
    if (strlen(s) > 253)
        msgs_add(ms, "must be no more than 253 characters");
    bool ok = *s != '\0';
    for (const char *p = s; *p; p++)
        if (!is_alnum(*p) && !strchr("-._", *p))
            ok = false;
    if (!ok)
        msgs_add(ms, "%s", config_key_msg);
    if (strcmp(s, ".") == 0)
        msgs_add(ms, "must not be '.'");
    else if (strcmp(s, "..") == 0)
        msgs_add(ms, "must not be '..'");
    else if (strncmp(s, "..", 2) == 0)
        msgs_add(ms, "must not start with '..'");
}

void kv_is_port_name(const char *s, struct msgs *ms)
{
    size_t n = strlen(s);
    bool charset = n > 0, letter = false;
    for (const char *p = s; *p; p++) {
        if (!is_lower_alnum(*p) && *p != '-')
            charset = false;
        if (*p >= 'a' && *p <= 'z')
            letter = true;
    }
    if (n > 15)
        msgs_add(ms, "must be no more than 15 characters");
    if (!charset)
        msgs_add(ms, "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
    if (!letter)
        msgs_add(ms, "must contain at least one letter (a-z)");
    if (strstr(s, "--"))
        msgs_add(ms, "must not contain consecutive hyphens");
    if (n > 0 && (s[0] == '-' || s[n - 1] == '-'))
        msgs_add(ms, "must not begin or end with a hyphen");
}

/* IsRelaxedEnvVarName (RelaxedEnvironmentVariableValidation is on in 1.32). */
void kv_is_env_var_name(const char *s, struct msgs *ms)
{
    if (!*s)
        msgs_add(ms, "environment variable name must be non-empty");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p >= 0x7f || *p == '=') {
            msgs_add(ms, "a valid environment variable name must consist only of printable "
                         "ASCII characters other than '='");
            break;
        }
    }
}

/* IsValidPathSegmentName, for names that become URL path segments. */
void kv_is_path_segment_name(const char *s, struct msgs *ms)
{
    if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0) {
        msgs_add(ms, "may not be '%s'", s);
        return;
    }
    if (strchr(s, '/'))
        msgs_add(ms, "may not contain '/'");
    if (strchr(s, '%'))
        msgs_add(ms, "may not contain '%%'");
}

bool kv_is_ip(const char *s)
{
    unsigned char buf[16];
    return s && (inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1);
}

bool kv_is_ipv4(const char *s)
{
    unsigned char buf[4];
    return s && inet_pton(AF_INET, s, buf) == 1;
}

bool kv_is_ipv6(const char *s)
{
    unsigned char buf[16];
    return s && strchr(s, ':') && inet_pton(AF_INET6, s, buf) == 1;
}

bool kv_is_cidr(const char *s)
{
    const char *slash = strchr(s, '/');
    if (!slash || !slash[1] || strlen(slash + 1) > 3)
        return false;
    char ip[64];
    snprintf(ip, sizeof ip, "%.*s", (int)(slash - s), s);
    char *end;
    long bits = strtol(slash + 1, &end, 10);
    if (*end || !isdigit((unsigned char)slash[1]))
        return false;
    return (kv_is_ipv4(ip) && bits >= 0 && bits <= 32) ||
           (kv_is_ipv6(ip) && bits >= 0 && bits <= 128);
}

bool kv_is_percent(const char *s)
{
    size_t n = strlen(s);
    if (n < 2 || s[n - 1] != '%')
        return false;
    for (size_t i = 0; i + 1 < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return true;
}

/* ---- names of objects (apimachinery/pkg/api/validation/generic.go) ---- */

/* maskTrailingDash: a generateName prefix may end in '-'. */
static const char *mask_trailing_dash(const char *name, char *buf, size_t len)
{
    size_t n = strlen(name);
    if (n > 1 && name[n - 1] == '-' && n < len) {
        snprintf(buf, len, "%.*sa", (int)(n - 2), name);
        return buf;
    }
    return name;
}

void kv_name_subdomain(const char *name, bool prefix, struct msgs *ms)
{
    char buf[512];
    kv_is_dns1123_subdomain(prefix ? mask_trailing_dash(name, buf, sizeof buf) : name, ms);
}

void kv_name_label(const char *name, bool prefix, struct msgs *ms)
{
    char buf[512];
    kv_is_dns1123_label(prefix ? mask_trailing_dash(name, buf, sizeof buf) : name, ms);
}

void kv_name_dns1035(const char *name, bool prefix, struct msgs *ms)
{
    char buf[512];
    is_dns1035_label(prefix ? mask_trailing_dash(name, buf, sizeof buf) : name, ms);
}

/* ValidateDNS1123Label / Subdomain with their field: Invalid per message. */
void kv_check_dns_label(struct vctx *c, const char *child, const char *value)
{
    struct msgs ms = {0};
    kv_is_dns1123_label(value, &ms);
    kv_invalid_each(c, child, value, &ms);
}

void kv_check_subdomain(struct vctx *c, const char *child, const char *value)
{
    struct msgs ms = {0};
    kv_is_dns1123_subdomain(value, &ms);
    kv_invalid_each(c, child, value, &ms);
}

void kv_check_qualified_name(struct vctx *c, const char *child, const char *value)
{
    struct msgs ms = {0};
    kv_is_qualified_name(value, &ms);
    kv_invalid_each(c, child, value, &ms);
}

/* ValidateNonnegativeField for o[k] when it is set. */
void kv_check_nonnegative(struct vctx *c, json_t *o, const char *k)
{
    json_int_t v;
    if (jint(o, k, &v) && v < 0)
        kv_invalid_int(c, k, v, kv_not_negative_msg);
}

void kv_check_port_num(struct vctx *c, const char *child, json_int_t port)
{
    if (port < 1 || port > 65535)
        kv_invalid_int(c, child, port, "must be between 1 and 65535, inclusive");
}

/* ValidatePortNumOrName for an IntOrString. */
void kv_check_port_num_or_name(struct vctx *c, const char *child, json_t *port)
{
    if (json_is_string(port)) {
        struct msgs ms = {0};
        kv_is_port_name(json_string_value(port), &ms);
        kv_invalid_each(c, child, json_string_value(port), &ms);
    } else {
        kv_check_port_num(c, child, json_is_integer(port) ? json_integer_value(port) : 0);
    }
}

void kv_check_ip(struct vctx *c, const char *child, const char *ip)
{
    if (!kv_is_ip(ip))
        kv_invalid(c, child, ip ? ip : "",
                   "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)");
}

/* ValidateNonSpecialIP: endpoints may not point at these ranges. */
void kv_check_non_special_ip(struct vctx *c, const char *child, const char *ip)
{
    unsigned char a[16];
    char msg[96];
    if (inet_pton(AF_INET, ip, a) == 1) {
        if (!a[0] && !a[1] && !a[2] && !a[3]) {
            snprintf(msg, sizeof msg, "may not be unspecified (%s)", ip);
            kv_invalid(c, child, ip, msg);
        }
        if (a[0] == 127)
            kv_invalid(c, child, ip, "may not be in the loopback range (127.0.0.0/8, ::1/128)");
        if (a[0] == 169 && a[1] == 254)
            kv_invalid(c, child, ip,
                       "may not be in the link-local range (169.254.0.0/16, fe80::/10)");
        if (a[0] == 224 && a[1] == 0 && a[2] == 0)
            kv_invalid(c, child, ip,
                       "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)");
    } else if (inet_pton(AF_INET6, ip, a) == 1) {
        static const unsigned char zero[16], loop[16] = {[15] = 1};
        if (!memcmp(a, zero, 16)) {
            snprintf(msg, sizeof msg, "may not be unspecified (%s)", ip);
            kv_invalid(c, child, ip, msg);
        }
        if (!memcmp(a, loop, 16))
            kv_invalid(c, child, ip, "may not be in the loopback range (127.0.0.0/8, ::1/128)");
        if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
            kv_invalid(c, child, ip,
                       "may not be in the link-local range (169.254.0.0/16, fe80::/10)");
        if (a[0] == 0xff && (a[1] & 0x0f) == 0x02)
            kv_invalid(c, child, ip,
                       "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)");
    }
}

/* A quantity's text, as a string value (numbers printed as given). */
const char *kv_quantity_text(json_t *q, char *buf, size_t len)
{
    if (json_is_string(q))
        return json_string_value(q);
    if (json_is_integer(q))
        snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(q));
    else
        snprintf(buf, len, "%g", json_real_value(q));
    return buf;
}

bool kv_quantity_value(json_t *q, double *v)
{
    if (json_is_number(q)) {
        *v = json_number_value(q);
        return true;
    }
    return json_is_string(q) && kube_quantity_parse(json_string_value(q), v);
}
