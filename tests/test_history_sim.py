"""Sixty simulated nights: a per-night offset, per-process noise, throttled nights, a +25 % one-night blip and
a +5 % step at night 40 on two variants. ``history check`` must flag the step on those two within three
nights, date it to night 40 +- 1, never flag the blip, and raise no other alert.

Night 0 and nights 40-42 are real ``trtsweep run`` sweeps through the trtexec double; the other nights are
night 0's run folder with every record's times scaled (records generated directly: running the double 60
times would take minutes).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
import shutil
import time
from pathlib import Path

import pytest
from e2e_helpers import double_env, write_sweep
from history_helpers import cli

from trtsweep import store
from trtsweep.analysis import changepoints as cp
from trtsweep.analysis.history_check import check_entry
from trtsweep.analysis.history_extract import run_entry
from trtsweep.store import history as hs
from trtsweep.store.meta import meta_from_dict

pytestmark = pytest.mark.e2e

NIGHTS = 60
STEP_NIGHT = 40
REAL_NIGHTS = (0, 40, 41, 42)
THROTTLED = (12, 27, 51)  # the whole GPU 12 % slower for one night
BLIP = (20, "fp32", 1)  # one variant 25 % slower for one night
STEPPED = ("int8",)  # both int8 variants (batch 1 and 2) 5 % slower from night 40 on
SCALE = 0.01  # the double's latency scale: ~0.1 ms per batch, so its runs take no time


def night_date(n: int) -> str:
    return (dt.date(2025, 1, 1) + dt.timedelta(days=n)).isoformat()


def offsets(seed: int = 7) -> list[float]:
    rng = random.Random(seed)
    return [math.exp(rng.gauss(0.0, 0.006)) for _ in range(NIGHTS)]


def factor(n: int, precision: str, batch: int, night_offset: float) -> float:
    f = night_offset
    if n in THROTTLED:
        f *= 1.12
    if (n, precision, batch) == BLIP:
        f *= 1.25
    if precision in STEPPED and n >= STEP_NIGHT:
        f *= 1.05
    return f


def real_night(tmp: Path, sweep: Path, n: int, night_offset: float) -> Path:
    """A real sweep through the double, its GPU as slow as the simulated night makes it."""
    perf = {"latency_scale": SCALE * night_offset * (1.12 if n in THROTTLED else 1.0), "seed": n,
            "precision_factor": {"fp16": 0.45, "int8": 0.3 * (1.05 if n >= STEP_NIGHT else 1.0)}}
    env = double_env(tmp, {"perf": perf}, name=f"double-{n}.json")
    out = tmp / f"night-{n:02d}"
    proc = cli(["run", sweep, "-o", out, "-q"], env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


def scale_stats(stats: dict | None, f: float) -> dict | None:
    if stats is None:
        return None
    return {k: (v * f if isinstance(v, int | float) else v) for k, v in stats.items()}


def generated_night(template: Path, out: Path, n: int, night_offset: float, rng: random.Random) -> Path:
    """night 0's folder with each repeat's times scaled by the night's factor and its own process noise."""
    shutil.copytree(template, out)
    meta = meta_from_dict(json.loads((out / store.META_FILE).read_text()))
    meta.run_id = f"sim-{n:02d}"
    meta.created = f"{night_date(n)}T02:00:00+00:00"
    store.atomic_write_json(out / store.META_FILE, meta.to_dict(), durable=False)
    lock = json.loads((out / store.LOCK_FILE).read_text())
    for entry in lock["variants"]:
        axes = entry["axes"]
        for path in (out / "runs" / entry["id"]).glob("**/record.json"):
            f = factor(n, axes["precision"], axes["batch"], night_offset) * math.exp(rng.gauss(0.0, 0.004))
            rec = json.loads(path.read_text())
            for key in ("latency_ms", "end_to_end_ms", "gpu_compute_ms", "h2d_ms", "d2h_ms", "enqueue_ms"):
                rec[key] = scale_stats(rec[key], f)
            rec["throughput_qps"] = rec["throughput_qps"] / f
            path.write_text(json.dumps(rec))
    return out


