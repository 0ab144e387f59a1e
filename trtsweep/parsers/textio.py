"""Reading text the way every parser wants it: streamed, decoded leniently, cleaned of terminal noise."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

# CSI sequences (colours, cursor moves) and lone OSC/escape bytes that terminals and CI logs leave behind.
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07|\x1b[@-_]")

SNIFF_BYTES = 1 << 20


def clean_line(line: str) -> str:
    """Strip ANSI escapes, a trailing CR/LF and NUL bytes from one line."""
    if "\x1b" in line:
        line = _ANSI.sub("", line)
    if "\x00" in line:
        line = line.replace("\x00", "")
    return line.rstrip("\r\n")


def iter_lines(path: str | Path) -> Iterator[str]:
    """Yield the cleaned lines of a file, in constant memory; undecodable bytes become U+FFFD."""
    with open(path, encoding="utf-8", errors="replace", newline="") as fh:
        for raw in fh:
            # newline="" keeps a lone CR inside the line; logs written by Windows tools use CRLF,
            # and progress bars use bare CR: split those into separate lines.
            if "\r" in raw.rstrip("\r\n"):
                for part in raw.split("\r"):
                    if part.strip("\n"):
                        yield clean_line(part)
                continue
            yield clean_line(raw)


# A line longer than this is cut where the chunk ends: a file with no newline at all (a binary dump, a
# corrupted log) must not be read into memory whole.
MAX_CHUNK = 4 << 20


def iter_raw_chunks(path: str | Path, chunk_size: int = 1 << 20) -> Iterator[bytes]:
    """Yield a file in blocks that end at a line boundary (without that newline), in constant memory."""
    with open(path, "rb") as fh:
        tail = b""
        while block := fh.read(chunk_size):
            data = tail + block
            cut = data.rfind(b"\n")
            if cut < 0:
                if len(data) < MAX_CHUNK:
                    tail = data
                    continue
                cut = len(data)
            yield data[:cut]
            tail = data[cut + 1:]
        if tail:
            yield tail


def decode_line(raw: bytes) -> list[str]:
    """One raw line as cleaned text lines: decoded leniently; a bare CR splits it, as in iter_lines."""
    text = raw.decode("utf-8", errors="replace").rstrip("\r")
    if "\r" in text:
        return [clean_line(part) for part in text.split("\r") if part]
    return [clean_line(text)]


def read_head(path: str | Path, size: int = SNIFF_BYTES) -> bytes:
    """The first ``size`` bytes of a file, for recognising its kind by content."""
    with open(path, "rb") as fh:
        return fh.read(size)


def decode_head(head: bytes) -> str:
    """Decode sniffed bytes leniently (a BOM is dropped)."""
    text = head.decode("utf-8", errors="replace")
    return text.lstrip("\ufeff")


def looks_binary(head: bytes) -> bool:
    """True for content that is not text: NUL bytes, or mostly undecodable bytes."""
    if not head:
        return False
    if b"\x00" in head[:8192]:
        return True
    sample = head[:8192]
    bad = sample.decode("utf-8", errors="replace").count("\ufffd")
    return bad > max(8, len(sample) // 20)
