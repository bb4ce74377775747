#!/usr/bin/env python3
"""Checks docs/schema/*.json against the real C writer and parser (TAP output).

usage: check_schema.py GEN_EVENTS SOURCE_ROOT

1. both schema files are valid JSON Schema (draft 2020-12);
2. docs/examples: frame*/detection* validate, invalid-* do not;
3. 300 random events written by the C writer validate;
4. agreement: ~3000 mutations of valid documents (a member removed or set to a
   wrong/edge value) are judged by the schema (plus the documented rules JSON
   Schema cannot express) and by the C parser; every verdict must match.
A missing Python jsonschema module FAILS the test (it never skips).
"""
import json
import os
import random
import subprocess
import sys

results = []


def check(name, ok, detail=""):
    results.append((name, ok, detail))


def finish():
    print("1..%d" % len(results))
    failed = 0
    for i, (name, ok, detail) in enumerate(results, 1):
        print("%s %d %s" % ("ok" if ok else "not ok", i, name))
        if not ok:
            failed += 1
            for line in str(detail).splitlines()[:20]:
                print("# " + line)
    sys.exit(1 if failed else 0)


try:
    import jsonschema
except ImportError as e:  # never a silent skip
    print("1..1")
    print("not ok 1 CANNOT RUN: python3 jsonschema missing (%s); "
          "install python3-jsonschema (scripts/deps.txt)" % e)
    sys.exit(1)

gen, src = sys.argv[1], sys.argv[2]
schema_dir = os.path.join(src, "docs", "schema")
examples = os.path.join(src, "docs", "examples")

with open(os.path.join(schema_dir, "edgefaas.frame-v1.schema.json")) as f:
    frame_schema = json.load(f)
with open(os.path.join(schema_dir, "edgefaas.detection-v1.schema.json")) as f:
    det_schema = json.load(f)

for name, s in (("frame", frame_schema), ("detection", det_schema)):
    try:
        jsonschema.Draft202012Validator.check_schema(s)
        check("%s schema is valid draft 2020-12" % name, True)
    except jsonschema.SchemaError as e:
        check("%s schema is valid draft 2020-12" % name, False, e)

fmt = jsonschema.FormatChecker()
try:  # jsonschema >= 4.18
    from referencing import Registry, Resource
    registry = Registry().with_resources([
        (frame_schema["$id"], Resource.from_contents(frame_schema)),
        (det_schema["$id"], Resource.from_contents(det_schema)),
    ])
    refs = {"registry": registry}
except ImportError:  # Debian 12: jsonschema 4.10
    store = {frame_schema["$id"]: frame_schema, det_schema["$id"]: det_schema}
    refs = {"resolver": jsonschema.RefResolver.from_schema(det_schema, store=store)}
validators = {
    "frame": jsonschema.Draft202012Validator(frame_schema, format_checker=fmt,
                                             **({"registry": refs["registry"]} if "registry" in refs else {})),
    "detection": jsonschema.Draft202012Validator(det_schema, format_checker=fmt, **refs),
}


def extra_rules(kind, doc):
    """The documented rules JSON Schema cannot express (docs/events.md)."""
    def frame_ok(f):
        try:
            w, h = f["frame"]["width"], f["frame"]["height"]
            for b in f["motion"]["boxes"]:
                if b["x"] + b["w"] > w or b["y"] + b["h"] > h:
                    return False
        except (KeyError, TypeError):
            pass
        return True
    if kind == "frame":
        return frame_ok(doc)
    if isinstance(doc.get("source"), dict) and not frame_ok(doc["source"]):
        return False
    boxes = list(doc.get("detections", []) if isinstance(doc.get("detections"), list) else [])
    # situationdetect's situations[i].tracks[j] obey the same box rule
    for sit in doc.get("situations", []) if isinstance(doc.get("situations"), list) else []:
        if isinstance(sit, dict) and isinstance(sit.get("tracks"), list):
            boxes += sit["tracks"]
    for d in boxes:
        try:
            if d["x_min"] > d["x_max"] or d["y_min"] > d["y_max"]:
                return False
        except (KeyError, TypeError):
            pass
    return True


def schema_verdict(kind, doc):
    errs = list(validators[kind].iter_errors(doc))
    if errs:
        return False, "; ".join(e.message for e in errs[:3])
    if not extra_rules(kind, doc):
        return False, "extra rule"
    return True, ""


