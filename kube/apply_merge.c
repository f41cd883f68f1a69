/* apply_merge.c — an applied configuration merged into the live object, and
 * the fields its applier stopped applying removed.
 *
 * smd's Merge with the configuration winning (ka_merge_val): struct fields
 * and map keys merge one by one, keyed and set lists merge element by
 * element in the order smd gives them, everything else is replaced; and
 * smd's prune (ka_prune_walk): what the applier's previous set owned but no
 * manager owns now is deleted from the result.
 *
 * How it works: both walk the JSON guided by the shape (apply_shape.c),
 * finding a list's elements in the other list through a struct lindex, and
 * report an error (duplicate entries for a key) at the path of the chain of
 * frames, as smd does. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/apply_internal.h"

/* -- a configuration merged onto a live value (smd's Merge, config wins) -- */

static int merge_fields(const struct shape *sh, json_t *l, json_t *r, struct frame *fr,
                        struct aerr *e)
{
    const char *k;
    json_t *rv;
    json_object_foreach(r, k, rv) {
        struct shape cs = ka_shape_child(sh, k);
        struct frame cf = FIELD_FRAME(fr, k);
        json_t *cur = json_object_get(l, k);
        json_t *nv = cur ? json_incref(cur) : NULL;
        if (ka_merge_val(&cs, &nv, rv, &cf, e)) {
            json_decref(nv);
            return -1;
        }
        if (nv)
            json_object_set_new(l, k, nv);
        else
            json_object_del(l, k);
    }
    return 0;
}

/* Appends to out the merge of live item lc (NULL: none) and config item rc. */
static int merge_item(json_t *out, const struct shape *es, json_t *lc, json_t *rc,
                      struct frame *ef, struct aerr *e)
{
    json_t *nv = lc ? json_incref(lc) : NULL;
    if (ka_merge_val(es, &nv, rc, ef, e)) {
        json_decref(nv);
        return -1;
    }
    if (nv)
        json_array_append_new(out, nv);
    return 0;
}

/* Merges two associative lists in smd's order: live items keep their
 * places, items both have follow the configuration's order, new items
 * go where the configuration puts them. */
static int merge_items(const struct shape *sh, json_t **v, json_t *r, struct frame *fr,
                       struct aerr *e)
{
    json_t *l = *v;
    struct lindex li, ri;
    ka_lindex_build(&li, sh, l, NULL, NULL);
    if (ka_lindex_build(&ri, sh, r, fr, e)) {
        ka_lindex_free(&li);
        return -1;
    }
    struct shape es = ka_shape_elem(sh);
    enum pe_kind kind = sh->kind == SH_KEYED_LIST ? PE_KEY : PE_VALUE;
    int rc = 0;
    for (size_t j = 0; j < ri.n && ri.any_dup; j++)
        if (ri.dup[j]) {
            struct ubuf p = {0}, k = {0};
            fs_frame_path(fr, &p);
            ka_pe_print(&k, kind, ri.key[j], ri.val[j]);
            ka_aerr_set(e, "%s: duplicate entries for key %s", p.data ? p.data : "", k.data);
            ubuf_free(&p);
            ubuf_free(&k);
            rc = -1;
            break;
        }
    size_t *shared = xmalloc((ri.n + 1) * sizeof *shared), ns = 0, sp = 0;
    bool *done = xcalloc(ri.n + 1, sizeof *done);
    for (size_t j = 0; j < ri.n; j++)
        if (ka_lindex_find(&li, ri.key[j]) != NONE)
            shared[ns++] = j;
    size_t next = ns ? shared[0] : NONE;
    json_t *out = json_array();
    for (size_t i = 0, j = 0; !rc && (i < li.n || j < ri.n);) {
        if (i < li.n && j < ri.n) {
            const char *lk = li.key[i];
            if (lk && !strcmp(lk, ri.key[j])) {
                struct frame ef = ITEM_FRAME(fr, kind, ri.key[j], ri.val[j]);
                rc = merge_item(out, &es, li.dup[i] ? NULL : json_array_get(l, i),
                                json_array_get(r, j), &ef, e);
                done[j] = true;
                i++, j++;
                sp++;
                next = sp < ns ? shared[sp] : NONE;
                continue;
            }
            size_t rj = ka_lindex_find(&ri, lk);
            if (rj != NONE && next != NONE && next != rj) { /* shared, placed later */
                i++;
                continue;
            }
        }
        if (i < li.n) {
            size_t rj = ka_lindex_find(&ri, li.key[i]);
            if (rj == NONE) {
                json_array_append(out, json_array_get(l, i));
                i++;
                continue;
            }
            if (done[rj])
                i++;
        }
        if (j < ri.n) {
            size_t lj = ka_lindex_find(&li, ri.key[j]);
            struct frame ef = ITEM_FRAME(fr, kind, ri.key[j], ri.val[j]);
            done[j] = true;
            rc = merge_item(out, &es, lj != NONE && !li.dup[lj] ? json_array_get(l, lj) : NULL,
                            json_array_get(r, j), &ef, e);
            if (next == j) {
                sp++;
                next = sp < ns ? shared[sp] : NONE;
            }
            j++;
        }
    }
    free(shared);
    free(done);
    ka_lindex_free(&li);
    ka_lindex_free(&ri);
    if (rc) {
        json_decref(out);
        return -1;
    }
    json_decref(*v);
    *v = out;
    return 0;
}

