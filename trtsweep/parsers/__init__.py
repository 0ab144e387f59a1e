"""Parsers: trtexec console logs, JSON exports and Polygraphy output become :class:`RunRecord` s.

:func:`parse_file` recognises a file by its content (never by name or extension) and hands it to
the parser for its kind. It never raises for a file's content: what it cannot read becomes an
``unrecognized`` record that says why. Only a missing path or a directory raises ``OSError``.
"""

from __future__ import annotations

from pathlib import Path

from trtsweep.records import RunRecord, unrecognized

from . import trtexec_log
from .normalize import unpaste
from .sniff import export_kind, polygraphy_kind
from .textio import decode_head, looks_binary, read_head

# The export and Polygraphy parsers (numpy, dozens of regular expressions) are imported only for a file
# of their kind: parsing a console log never pays for them.


def detect_kind(path: str | Path) -> str:
    """The record kind a file holds, judged from its content: one of ``records.KINDS``."""
    head = read_head(path)
    return _detect(head)


def _detect(head: bytes) -> str:
    if not head.strip():
        return "unrecognized"
    if looks_binary(head):
        return "unrecognized"
    text = decode_head(head)
    kind = export_kind(text)
    if kind is not None:
        return kind
    plain = unpaste(text)  # a pasted log's quote marks / indentation (see normalize)
    if trtexec_log.looks_like(plain, unpasted=True):
        return "trtexec_log"
    return polygraphy_kind(plain) or "unrecognized"


def parse_file(path: str | Path) -> list[RunRecord]:
    """Parse one file into its records (one per trtexec run; one for an export or Polygraphy file)."""
    p = Path(path)
    if p.is_dir():
        raise IsADirectoryError(f"{p}: is a directory, expected a file")
    if not p.exists():
        raise FileNotFoundError(f"{p}: no such file")
    source = str(path)
    head = read_head(p)
    if not head.strip():
        return [unrecognized(source, "empty file")]
    if looks_binary(head):
        return [unrecognized(source, "binary content, not a text log or JSON export")]
    kind = _detect(head)
    try:
        if kind == "trtexec_log":
            records = trtexec_log.parse_log(p)
        elif kind in ("export_times", "export_profile", "export_layer_info"):
            from . import exports

            records = exports.parse_export(p, kind)
        elif kind in ("polygraphy_run", "polygraphy_inspect"):
            from . import polygraphy

            records = [polygraphy.parse_polygraphy(p)]
        else:
            return [unrecognized(source, "not trtexec, trtexec export or Polygraphy output")]
    except Exception as exc:  # noqa: BLE001 - a parser bug must not cost the user the other files
        return [unrecognized(source, f"could not parse as {kind}: {type(exc).__name__}: {exc}")]
    for rec in records:
        rec.source = source
    return records or [unrecognized(source, f"recognised as {kind} but holds no run")]