def c_verdicts(lines):
    p = subprocess.run([gen, "check"], input="".join(lines), capture_output=True, text=True,
                       timeout=300)
    if p.returncode != 0:
        raise RuntimeError("gen_events check failed: %s" % p.stderr)
    return p.stdout.splitlines()


# 2. examples
n_valid = 0
for name in sorted(os.listdir(examples)):
    if not name.endswith(".json"):
        continue
    with open(os.path.join(examples, name)) as f:
        doc = json.load(f)
    kind = "detection" if "detection" in name else "frame"
    ok, why = schema_verdict(kind, doc)
    if name.startswith("invalid-"):
        check("example %s is refused by the schema" % name, not ok)
    else:
        n_valid += 1
        check("example %s validates" % name, ok, why)
check("at least 3 valid examples", n_valid >= 3, n_valid)

# 3. the C writer's output validates
out = subprocess.run([gen, "gen", "150"], capture_output=True, text=True, check=True).stdout
docs = []
bad = []
for line in out.splitlines():
    kind, text = line.split("\t", 1)
    doc = json.loads(text)
    docs.append((kind, doc))
    ok, why = schema_verdict(kind, doc)
    if not ok:
        bad.append("%s: %s\n%s" % (kind, why, text))
check("%d random events from the C writer validate" % len(docs), not bad and len(docs) == 300,
      "\n".join(bad[:3]))

# 4. schema and parser agree on mutations
VALUES = [None, -1, 0, 0.5, 10 ** 12, 2 ** 53, 2 ** 64 + 42, True, "s", "", [], {},
          "2026-01-01T00:00:00.000Z", "file:///x/y.jpg", "image/png", "0" * 64, "A" * 64,
          "edgefaas.frame/v1", "edgefaas.detection/v1", "edgefaas.frame/v2", "x" * 200]
REMOVE = object()


def paths(node, prefix=()):
    if isinstance(node, dict):
        for k, v in node.items():
            yield prefix + (k,)
            yield from paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield prefix + (i,)
            yield from paths(v, prefix + (i,))


def mutated(doc, path, value):
    doc = json.loads(json.dumps(doc))
    parent = doc
    for p in path[:-1]:
        parent = parent[p]
    last = path[-1]
    if value is REMOVE:
        del parent[last]
    else:
        parent[last] = value
    return doc


rnd = random.Random(int(os.environ.get("EF_SCHEMA_SEED", "4")))
samples = [rnd.choice(docs) for _ in range(60)]
for name in sorted(os.listdir(examples)):
    if name.endswith(".json") and not name.startswith("invalid-"):
        with open(os.path.join(examples, name)) as f:
            samples.append(("detection" if "detection" in name else "frame", json.load(f)))
cases = []
for kind, doc in samples:
    all_paths = list(paths(doc))
    for _ in range(50):
        path = rnd.choice(all_paths)
        value = rnd.choice(VALUES + [REMOVE])
        if value is REMOVE and isinstance(path[-1], int):
            value = None
        cases.append((kind, mutated(doc, path, value), path, value))
    cases.append((kind, dict(doc, x_unknown_member={"a": [1]}), ("x_unknown_member",), "added"))

lines = ["%s\t%s\n" % (k, json.dumps(d, separators=(",", ":"))) for k, d, _, _ in cases]
verdicts = c_verdicts(lines)
disagree = []
n_acc = n_rej = 0
for (kind, doc, path, value), v in zip(cases, verdicts):
    c_ok = v.startswith("1")
    s_ok, why = schema_verdict(kind, doc)
    n_acc += c_ok
    n_rej += not c_ok
    if c_ok != s_ok:
        disagree.append("%s %s = %r: C %s, schema %s" % (
            kind, ".".join(map(str, path)), "(removed)" if value is REMOVE else value,
            v, "accepts" if s_ok else "refuses (%s)" % why))
check("C parser answered every case", len(verdicts) == len(cases), len(verdicts))
check("schema and C parser agree on %d mutations (%d accepted, %d refused)"
      % (len(cases), n_acc, n_rej), not disagree, "\n".join(disagree[:15]))
check("mutations exercise both outcomes", n_acc > 50 and n_rej > 500, (n_acc, n_rej))
finish()