def test_sixty_nights(tmp_path: Path) -> None:
    t0 = time.monotonic()
    sweep = write_sweep(tmp_path / "nightly.yaml", {"precision": ["fp32", "fp16", "int8"], "batch": [1, 2]},
                        run={"repeats": 3})
    db = tmp_path / "history.sqlite"
    offs = offsets()
    rng = random.Random(11)
    template = real_night(tmp_path, sweep, 0, offs[0])
    alerts: dict[str, list[tuple[int, str | None]]] = {}
    verdicts: dict[int, dict[str, str]] = {}
    with hs.open_history(db, create=True) as h:
        for n in range(NIGHTS):
            if n == 0:
                run = template
            elif n in REAL_NIGHTS:
                run = real_night(tmp_path, sweep, n, offs[n])
            else:
                run = generated_night(template, tmp_path / f"night-{n:02d}", n, offs[n], rng)
            if n in REAL_NIGHTS:
                # the real commands, as the nightly job runs them (the sweep ran today: --night dates it)
                added = cli(["history", "add", run, "--db", db, "--night", night_date(n)])
                assert added.returncode == 0, added.stdout + added.stderr
                checked = cli(["history", "check", run, "--db", db, "--night", night_date(n), "--format",
                               "json"])
                assert checked.returncode in (0, 3, 4), checked.stdout + checked.stderr
                out = json.loads(checked.stdout)
                assert checked.returncode == out["exit_code"]
                tonight = {v["variant"]: (v["verdict"], v["since_night"]) for v in out["variants"]}
            else:
                entry = run_entry(store.load_result_set(run), night=night_date(n))
                assert h.add(entry).added
                target = next(t.pk for t in h.targets() if t.key == entry.target.key)
                ids = {v.key: v.pk for v in h.variants()}
                result = check_entry(entry, h.points("time_per_batch_ms", [target]), target, ids,
                                     "time_per_batch_ms")
                tonight = {c.variant.label: (c.verdict.kind, c.verdict.night) for c in result.checks}
            verdicts[n] = {k: v[0] for k, v in tonight.items()}
            for label, (kind, since) in tonight.items():
                if kind in (cp.REGRESSION, cp.IMPROVEMENT):
                    alerts.setdefault(label, []).append((n, since))
    elapsed = time.monotonic() - t0

    labels = set(verdicts[0])
    assert len(labels) == 6
    stepped = {lb for lb in labels if lb.split()[1] in STEPPED}
    assert len(stepped) == 2
    step_day = dt.date.fromisoformat(night_date(STEP_NIGHT))
    false_alerts = []
    for label in sorted(labels):
        for n, since in alerts.get(label, []):
            dated_ok = since is not None and abs((dt.date.fromisoformat(since) - step_day).days) <= 1
            if not (label in stepped and n >= STEP_NIGHT and dated_ok
                    and verdicts[n][label] == cp.REGRESSION):
                false_alerts.append((label, n, since, verdicts[n][label]))
    first = {label: min(n for n, _ in alerts.get(label, [(99, None)])) for label in stepped}
    print(f"\n60 nights in {elapsed:.1f} s; first alert on the stepped variants: {first}; "
          f"false alerts: {len(false_alerts)} {false_alerts}")
    assert not false_alerts
    for label in stepped:
        assert STEP_NIGHT <= first[label] <= STEP_NIGHT + 2, (label, alerts.get(label))
    blip_label = next(lb for lb in labels if lb.split()[1:3] == [BLIP[1], f"b{BLIP[2]}"])
    assert blip_label not in alerts
    # nights before the series has enough nights are inconclusive, after that none is
    inconclusive = sorted({n for n, v in verdicts.items() if cp.INCONCLUSIVE in v.values()})
    assert inconclusive == list(range(cp.min_nights() - 1)), inconclusive
    assert elapsed < 60
