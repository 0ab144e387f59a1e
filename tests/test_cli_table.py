"""``parse --format table`` fits a terminal and tells a multi-run log's runs apart; the CSV has the axes."""

from __future__ import annotations

import csv
import io

import pytest
from click.testing import CliRunner
from corpus_location import CORPUS

from trtsweep.cli import main
from trtsweep.cli.parse import render_table
from trtsweep.parsers import parse_file

pytestmark = pytest.mark.corpus

MULTI = "khairul__trt7_jetson_fp16_resnet50_batches.txt"  # 7 runs, batches 1..128, TensorRT 7
# From the log's last run (--fp16 --batch=128): throughput 47.7781 qps, GPU Compute median 2671.88 ms,
# latency percentile 2689.09 ms at 99%.
LAST_RUN = ("7", "passed", "fp16", "128", "model", "47.78", "2671.88", "2689.09")


@pytest.mark.parametrize("width", [80, 120])
def test_table_fits_the_width_and_never_splits_a_number(width: int) -> None:
    records = parse_file(CORPUS / MULTI) + parse_file(CORPUS / "fuzzylabs__alexnet_fp16.timing.json")
    text = render_table(records, width)
    lines = text.splitlines()
    assert all(len(line) <= width for line in lines), max(lines, key=len)
    header = next(line.split() for line in lines if line.startswith("#"))
    assert header[:5] == ["#", "status", "precision", "batch", "shape"]
    rows = [line.split() for line in lines if line[:1].isdigit()]
    assert [r[3] for r in rows[:7]] == ["1", "4", "8", "16", "32", "64", "128"]
    assert tuple(rows[6]) == LAST_RUN
    # Every number of every row is whole on its line: each row has the same token count.
    assert {len(r) for r in rows[:7]} == {8}


def test_table_heading_names_the_file_and_its_run_count() -> None:
    text = render_table(parse_file(CORPUS / MULTI), 80)
    # The path as given (two folders often hold files of one name); it folds within the width.
    assert " ".join(text.split()).startswith(f"{CORPUS / MULTI} (7 runs; trtexec log;")


def test_csv_has_axis_and_option_columns() -> None:
    res = CliRunner().invoke(main, ["parse", str(CORPUS / MULTI), "--format", "csv"])
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(io.StringIO(res.output)))
    assert [r["axis.batch"] for r in rows] == ["1", "4", "8", "16", "32", "64", "128"]
    assert {r["axis.precision"] for r in rows} == {"fp16"}
    assert rows[-1]["option.iterations"] == "3" and rows[-1]["option.avg_runs"] == "3"
    assert "option.raw" not in rows[0]
