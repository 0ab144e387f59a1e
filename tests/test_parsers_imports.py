"""Start-up (issue #13): parsing a console log imports neither numpy nor the Polygraphy parser, and the log
parser's regular expressions are compiled when first used, not at import."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from corpus_location import CORPUS

REPO = Path(__file__).resolve().parent.parent
_PROBE = """
import json, sys
from trtsweep.parsers import parse_file
records = parse_file(sys.argv[1])
heavy = sorted(m for m in sys.modules if m == "numpy" or m.startswith(("trtsweep.parsers.exports",
               "trtsweep.parsers.polygraphy", "trtsweep.parsers.timing_stats", "trtsweep.parsers.combine")))
print(json.dumps({"kind": records[0].kind, "heavy": heavy}))
"""


def probe(path: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    out = subprocess.run([sys.executable, "-c", _PROBE, str(path)], capture_output=True, text=True, env=env,
                         check=True).stdout
    return json.loads(out)


@pytest.mark.corpus
def test_a_console_log_needs_no_numpy_and_no_polygraphy_parser() -> None:
    got = probe(CORPUS / "hackcn__trt10.16.1_result-01.log")
    assert got == {"kind": "trtexec_log", "heavy": []}


@pytest.mark.corpus
def test_exports_and_polygraphy_load_their_parsers_when_seen() -> None:
    times = probe(CORPUS / "trex__A100_fp16_resnet.onnx.engine.timing.json")
    assert times["kind"] == "export_times" and "numpy" in times["heavy"]
    poly = probe(CORPUS / "hackcn__poly0.49.26_Run_result-09.log")
    assert poly["kind"] == "polygraphy_run" and "trtsweep.parsers.polygraphy" in poly["heavy"]
    assert "numpy" not in poly["heavy"]


def test_log_parser_compiles_no_pattern_at_import() -> None:
    code = ("import re\ncompiled = []\norig = re.compile\n"
            "re.compile = lambda *a, **k: compiled.append(a[0]) or orig(*a, **k)\n"
            "import trtsweep.parsers\nprint(len(compiled))")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    # textio's ANSI pattern and the dataclasses machinery may compile a few; the parsers' ~100 do not.
    assert int(out.stdout) < 10, out.stdout


def test_lazy_patterns_behave_as_compiled_ones() -> None:
    from trtsweep.parsers.lazy_re import lazy

    pattern = lazy(r"(\d+) ms")
    assert pattern.search("took 12 ms")[1] == "12"
    assert [m[1] for m in pattern.finditer("1 ms, 2 ms")] == ["1", "2"]
    assert pattern.sub("X", "3 ms") == "X" and pattern.pattern == r"(\d+) ms"
    raw = lazy(rb"\n(?!\[V\] )")
    assert [m.start() for m in raw.finditer(b"a\n[V] b\nc")] == [7]
