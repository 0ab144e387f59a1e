#!/usr/bin/env python3
"""Before/after check of the parsers over the whole corpus.

    python scripts/corpus_records.py dump OUT.json [--corpus DIR]   # every corpus file's records
    python scripts/corpus_records.py diff BEFORE.json AFTER.json     # what changed, field by field

Run ``dump`` on the old code (e.g. a ``git worktree`` of main) and on the new, then ``diff``: each changed
field is printed as ``file [run N] key: old -> new``, so every change can be justified (or fixed).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any


def dump(out: Path, corpus: Path) -> int:
    from trtsweep.parsers import parse_file

    lines = (corpus / "MANIFEST.jsonl").read_text().splitlines()
    manifest = [json.loads(line) for line in lines if line.strip()]
    result: dict[str, list[dict[str, Any]]] = {}
    for entry in manifest:
        records = []
        for rec in parse_file(corpus / "files" / entry["file"]):
            doc = rec.to_dict()
            doc.pop("source", None)
            records.append(doc)
        result[entry["file"]] = records
    out.write_text(json.dumps(result, indent=1, sort_keys=True))
    print(f"{len(result)} files -> {out}")
    return 0


def _flat(doc: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(doc, dict):
        out: dict[str, Any] = {}
        for k, v in doc.items():
            out.update(_flat(v, f"{prefix}{k}."))
        return out
    if isinstance(doc, list) and doc and all(isinstance(x, dict) for x in doc):
        out = {}
        for i, v in enumerate(doc):
            out.update(_flat(v, f"{prefix}{i}."))
        return out
    return {prefix.rstrip("."): doc}


def diff(before: Path, after: Path) -> int:
    a, b = json.loads(before.read_text()), json.loads(after.read_text())
    changes = 0
    new_empty: dict[str, int] = {}  # a key the old dump lacks and the new one leaves empty (null / [])
    changed_files = set()
    for name in sorted(set(a) | set(b)):
        ra, rb = a.get(name, []), b.get(name, [])
        if len(ra) != len(rb):
            print(f"{name}: {len(ra)} -> {len(rb)} records")
            changes += 1
            changed_files.add(name)
        for i in range(max(len(ra), len(rb))):
            fa = _flat(ra[i]) if i < len(ra) else {}
            fb = _flat(rb[i]) if i < len(rb) else {}
            for key in sorted(set(fa) | set(fb)):
                if key not in fa and key in fb and fb[key] in (None, []) and i < len(ra):
                    new_empty[key] = new_empty.get(key, 0) + 1
                    continue
                if fa.get(key) != fb.get(key):
                    tag = f" [run {i}]" if max(len(ra), len(rb)) > 1 else ""
                    print(f"{name}{tag} {key}: {str(fa.get(key))[:100]!s} -> {str(fb.get(key))[:100]!s}")
                    changes += 1
                    changed_files.add(name)
    for key, count in sorted(new_empty.items()):
        print(f"(new key {key!r}, empty, in {count} record(s))")
    print(f"{changes} change(s) in {len(changed_files)} file(s)")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("dump")
    d.add_argument("out", type=Path)
    default = Path(os.environ.get("TRTSWEEP_CORPUS")
                   or Path(__file__).resolve().parents[2] / "shared" / "corpus")
    d.add_argument("--corpus", type=Path, default=default)
    f = sub.add_parser("diff")
    f.add_argument("before", type=Path)
    f.add_argument("after", type=Path)
    args = ap.parse_args(argv)
    return dump(args.out, args.corpus) if args.cmd == "dump" else diff(args.before, args.after)


if __name__ == "__main__":
    sys.exit(main())
