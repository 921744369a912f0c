#!/usr/bin/python3
"""Independent check of an encodings file written by libqsim.

Validates the structure, key names and JSON value types against the schema
of SPEC.md sections 5.2 (0.6.1), 5.3 (1.0.0), 5.4 (2.0.0) and 8.5
(param-only files), checks that the text is byte for byte what Python's
json.dumps(doc, sort_keys=True, indent=4) gives (AIMET's own writer), and,
given an expect file, that json.load() returns exactly the numbers libqsim
meant to write.

usage: check_encodings.py FILE VERSION [--param-only] [--force-unsigned]
                          [--expect EXPECTFILE]

Expect file: for each entry a line
  E name section(param|activation|unknown) dtype(int|float) bw sym(0|1)
    enc_type(per_tensor|per_channel) axis channels
followed by `channels` lines "C scale offset min max" (floats in C's %a
hex notation, read with float.fromhex).
"""
import json
import re
import sys

errors = []


def fail(msg):
    errors.append(msg)


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def is_float(v):
    # libqsim writes every real with a fraction or exponent, as Python does
    return isinstance(v, float)


def sorted_pairs(pairs):
    keys = [k for k, _ in pairs]
    if keys != sorted(keys):
        fail("keys not sorted: %r" % keys)
    if len(set(keys)) != len(keys):
        fail("duplicate keys: %r" % keys)
    return dict(pairs)


def check_qargs(q):
    types = {"activation_bitwidth": is_int, "param_bitwidth": is_int,
             "dtype": lambda v: v in ("int", "float"),
             "is_symmetric": lambda v: isinstance(v, bool),
             "per_channel_quantization": lambda v: isinstance(v, bool),
             "quant_scheme": lambda v: isinstance(v, str)}
    if not isinstance(q, dict):
        fail("quantizer_args is not an object")
        return
    for k, v in q.items():
        if k not in types:
            fail("quantizer_args: unknown key %s" % k)
        elif not types[k](v):
            fail("quantizer_args.%s has the wrong type: %r" % (k, v))


def check_061_tensor(name, lst):
    if not isinstance(lst, list) or not lst:
        fail("%s: not a non-empty list" % name)
        return
    for i, e in enumerate(lst):
        if not isinstance(e, dict):
            fail("%s[%d]: not an object" % (name, i))
            continue
        if e.get("dtype") == "float":
            if set(e) != {"bitwidth", "dtype"} or e["bitwidth"] not in (16, 32):
                fail("%s[%d]: float entry must be {bitwidth: 16|32, dtype}: %r" % (name, i, e))
            continue
        want = {"bitwidth", "dtype", "is_symmetric", "max", "min", "offset", "scale"}
        if set(e) != want:
            fail("%s[%d]: keys %r, want %r" % (name, i, sorted(e), sorted(want)))
            continue
        if not is_int(e["bitwidth"]) or e["dtype"] != "int":
            fail("%s[%d]: bitwidth must be an int and dtype \"int\"" % (name, i))
        if e["is_symmetric"] not in ("True", "False"):
            fail("%s[%d]: is_symmetric must be the string True/False: %r" % (name, i, e["is_symmetric"]))
        if not is_int(e["offset"]):
            fail("%s[%d]: offset must be an int: %r" % (name, i, e["offset"]))
        for k in ("max", "min", "scale"):
            if not is_float(e[k]):
                fail("%s[%d]: %s must be a float: %r" % (name, i, k, e[k]))


