"""What a file head holds, judged from its content: the light part of every parser (pure, no I/O).

The dispatcher (:func:`trtsweep.parsers.parse_file`) sniffs every file with these functions and imports a
parser only for the kind it found: a console log never imports numpy (JSON exports) or the Polygraphy
parser. :mod:`exports` and :mod:`polygraphy` re-export their sniffers from here.
"""

from __future__ import annotations

from trtsweep.parsers.lazy_re import lazy

# ---------------------------------------------------------------------------------------------- exports
_TIMES_KEYS = ("computeMs", "latencyMs", "startComputeMs", "endComputeMs")
_KEY = lazy(r'"([^"\\]{1,64})"\s*:')
_COUNT_ROW = lazy(r"^\{\s*\"count\"\s*:\s*(\d+)\s*\}$")
_LAYER_INFO_HEAD = lazy(r'\{\s*"([^"]*)"\s*:\s*[\[{]')


def export_kind(text: str) -> str | None:
    """The export kind of a file head (``export_times``/``export_profile``/``export_layer_info``), or None.

    Judged from content only and safe on a truncated head: the first object of a top-level array (or
    the first key of a top-level object) decides.
    """
    try:
        return _export_kind(text)
    except Exception:  # noqa: BLE001 - sniffing must never fail the dispatcher
        return None


def _export_kind(text: str) -> str | None:
    head = text.lstrip("\ufeff \t\r\n")
    if head.startswith("["):
        body = head[1:].lstrip()
        if not body.startswith("{"):
            return None
        end = body.find("}")
        first = body[: end + 1] if end >= 0 else body[:4096]
        if _COUNT_ROW.match(first.strip()):
            return "export_profile"
        keys = set(_KEY.findall(first))
        if keys & set(_TIMES_KEYS):
            return "export_times"
        return None
    if head.startswith("{"):
        m = _LAYER_INFO_HEAD.match(head)
        if m and m.group(1) in ("Layers", "Bindings", "I/O Tensors"):
            return "export_layer_info"
    return None


# ---------------------------------------------------------------------------------------------- Polygraphy
_TRTEXEC = ("&&&& RUNNING TensorRT.trtexec", "=== Performance summary ===", "TensorRT.trtexec [")
# JSON starts "{" or "[" + value; "[I] " and TensorRT's "[03/14/2022-08:20:47]" are log lines, not arrays.
_JSON_START = lazy(r"^\s*(?:\{|\[\s*(?:[\[{\]\"]|-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?\s*[,\]]|$))")
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
    # Output that starts mid-run: the engine build of a runner, a runner's name line.
    r"Finished engine building in [\d.]+ seconds",
    r"\S+-runner-N\d+-\S+\s*(?:\||$)",
)
_STRONG = lazy(r"(?m)^[ \t]*\[[A-Z!]\]\s+(?:" + "|".join(_STRONG_ALTERNATIVES) + ")")
# A runner's I/O block, untagged and indented, as a fragment may start with it.
_IO_BLOCK = lazy(r"(?m)^[ \t]*---- Inference (?:Input|Output)\(s\) ----[ \t]*$")
_INSPECT_BANNER = lazy(
    r"(?m)^[ \t]*\[I\] ==== (?:ONNX Model|TensorRT Engine|TensorRT Network|Data \(|Run Results \()"
)
_RUN_MARKER = lazy(r"(?m)^[ \t]*\[[A-Z!]\]\s+(?:\S+\s+\| Activating|Accuracy Comparison"
                         r"|Output Validation \||RUNNING \| Iteration|Reducing model|Minimum Bad Model"
                         r"|Finished engine building in)")
_COMMAND_IN_TEXT = lazy(
    r"(?m)^[ \t]*\[[A-Z!]\]\s+(?:RUNNING|PASSED|FAILED) \| (?:Runtime: [\d.]+s \| )?Command: (.*)$"
)
# Subcommands whose first argument is itself a subcommand ("inspect model", "debug reduce", "check lint").
_GROUPS = {"inspect", "debug", "check", "surgeon", "data", "plugin", "template"}
_SUBCOMMAND_WORD = lazy(r"[a-z][a-z-]*")


def polygraphy_kind(text: str) -> str | None:
    """``polygraphy_run`` / ``polygraphy_inspect`` when a file head is Polygraphy output, else None.

    trtexec logs and JSON are never claimed, even when they mention Polygraphy in a comment. Output that
    starts mid-run (at a runner's engine build, its name line or its indented I/O block) still is.
    """
    if not text or not text.strip() or any(marker in text for marker in _TRTEXEC):
        return None
    if _JSON_START.match(text):
        return None
    if _STRONG.search(text) is None:
        if _IO_BLOCK.search(text) is None:
            return None
        return "polygraphy_run"
    command = _COMMAND_IN_TEXT.search(text)
    sub = subcommand_of(command[1]) if command else None
    return kind_of(sub, bool(_INSPECT_BANNER.search(text)), bool(_RUN_MARKER.search(text)))


def subcommand_of(command: str) -> str | None:
    """``/usr/bin/polygraphy inspect model m.onnx --show layers`` -> ``inspect model``.

    None when the command does not run polygraphy.
    """
    tokens = command.split()
    for i, token in enumerate(tokens):
        if token.rsplit("/", 1)[-1] == "polygraphy" and i + 1 < len(tokens):
            sub = tokens[i + 1]
            nxt = tokens[i + 2] if i + 2 < len(tokens) else ""
            if sub in _GROUPS and _SUBCOMMAND_WORD.fullmatch(nxt):
                return f"{sub} {nxt}"
            return sub
    return None


def kind_of(subcommand: str | None, inspect_banner: bool, run_marker: bool) -> str:
    """The record kind: from the subcommand when known, else inspection banners without run activity."""
    if subcommand is not None:
        return "polygraphy_inspect" if subcommand.startswith("inspect") else "polygraphy_run"
    return "polygraphy_inspect" if inspect_banner and not run_marker else "polygraphy_run"
