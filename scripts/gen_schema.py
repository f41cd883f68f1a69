#!/usr/bin/env python3
"""gen_schema.py — generates build/gen/kube_schema_data.c, the Kubernetes API
schema that kube/schema.c serves, from Debian's sources of k8s.io/api and
k8s.io/apimachinery (fetched by `make deps` into .deps/src/k8s/).

Usage: gen_schema.py API_DIR APIMACHINERY_DIR > kube_schema_data.c

What it reads, per API package (core/v1, apps/v1, ...):
  generated.proto  every message: its fields' JSON names, protobuf numbers,
                   types (scalar, message, repeated, map<string, V>), and the
                   comments above them (documentation and the +markers:
                   patchStrategy, patchMergeKey, listType, listMapKey,
                   optional);
  types.go         which fields Go inlines into their parent in JSON
                   (`json:",inline"`: Volume's VolumeSource, ...), which
                   fields are omitempty (for OpenAPI's "required");
  register.go      the group name and the kinds (addKnownTypes).

It writes one C array of struct kube_type sorted by OpenAPI name
("io.k8s.api.core.v1.Pod"), each with its fields sorted by JSON name, and an
index of the kinds sorted by "group/version/Kind". Types whose JSON is not
their protobuf shape (Time, Quantity, IntOrString, RawExtension, ...) become
the scalar value types of kube.h. Nothing of the sources is kept in the
repository; the output is derived at build time like any object file.
"""
import os
import re
import sys

PACKAGES = [
    "core/v1", "apps/v1", "batch/v1", "autoscaling/v1", "autoscaling/v2",
    "coordination/v1", "discovery/v1", "policy/v1", "scheduling/v1",
    "networking/v1", "rbac/v1", "storage/v1", "events/v1", "node/v1",
]
MACHINERY = [
    "pkg/apis/meta/v1", "pkg/api/resource", "pkg/util/intstr",
    "pkg/runtime", "pkg/runtime/schema",
]
META = "k8s.io.apimachinery.pkg.apis.meta.v1."
SPECIAL = {
    META + "Time": "KUBE_V_TIME",
    META + "MicroTime": "KUBE_V_TIME",
    META + "Duration": "KUBE_V_DURATION",
    META + "FieldsV1": "KUBE_V_RAW",
    "k8s.io.apimachinery.pkg.api.resource.Quantity": "KUBE_V_QUANTITY",
    "k8s.io.apimachinery.pkg.util.intstr.IntOrString": "KUBE_V_INT_OR_STRING",
    "k8s.io.apimachinery.pkg.runtime.RawExtension": "KUBE_V_RAW",
}
SCALARS = {
    "string": "KUBE_V_STRING", "bytes": "KUBE_V_BYTES", "bool": "KUBE_V_BOOL",
    "int32": "KUBE_V_INT32", "int64": "KUBE_V_INT64", "double": "KUBE_V_DOUBLE",
    "float": "KUBE_V_DOUBLE",
}

FIELD_RE = re.compile(r"^\s*(optional|repeated)\s+([\w.]+)\s+(\w+)\s*=\s*(\d+)\s*;")
MAP_RE = re.compile(r"^\s*map<\s*string\s*,\s*([\w.]+)\s*>\s+(\w+)\s*=\s*(\d+)\s*;")


def openapi_name(proto_name):
    assert proto_name.startswith("k8s.io."), proto_name
    return "io.k8s." + proto_name[len("k8s.io."):]


def describe(comment_lines):
    """Kubernetes' documentation rules: marker lines (+...) are dropped, text
    after a line '---' is private, lines join with spaces, blank lines
    separate paragraphs."""
    paras, cur = [], []
    for line in comment_lines:
        t = line.strip()
        if t.startswith("+"):
            continue
        if t == "---":
            break
        if not t:
            if cur:
                paras.append(" ".join(cur))
                cur = []
            continue
        cur.append(t)
    if cur:
        paras.append(" ".join(cur))
    return "\n\n".join(paras)


def markers(comment_lines):
    out = {}
    for line in comment_lines:
        t = line.strip()
        if t.startswith("+"):
            k, _, v = t[1:].partition("=")
            out.setdefault(k.strip(), []).append(v.strip())
    return out


def parse_proto(path):
    """Returns (package, [(name, comments, [field dicts])])."""
    package = None
    messages = []
    comments = []
    cur = None
    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = raw.rstrip("\n")
            s = line.strip()
            if s.startswith("//"):
                comments.append(s[2:][1:] if s[2:].startswith(" ") else s[2:])
                continue
            if s.startswith("package "):
                package = s[len("package "):].rstrip(";").strip()
            elif s.startswith("message ") and s.endswith("{"):
                cur = {"name": s.split()[1], "comments": comments, "fields": []}
                messages.append(cur)
            elif s == "}":
                cur = None
            elif cur is not None:
                m = FIELD_RE.match(s)
                mm = MAP_RE.match(s)
                if m:
                    cur["fields"].append({"label": m.group(1), "type": m.group(2),
                                          "name": m.group(3), "num": int(m.group(4)),
                                          "map": False, "comments": comments})
                elif mm:
                    cur["fields"].append({"label": "optional", "type": mm.group(1),
                                          "name": mm.group(2), "num": int(mm.group(3)),
                                          "map": True, "comments": comments})
            if s and not s.startswith("//"):
                comments = []
            elif not s:
                # a blank line ends a comment block that belongs to nothing
                comments = []
    return package, messages


