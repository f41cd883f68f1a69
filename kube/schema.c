/* schema.c — lookups in the Kubernetes API schema.
 *
 * The data is generated at build time (scripts/gen_schema.py →
 * build/gen/kube_schema_data.c) from Debian's k8s.io/api and apimachinery
 * sources: an array of types sorted by OpenAPI name, each with its fields
 * sorted by JSON name, and an index of kinds sorted by "group/version/Kind".
 * All of it is const, so lookups are binary searches with no locking.
 * metrics.k8s.io's types, which are not among the generated packages,
 * follow the generated ones (schema_metrics.c). */
#include <stdio.h>
#include <string.h>

#include "kube/kube.h"

extern const struct kube_type kube_schema_types[];
extern const unsigned kube_schema_n_types;
extern const struct kube_schema_kind kube_schema_kinds[];
extern const unsigned kube_schema_n_kinds;
/* schema_metrics.c */
const struct kube_type *kube_schema_metrics_at(unsigned i);
const struct kube_type *kube_schema_metrics_type(const char *name);
const struct kube_type *kube_schema_metrics_kind(const char *group, const char *version,
                                                 const char *kind);

const struct kube_type *kube_schema_type(const char *name)
{
    unsigned lo = 0, hi = kube_schema_n_types;
    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;
        int c = strcmp(kube_schema_types[mid].name, name);
        if (c == 0)
            return &kube_schema_types[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return kube_schema_metrics_type(name);
}

const struct kube_type *kube_schema_kind(const char *group, const char *version, const char *kind)
{
    char key[256];
    if (snprintf(key, sizeof key, "%s/%s/%s", group, version, kind) >= (int)sizeof key)
        return NULL;
    unsigned lo = 0, hi = kube_schema_n_kinds;
    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;
        int c = strcmp(kube_schema_kinds[mid].gvk, key);
        if (c == 0)
            return &kube_schema_types[kube_schema_kinds[mid].type];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return kube_schema_metrics_kind(group, version, kind);
}

const struct kube_field *kube_type_field(const struct kube_type *t, const char *name)
{
    unsigned lo = 0, hi = t->n_fields;
    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;
        int c = strcmp(t->fields[mid].name, name);
        if (c == 0)
            return &t->fields[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const struct kube_type *kube_schema_type_at(unsigned i)
{
    return i < kube_schema_n_types ? &kube_schema_types[i]
                                   : kube_schema_metrics_at(i - kube_schema_n_types);
}
