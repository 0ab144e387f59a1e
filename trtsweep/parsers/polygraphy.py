"""Polygraphy output (``run``, ``inspect``, ``debug``, ``check``) parsed into one :class:`RunRecord`.

Formats differ across Polygraphy 0.33 - 0.49 (e.g. the tolerance moved from the ``Comparing Output``
line to its own line, the final line gained ``Runtime:``, ``RUNNING | Command:`` appeared); every
variant seen in ``tests/fixtures/corpus`` is handled.  A file that holds several invocations (one
command after another) gives one record: ``polygraphy["invocations"]`` lists each, and the record is
``failed`` when any of them failed.

The reading itself lives in :mod:`.polygraphy_parser` (line state machine) and
:mod:`.polygraphy_blocks` (values, failure classes, multi-line reports).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from trtsweep.records import RunRecord, unrecognized

from .polygraphy_blocks import kind_of, subcommand_of
from .polygraphy_parser import LineParser
from .textio import iter_lines

__all__ = ["parse_polygraphy", "parse_polygraphy_lines", "sniff", "subcommand_of"]

_TRTEXEC = ("&&&& RUNNING TensorRT.trtexec", "=== Performance summary ===", "TensorRT.trtexec [")
# JSON starts "{" or "[" + value; "[I] " and TensorRT's "[03/14/2022-08:20:47]" are log lines, not arrays.
_JSON_START = re.compile(r"^\s*(?:\{|\[\s*(?:[\[{\]\"]|-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?\s*[,\]]|$))")
# Lines only Polygraphy prints (at the start of a "[I] " style log line); any one of them claims a file.
_STRONG_ALTERNATIVES = (
    r"RUNNING \| Command: \S*polygraphy",
    r"(?:PASSED|FAILED) \| (?:Runtime: [\d.]+s \| )?Command: \S*polygraphy",
    r"Loaded Module: polygraphy\s*\|",
    r"==== (?:ONNX Model|TensorRT Engine|TensorRT Network|Run Results \(\d+ runners?\)"
    r"|Data \(\d+ iterations?\)) ====",
    r"\S+\s+\| (?:Activating and starting inference|Completed \d+ iteration\(s\) in)",
    r"Accuracy Comparison \|",
    r"Output Validation \|",
    r"RUNNING \| Iteration \d+ \|",
    r"Minimum Bad Model:",
    r"Reducing model (?:outputs|inputs)",
)
_STRONG = re.compile(r"(?m)^[ \t]*\[[A-Z!]\]\s+(?:" + "|".join(_STRONG_ALTERNATIVES) + ")")
_INSPECT_BANNER = re.compile(
    r"(?m)^[ \t]*\[I\] ==== (?:ONNX Model|TensorRT Engine|TensorRT Network|Data \(|Run Results \()"
)
_RUN_MARKER = re.compile(r"(?m)^\[[A-Z!]\]\s+(?:\S+\s+\| Activating|Accuracy Comparison|Output Validation \|"
                         r"|RUNNING \| Iteration|Reducing model|Minimum Bad Model)")
_COMMAND_IN_TEXT = re.compile(
    r"(?m)^[ \t]*\[[A-Z!]\]\s+(?:RUNNING|PASSED|FAILED) \| (?:Runtime: [\d.]+s \| )?Command: (.*)$"
)


def sniff(text: str) -> str | None:
    """``polygraphy_run`` / ``polygraphy_inspect`` when a file head is Polygraphy output, else None.

    trtexec logs and JSON are never claimed, even when they mention Polygraphy in a comment.
    """
    if not text or not text.strip() or any(marker in text for marker in _TRTEXEC):
        return None
    if _JSON_START.match(text) or _STRONG.search(text) is None:
        return None
    command = _COMMAND_IN_TEXT.search(text)
    sub = subcommand_of(command[1]) if command else None
    return kind_of(sub, bool(_INSPECT_BANNER.search(text)), bool(_RUN_MARKER.search(text)))


def parse_polygraphy(path: str | Path) -> RunRecord:
    """Parse one Polygraphy output file (streamed line by line) into its record."""
    return parse_polygraphy_lines(iter_lines(path), str(path))


def parse_polygraphy_lines(lines: Iterable[str], source: str) -> RunRecord:
    """Parse the lines of Polygraphy output into one record; never raises, whatever the text."""
    try:
        parser = LineParser()
        for line in lines:
            parser.feed(line if isinstance(line, str) else str(line))
        return parser.finish(source)
    except Exception as exc:  # noqa: BLE001 - a parser bug must give a record, not lose the file
        return unrecognized(source, f"Polygraphy parser error: {type(exc).__name__}: {exc}")
