/* codec — conversion between JSON (jansson, at the HTTP edge) and msgpack
 * (in Raft entries and in the store).
 *
 * The mapping is lossless for what Kubernetes objects hold: objects become
 * msgpack maps with string keys in the same order, arrays become arrays,
 * strings strings, integers int64/uint64, reals float64, true/false/null
 * their msgpack counterparts. Decoding rejects what JSON cannot represent
 * (non-string map keys, binary, ext) and nests at most CODEC_MAX_DEPTH deep,
 * so a hostile or corrupt buffer gets an error, never a crash.
 *
 * JSON text becomes a jansson tree through codec_json_load (json_load.c):
 * what json_loadb builds, several times faster; YAML through libyaml
 * (yaml.c). A stored map can be changed at a few paths without decoding it
 * (codec_msgpack_edit): the scheduler's bindings. */
#ifndef BOSUN_CODEC_H
#define BOSUN_CODEC_H

#include <jansson.h>
#include <stddef.h>

#include "util/util.h"

#define CODEC_MAX_DEPTH 128

/* Appends the msgpack encoding of v to out. Returns 0, or -1 if v nests
 * deeper than CODEC_MAX_DEPTH. */
int codec_json_to_msgpack(const json_t *v, struct ubuf *out);

/* JSON text to a jansson tree: what json_loadb(buf, len, flags, err) returns,
 * built several times faster (codec/json_load.c); the error text is worded
 * differently. flags: any of JSON_DECODE_ANY, JSON_REJECT_DUPLICATES,
 * JSON_ALLOW_NUL. err may be NULL. */
json_t *codec_json_load(const char *buf, size_t len, size_t flags, json_error_t *err);

/* The length of the valid UTF-8 sequence at s, of the left bytes there (at
 * least 1), or 0 if it is not one: jansson's rules, no overlong forms,
 * surrogates, or code points above U+10FFFF. */
size_t codec_utf8_len(const unsigned char *s, size_t left);

/* Decodes one msgpack value that spans exactly buf[0..len). Returns a new
 * reference, or NULL if the buffer is malformed, has trailing bytes, or holds
 * what JSON cannot. */
json_t *codec_msgpack_to_json(const void *buf, size_t len);

/* Appends the JSON text of the msgpack value in buf to out, exactly as
 * json_dumps(codec_msgpack_to_json(buf, len), JSON_COMPACT) would, without
 * building the tree. With rv, the value must be a map, and its
 * metadata.resourceVersion is set to rv on the way (as the server's
 * object_render does). 0, or -1 (out unchanged) for what the decoder
 * refuses, except duplicate map keys, which are not looked for. */
int codec_msgpack_json_text(const void *buf, size_t len, const char *rv, struct ubuf *out);

/* codec_msgpack_to_json without the value at the dotted path skip of the
 * map in buf (say "metadata.managedFields"), which is stepped over, not
 * decoded: what the table cells of an object need, at a fraction of the
 * allocations. NULL as codec_msgpack_to_json. */
json_t *codec_msgpack_to_json_without(const void *buf, size_t len, const char *skip);

/* codec_msgpack_json_text of the value at key in the map in buf; with rv,
 * that value must be a map and its resourceVersion is set to rv (in place,
 * or at the end), as object_render sets metadata.resourceVersion. 0; 1 if
 * there is no such key (or, with rv, its value is no map); -1 for what the
 * decoder refuses. out is unchanged unless 0. */
int codec_msgpack_json_text_at(const void *buf, size_t len, const char *key, const char *rv,
                               struct ubuf *out);

/* Decodes only the values at the given dotted paths ("spec.nodeName",
 * "metadata.labels") of the msgpack map in buf, into a JSON object of the
 * same shape that holds nothing else: what a selector needs from an object,
 * without decoding (and allocating) all of it. A missing path is left out.
 * At most 32 paths, found in one walk of the bytes. NULL if what is walked
 * is malformed; bytes beyond the walked parts are not checked. */
json_t *codec_msgpack_extract(const void *buf, size_t len, const char *const *paths, unsigned n);

/* One change codec_msgpack_edit makes: the value at the dotted path becomes
 * value (added at the end of its map if absent, with the maps on the way),
 * or, with value NULL, is removed (nothing if absent). */
struct codec_edit {
    const char *path;
    const json_t *value;
};
#define CODEC_EDIT_MAX 16

/* Appends to out the msgpack map in buf with the edits made: byte for byte
 * what codec_json_to_msgpack writes after the same json_object_set_new and
 * json_object_del calls on codec_msgpack_to_json(buf), when buf is the
 * encoder's own output; but only the maps on the paths are rewritten, the
 * rest is copied. No path may be a prefix of another's. 0, or -1 (out
 * unchanged) if what is walked is malformed, a path goes through a value
 * that is no map, or n > CODEC_EDIT_MAX. */
int codec_msgpack_edit(const void *buf, size_t len, const struct codec_edit *edits, unsigned n,
                       struct ubuf *out);

/* Decodes the first YAML document in buf (yaml.c) into JSON: a new
 * reference, or NULL with the reason (and line) in err. */
json_t *codec_yaml_to_json(const void *buf, size_t len, char *err, size_t errlen);

#endif
