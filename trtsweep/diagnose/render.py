"""Rendering findings: text for a terminal, Markdown, and JSON described by ``findings.schema.json``.

Text and Markdown open with a short ranked overview (one line per finding), then the details; they show
the strongest evidence of each finding, JSON keeps every item for scripts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from trtsweep.diagnose.context import Finding

FINDINGS_SCHEMA_VERSION = 2


def to_document(findings: list[Finding]) -> dict[str, Any]:
    """The JSON document of ``--format json``."""
    return {"schema_version": FINDINGS_SCHEMA_VERSION, "findings": [f.to_dict() for f in findings]}


def render_json(findings: list[Finding]) -> str:
    """``--format json``: stable keys, described by ``findings.schema.json``."""
    return json.dumps(to_document(findings), indent=2, allow_nan=False) + "\n"


# Text and Markdown show the strongest evidence; JSON keeps every item for scripts.
EVIDENCE_SHOWN = 6


BASIS = ("explains = time per batch the fix would save on the best variant (most samples/s) of a batch "
         "the expectation concerns; severity follows that share")


def _tag(f: Finding) -> str:
    return "NEEDS DATA" if f.status == "needs_data" else f.severity.upper()


def _size(f: Finding) -> str:
    """``36 ms of 100 ms at batch 8`` for a sized finding, else ''."""
    at = f.explained_at or {}
    if f.explained_ms is None or not at:
        return ""
    return (f"{f.explained_ms:.3g} ms of {at.get('time_per_batch_ms') or 0:.3g} ms per batch at batch "
            f"{at.get('batch')} ({(at.get('share') or 0) * 100:.0f} %)")


def overview(findings: list[Finding]) -> list[str]:
    """One line per finding, in rank order: what the terminal shows first."""
    lines = []
    for i, f in enumerate(findings, 1):
        size = _size(f)
        lines.append(f"{i:>2}. [{_tag(f)}] {f.code}: {f.title}" + (f" -- explains {size}" if size else ""))
    return lines


def render_text(findings: list[Finding]) -> str:
    """Plain text for a terminal: a ranked overview, then one block per finding, best first."""
    if not findings:
        return "No findings: nothing in the measured variants points at a loss.\n"
    lines: list[str] = ["Findings, most important first:", *overview(findings), f"   ({BASIS})", ""]
    for i, f in enumerate(findings, 1):
        lines.append(f"{i}. [{_tag(f)}] {f.code}: {f.title}")
        lines.append(f"   {_numbers(f)}confidence {f.confidence:.0%}")
        for e in f.evidence[:EVIDENCE_SHOWN]:
            lines.append(f"   - {e.text}")
        if len(f.evidence) > EVIDENCE_SHOWN:
            lines.append(f"   - ... {len(f.evidence) - EVIDENCE_SHOWN} more (all in --format json)")
        lines.append(f"   Why: {f.explanation}")
        lines.append(f"   Next: {f.next_step}")
        if f.yaml_snippet:
            lines.extend("     " + s for s in f.yaml_snippet.splitlines())
        lines.append("")
    return "\n".join(lines)


def render_markdown(findings: list[Finding]) -> str:
    """Markdown (for ``--format md`` and the report page)."""
    if not findings:
        return "_No findings: nothing in the measured variants points at a loss._\n"
    out = ["| # | code | severity | explains | measured gain | finding |", "|---|---|---|---|---|---|"]
    for i, f in enumerate(findings, 1):
        sev = "needs data" if f.status == "needs_data" else f.severity
        ms = _size(f)
        gain = f"{f.measured_gain:.2f}x" if f.measured_gain is not None else ""
        out.append(f"| {i} | `{f.code}` | {sev} | {ms} | {gain} | {_md_cell(f.title)} |")
    out += ["", f"_{BASIS}._", ""]
    for i, f in enumerate(findings, 1):
        out.append(f"### {i}. {f.title} (`{f.code}`)")
        out.append("")
        out.append(f"{_numbers(f)}confidence {f.confidence:.0%}.")
        out.append("")
        out.extend(f"- {e.text}" for e in f.evidence[:EVIDENCE_SHOWN])
        if len(f.evidence) > EVIDENCE_SHOWN:
            out.append(f"- ... {len(f.evidence) - EVIDENCE_SHOWN} more (all in `--format json`)")
        if f.evidence:
            out.append("")
        out.append(f"**Why.** {f.explanation}")
        out.append("")
        out.append(f"**Next.** {f.next_step}")
        if f.yaml_snippet:
            out.extend(["", "```yaml", f.yaml_snippet, "```"])
        out.append("")
    return "\n".join(out)


def render(findings: list[Finding], fmt: str = "text") -> str:
    """Dispatch on ``--format``: ``text``, ``md`` (or ``markdown``) or ``json``."""
    if fmt == "json":
        return render_json(findings)
    if fmt in ("md", "markdown"):
        return render_markdown(findings)
    if fmt == "text":
        return render_text(findings)
    raise ValueError(f"unknown format '{fmt}'; expected text, md or json")


def schema_path() -> Path:
    """Path of the JSON Schema of :func:`render_json`'s output."""
    return Path(__file__).with_name("findings.schema.json")


def _numbers(f: Finding) -> str:
    parts = []
    size = _size(f)
    if size:
        parts.append(f"explains {size}")
    elif f.explained_ms is not None:
        parts.append(f"explains {f.explained_ms:.4g} ms")
    if f.measured_gain is not None:
        parts.append(f"measured gain {f.measured_gain:.2f}x")
    return "".join(p + ", " for p in parts)


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|")
