"""Logs as people paste them: the prefix a paste put before every line (pure functions, no I/O).

Logs copied from an issue, a chat or a Markdown page carry a constant prefix on every line: a quote
(``> ``), a code-block indentation (four spaces, a tab), or both. trtexec itself never starts a line that
way (its lines begin with a timestamp, a ``[X]`` tag, ``&&&&`` or a layer row), so a prefix shared by every
non-blank line of the head is the paste's, and stripping it restores the original lines. A clean log has
no such prefix and is left byte for byte as it is.
"""

from __future__ import annotations

import re

# Characters a paste puts before a line: quote marks, spaces, tabs.
_PREFIX_CHARS = re.compile(r"[ \t>]*")
HEAD_LINES = 400


def paste_prefix(head: str) -> str:
    """The prefix every non-blank line of ``head`` starts with (``""`` when there is none).

    Lines that hold only quote marks and spaces (a blank line inside a Markdown quote) do not count; the
    last line of the head may be cut mid-way and is ignored. A prefix without a quote mark must be
    indentation of at least two columns, so a single leading space on a line proves nothing.
    """
    lines = head.splitlines()[:HEAD_LINES]
    if len(lines) > 1:
        lines = lines[:-1] if not head.endswith(("\n", "\r")) else lines
    common: str | None = None
    for line in lines:
        if not line.strip(" \t>"):
            continue
        lead = _PREFIX_CHARS.match(line).group(0)  # type: ignore[union-attr]
        if common is None:
            common = lead
        else:
            n = 0
            while n < len(common) and n < len(lead) and common[n] == lead[n]:
                n += 1
            common = common[:n]
        if not common:
            return ""
    if not common:
        return ""
    if ">" in common:
        # Keep the quote marks and the one space after the last of them; deeper indentation is the
        # pasted text's own (an indented code block inside a quote is stripped on the next pass).
        last = common.rindex(">")
        quote = common[: last + 1] + (" " if common[last + 1: last + 2] == " " else "")
        rest = common[len(quote):]
        return quote + rest if len(rest.expandtabs(4)) >= 2 else quote
    return common if len(common.expandtabs(4)) >= 2 else ""


def strip_prefix(text: str, prefix: str) -> str:
    """``text`` without ``prefix`` at the start of each line that has it (quote-only lines emptied)."""
    if not prefix:
        return text
    out = []
    bare = prefix.rstrip(" \t")
    for line in text.splitlines(keepends=True):
        if line.startswith(prefix):
            out.append(line[len(prefix):])
        elif bare and line.rstrip("\r\n").rstrip(" \t") == bare:
            out.append(line[len(line.rstrip("\r\n")):])
        else:
            out.append(line)
    return "".join(out)


def unpaste(text: str) -> str:
    """``text`` with the paste prefixes of its head removed (nested ones too: a quoted code block)."""
    for _ in range(3):
        prefix = paste_prefix(text)
        if not prefix:
            break
        text = strip_prefix(text, prefix)
    return text


def unpaste_prefixes(head: str) -> list[bytes]:
    """The successive prefixes :func:`unpaste` would strip from ``head``, as UTF-8 bytes (for raw chunks)."""
    found = []
    for _ in range(3):
        prefix = paste_prefix(head)
        if not prefix:
            break
        found.append(prefix.encode("utf-8"))
        head = strip_prefix(head, prefix)
    return found


def strip_prefixes_raw(data: bytes, prefixes: list[bytes]) -> bytes:
    """Raw-chunk form of :func:`strip_prefix` for data whose lines each follow a ``\\n`` (C-speed replace)."""
    for prefix in prefixes:
        data = data.replace(b"\n" + prefix, b"\n")
        bare = prefix.rstrip(b" \t")
        if bare and bare != prefix:
            data = data.replace(b"\n" + bare + b"\n", b"\n\n")
    return data
