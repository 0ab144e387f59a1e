"""scripts/fetch_corpus.py: fetch by MANIFEST entry, verify sha256, recover Markdown excerpts, report misses.

The sources are served from a local folder laid out like raw.githubusercontent.com (``file://`` base URL);
the contents are written here, so no network and no corpus are needed.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import sys
from pathlib import Path

import pytest
from corpus_location import REPO

spec = importlib.util.spec_from_file_location("fetch_corpus", REPO / "scripts" / "fetch_corpus.py")
assert spec and spec.loader
fetch_corpus = importlib.util.module_from_spec(spec)
sys.modules["fetch_corpus"] = fetch_corpus  # dataclasses look their module up while the class is made
spec.loader.exec_module(fetch_corpus)

LOG = b"&&&& RUNNING TensorRT.trtexec [TensorRT v100800] # trtexec --onnx=m.onnx\n[I] Throughput: 10 qps\n"
TAIL = b"    [I] === Performance summary ===\n    [I] Throughput: 5 qps\n"
PAGE = b"# Results\n\nWe ran:\n\n```\n$ trtexec --onnx=m.onnx\n" + TAIL + b"    &&&& PASSED\n```\n\nDone.\n"


def entry(name: str, path: str, data: bytes, commit: str = "a" * 40) -> dict:
    return {"file": name, "repo": "someone/project", "commit": commit, "path": path,
            "sha256": hashlib.sha256(data).hexdigest(), "kind": "trtexec_log"}


@pytest.fixture
def served(tmp_path: Path) -> tuple[Path, str]:
    root = tmp_path / "raw"
    base = root / "someone" / "project" / ("a" * 40)
    (base / "logs").mkdir(parents=True)
    (base / "logs" / "run 1.log").write_bytes(LOG)       # a space in the path: the URL must quote it
    (base / "README.md").write_bytes(PAGE)
    (base / "changed.log").write_bytes(LOG.replace(b"10 qps", b"11 qps"))
    entries = [
        entry("whole.log", "logs/run 1.log", LOG),
        entry("tail.log", "README.md", TAIL),              # an excerpt of a fenced block of the page
        entry("changed.log", "changed.log", LOG),           # the source no longer matches
        entry("gone.log", "nowhere.log", LOG),              # not at the source
    ]
    manifest = tmp_path / "MANIFEST.jsonl"
    manifest.write_text("".join(json.dumps(e) + "\n" for e in entries))
    return manifest, root.as_uri()


def test_fetches_verifies_and_reports_what_it_could_not(served, tmp_path, capsys) -> None:
    manifest, base = served
    out = tmp_path / "corpus"
    rc = fetch_corpus.main(["-o", str(out), "--manifest", str(manifest), "--base-url", base])
    text = capsys.readouterr().out
    assert rc == 1
    assert (out / "files" / "whole.log").read_bytes() == LOG
    assert (out / "files" / "tail.log").read_bytes() == TAIL
    assert not (out / "files" / "changed.log").exists() and not (out / "files" / "gone.log").exists()
    assert "2 of 4 files verified" in text
    assert "changed.log: fetched" in text and "matches the recorded sha256" in text
    assert "gone.log: could not fetch" in text
    assert (out / "MANIFEST.jsonl").read_text() == manifest.read_text()


def test_second_run_keeps_verified_files_and_only_misses_fail(served, tmp_path, capsys) -> None:
    manifest, base = served
    out = tmp_path / "corpus"
    fetch_corpus.main(["-o", str(out), "--manifest", str(manifest), "--base-url", base])
    capsys.readouterr()
    rc = fetch_corpus.main(["-o", str(out), "--manifest", str(manifest), "--base-url", base,
                            "--only", "whole.log", "--only", "tail*"])
    assert rc == 0
    assert capsys.readouterr().out.count("already present, verified") == 2


def test_bad_manifest_is_one_line_and_exit_2(tmp_path, capsys) -> None:
    bad = tmp_path / "MANIFEST.jsonl"
    bad.write_text('{"file": "a.log"}\n')
    assert fetch_corpus.main(["-o", str(tmp_path / "c"), "--manifest", str(bad)]) == 2
    assert "MANIFEST.jsonl:1: not a MANIFEST entry" in capsys.readouterr().err
    bad.write_text(json.dumps(entry("../escape.log", "x", LOG)) + "\n")
    assert fetch_corpus.main(["-o", str(tmp_path / "c"), "--manifest", str(bad)]) == 2


def test_source_url_is_pinned_to_the_commit() -> None:
    e = {"repo": "NVIDIA/trt-samples-for-hackathon-cn", "commit": "353a4d733c9be0935a957da9ef191c364fec1386",
         "path": "cookbook/08-Tool/trtexec/trtexec help.txt"}
    assert fetch_corpus.source_url(e) == (
        "https://raw.githubusercontent.com/NVIDIA/trt-samples-for-hackathon-cn/"
        "353a4d733c9be0935a957da9ef191c364fec1386/cookbook/08-Tool/trtexec/trtexec%20help.txt")


def test_excerpt_search_finds_a_run_of_lines_and_refuses_a_near_miss() -> None:
    lines = b"".join(f"line {i}\n".encode() for i in range(50))
    want = b"".join(f"line {i}\n".encode() for i in range(10, 20))
    assert fetch_corpus.find_excerpt(lines, hashlib.sha256(want).hexdigest()) == want
    assert fetch_corpus.find_excerpt(lines, hashlib.sha256(want.rstrip()).hexdigest()) == want.rstrip()
    assert fetch_corpus.find_excerpt(lines, hashlib.sha256(b"line 10\nline 12\n").hexdigest()) is None