STRUCT_RE = re.compile(r"^type (\w+) struct \{")
TAG_RE = re.compile(r'json:"([^"]*)"')
PB_RE = re.compile(r'protobuf:"([^"]*)"')


def parse_go(dirpath):
    """(struct, proto field name) -> json options; inline fields marked."""
    info = {}
    for fn in sorted(os.listdir(dirpath)):
        if not fn.endswith(".go") or fn.endswith("_test.go") or fn.startswith("zz_") \
                or fn.startswith("generated"):
            continue
        struct = None
        with open(os.path.join(dirpath, fn), encoding="utf-8") as f:
            for line in f:
                m = STRUCT_RE.match(line)
                if m:
                    struct = m.group(1)
                    continue
                if line.startswith("}"):
                    struct = None
                    continue
                if not struct:
                    continue
                j, p = TAG_RE.search(line), PB_RE.search(line)
                if not j or not p:
                    continue
                parts = p.group(1).split(",")
                num = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
                opts = j.group(1).split(",")
                # The Go type: the second word of the field line ("Replicas
                # *int32 `json:...`"); a pointer keeps an explicit zero.
                words = line.split()
                gotype = words[1] if len(words) > 1 else ""
                info[(struct, num)] = {"inline": "inline" in opts[1:] and opts[0] == "",
                                       "omitempty": "omitempty" in opts[1:],
                                       "pointer": gotype.startswith("*"),
                                       "json": opts[0]}
    return info


def parse_register(dirpath):
    group, kinds = None, []
    path = os.path.join(dirpath, "register.go")
    if not os.path.exists(path):
        return None, []
    text = open(path, encoding="utf-8").read()
    m = re.search(r'const GroupName = "([^"]*)"', text)
    if m:
        group = m.group(1)
    m = re.search(r"AddKnownTypes\(SchemeGroupVersion,(.*?)\)\n", text, re.S)
    if m:
        kinds = re.findall(r"&(\w+)\{\}", m.group(1))
    return group, kinds


def c_str(s):
    if s is None:
        return "NULL"
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "?":
            out.append("\\?")  # no trigraphs
        elif o < 0x20:
            out.append("\\%03o" % o)
        elif o < 0x80:
            out.append(ch)
        else:
            out.extend("\\%03o" % b for b in ch.encode("utf-8"))
    out.append('"')
    return "".join(out)


