"""One basis for every finding's size, one order, and evidence a reader can tell apart.

**Basis.** A finding's ``explained_ms`` is the time per batch its fix would save on the configuration a
user would deploy: the best variant (most samples/s) at a batch the expectation concerns (those the
baseline gives figures for, else every measured batch), taking the batch where the saving is largest.
Rules give each evidence item the ms it accounts for *for its own variant* (``values["explained_ms"]``);
here only the items about a best variant count. A finding whose evidence is about other variants only
explains nothing on this basis: its fix does not touch what would be deployed.

**Order and severity.** Quantified findings get their severity from their share of that best variant's
time per batch (``context.severity_for_share``); findings are ordered by severity, then by share, so a
severity never contradicts the order. ``speedup_shortfall`` (the verdict) comes first; ``needs_data``
last.

**Evidence labels.** Each evidence line starts with the axes that tell its variant apart from the others
the finding cites (not the axis the rule compares, which the line states); lines with the same figures
that differ in one axis only are merged (``cuda_graph=false|true: ...``).
"""

from __future__ import annotations

import re
from typing import Any

from trtsweep.analysis.axes import axis_order, show
from trtsweep.diagnose.context import SEVERITIES, Context, Evidence, Finding, View, severity_for_share

# Findings that are verdicts or bookkeeping, not a cost a fix removes: never re-scored.
UNSCORED = ("speedup_shortfall", "expectation_met", "input_check", "build_failure", "run_failure")


def concerned_batches(ctx: Context) -> list[int | None]:
    """The batches the expectation is judged at: the baseline's batches, else every measured batch."""
    measured = sorted({v.batch for v in ctx.views if v.batch is not None})
    base = ctx.baseline
    if base is not None and base.external:
        within = [b for b in measured if b in base.latency_ms]
        if within:
            return list(within)
    return list(measured) or [None]


def best_views(ctx: Context) -> dict[tuple[str | None, int | None], View]:
    """The best variant per (model, batch) at the concerned batches."""
    batches = set(concerned_batches(ctx))
    return {k: v for k, v in ctx.model.best_by_batch.items() if k[1] in batches or batches == {None}}


def score(ctx: Context, findings: list[Finding]) -> None:
    """Set each finding's ``explained_ms``/``explained_at`` on the one basis and its severity from it."""
    best = best_views(ctx)
    best_ids = {v.variant_id for v in best.values()}
    for f in findings:
        if f.code in UNSCORED or f.status != "found":
            continue
        pick: tuple[float, View] | None = None
        for view in best.values():
            own = [e.values.get("explained_ms") for e in f.evidence if e.variant_id == view.variant_id]
            ms = max((float(x) for x in own if isinstance(x, int | float)), default=None)
            if ms is not None and ms > 0 and view.time_per_batch_ms and (pick is None or ms > pick[0]):
                pick = (ms, view)
        if pick is None:
            f.explained_ms = None
            f.explained_at = None
            about_best = any(e.variant_id in best_ids for e in f.evidence)
            if f.severity in ("high", "medium") and not about_best and not _unquantifiable(f):
                # Its figures are about variants nobody would deploy: a lesser concern.
                f.severity = "low"
            continue
        ms, view = pick
        share = ms / (view.time_per_batch_ms or ms)
        f.explained_ms = ms
        f.explained_at = {"batch": view.batch, "variant_id": view.variant_id,
                          "time_per_batch_ms": view.time_per_batch_ms, "share": share}
        f.severity = severity_for_share(share)


def _unquantifiable(f: Finding) -> bool:
    # Rules that state a fact without a time (e.g. only FP32 measured) keep their own severity.
    return not any(isinstance(e.values.get("explained_ms"), int | float) for e in f.evidence)


def rank(findings: list[Finding]) -> list[Finding]:
    """Verdict first, then severity, then share of the deployed time (largest first); needs_data last."""
    def key(f: Finding) -> tuple[int, int, int, float]:
        share = (f.explained_at or {}).get("share") or -1.0
        verdict = f.code in ("speedup_shortfall", "expectation_met") and f.status == "found"
        return (0 if verdict else 1, 1 if f.status == "needs_data" else 0, SEVERITIES.index(f.severity),
                -float(share))
    return sorted(findings, key=key)


# ---------------------------------------------------------------- evidence labels

_ID_KEYS = re.compile(r"(variant|_id)$")


def label_evidence(ctx: Context, f: Finding) -> None:
    """Prefix each evidence line with the axes that distinguish its variant; merge lines that differ
    only in one axis and hold the same figures; drop exact duplicates."""
    views = {v.variant_id: v for v in ctx.views}
    subjects = [views[e.variant_id] for e in f.evidence if e.variant_id in views]
    if len(subjects) < 1 or f.code in UNSCORED[2:]:
        _dedupe(f)
        return
    names = axis_order({n for v in subjects for n in v.axes})
    distinguishing = [n for n in names if n != f.compared
                      and len({show(v.axes.get(n)) for v in subjects}) > 1]
    ids = sorted(views, key=len, reverse=True)
    labelled: list[tuple[dict[str, str], Evidence]] = []
    for e in f.evidence:
        view = views.get(e.variant_id or "")
        axes = {n: show(view.axes.get(n)) for n in distinguishing} if view else {}
        labelled.append((axes, e))
    merged: list[tuple[dict[str, str], Evidence, str]] = []
    for axes, e in labelled:
        signature = _signature(e, ids)
        for i, (other_axes, other, other_sig) in enumerate(merged):
            diff = [n for n in axes if axes[n] != other_axes.get(n)]
            if other_sig == signature and len(diff) == 1:
                name = diff[0]
                values = other_axes[name].split("|")
                if axes[name] not in values:
                    other_axes = {**other_axes, name: "|".join([*values, axes[name]])}
                merged[i] = (other_axes, other, other_sig)
                break
            if other_sig == signature and not diff:
                break  # the same fact twice
        else:
            merged.append((axes, e, signature))
    out = []
    for axes, e, _ in merged:
        # An axis the line itself states ("batch 8: ...") is not repeated in its label.
        label = ", ".join(f"{n}={v}" for n, v in axes.items() if f"{n} {v}" not in e.text)
        e.text = f"{label}: {e.text}" if label else e.text
        out.append(e)
    f.evidence = out


def _signature(e: Evidence, ids: list[str]) -> str:
    """An evidence item with variant ids masked and numbers rounded: equal for the same figures."""
    text = e.text
    for vid in ids:
        text = text.replace(vid, "<v>")
    numbers: list[Any] = []
    for k, v in sorted(e.values.items()):
        if _ID_KEYS.search(k):
            continue
        numbers.append((k, float(f"{v:.4g}") if isinstance(v, float) else v))
    return f"{text}|{numbers}"


def _dedupe(f: Finding) -> None:
    seen: set[str] = set()
    out = []
    for e in f.evidence:
        if e.text not in seen:
            seen.add(e.text)
            out.append(e)
    f.evidence = out