/* Merges config value r into *v (owned; NULL when absent). A null in the
 * configuration unsets the field. */
int ka_merge_val(const struct shape *sh, json_t **v, json_t *r, struct frame *fr,
                 struct aerr *e)
{
    if (!r)
        return 0;
    if (json_is_null(r)) {
        json_decref(*v);
        *v = NULL;
        return 0;
    }
    if (!ka_is_granular(sh) || !ka_shape_fits(sh, r)) {
        json_decref(*v);
        *v = json_deep_copy(r);
        return 0;
    }
    if (!*v || !ka_shape_fits(sh, *v) || json_is_null(*v)) {
        json_decref(*v);
        *v = json_is_object(r) ? json_object() : json_array();
    }
    if (ka_container_empty(*v) && ka_container_empty(r)) {
        json_decref(*v);
        *v = json_deep_copy(r);
        return 0;
    }
    if (json_is_object(r))
        return merge_fields(sh, *v, r, fr, e);
    return merge_items(sh, v, r, fr, e);
}

/* -- removing what an applier gave up (smd's prune) --
 * An item of the applier's previous set `last` goes, with everything under
 * it, when no manager (the applier's new set included) owns it; struct
 * fields count as owned when anything under them is (smd's
 * EnsureNamedFieldsAreMembers). */

static void prune_fields(json_t *v, const struct shape *sh, const struct fnode *last,
                         const struct fnode *owned)
{
    size_t j = 0;
    for (size_t i = 0; i < last->n && last->kid[i]->kind == PE_FIELD; i++) {
        const struct fnode *lk = last->kid[i], *ok = fs_match_kid(owned, &j, lk);
        const char *name = lk->key + 2;
        json_t *cv = json_object_get(v, name);
        if (!cv)
            continue;
        bool named = is_named(sh, name);
        bool in_last = lk->member || (named && lk->n);
        bool in_owned = ok && (ok->member || (named && ok->n));
        if (in_last && !in_owned) {
            json_object_del(v, name);
            continue;
        }
        struct shape cs = ka_shape_child(sh, name);
        if (!lk->n || !ka_is_granular(&cs) || !ka_shape_fits(&cs, cv) || ka_container_empty(cv))
            continue;
        ka_prune_walk(cv, &cs, lk, ok);
        if (ka_container_empty(cv)) /* emptied: smd leaves null, Go omits it */
            json_object_del(v, name);
    }
}

static void prune_items(json_t *v, const struct shape *sh, const struct fnode *last,
                        const struct fnode *owned)
{
    struct lindex ix;
    ka_lindex_build(&ix, sh, v, NULL, NULL);
    struct shape es = ka_shape_elem(sh);
    bool *drop = xcalloc(ix.n + 1, sizeof *drop), any = false;
    size_t j = 0;
    for (size_t i = 0; i < last->n; i++) {
        const struct fnode *lk = last->kid[i], *ok = fs_match_kid(owned, &j, lk);
        size_t at = lk->kind == PE_FIELD ? NONE : ka_lindex_find(&ix, lk->key);
        if (at == NONE)
            continue;
        if (lk->member && !(ok && ok->member)) {
            for (size_t x = at; x != NONE; x = ix.next[x])
                drop[x] = any = true;
            continue;
        }
        if (lk->n && ka_is_granular(&es))
            for (size_t x = at; x != NONE; x = ix.next[x])
                if (ka_shape_fits(&es, json_array_get(v, x)))
                    ka_prune_walk(json_array_get(v, x), &es, lk, ok);
    }
    if (any) {
        json_t *keep = json_array();
        for (size_t x = 0; x < ix.n; x++)
            if (!drop[x])
                json_array_append(keep, json_array_get(v, x));
        json_array_clear(v);
        json_array_extend(v, keep);
        json_decref(keep);
    }
    free(drop);
    ka_lindex_free(&ix);
}

void ka_prune_walk(json_t *v, const struct shape *sh, const struct fnode *last,
                   const struct fnode *owned)
{
    if (sh->kind == SH_STRUCT || sh->kind == SH_MAP)
        prune_fields(v, sh, last, owned);
    else if (sh->kind == SH_KEYED_LIST || sh->kind == SH_SET_LIST)
        prune_items(v, sh, last, owned);
}

