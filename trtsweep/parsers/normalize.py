"""Logs as people paste them, turned back into the lines trtexec printed (pure functions, streaming, no I/O).

A log copied from a terminal into an issue, a chat or a Markdown page comes back damaged in a few ways that
are patterns of the format, not of a file. This stage undoes them in front of the line parser:

* **paste prefix**: a quote (``> ``), a code-block indentation (four spaces, a tab) or both before every
  line. trtexec never starts a line that way (its lines begin with a timestamp, a ``[X]`` tag or ``&&&&``),
  so the prefix shared by the trtexec-looking lines of the head is the paste's; it is stripped from every
  line that has it, which keeps the own indentation of untagged lines (node dumps, tables). A trtexec line
  that still starts with quote marks or blanks loses them too.
* **banner**: a container banner, a shell prompt or a sentence before the first trtexec line. Those lines
  neither decide the prefix nor reach the parser (a ``Segmentation fault`` of an earlier command must not
  fail the run).
* **joined lines**: a bad paste that lost newlines (``... percentile(99%) = 2 ms Total Host Walltime: 3 s
  Total GPU Compute Time: ...``) is split again where a timestamp, a status line or one of the metric names
  trtexec prints begins; a part that lost its tag gets the tag of the line it was joined to.

Missing timestamps and lines padded with spaces need no stage: the line parser never requires a timestamp
(:func:`log_sections.split_prefix`) and strips trailing blanks; ``mean X ms`` without ``=`` is accepted by
:func:`log_sections.parse_metric_line`. A clean log passes through unchanged, line for line.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from trtsweep.parsers.lazy_re import lazy

HEAD_LINES = 400  # lines of the head that decide the prefix and the start
HEAD_CHARS = 64 << 10

# The start of a line trtexec printed (after any paste prefix): a status line, a timestamp (trtexec's, a
# CI system's ISO stamp), a severity tag, or a wrapper's "[TRT] " before one of them.
_TRTEXEC_START = lazy(
    r"(?:\[TRT\] )?(?:&&&& (?:RUNNING|PASSED|FAILED) TensorRT\.trtexec"
    r"|\[\d{1,2}/\d{1,2}/\d{2,4}-\d{1,2}:\d{2}:\d{2}(?:\.\d+)?\] "
    r"|\[[IWEFV]\] "
    r"|\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2})"
)
_PREFIX_CHARS = lazy(r"[ \t>]*")
# A line of a quote that holds only quote marks (a blank line of the quoted text), as str and raw bytes.
_QUOTE_ONLY = lazy(r"[ \t]*>[ \t>]*[\r\n]*")
_QUOTE_ONLY_RAW = lazy(rb"\n[ \t]*>[ \t>]*(?=\r?\n|$)")
# Quote marks and blanks left before a trtexec line that the head's prefix did not cover.
_LEFTOVER = lazy(r"[ \t>]+(?=(?:\[TRT\] )?(?:&&&& |\[\d{1,2}/\d{1,2}/\d{2,4}-|\[[IWEFV]\] ))")

# ---------------------------------------------------------------------------------------------- joined lines
_TIMESTAMP = r"\[\d{1,2}/\d{1,2}/\d{2,4}-\d{1,2}:\d{2}:\d{2}(?:\.\d+)?\] "
# Metric names of the performance summary, every era (8.0+ one-line metrics and totals; 7.x stat lines and
# block headers), longest first so that "Total GPU Compute Time" is never cut before "GPU Compute Time".
_METRIC_NAMES = (
    r"(?:Total GPU Compute Time|Total Host Walltime|End-to-End Host Latency|GPU Compute Time|Enqueue Time"
    r"|H2D Latency|D2H Latency|Latency|Throughput|total compute time|throughput|walltime"
    r"|min|max|mean|median|percentile): "
    r"|(?:Host Latency|Host latency|GPU Compute|Enqueue Time)"
    r"(?=[ \t]+(?:min|max|mean|median|percentile): |[ \t]*$)"
)
# Where a joined line continues: blanks after the end of a summary value (a unit as in "2 ms", "3s",
# "12 qps", a percentage's ")", the "===" of a header, a 7.x block header) before a metric name; blanks
# before a timestamp; blanks before a status line. Each expression starts with a literal or a small set,
# so the regex engine skips the rest of a line quickly (most lines hold no cut at all).
_CUT_METRIC = lazy(
    r"(?:\d ?(?:ms|us|µs|ns|sec|s|qps)\)?|\d%\)?|===|Host Latency|Host latency|Enqueue Time|GPU Compute)"
    rf"([ \t]+)(?=(?:\[[IWEFV]\] )?(?:{_METRIC_NAMES}))"
)
_TIMESTAMP_AT = lazy(_TIMESTAMP)
# The prefix trtexec (and wrappers) put before a line's text: timestamps, a severity tag, "[TRT] ".
_LEAD = lazy(rf"(?:\[TRT\] )?(?:{_TIMESTAMP})*(?:(\[[IWEFV]\]) )?(?:\[TRT\] )?")
_ONLY_PREFIX = lazy(rf"(?:{_TIMESTAMP}|\[[IWEFV]\] |\[TRT\] |[ \t])*")
_STATUS = "&&&& "
_STARTS_TAGGED = lazy(rf"(?:{_TIMESTAMP}|\[[IWEFV]\] |&&&& )")
# The names before a summary line's ": " (longest first: "End-to-End Host Latency" before "Latency").
_NAMES = ("Total GPU Compute Time", "Total Host Walltime", "End-to-End Host Latency", "GPU Compute Time",
          "Enqueue Time", "H2D Latency", "D2H Latency", "Latency", "Throughput", "total compute time",
          "throughput", "walltime", "percentile", "median", "mean", "min", "max")
_NAME_SET = frozenset(_NAMES)
_BLOCK_HEADERS = ("Host Latency", "Host latency", "Enqueue Time", "GPU Compute")
MIN_JOINED = 10  # no shorter line holds two trtexec lines ("min: 1 ms" alone is 9)


def _single(line: str) -> bool:
    """A quick proof that ``line`` is one line: no second ": " (each summary line holds one), no " [" after
    the line's own prefix, no later status line, and a metric name before its ": " only where the line's
    text begins."""
    colon = line.find(": ")
    if colon >= 0 and line.find(": ", colon + 2) >= 0:
        return False
    if line.find("&&&&", 1) >= 0:
        return False
    if " [" in line:
        lead = _LEAD.match(line)
        if line.find(" [", lead.end() if lead else 0) >= 0:
            return False
    if colon > 0:
        tags = line.rfind("] ", 0, colon)
        body = tags + 2 if tags >= 0 else 0
        if line[body:colon] not in _NAME_SET and line.endswith(_NAMES, body, colon):
            return False
    return not _glued_header(line)


def _glued_header(line: str) -> bool:
    """A 7.x block header glued after a value: "walltime: 3.00516 s GPU Compute"."""
    stripped = line.rstrip()
    if not stripped.endswith(_BLOCK_HEADERS):
        return False
    lead = _LEAD.match(stripped)
    return stripped[lead.end() if lead else 0:] not in _BLOCK_HEADERS


def split_joined(line: str) -> list[str]:
    """A line that a bad paste made of several trtexec lines, as those lines (``[line]`` if it is one).

    Cheap string tests come first: almost every line is a single line, and this runs on each kept line.
    """
    if len(line) < MIN_JOINED or _single(line):
        return [line]
    lead = _LEAD.match(line)
    body = lead.end() if lead else 0
    tag = lead.group(1) if lead else None
    cuts: list[int] = []
    # A timestamp, a bare tag (when the line has one) or a status line further on begins another line.
    at = line.find(" [", body)
    while at >= 0:
        c = line[at + 2:at + 3]
        if c.isdigit():
            if _TIMESTAMP_AT.match(line, at + 1):
                cuts.append(at + 1)
        elif tag and c in "IWEFV" and line[at + 3:at + 5] == "] ":
            cuts.append(at + 1)
        at = line.find(" [", at + 2)
    at = line.find(" " + _STATUS, body)
    if at >= 0:
        cuts.append(at + 1)
    # A metric name before a ": " that does not begin the line's text begins another summary line (the
    # regex then checks that a value ends right before it).
    at = line.find(": ", body)
    while at >= 0:
        if line.endswith(_NAMES, body, at) and line[body:at] not in _NAME_SET:
            break
        at = line.find(": ", at + 2)
    if at >= 0 or _glued_header(line):
        cuts.extend(m.end(1) for m in _CUT_METRIC.finditer(line, body))
    if not cuts:
        return [line]
    parts: list[str] = []
    start = 0
    for cut in sorted(set(cuts)):
        part = line[start:cut]
        if _ONLY_PREFIX.fullmatch(part):
            continue  # "[ts] [ts] [I] ..." (a repeated timestamp) is one line: keep cutting further on
        parts.append(part.rstrip())
        start = cut
    parts.append(line[start:])
    out = [parts[0]]
    for part in parts[1:]:
        # A metric that lost its tag in the paste belongs to the tagged line it was glued to.
        out.append(tag + " " + part if tag and not _STARTS_TAGGED.match(part) else part)
    return out


# ---------------------------------------------------------------------------------------------- prefixes
def start_line(lines: list[str]) -> int:
    """Index of the first line that trtexec printed (0 when none of ``lines`` looks like one)."""
    for i, line in enumerate(lines):
        rest = line[_PREFIX_CHARS.match(line).end():]  # type: ignore[union-attr]
        if _TRTEXEC_START.match(rest):
            return i
    return 0


def _head_lines(head: str) -> list[str]:
    lines = head.splitlines()[:HEAD_LINES]
    if len(lines) > 1 and not head.endswith(("\n", "\r")):
        lines = lines[:-1]  # the last line of a head cut mid-way proves nothing
    return lines


def paste_prefix(head: str) -> str:
    """The prefix every trtexec line of ``head`` starts with (``""`` when there is none).

    Only lines that look like trtexec output after quote marks and blanks count, from the first of them on
    (a banner or a sentence before the log neither shares nor breaks the prefix). Of a quote, the marks and
    the one blank after the last of them are taken, plus any indentation every counted line shares.
    """
    common: str | None = None
    lines = _head_lines(head)
    for line in lines[start_line(lines):]:
        lead = _PREFIX_CHARS.match(line).group(0)  # type: ignore[union-attr]
        if not _TRTEXEC_START.match(line, len(lead)):
            continue
        if common is None:
            common = lead
        else:
            n = 0
            while n < len(common) and n < len(lead) and common[n] == lead[n]:
                n += 1
            common = common[:n]
        if not common:
            return ""
    return common or ""


def strip_prefix(line: str, prefix: str) -> str:
    """``line`` without ``prefix`` (a quote-only line such as ``>`` becomes empty); others unchanged."""
    if not prefix:
        return line
    if line.startswith(prefix):
        return line[len(prefix):]
    if ">" in prefix and _QUOTE_ONLY.fullmatch(line):
        return line[len(line.rstrip("\r\n")):]  # a blank line of the quote ("> >", ">>", ">")
    return line


def unpaste(text: str) -> str:
    """``text`` with the paste prefix of its head removed from every line (for sniffing a head)."""
    prefix = paste_prefix(text)
    if not prefix:
        return text
    return "".join(strip_prefix(line, prefix) for line in text.splitlines(keepends=True))


def strip_prefix_raw(data: bytes, prefix: bytes) -> bytes:
    """Raw-chunk form of :func:`strip_prefix` for data whose lines each follow a ``\\n`` (C-speed replace)."""
    if not prefix:
        return data
    data = data.replace(b"\n" + prefix, b"\n")
    if b">" in prefix:
        data = _QUOTE_ONLY_RAW.sub(b"\n", data)
    return data


# ---------------------------------------------------------------------------------------------- the stage
class Normalizer:
    """The per-line part of the stage, once the head has fixed the prefix: see the module docstring."""

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix

    def lines(self, line: str) -> list[str]:
        """The trtexec lines one input line stands for (after the raw prefix was stripped, if any)."""
        if line[:1] in (" ", "\t", ">"):
            m = _LEFTOVER.match(line)
            if m:
                line = line[m.end():]
        return split_joined(line)


def normalize_lines(lines: Iterable[str]) -> Iterator[str]:
    """The whole stage over an iterable of lines (streaming: only the head is buffered)."""
    head: list[str] = []
    size = 0
    it = iter(lines)
    for line in it:
        if not isinstance(line, str):
            continue
        head.append(line)
        size += len(line)
        if len(head) >= HEAD_LINES or size >= HEAD_CHARS:
            break
    prefix = paste_prefix("\n".join(head) + "\n")
    stage = Normalizer(prefix)
    start = start_line([strip_prefix(x, prefix) for x in head])
    for line in head[start:]:
        yield from stage.lines(strip_prefix(line, prefix))
    for line in it:
        if isinstance(line, str):
            yield from stage.lines(strip_prefix(line, prefix))
