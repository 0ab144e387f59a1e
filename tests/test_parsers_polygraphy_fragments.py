"""Polygraphy output that starts mid-run (issue #13): no header, no RUNNING line, no final status.

The corpus holds no such fragment, so each is cut from a real ``polygraphy run`` output: from its
``[I] Finished engine building in ...`` line, or from a runner's indented ``---- Inference Input(s) ----``
block, to just before the final ``PASSED | ...`` line. Each is still Polygraphy output, and ``incomplete``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from corpus_location import CORPUS

from trtsweep.parsers import detect_kind, parse_file

pytestmark = pytest.mark.corpus

# file, line (1-based) of "[I] Finished engine building in X seconds", X
BUILDS = [
    ("hackcn__poly0.33.0_result-02.txt", 17, 6.857),
    ("hackcn__poly0.35.2_result-run-FP16.txt", 54, 4.621),
    ("hackcn__poly0.38.0_result-run-FP16.log", 88, 2.278),
    ("hackcn__poly0.47.1_result-02.log", 74, 16.696),
    ("hackcn__poly0.49.26_Run_result-02.log", 90, 36.550),
    ("hackcn__poly0.49.26_Run_result-04.log", 80, 13.793),
]
# file, line of the first "    ---- Inference Input(s) ----", the runner and time of the next "Completed" line
BLOCKS = [
    ("hackcn__poly0.33.0_result-02.txt", 24, "trt-runner-N0-03/07/22-07:07:02", 2.954),  # line 64
    ("hackcn__poly0.38.0_result-run-FP16.log", 71, "onnxrt-runner-N0-08/17/22-06:44:36", 1.91),  # line 77
    ("hackcn__poly0.49.26_Run_result-04.log", 17, "onnxrt-runner-N0-07/07/26-02:08:48", 1.599),  # line 35
]


def fragment(name: str, start: int, tmp_path: Path, indent: str = "", short: bool = False) -> Path:
    """Lines ``start``... of a file, to just before the final status line (``short``: to just before the
    first "Completed N iteration(s)" line, so that no line Polygraphy alone prints at a run's end is left)."""
    lines = (CORPUS / name).read_text(encoding="utf-8").split("\n")[start - 1:]
    final = ("[I] PASSED | Runtime", "[I] PASSED | Command", "[I] FAILED |")
    end = next((i for i, x in enumerate(lines) if x.startswith(final) or (short and "| Completed " in x)),
               len(lines))
    path = tmp_path / f"cut-{name}"
    path.write_text("\n".join(indent + x if x.strip() else x for x in lines[:end]) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(("name", "line", "seconds"), BUILDS)
@pytest.mark.parametrize("indent", ["", "    "])
@pytest.mark.parametrize("short", [False, True])
def test_output_starting_at_the_engine_build(name: str, line: int, seconds: float, indent: str, short: bool,
                                             tmp_path: Path) -> None:
    assert (CORPUS / name).read_text().split("\n")[line - 1].startswith("[I] Finished engine building in")
    path = fragment(name, line, tmp_path, indent, short)
    assert detect_kind(path) == "polygraphy_run"
    [rec] = parse_file(path)
    assert rec.kind == "polygraphy_run" and rec.status == "incomplete"
    assert rec.build.engine_build_s == seconds
    assert rec.polygraphy["invocations"] is None  # the command line is not in the fragment


@pytest.mark.parametrize(("name", "line", "runner", "ms"), BLOCKS)
@pytest.mark.parametrize("indent", ["", "    "])
@pytest.mark.parametrize("short", [False, True])
def test_output_starting_in_a_runner_block(name: str, line: int, runner: str, ms: float, indent: str,
                                           short: bool, tmp_path: Path) -> None:
    assert (CORPUS / name).read_text().split("\n")[line - 1].strip() == "---- Inference Input(s) ----"
    path = fragment(name, line, tmp_path, indent, short)
    assert detect_kind(path) == "polygraphy_run"
    [rec] = parse_file(path)
    assert rec.kind == "polygraphy_run" and rec.status == "incomplete"
    if not short:
        times = {r["name"]: r["inference_ms"] for r in rec.polygraphy["runners"]}
        assert times[runner] == ms


def test_a_lone_runner_block_is_still_polygraphy(tmp_path: Path) -> None:
    # hackcn__poly0.49.26_Run_result-09.log lines 19-20: a runner's input block and nothing else
    lines = (CORPUS / "hackcn__poly0.49.26_Run_result-09.log").read_text().split("\n")[18:20]
    assert lines[0].strip() == "---- Inference Input(s) ----"
    path = tmp_path / "block.txt"
    path.write_text("\n".join(lines) + "\n")
    [rec] = parse_file(path)
    assert rec.kind == "polygraphy_run" and rec.status == "incomplete"