def check_100_entry(e):
    if not isinstance(e, dict) or not isinstance(e.get("name"), str):
        fail("1.0.0 entry without a string name: %r" % (e,))
        return
    n = e["name"]
    if e.get("dtype") == "FLOAT":
        if set(e) != {"name", "enc_type", "dtype", "bw"} or e["enc_type"] != "PER_TENSOR" \
                or e["bw"] not in (16, 32):
            fail("%s: FLOAT entry must be {name, enc_type: PER_TENSOR, dtype, bw}: %r" % (n, e))
        return
    want = {"name", "enc_type", "dtype", "bw", "is_sym", "scale", "offset"}
    if set(e) != want:
        fail("%s: keys %r, want %r" % (n, sorted(e), sorted(want)))
        return
    if e["dtype"] != "INT" or not is_int(e["bw"]) or not isinstance(e["is_sym"], bool):
        fail("%s: dtype INT, int bw, bool is_sym expected: %r" % (n, e))
    if e["enc_type"] not in ("PER_TENSOR", "PER_CHANNEL"):
        fail("%s: enc_type %r" % (n, e["enc_type"]))
    sc, of = e["scale"], e["offset"]
    if not isinstance(sc, list) or not isinstance(of, list) or len(sc) != len(of) or not sc:
        fail("%s: scale/offset must be equal-length lists" % n)
        return
    if e["enc_type"] == "PER_TENSOR" and len(sc) != 1:
        fail("%s: PER_TENSOR with %d scales" % (n, len(sc)))
    if not all(is_float(v) for v in sc):
        fail("%s: scale must hold floats" % n)
    if not all(is_float(v) and v.is_integer() for v in of):
        fail("%s: offset must hold integral floats such as -128.0: %r" % (n, of))


def check_200_entry(e):
    if not isinstance(e, dict) or not isinstance(e.get("name"), str):
        fail("2.0.0 entry without a string name: %r" % (e,))
        return
    n = e["name"]
    if not set(e) <= {"name", "output_dtype", "y_scale", "y_zero_point", "axis"}:
        fail("%s: unexpected keys %r" % (n, sorted(e)))
    m = re.fullmatch(r"(u?)int(\d+)", str(e.get("output_dtype")))
    if not m:
        fail("%s: output_dtype %r" % (n, e.get("output_dtype")))
        return
    ys = e.get("y_scale")
    per_channel = isinstance(ys, list)
    if per_channel:
        if not ys or not all(is_float(v) for v in ys):
            fail("%s: y_scale list must hold floats" % n)
        if not is_int(e.get("axis")):
            fail("%s: per-channel entry needs an int axis" % n)
    else:
        if not is_float(ys):
            fail("%s: y_scale must be a float: %r" % (n, ys))
        if "axis" in e:
            fail("%s: per-tensor entry with an axis" % n)
    if "y_zero_point" in e:
        zp = e["y_zero_point"]
        zl = zp if isinstance(zp, list) else [zp]
        if isinstance(zp, list) != per_channel or (per_channel and len(zp) != len(ys)):
            fail("%s: y_zero_point shape differs from y_scale" % n)
        if not all(is_int(v) for v in zl):
            fail("%s: y_zero_point must hold ints" % n)
        elif all(v == 0 for v in zl):
            fail("%s: all-zero y_zero_point must be omitted" % n)