def main():
    api_dir, mach_dir = sys.argv[1], sys.argv[2]
    types = {}  # openapi name -> dict
    sources = [(os.path.join(api_dir, p), p) for p in PACKAGES] + \
              [(os.path.join(mach_dir, p), None) for p in MACHINERY]
    for dirpath, api_pkg in sources:
        package, messages = parse_proto(os.path.join(dirpath, "generated.proto"))
        go = parse_go(dirpath)
        group, kinds = parse_register(dirpath) if api_pkg else (None, [])
        version = api_pkg.split("/")[1] if api_pkg else None
        for msg in messages:
            full = package + "." + msg["name"]
            t = {"name": openapi_name(full), "proto": full, "desc": describe(msg["comments"]),
                 "gvk": None, "fields": []}
            if api_pkg and msg["name"] in kinds:
                t["gvk"] = (group, version, msg["name"])
            for fd in msg["fields"]:
                ty = fd["type"]
                if ty.startswith("."):
                    ty = ty[1:]
                elif ty not in SCALARS:
                    ty = package + "." + ty
                g = go.get((msg["name"], fd["num"]), {})
                mk = markers(fd["comments"])
                # JSON names come from Go's json tag where the two differ
                # (IngressClassParametersReference: protobuf "aPIGroup").
                fd2 = {"name": g.get("json") or fd["name"], "num": fd["num"], "ptype": ty,
                       "repeated": fd["label"] == "repeated", "map": fd["map"],
                       "desc": describe(fd["comments"]),
                       "strategy": (mk.get("patchStrategy") or [None])[0],
                       "mergekey": (mk.get("patchMergeKey") or [None])[0],
                       "listtype": (mk.get("listType") or [None])[0],
                       "mapkeys": mk.get("listMapKey", []),
                       "optional": "optional" in mk or g.get("omitempty", False),
                       "inline": g.get("inline", False),
                       "omitzero": g.get("omitempty", False) and not g.get("pointer", False)
                       and not fd["label"] == "repeated" and not fd["map"] and ty in SCALARS}
                t["fields"].append(fd2)
            types[t["name"]] = t

    def vtype(ptype):
        if ptype in SCALARS:
            return SCALARS[ptype], None
        if ptype in SPECIAL:
            return SPECIAL[ptype], None
        name = openapi_name(ptype)
        if name not in types:
            raise SystemExit("gen_schema: unknown type %s" % ptype)
        return "KUBE_V_OBJECT", name

    # Flatten inline fields: the JSON view of a type has the inline type's
    # fields (marked inlined); the inline field itself goes to `inlines`.
    def json_fields(t, seen=()):
        out, inl = [], []
        for fd in t["fields"]:
            if fd["inline"]:
                vt, sub = vtype(fd["ptype"])
                assert vt == "KUBE_V_OBJECT" and sub not in seen
                inl.append(fd)
                sub_fields, _ = json_fields(types[sub], seen + (sub,))
                for sf in sub_fields:
                    out.append(dict(sf, inlined=True))
            else:
                out.append(dict(fd, inlined=False))
        return out, inl

    names = sorted(types)
    index = {n: i for i, n in enumerate(names)}
    out = sys.stdout
    out.write("/* Generated by scripts/gen_schema.py from Debian's golang-k8s-api and\n"
              " * golang-k8s-apimachinery sources. Do not edit. */\n")
    out.write('#include "kube/kube.h"\n\n')
    out.write("extern const struct kube_type kube_schema_types[];\n\n")

    def ref(name):
        return "&kube_schema_types[%d]" % index[name] if name else "NULL"

    def field_init(fd, inlined):
        vt, sub = vtype(fd["ptype"])
        keys = ", ".join(c_str(k) for k in fd["mapkeys"][:3])
        return ("{%s, %d, %s, %s, %s, %s, %s, %s, %s, %s, {%s%sNULL}, %s, %s, %s}" % (
            c_str(fd["name"]), fd["num"], vt, ref(sub), "true" if fd["repeated"] else "false",
            "true" if fd["map"] else "false", c_str(fd["desc"]), c_str(fd["strategy"]),
            c_str(fd["mergekey"]), c_str(fd["listtype"]), keys, ", " if keys else "",
            "true" if inlined else "false",
            "false" if fd["optional"] else "true",
            "true" if fd.get("omitzero") else "false"))

    for i, n in enumerate(names):
        t = types[n]
        fields, inl = json_fields(t)
        if t["gvk"]:
            fields.append({"name": "apiVersion", "num": 0, "ptype": "string", "repeated": False,
                           "map": False, "inlined": False, "optional": True,
                           "desc": "APIVersion defines the versioned schema of this representation "
                                   "of an object. Servers should convert recognized schemas to the "
                                   "latest internal value, and may reject unrecognized values. More "
                                   "info: https://git.k8s.io/community/contributors/devel/"
                                   "sig-architecture/api-conventions.md#resources",
                           "strategy": None, "mergekey": None, "listtype": None, "mapkeys": []})
            fields.append({"name": "kind", "num": 0, "ptype": "string", "repeated": False,
                           "map": False, "inlined": False, "optional": True,
                           "desc": "Kind is a string value representing the REST resource this "
                                   "object represents. Servers may infer this from the endpoint "
                                   "the client submits requests to. Cannot be updated. In "
                                   "CamelCase. More info: https://git.k8s.io/community/contributors/"
                                   "devel/sig-architecture/api-conventions.md#types-kinds",
                           "strategy": None, "mergekey": None, "listtype": None, "mapkeys": []})
        fields.sort(key=lambda f: f["name"])
        t["nf"], t["ni"] = len(fields), len(inl)
        out.write("static const struct kube_field f%d[] = {\n" % i)
        for fd in fields:
            out.write("    %s,\n" % field_init(fd, fd["inlined"]))
        if not fields:
            out.write("    {0}\n")
        out.write("};\n")
        if inl:
            out.write("static const struct kube_field in%d[] = {\n" % i)
            for fd in inl:
                out.write("    %s,\n" % field_init(fd, False))
            out.write("};\n")
    out.write("\nconst struct kube_type kube_schema_types[] = {\n")
    for i, n in enumerate(names):
        t = types[n]
        g = t["gvk"] or (None, None, None)
        out.write("    {%s, %s, %s, %s, %s, f%d, %d, %s, %d},\n" % (
            c_str(n), c_str(t["desc"]), c_str(g[0]), c_str(g[1]), c_str(g[2]), i, t["nf"],
            "in%d" % i if t["ni"] else "NULL", t["ni"]))
    out.write("};\nconst unsigned kube_schema_n_types = %d;\n\n" % len(names))
    kinds = sorted((("%s/%s/%s" % t["gvk"]), index[n]) for n, t in types.items() if t["gvk"])
    out.write("const struct kube_schema_kind kube_schema_kinds[] = {\n")
    for key, i in kinds:
        out.write("    {%s, %d},\n" % (c_str(key), i))
    out.write("};\nconst unsigned kube_schema_n_kinds = %d;\n" % len(kinds))


if __name__ == "__main__":
    main()
