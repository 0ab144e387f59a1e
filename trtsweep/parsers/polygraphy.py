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

import itertools
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from trtsweep.records import RunRecord, unrecognized

from .normalize import paste_prefix, strip_prefix, unpaste
from .polygraphy_parser import LineParser
from .sniff import polygraphy_kind, subcommand_of
from .textio import decode_head, iter_lines, read_head

HEAD_BYTES = 64 << 10  # how much of a file decides its paste prefix
HEAD_LINES = 400  # how far the first Polygraphy line is looked for
# Polygraphy's first line: a "[I] "-style log line, TensorRT's "[date] [TRT] [I] " line, or a runner's
# indented I/O block (output cut mid-run).
_FIRST_LINE = re.compile(r"^[ \t]*(?:\[[A-Z!]\] |\[\d{1,2}/\d{1,2}/\d{2,4}-[\d:]+\] \[TRT\] "
                         r"|---- Inference (?:Input|Output)\(s\) ----)")

__all__ = ["parse_polygraphy", "parse_polygraphy_lines", "sniff", "subcommand_of"]


def sniff(text: str) -> str | None:
    """``polygraphy_run`` / ``polygraphy_inspect`` for Polygraphy output (see :mod:`.sniff`)."""
    return polygraphy_kind(unpaste(text))


def parse_polygraphy(path: str | Path) -> RunRecord:
    """Parse one Polygraphy output file (streamed line by line) into its record.

    A paste prefix (``> `` quote marks before every line, see :mod:`.normalize`) is stripped first, and
    lines before Polygraphy's first line (a banner, a shell prompt) are left out.
    """
    prefix = paste_prefix(decode_head(read_head(path, HEAD_BYTES)))
    lines: Iterator[str] = iter_lines(path)
    if prefix:
        lines = (strip_prefix(line, prefix) for line in lines)
    head = list(itertools.islice(lines, HEAD_LINES))
    start = next((i for i, line in enumerate(head) if _FIRST_LINE.match(line)), 0)
    return parse_polygraphy_lines(itertools.chain(head[start:], lines), str(path))


def parse_polygraphy_lines(lines: Iterable[str], source: str) -> RunRecord:
    """Parse the lines of Polygraphy output into one record; never raises, whatever the text."""
    try:
        parser = LineParser()
        for line in lines:
            parser.feed(line if isinstance(line, str) else str(line))
        return parser.finish(source)
    except Exception as exc:  # noqa: BLE001 - a parser bug must give a record, not lose the file
        return unrecognized(source, f"Polygraphy parser error: {type(exc).__name__}: {exc}")