def check_schema(doc, version, param_only):
    if version == "0.6.1":
        if param_only:
            if not isinstance(doc, dict):
                fail("param-only 0.6.1 must be an object")
                return
            for k, v in doc.items():
                check_061_tensor(k, v)
            return
        if not isinstance(doc, dict) or doc.get("version") != "0.6.1":
            fail("0.6.1 file needs version \"0.6.1\"")
            return
        if not {"version", "activation_encodings", "param_encodings"} <= set(doc) or \
                not set(doc) <= {"version", "activation_encodings", "param_encodings", "quantizer_args"}:
            fail("0.6.1 top-level keys: %r" % sorted(doc))
        for sec in ("activation_encodings", "param_encodings"):
            if not isinstance(doc.get(sec), dict):
                fail("%s must be an object" % sec)
                continue
            for k, v in doc[sec].items():
                check_061_tensor(k, v)
        if "quantizer_args" in doc:
            check_qargs(doc["quantizer_args"])
    elif version == "1.0.0":
        if param_only:
            if not isinstance(doc, list):
                fail("param-only 1.0.0 must be a list")
                return
            for e in doc:
                check_100_entry(e)
            return
        if not isinstance(doc, dict) or doc.get("version") != "1.0.0":
            fail("1.0.0 file needs version \"1.0.0\"")
            return
        if not {"version", "activation_encodings", "param_encodings"} <= set(doc) or \
                not set(doc) <= {"version", "activation_encodings", "param_encodings", "quantizer_args"}:
            fail("1.0.0 top-level keys: %r" % sorted(doc))
        for sec in ("activation_encodings", "param_encodings"):
            if not isinstance(doc.get(sec), list):
                fail("%s must be a list" % sec)
                continue
            for e in doc[sec]:
                check_100_entry(e)
        if "quantizer_args" in doc:
            check_qargs(doc["quantizer_args"])
    elif version == "2.0.0":
        if param_only:
            lst = doc
        else:
            if not isinstance(doc, dict) or set(doc) != {"producer", "version", "encodings"} \
                    or doc["version"] != "2.0.0":
                fail("2.0.0 top level must be {producer, version: 2.0.0, encodings}")
                return
            p = doc["producer"]
            if not isinstance(p, dict) or set(p) != {"package", "version"} or \
                    not all(isinstance(v, str) for v in p.values()):
                fail("producer must be {package: str, version: str}")
            lst = doc["encodings"]
        if not isinstance(lst, list):
            fail("2.0.0 encodings must be a list")
            return
        for e in lst:
            check_200_entry(e)
    else:
        fail("unknown version %s" % version)


def check_layout(text):
    for i, line in enumerate(text.split("\n")):
        indent = len(line) - len(line.lstrip(" "))
        if indent % 4:
            fail("line %d: indentation %d is not a multiple of 4" % (i + 1, indent))
            return


def read_expect(path):
    entries = []
    with open(path) as f:
        for line in f:
            p = line.split()
            if not p:
                continue
            if p[0] == "E":
                entries.append({"name": p[1], "section": p[2], "dtype": p[3], "bw": int(p[4]),
                                "sym": p[5] == "1", "enc_type": p[6], "axis": int(p[7]),
                                "n": int(p[8]), "ch": []})
            elif p[0] == "C":
                entries[-1]["ch"].append((float.fromhex(p[1]), int(p[2]),
                                          float.fromhex(p[3]), float.fromhex(p[4])))
    return entries


def same(a, b):
    return type(a) is type(b) and a == b


