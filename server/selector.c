/* selector.c — field selectors, shared by lists and watches.
 *
 * Only equality on metadata.name and metadata.namespace for now, which is
 * what kubectl's get -w, wait, delete and rollout send; anything else marks
 * the selector bad and the request gets a 400. */
#include <stdio.h>
#include <string.h>

#include "server/internal.h"

void field_sel_parse(const char *s, struct field_sel *fs)
{
    memset(fs, 0, sizeof *fs);
    if (!s)
        return;
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", s);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strstr(tok, "==");
        size_t skip = 2;
        if (!eq) {
            eq = strchr(tok, '=');
            skip = 1;
        }
        if (!eq) {
            fs->bad = true;
            return;
        }
        *eq = '\0';
        const char *val = eq + skip;
        if (strcmp(tok, "metadata.name") == 0)
            snprintf(fs->name, sizeof fs->name, "%s", val);
        else if (strcmp(tok, "metadata.namespace") == 0)
            snprintf(fs->ns, sizeof fs->ns, "%s", val);
        else
            fs->bad = true;
    }
}

bool field_sel_match(const struct field_sel *fs, const struct store_obj *o)
{
    if (fs->name[0] && (strlen(fs->name) != o->name_len || memcmp(fs->name, o->name, o->name_len)))
        return false;
    if (fs->ns[0] && (strlen(fs->ns) != o->ns_len || memcmp(fs->ns, o->ns, o->ns_len)))
        return false;
    return true;
}
