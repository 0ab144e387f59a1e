"""diagnose on a real result set (H100 logs from the corpus, no GPU): it runs, and every finding's evidence
cites numbers that are in
the logs of the variants it names (never an invented figure)."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner
from example_sets import materialise

from trtsweep import store
from trtsweep.cli import main

pytestmark = pytest.mark.corpus
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


def _floats(values) -> list[float]:
    out: list[float] = []
    if isinstance(values, dict):
        for v in values.values():
            out.extend(_floats(v))
    elif isinstance(values, list):
        for v in values:
            out.extend(_floats(v))
    elif isinstance(values, float):
        out.append(values)
    return out


def test_diagnose_examples_cites_numbers_from_the_logs(tmp_path):
    run = tmp_path / "h100"
    runner = CliRunner()
    logs = materialise(tmp_path, "h100-model-trained")
    imported = runner.invoke(main, ["import", str(logs), "-o", str(run)])
    assert imported.exit_code == 0
    res = runner.invoke(main, ["diagnose", str(run), "--format", "json"])
    assert res.exit_code == 0, res.output
    findings = json.loads(res.output)["findings"]
    assert findings
    rs = store.load_result_set(run)
    logs = {v.variant_id: (v.log_path.read_text() if v.log_path else "") for v in rs.variants}
    checked = 0
    for f in findings:
        if f["status"] != "found":
            continue
        for ev in f["evidence"]:
            numbers = _floats(ev["values"])
            if ev["variant_id"] not in logs or not numbers:
                continue
            in_log = {float(x) for x in _NUMBER.findall(logs[ev["variant_id"]])}
            assert any(n in in_log for n in numbers), (f["code"], ev)
            checked += 1
    assert checked >= 3


def test_report_on_examples_says_what_is_missing(tmp_path):
    run = tmp_path / "h100"
    runner = CliRunner()
    logs = materialise(tmp_path, "h100-model-trained")
    runner.invoke(main, ["import", str(logs), "-o", str(run)])
    res = runner.invoke(main, ["report", str(run), "-o", str(tmp_path / "rep")])
    assert res.exit_code == 0, res.output
    html = (tmp_path / "rep" / "index.html").read_text()
    assert "NVIDIA H100 PCIe" in html
    assert list((tmp_path / "rep").glob("*.png"))
    # The imported logs give no baseline: the report says so instead of drawing an empty chart.
    assert "baseline" in res.output
