"""The repository ships only what the project wrote: no third-party log, export or Polygraphy output.

Two checks: (1) no file in the checkout is byte-identical to a corpus file (the MANIFEST's sha256 list);
(2) without the corpus too, no data file under ``tests/``, ``examples/``, ``docs/`` or ``benchmarks/`` is
recognised by the parsers as trtexec or Polygraphy output (a renamed or edited copy still is).
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest
from corpus_location import REPO, manifest

from trtsweep.parsers import detect_kind

# Source code and docs may quote a line of trtexec output; any other file that holds some is a copy.
CODE_SUFFIXES = {".py", ".md", ".j2"}
DATA_DIRS = ("tests", "examples", "docs", "benchmarks", "scripts")


def tracked_files() -> list[Path]:
    """Files git tracks (what a clone holds), else every file of the tree outside .git."""
    res = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=False)
    if res.returncode == 0 and res.stdout:
        return [REPO / p for p in res.stdout.decode().split("\0") if p and (REPO / p).is_file()]
    return [p for p in REPO.rglob("*") if p.is_file() and ".git" not in p.parts]


@pytest.mark.corpus
def test_no_tracked_file_is_a_corpus_file() -> None:
    known = {e["sha256"]: name for name, e in manifest().items() if e.get("sha256")}
    assert len(known) >= 100
    hits = [f"{p.relative_to(REPO)} = corpus {known[h]}" for p in tracked_files()
            if (h := hashlib.sha256(p.read_bytes()).hexdigest()) in known]
    assert not hits, hits


def test_no_data_file_holds_trtexec_or_polygraphy_output() -> None:
    files = [p for p in tracked_files() if p.relative_to(REPO).parts[0] in DATA_DIRS]
    assert files  # the walk found the tree
    offenders = []
    for p in files:
        kind = detect_kind(p)
        if kind != "unrecognized" and p.suffix not in CODE_SUFFIXES:
            offenders.append(f"{p.relative_to(REPO)}: {kind}")
    assert not offenders, offenders
