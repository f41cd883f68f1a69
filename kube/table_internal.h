/* table_internal.h — what the files of kube_table_columns and kube_table_cells share.
 *
 * Not for use outside kube/table*.c (see table.c for the layout): the row
 * being built (struct tbl_row), times read from the object (struct
 * tbl_time), lists cut short (struct tbl_list), the readers and cell
 * writers of table_row.c, and the cells function of each kind, all with the
 * tbl_ prefix; everything else is static to its file. */
#ifndef BOSUN_KUBE_TABLE_INTERNAL_H
#define BOSUN_KUBE_TABLE_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

/* A metav1.Time or MicroTime; unset is Go's zero time. */
struct tbl_time {
    bool set;
    int64_t sec; /* Unix seconds */
    int32_t nsec;
};

/* The row being built: every tbl_cell_* function appends one cell. */
struct tbl_row {
    json_t *obj;   /* the object being printed */
    int64_t now;   /* wall clock, Unix seconds */
    json_t *cells; /* the row, one value per column */
};

/* "a,b,c + 2 more..." after max items, as listWithMoreString and friends. */
struct tbl_list {
    struct ubuf b;
    size_t shown, count, max;
};

/* ---- reading the object, times, building a row, shared formats (table_row.c) ---- */

json_t *tbl_at(json_t *o, const char *path);
bool tbl_has(json_t *o, const char *path);
const char *tbl_str(json_t *o, const char *path);
const char *tbl_str_or(json_t *o, const char *path, const char *def);
int64_t tbl_int(json_t *o, const char *path, int64_t def);
int64_t tbl_int32(json_t *o, const char *path, int64_t def);
bool tbl_true(json_t *o, const char *path);
size_t tbl_len(json_t *o, const char *path);
bool tbl_streq(json_t *o, const char *path, const char *want);
struct tbl_time tbl_time_at(json_t *o, const char *path);
bool tbl_before(struct tbl_time a, struct tbl_time b);
int64_t tbl_sub(int64_t b_sec, int32_t b_nsec, int64_t a_sec, int32_t a_nsec);
void tbl_human(char *buf, size_t len, int64_t d);
void tbl_since(const struct tbl_row *r, struct tbl_time t, char *buf, size_t len);
void tbl_cell_str(struct tbl_row *r, const char *s);
void tbl_cell_fmt(struct tbl_row *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tbl_cell_int(struct tbl_row *r, int64_t v);
void tbl_cell_bool(struct tbl_row *r, bool v);
void tbl_cell_buf(struct tbl_row *r, struct ubuf *b, const char *fallback);
void tbl_cell_field(struct tbl_row *r, const char *path, const char *fallback);
void tbl_cell_since(struct tbl_row *r, const char *path);
void tbl_cell_name(struct tbl_row *r);
void tbl_cell_age(struct tbl_row *r);
void tbl_sep(struct ubuf *b, const char *sep);
void tbl_cells_containers(struct tbl_row *r, const char *path);
int tbl_strcmp(const void *a, const void *b);
void tbl_cell_labels(struct tbl_row *r, const char *path);
bool tbl_selector_string(json_t *sel, struct ubuf *out);
void tbl_cell_selector(struct tbl_row *r, const char *path);
void tbl_list_add(struct tbl_list *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tbl_cell_list(struct tbl_row *r, struct tbl_list *l, const char *if_empty);
void tbl_list_hostport(struct tbl_list *l, const char *host, int64_t port);
void tbl_quantity(char *buf, size_t len, json_t *q);
void tbl_int_or_string(char *buf, size_t len, json_t *v);
bool tbl_condition_true(json_t *o, const char *path, const char *type);

/* ---- the cells of each kind, for table.c's table of kinds ---- */

/* table_pod.c */
void tbl_pod_cells(struct tbl_row *r);

/* table_core.c */
void tbl_namespace_cells(struct tbl_row *r);
void tbl_node_cells(struct tbl_row *r);
void tbl_service_cells(struct tbl_row *r);
void tbl_endpoints_cells(struct tbl_row *r);
void tbl_configmap_cells(struct tbl_row *r);
void tbl_secret_cells(struct tbl_row *r);
void tbl_serviceaccount_cells(struct tbl_row *r);
void tbl_pv_cells(struct tbl_row *r);
void tbl_pvc_cells(struct tbl_row *r);
void tbl_event_cells(struct tbl_row *r);

/* table_workloads.c */
void tbl_deployment_cells(struct tbl_row *r);
void tbl_replicaset_cells(struct tbl_row *r);
void tbl_daemonset_cells(struct tbl_row *r);
void tbl_statefulset_cells(struct tbl_row *r);
void tbl_controllerrevision_cells(struct tbl_row *r);
void tbl_job_cells(struct tbl_row *r);
void tbl_cronjob_cells(struct tbl_row *r);

/* table_misc.c */
void tbl_hpa_cells(struct tbl_row *r);
void tbl_lease_cells(struct tbl_row *r);
void tbl_endpointslice_cells(struct tbl_row *r);
void tbl_priorityclass_cells(struct tbl_row *r);
void tbl_storageclass_cells(struct tbl_row *r);
void tbl_pdb_cells(struct tbl_row *r);

#endif
