#!/usr/bin/env python3
"""Download the real corpus the tests read, each file from where its author published it.

    python scripts/fetch_corpus.py -o ../shared/corpus [--manifest MANIFEST.jsonl] [--only GLOB ...]

The MANIFEST (one JSON object per line: ``file``, ``repo``, ``commit``, ``path``, ``sha256``, ...) names each
file's public source. This script fetches ``https://raw.githubusercontent.com/<repo>/<commit>/<path>`` (pinned
to the commit, so the bytes cannot drift), checks the sha256 recorded for the entry, and writes the file to
``OUT/files/<file>`` (temp file, then rename). Some corpus files are excerpts of a Markdown page (a fenced
log block, or the tail of one, MANIFEST ``notes`` says so): when the whole page does not match, the script
looks for the excerpt inside it, a fenced block or a run of its lines, and keeps it only when its sha256
matches. Nothing unverified is written. At the end it prints what it could not fetch or verify, and exits 1
if anything is missing.

The project never ships these files (they are other people's output); CI reads them from ``../shared``.
Standard library only; it is never run by CI. ``--base-url`` points elsewhere (a mirror, or ``file://`` for
the script's own test).
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import json
import os
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

RAW = "https://raw.githubusercontent.com"
FENCE = ("```", "~~~")


@dataclass
class Outcome:
    file: str
    ok: bool
    how: str


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def source_url(entry: dict, base: str = RAW) -> str:
    """The raw-file URL of a MANIFEST entry, pinned to its commit."""
    return f"{base.rstrip('/')}/{entry['repo']}/{entry['commit']}/{urllib.parse.quote(entry['path'])}"


def _blocks(lines: list[bytes]) -> list[list[bytes]]:
    """Contents of the fenced code blocks of a Markdown page (fence lines excluded)."""
    out: list[list[bytes]] = []
    current: list[bytes] | None = None
    for line in lines:
        if line.lstrip().startswith(tuple(f.encode() for f in FENCE)):
            if current is None:
                current = []
            else:
                out.append(current)
                current = None
        elif current is not None:
            current.append(line)
    return out


def find_excerpt(page: bytes, digest: str, max_lines: int = 5000) -> bytes | None:
    """A fenced block of ``page``, or a run of consecutive lines of it, whose sha256 is ``digest``.

    Excerpts were cut at line boundaries, with or without the last newline; indentation is kept as is.
    """
    lines = page.splitlines(keepends=True)
    for block in _blocks(lines):
        data = b"".join(block)
        for cand in (data, data.rstrip(b"\r\n")):
            if sha256(cand) == digest:
                return cand
    if len(lines) > max_lines:
        return None
    for start in range(len(lines)):
        acc = hashlib.sha256()
        for end in range(start, len(lines)):
            acc.update(lines[end])
            if acc.hexdigest() == digest:
                return b"".join(lines[start:end + 1])
            stripped = b"".join(lines[start:end + 1]).rstrip(b"\r\n")
            if lines[end].endswith(b"\n") and sha256(stripped) == digest:
                return stripped
    return None


def fetch(url: str, timeout: float) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 (https or the user's file://)
        return resp.read()


def write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def fetch_entry(entry: dict, out: Path, base: str, timeout: float) -> Outcome:
    name = entry["file"]
    target = out / "files" / name
    digest = entry.get("sha256")
    if not digest:
        return Outcome(name, False, "MANIFEST has no sha256 for it: nothing to verify against")
    if target.is_file() and sha256(target.read_bytes()) == digest:
        return Outcome(name, True, "already present, verified")
    url = source_url(entry, base)
    try:
        page = fetch(url, timeout)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return Outcome(name, False, f"could not fetch {url}: {exc}")
    if sha256(page) == digest:
        write_atomic(target, page)
        return Outcome(name, True, "fetched, verified")
    excerpt = find_excerpt(page, digest)
    if excerpt is not None:
        write_atomic(target, excerpt)
        return Outcome(name, True, "excerpt of the fetched page, verified")
    return Outcome(name, False, f"fetched {url} but neither it nor any excerpt matches the recorded sha256")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-o", "--out", type=Path, required=True, help="corpus folder to fill (files/ inside)")
    ap.add_argument("--manifest", type=Path, help="MANIFEST.jsonl (default: OUT/MANIFEST.jsonl)")
    ap.add_argument("--only", action="append", default=[], metavar="GLOB", help="fetch matching files only")
    ap.add_argument("--base-url", default=RAW, help=f"where raw files live (default {RAW})")
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds per download")
    args = ap.parse_args(argv)
    manifest = args.manifest or args.out / "MANIFEST.jsonl"
    if not manifest.is_file():
        print(f"error: {manifest}: no MANIFEST.jsonl (give --manifest)", file=sys.stderr)
        return 2
    entries = []
    for lineno, line in enumerate(manifest.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            entry["file"], entry["repo"], entry["commit"], entry["path"]  # noqa: B018 (required keys)
        except (ValueError, KeyError, TypeError) as exc:
            print(f"error: {manifest}:{lineno}: not a MANIFEST entry ({exc})", file=sys.stderr)
            return 2
        if Path(entry["file"]).name != entry["file"]:
            print(f"error: {manifest}:{lineno}: file name {entry['file']!r} is not a plain name",
                  file=sys.stderr)
            return 2
        if not args.only or any(fnmatch.fnmatch(entry["file"], g) for g in args.only):
            entries.append(entry)
    if manifest.resolve() != (args.out / "MANIFEST.jsonl").resolve():
        write_atomic(args.out / "MANIFEST.jsonl", manifest.read_bytes())
    outcomes = []
    for i, entry in enumerate(entries, 1):
        res = fetch_entry(entry, args.out, args.base_url, args.timeout)
        outcomes.append(res)
        print(f"[{i}/{len(entries)}] {'ok  ' if res.ok else 'FAIL'} {res.file}: {res.how}", flush=True)
    failed = [o for o in outcomes if not o.ok]
    print(f"{len(outcomes) - len(failed)} of {len(outcomes)} files verified in {args.out / 'files'}")
    if failed:
        print("could not fetch or verify:")
        for o in failed:
            print(f"  {o.file}: {o.how}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
