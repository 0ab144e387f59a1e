"""Why a trtexec run failed: the failure class and the log lines that show it (reference §5).

:class:`FailureEvidence` collects, for one run, the ``[E]``/``[F]`` lines, their untagged continuations
(ONNX node dumps, ``[6] Invalid Node - /Tile``), crash messages of the shell or C++ runtime and ``[W]`` lines
that point at memory exhaustion.  It keeps a bounded number of lines per class and, on request, names the
class of the root cause, which beats the generic wrap-up lines trtexec prints afterwards.
"""

from __future__ import annotations

import re

from trtsweep.parsers.log_sections import Line

MAX_MATCHES = 5  # lines kept per failure class
MAX_LINE_CHARS = 300  # failure_text / warning text lines are cut here
MAX_CONTINUATION = 40  # untagged lines taken as part of one [E] message

# Ordered by priority: the root cause beats the generic tail ("Engine set up failed"), a specific
# library message beats the parser's wrap-up ("Failed to parse onnx file").
CLASS_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("oom", re.compile(r"out of memory|OutOfMemory|Requested amount of GPU memory|cudaErrorMemoryAllocation"
                       r"|User allocator error allocating|\bOOM\b", re.I)),
    ("plugin_missing", re.compile(r"IPluginCreator not found|Cannot deserialize plugin"
                                  r"|Could not load plugin library|Unable to open library")),
    ("engine_mismatch", re.compile(r"not compatible with this version|Version tag does not match"
                                   r"|Engine deserialization failed|magic tag does not match")),
    ("unsupported_op", re.compile(r"No importer registered for op|Plugin not found|UNSUPPORTED_NODE"
                                  r"|getPluginCreator could not find plugin|Unsupported operator")),
    ("shape_error", re.compile(r"satisfy any optimization profile|exceed min ~ max range|static shapes"
                               r"|Invalid tensor names found in --shapes|profileM(?:ax|in)Dims")),
    ("invalid_argument", re.compile(
        r"Unknown option|^(?:Uncaught exception detected: )?sto[ifd]\b|Incompatible load and save engine"
        r"|Model missing or format not recognized|is not in \[0,100\]|Unknown memory pool"
        r"|Negative memory pool|invalid unit specifier|conversion failure|Unknown tactic source"
        r"|Invalid TensorFormat|Invalid usage|Must specify only --optShapes|Cannot find device ID"
        r"|invalid device ordinal")),
    ("parse_error", re.compile(r"Failed to parse|Parsing model failed|Invalid Node|While parsing node"
                               r"|In function (?:parseNode|import)|Assertion failed")),
    ("crash", re.compile(r"Segmentation fault|\bAborted\b|core dumped|terminate called|Bus error|^Killed\b"
                         r"|Floating point exception|Illegal instruction|SIGSEGV|SIGABRT|double free")),
]
PRIORITY = {name: i for i, (name, _) in enumerate(CLASS_PATTERNS)}
# Before the option echo / device block, any "Invalid X"/"Unknown X" message is trtexec rejecting argv.
_EARLY_INVALID = re.compile(r"^(?:Invalid |Unknown )")
# Lines that only say *that* something failed; they decide the status but are not shown as the cause.
GENERIC = re.compile(
    r"Engine set up failed|Inference set up failed|Failed to create engine|Engine creation failed"
    r"|Error occurred during inference|Parsing model failed|Failed to parse onnx file"
    r"|Engine could not be created|While parsing node|Got invalid engine"
)
# Untagged lines after an [E] line continue it, except trtexec's help text (printed after argv errors).
ERROR_CONTINUATION = re.compile(r"^(?!\s*--|\s*=== |Usage:)")
# Messages of the shell / C++ runtime when trtexec dies without a FAILED line.
CRASH_RAW = re.compile(
    r"^(?:Segmentation fault|Aborted|Bus error|Killed|Floating point exception|Illegal instruction)\b"
    r"|core dumped|^terminate called"
)
# [W] lines that point at memory exhaustion; they only count as a cause when the run failed.
OOM_HINT = re.compile(r"Requested amount of GPU memory|out of memory", re.I)


def short(text: str) -> str:
    """A line cut to MAX_LINE_CHARS."""
    text = text.strip()
    return text if len(text) <= MAX_LINE_CHARS else text[:MAX_LINE_CHARS] + "…"


def display(line: Line) -> str:
    """A log line for failure_text: timestamp dropped, severity and [TRT] kept."""
    tags = (f"[{line.severity}] " if line.severity else "") + ("[TRT] " if line.trt else "")
    return short(tags + line.text.strip())


def classify(text: str, early: bool = False) -> str | None:
    """The failure class a message names, or None; ``early`` = printed before trtexec accepted argv."""
    for name, pattern in CLASS_PATTERNS:
        if pattern.search(text):
            return name
    if early and _EARLY_INVALID.match(text):
        return "invalid_argument"
    return None


class FailureEvidence:
    """Bounded record of the lines that may explain a run's failure."""

    def __init__(self) -> None:
        self.matches: dict[str, list[tuple[bool, str]]] = {}  # class -> [(specific?, shown line)]
        self.first_error: str | None = None
        self.fatal_lines: list[str] = []
        self.error_class_found = False
        self.crashed = False

    def note(self, line: Line, from_error: bool, early: bool = False) -> None:
        """Record a line; ``from_error`` = an [E]/[F] line or its continuation (not a [W] hint)."""
        text = line.text.strip()
        if not text:
            return
        shown = display(line)
        if from_error and self.first_error is None and line.severity in ("E", "F"):
            self.first_error = shown
        cls = classify(text, early and from_error)
        if cls is None:
            return
        # A [W] "Requested amount of GPU memory" line alone does not fail a run (reference §5).
        self.error_class_found = self.error_class_found or from_error
        bucket = self.matches.setdefault(cls, [])
        if len(bucket) < MAX_MATCHES and all(shown != s for _, s in bucket):
            bucket.append((not GENERIC.search(text), shown))

    def note_fatal(self, line: Line) -> None:
        """A trtexec-level [E] line: the run cannot continue after it."""
        if len(self.fatal_lines) < MAX_MATCHES:
            self.fatal_lines.append(display(line))

    @property
    def failed(self) -> bool:
        """True when the evidence alone says the run failed (no FAILED line needed)."""
        return bool(self.fatal_lines) or self.crashed or self.error_class_found

    def result(self) -> tuple[str, str | None]:
        """The failure class and up to three lines that show it, root cause first."""
        if not self.matches:
            shown = ([self.first_error] if self.first_error else []) + self.fatal_lines[:1]
            return "other", "\n".join(dict.fromkeys(shown)) or None
        cls = min(self.matches, key=lambda c: PRIORITY[c])
        found = sorted(self.matches[cls], key=lambda m: not m[0])  # specific lines before generic ones
        lines: list[str] = []
        if self.first_error and not GENERIC.search(self.first_error) and cls != "crash":
            lines.append(self.first_error)
        for _, shown in found:
            if shown not in lines:
                lines.append(shown)
        return cls, "\n".join(lines[:3])
