"""history trend / publish / merge: the dashboard in headless Chromium, the trend table and chart, merging."""

from __future__ import annotations

import datetime as dt
import math
import random
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from history_helpers import dump, write_run

from trtsweep import store
from trtsweep.analysis.history_extract import run_entry
from trtsweep.cli import main
from trtsweep.store import history as hs

STEP_AT, IMPROVE_AT, BLIP_AT, TRT_AT, N = 35, 44, 20, 25, 50


def run_cli(*args: object):
    return CliRunner().invoke(main, [str(a) for a in args])


def night(n: int) -> str:
    return (dt.date(2025, 1, 1) + dt.timedelta(days=n)).isoformat()


def build_history(root: Path, host: str = "lab-l4", nights: range = range(N), db: Path | None = None,
                  seed: int = 3) -> Path:
    """fp16/fp32 x b1/b8 nightly: fp16 b8 +6 % from night 35, fp32 b8 -7 % from night 44, a +25 % blip on
    fp32 b1 at night 20, TensorRT 10.8 -> 10.9 at night 25."""
    rng = random.Random(seed)
    db = db or root / "h.sqlite"
    gpu = {"index": 0, "name": "NVIDIA L4", "uuid": f"GPU-{host}"}
    with hs.open_history(db, create=True) as h:
        for n in nights:
            off = math.exp(rng.gauss(0, 0.006))
            values = {}
            for p in ("fp16", "fp32"):
                for b in (1, 8):
                    f = off * (1.06 if (p, b) == ("fp16", 8) and n >= STEP_AT else 1.0)
                    f *= 1.25 if (p, b, n) == ("fp32", 1, BLIP_AT) else 1.0
                    f *= 0.93 if (p, b) == ("fp32", 8) and n >= IMPROVE_AT else 1.0
                    values[(p, b)] = [2.0 * b * f * math.exp(rng.gauss(0, 0.003)) for _ in range(2)]
            run = write_run(root / f"{host}-{n}", night(n), values, host=host, gpu=gpu,
                            trt="10.9.0" if n >= TRT_AT else "10.8.0")
            h.add(run_entry(store.load_result_set(run)))
    return db


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hist")
    db = build_history(root)
    assert run_cli("history", "annotate", "--at", f"{night(11).replace('-', '')}-lab-l4", "--note",
                   "fan replaced", "--db", db).exit_code == 0
    return db


def test_publish_in_headless_chromium(history: Path, tmp_path: Path) -> None:
    from test_report_browser import SHOTS, chromium_binary, open_report

    chromium_binary()
    site = tmp_path / "site"
    res = run_cli("history", "publish", "-o", site, "--db", history)
    assert res.exit_code == 0, res.output
    assert "4 charts, 1 open regression(s)" in res.output
    html = (site / "index.html").read_text()
    # the verdicts come first; the open regression is fp16 b8's step of night 35
    assert html.index('id="latest"') < html.index('id="regressions"') < html.index('id="charts"')
    regressions = html.split('id="regressions"', 1)[1].split('id="charts"', 1)[0]
    assert "net fp16 b8 static" in regressions and night(STEP_AT) in regressions
    assert "net fp32 b8 static" not in regressions  # an improvement is not a regression
    assert "fan replaced" in html and "TensorRT" not in regressions
    assert "http:" not in html and "https:" not in html  # nothing to load from anywhere
    result = open_report(site / "index.html", tmp_path / "dashboard.png", tmp_path)
    assert len(result["images"]) == 4, result["images"]
    assert all(i["complete"] and i["w"] > 0 for i in result["images"]), result["images"]
    assert not result["errors"], result["errors"]
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(result["shot"], SHOTS / "history_dashboard.png")


def test_publish_again_replaces_the_charts(history: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    assert run_cli("history", "publish", "-o", site, "--db", history).exit_code == 0
    (site / "charts" / "s-9-stale.png").write_bytes(b"old")
    assert run_cli("history", "publish", "-o", site, "--db", history).exit_code == 0
    assert len(list((site / "charts").iterdir())) == 4  # the stale chart is gone


def test_trend_table_and_chart(history: Path, tmp_path: Path) -> None:
    png = tmp_path / "t.png"
    res = run_cli("history", "trend", "--variant", "batch=8", "--db", history, "--png", png)
    assert res.exit_code == 0, res.output
    lines = {ln.split("  ")[1].strip(): ln for ln in res.output.splitlines()[1:] if "net " in ln}
    assert set(lines) == {"net fp16 b8 static", "net fp32 b8 static"}
    assert f"{night(STEP_AT)} +6" in lines["net fp16 b8 static"]
    assert f"{night(IMPROVE_AT)} -7" in lines["net fp32 b8 static"]
    assert png.stat().st_size > 10_000 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    res = run_cli("history", "trend", "--variant", "precision=fp32,batch=1", "--db", history, "--png", png)
    assert res.exit_code == 0 and "net fp32 b1 static" in res.output
    assert night(BLIP_AT) not in res.output  # the blip is no level change
    short = run_cli("history", "trend", "--target", "lab-l4", "--nights", "10", "--db", history, "--png", png)
    assert short.exit_code == 0 and night(N - 10) in short.output


def test_trend_bad_selectors(history: Path, tmp_path: Path) -> None:
    png = tmp_path / "t.png"
    for args, words in ((("--variant", "precision=int4"), "matches no variant"),
                        (("--variant", "precision"), "matches no variant"),
                        (("--variant", "precision=fp16,=3"), "KEY=VALUE"),
                        (("--target", "dgx-9"), "matches no target"),
                        (("--metric", "nope"), "no series of metric")):
        res = run_cli("history", "trend", *args, "--db", history, "--png", png)
        assert res.exit_code == 2, (args, res.output)
        assert words in res.output and res.output.count("\n") == 1
    assert not png.exists()


def test_merge_folds_hosts_and_is_idempotent(tmp_path: Path) -> None:
    a = build_history(tmp_path / "a", host="host-a", nights=range(12), db=tmp_path / "a.sqlite")
    b = build_history(tmp_path / "b", host="host-b", nights=range(12), db=tmp_path / "b.sqlite", seed=4)
    run_cli("history", "annotate", "--at", "20250105-host-b", "--note", "driver 555", "--expected", "--db", b)
    both = tmp_path / "all.sqlite"
    res = run_cli("history", "merge", a, b, "--db", both)
    assert res.exit_code == 0, res.output
    assert "12 run(s) added, 0 already" in res.output and "1 note(s) added" in res.output
    with hs.open_history(both) as h, hs.open_history(a) as ha:
        assert len(h.runs()) == 24 and len(h.targets()) == 2 and len(h.variants()) == 4
        assert h.annotations()[0].expected
        # the same values, for the same run
        mine = sorted((p.run_id, p.repeat, p.value) for p in h.points("latency_ms.p99")
                      if p.run_id.endswith("-a"))
        theirs = sorted((p.run_id, p.repeat, p.value) for p in ha.points("latency_ms.p99"))
        assert mine == theirs
    before = dump(both)
    again = run_cli("history", "merge", a, b, "--db", both)
    assert again.exit_code == 0 and "0 run(s) added, 12 already" in again.output
    assert dump(both) == before
    bad = tmp_path / "bad.sqlite"
    bad.write_text("garbage")
    res = run_cli("history", "merge", a, bad, "--db", both)
    assert res.exit_code == 2 and "bad.sqlite" in res.output
    assert dump(both) == before