def check_numbers(doc, version, param_only, force_unsigned, expect):
    found = {}
    if version == "0.6.1":
        secs = {"param": doc} if param_only else {"activation": doc["activation_encodings"],
                                                  "param": doc["param_encodings"]}
        for sec, d in secs.items():
            for k, v in d.items():
                found[k] = (sec, v)
    elif version == "1.0.0":
        secs = {"param": doc} if param_only else {"activation": doc["activation_encodings"],
                                                  "param": doc["param_encodings"]}
        for sec, lst in secs.items():
            for e in lst:
                found[e["name"]] = (sec, e)
    else:
        for e in (doc if param_only else doc["encodings"]):
            found[e["name"]] = ("unknown", e)
    for x in expect:
        name = x["name"]
        if version == "2.0.0" and x["dtype"] == "float":
            if name in found:
                fail("%s: float entry written to 2.0.0" % name)
            continue
        if name not in found:
            fail("%s: missing from the file" % name)
            continue
        sec, v = found.pop(name)
        want_sec = x["section"] if x["section"] != "unknown" else "param"
        if version != "2.0.0" and sec != want_sec:
            fail("%s: in section %s, expected %s" % (name, sec, want_sec))
        if version == "0.6.1":
            if x["dtype"] == "float":
                if v != [{"bitwidth": x["bw"], "dtype": "float"}]:
                    fail("%s: float entry %r" % (name, v))
                continue
            if len(v) != x["n"]:
                fail("%s: %d channels, expected %d" % (name, len(v), x["n"]))
                continue
            for c, (s, o, mn, mx) in enumerate(x["ch"]):
                e = v[c]
                if not (same(e["scale"], s) and same(e["offset"], o) and same(e["min"], mn)
                        and same(e["max"], mx) and e["bitwidth"] == x["bw"]
                        and e["is_symmetric"] == ("True" if x["sym"] else "False")):
                    fail("%s[%d]: %r != scale %r offset %r min %r max %r" % (name, c, e, s, o, mn, mx))
        elif version == "1.0.0":
            if x["dtype"] == "float":
                if v["dtype"] != "FLOAT" or v["bw"] != x["bw"]:
                    fail("%s: float entry %r" % (name, v))
                continue
            want_type = "PER_CHANNEL" if x["enc_type"] == "per_channel" else "PER_TENSOR"
            if v["enc_type"] != want_type or v["bw"] != x["bw"] or v["is_sym"] != x["sym"]:
                fail("%s: enc_type/bw/is_sym %r" % (name, v))
            if [c[0] for c in x["ch"]] != v["scale"] or \
                    [float(c[1]) for c in x["ch"]] != v["offset"]:
                fail("%s: scale/offset %r %r differ from %r" % (name, v["scale"], v["offset"], x["ch"]))
        else:
            signed = x["sym"] and not (force_unsigned and x["section"] == "activation")
            dt = ("int%d" if signed else "uint%d") % x["bw"]
            if v["output_dtype"] != dt:
                fail("%s: output_dtype %s, expected %s" % (name, v["output_dtype"], dt))
            zps = [(-c[1] - 2 ** (x["bw"] - 1)) if signed else -c[1] for c in x["ch"]]
            scales = [c[0] for c in x["ch"]]
            if x["enc_type"] == "per_channel":
                if v["y_scale"] != scales or not all(is_float(s) for s in v["y_scale"]):
                    fail("%s: y_scale %r != %r" % (name, v["y_scale"], scales))
                if v.get("axis") != x["axis"]:
                    fail("%s: axis %r != %r" % (name, v.get("axis"), x["axis"]))
                got_zp = v.get("y_zero_point", [0] * len(zps))
            else:
                if not same(v["y_scale"], scales[0]):
                    fail("%s: y_scale %r != %r" % (name, v["y_scale"], scales[0]))
                got_zp = [v.get("y_zero_point", 0)]
            if got_zp != zps:
                fail("%s: y_zero_point %r != %r" % (name, got_zp, zps))
    for name in found:
        fail("%s: in the file but not expected" % name)


def main():
    args = sys.argv[1:]
    path, version = args[0], args[1]
    param_only = "--param-only" in args
    force_unsigned = "--force-unsigned" in args
    expect = args[args.index("--expect") + 1] if "--expect" in args else None
    with open(path) as f:
        text = f.read()

    def no_constants(c):
        raise ValueError("non-standard JSON constant %s" % c)
    doc = json.loads(text, object_pairs_hook=sorted_pairs, parse_constant=no_constants)
    check_layout(text)
    # libqsim promises AIMET's exact bytes: json.dump(..., sort_keys=True, indent=4)
    if text != json.dumps(doc, sort_keys=True, indent=4):
        want = json.dumps(doc, sort_keys=True, indent=4)
        i = next((k for k in range(min(len(text), len(want))) if text[k] != want[k]),
                 min(len(text), len(want)))
        fail("text differs from Python's json.dumps at byte %d: %r vs %r"
             % (i, text[max(0, i - 30):i + 30], want[max(0, i - 30):i + 30]))
    check_schema(doc, version, param_only)
    if expect and not errors:
        check_numbers(doc, version, param_only, force_unsigned, read_expect(expect))
    for e in errors:
        print("check_encodings: %s: %s" % (path, e), file=sys.stderr)
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
