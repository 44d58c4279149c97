#!/usr/bin/python3
"""Validate one odj --json document (standard input) against
docs/json/odj.schema.json; with -c COMMAND -o OK also check the command
and the outcome.  Exit 0 if valid, 1 with the reasons if not."""

import json
import os
import sys

import jsonschema

top = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
schema = json.load(open(os.path.join(top, "docs", "json", "odj.schema.json")))
text = sys.stdin.read()
try:
    doc = json.loads(text)
except ValueError as e:
    print("not one JSON document: %s\n%s" % (e, text[:400]))
    sys.exit(1)
validator = jsonschema.Draft202012Validator(schema)
errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
for e in errors:
    print("%s: %s" % ("/".join(str(p) for p in e.path) or "(top)", e.message))
args = sys.argv[1:]
while args:
    opt, val = args[0], args[1]
    args = args[2:]
    if opt == "-c" and doc.get("command") != val:
        print("command %r, not %r" % (doc.get("command"), val))
        errors.append(opt)
    if opt == "-o" and doc.get("ok") != (val == "true"):
        print("ok %r, not %s" % (doc.get("ok"), val))
        errors.append(opt)
    if opt == "-k" and val not in doc:
        print("no %r in the document" % val)
        errors.append(opt)
sys.exit(1 if errors else 0)
