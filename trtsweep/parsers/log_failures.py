"""Why a trtexec run failed: the failure class and the log lines that show it (reference §5).

:class:`FailureEvidence` collects, for one run, the ``[E]``/``[F]`` lines, their untagged continuations
(ONNX node dumps, ``[6] Invalid Node - /Tile``), crash messages of the shell or C++ runtime and ``[W]`` lines
that point at memory exhaustion.  It keeps a bounded number of lines per class and, on request, names the
class of the root cause, which beats the generic wrap-up lines trtexec prints afterwards.
"""

from __future__ import annotations

import re

from trtsweep.parsers.lazy_re import lazy
from trtsweep.parsers.log_sections import Line

MAX_MATCHES = 5  # lines kept per failure class
MAX_LINE_CHARS = 300  # failure_text / warning text lines are cut here
MAX_CONTINUATION = 40  # untagged lines taken as part of one [E] message

# Ordered by priority: the root cause beats the generic tail ("Engine set up failed"), a specific
# library message beats the parser's wrap-up ("Failed to parse onnx file").
CLASS_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("oom", lazy(r"out of memory|OutOfMemory|Requested amount of GPU memory|cudaErrorMemoryAllocation"
                       r"|User allocator error allocating|\bOOM\b", re.I)),
    # A plugin the run needs is not there: an engine's plugin at deserialization, a plugin library that does
    # not load, or the ONNX parser's fallback plugin importer finding no plugin for an op (but see
    # FailureEvidence.result: a *standard* ONNX op without importer is unsupported, not a missing plugin).
    ("plugin_missing", lazy(r"IPluginCreator not found|Cannot deserialize plugin"
                                  r"|Could not load plugin library|Unable to open library"
                                  r"|Plugin not found|getPluginCreator could not find plugin")),
    ("engine_mismatch", lazy(r"not compatible with this version|Version tag does not match"
                                   r"|Engine deserialization failed|magic tag does not match")),
    ("unsupported_op", lazy(r"No importer registered for op|UNSUPPORTED_NODE|Unsupported operator")),
    ("shape_error", lazy(r"satisfy any optimization profile|exceed min ~ max range|static shapes"
                               r"|Invalid tensor names found in --shapes|profileM(?:ax|in)Dims")),
    ("invalid_argument", lazy(
        r"Unknown option|^(?:Uncaught exception detected: )?sto[ifd]\b|Incompatible load and save engine"
        r"|Model missing or format not recognized|is not in \[0,100\]|Unknown memory pool"
        r"|Negative memory pool|invalid unit specifier|conversion failure|Unknown tactic source"
        r"|Invalid TensorFormat|Invalid usage|Must specify only --optShapes|Cannot find device ID"
        r"|invalid device ordinal|cudaErrorInvalidDevice\b")),
    ("parse_error", lazy(r"Failed to parse|Parsing model failed|Invalid Node|While parsing node"
                               r"|In function (?:parseNode|import)|Assertion failed")),
    ("crash", lazy(r"Segmentation fault|\bAborted\b|core dumped|terminate called|Bus error|^Killed\b"
                         r"|Floating point exception|Illegal instruction|SIGSEGV|SIGABRT|double free"
                         r"|: Assertion [`'].*' failed|^Cuda failure: |illegal memory access"
                         r"|unspecified launch failure")),
]
PRIORITY = {name: i for i, (name, _) in enumerate(CLASS_PATTERNS)}
# Before the option echo / device block, any "Invalid X"/"Unknown X" message is trtexec rejecting argv.
_EARLY_INVALID = lazy(r"^(?:Invalid |Unknown )")
# Lines that only say *that* something failed; they decide the status but are not shown as the cause.
GENERIC = lazy(
    r"Engine set up failed|Inference set up failed|Failed to create engine|Engine creation failed"
    r"|Error occurred during inference|Parsing model failed|Failed to parse onnx file"
    r"|Engine could not be created|While parsing node|Got invalid engine"
)
# Untagged lines after an [E] line continue it, except trtexec's help text (printed after argv errors).
ERROR_CONTINUATION = lazy(r"^(?!\s*--|\s*=== |Usage:)")
# Messages of the shell, the C++ runtime and CUDA's error check when trtexec dies without a FAILED line:
# signals as the shell reports them, an uncaught exception, a failed C assert()
# ("trtexec: graph.cpp:1059: ...: Assertion `0 && "Unsupported type"' failed.") and trtexec's own
# cudaCheck ("Cuda failure: invalid device ordinal", then abort()).
CRASH_RAW = lazy(
    r"^(?:Segmentation fault|Aborted|Bus error|Killed|Floating point exception|Illegal instruction)\b"
    r"|core dumped|^terminate called|: Assertion [`'].*' failed\.?$|^Cuda failure: "
)
# The "  what():  <message>" line under "terminate called after throwing ...".
CRASH_DETAIL = lazy(r"^\s*what\(\):")
# [W] lines that point at memory exhaustion; they only count as a cause when the run failed.
OOM_HINT = lazy(r"Requested amount of GPU memory|out of memory", re.I)
# trtexec prints "Cannot find device ID N!" at [I] level and exits (9.1+, reference §2.2).
DEVICE_NOT_FOUND = lazy(r"^Cannot find device ID -?\d+!?\s*$")

# The name of the op that had no importer (then looked up as a plugin, and not found).
_OP_NAME = lazy(r"No importer registered for op: ([\w.:-]+)|could not find plugin:? ([\w.:-]+)"
                      r"|While parsing node number \d+ \[([\w.:-]+)")
# Lines of the fallback plugin lookup (not a library that failed to load, not an engine's plugin).
_PLUGIN_LOOKUP = lazy(r"Plugin not found|getPluginCreator could not find plugin")

# The step of the run a line says failed: the earliest such line decides (reference §3.2, §5). "build" is
# trtexec's engine set-up, building the engine or deserializing one given with --loadEngine.
PHASE_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("parse", lazy(r"Failed to parse|Parsing model failed|While parsing node|ModelImporter\.cpp"
                         r"|In function (?:parseGraph|parseNode|import\w*|check\w*)")),
    ("build", lazy(r"Engine could not be created|Failed to create engine|Engine creation failed"
                         r"|Engine set up failed|Engine deserialization failed|buildSerializedNetwork"
                         r"|buildEngineWithConfig|Could not find any implementation|deserializeCudaEngine"
                         r"|Got invalid engine")),
    ("inference", lazy(r"Inference set up failed|Error occurred during inference"
                             r"|[Uu]nable to create execution context|createExecutionContext"
                             r"|setInputShape|setBindingDimensions|validateInputBindings|\benqueue(?:V[23])?\b"
                             r"|executeV2|satisfy any optimization profile|exceed min ~ max range")),
]


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


def phase_of(text: str) -> str | None:
    """The run step (``FAILURE_PHASES``) a failure message names, or None."""
    for name, pattern in PHASE_PATTERNS:
        if pattern.search(text):
            return name
    return None


class FailureEvidence:
    """Bounded record of the lines that may explain a run's failure."""

    def __init__(self) -> None:
        self.matches: dict[str, list[tuple[bool, str]]] = {}  # class -> [(specific?, shown line)]
        self.first_error: str | None = None
        self.fatal_lines: list[str] = []
        self.error_class_found = False
        self.crashed = False
        self.op_name: str | None = None  # the op whose importer / plugin lookup failed
        self.no_importer: str | None = None  # "[I] [TRT] No importer registered for op: X ..." (a hint)
        self.named_phase: str | None = None  # from the first error line that names a step
        self.first_stage: str | None = None  # how far the run had got when the first error came

    def note(self, line: Line, from_error: bool, early: bool = False, stage: str | None = None) -> None:
        """Record a line; ``from_error`` = an [E]/[F] line or its continuation (not a [W] hint).

        ``stage`` is how far the run had got (see ``_Run.stage`` in :mod:`trtexec_log`) when the line came.
        """
        text = line.text.strip()
        if not text:
            return
        shown = display(line)
        if from_error:
            if self.first_error is None and line.severity in ("E", "F"):
                self.first_error = shown
            if self.first_stage is None:
                self.first_stage = stage
            if self.named_phase is None:
                self.named_phase = phase_of(text)
        self._op(text)
        cls = classify(text, early and from_error)
        if cls is None:
            return
        # A [W] "Requested amount of GPU memory" line alone does not fail a run (reference §5).
        self.error_class_found = self.error_class_found or from_error
        self._add(cls, shown, not GENERIC.search(text))

    def note_crash(self, line: Line, stage: str | None = None) -> None:
        """A message of the runtime that the process died (signal, uncaught exception, assert, cudaCheck)."""
        self.crashed = True
        self.note(line, from_error=True, stage=stage)

    def note_crash_detail(self, line: Line) -> None:
        """The ``what():`` line of an uncaught exception: shown with the crash."""
        if self.crashed:
            self._add("crash", display(line), True)

    def note_hint(self, line: Line) -> None:
        """An [I] line that names an op without importer: it can only refine the class of a failure."""
        if self.no_importer is None:
            self.no_importer = display(line)
        self._op(line.text)

    def _op(self, text: str) -> None:
        if self.op_name is None and ("plugin" in text or "parsing node" in text or "importer" in text):
            m = _OP_NAME.search(text)
            if m:
                self.op_name = next(g for g in m.groups() if g).rstrip(".:")

    def _add(self, cls: str, shown: str, specific: bool) -> None:
        bucket = self.matches.setdefault(cls, [])
        if len(bucket) < MAX_MATCHES and all(shown != s for _, s in bucket):
            bucket.append((specific, shown))

    def note_fatal(self, line: Line, stage: str | None = None) -> None:
        """A trtexec-level [E] line: the run cannot continue after it."""
        if len(self.fatal_lines) < MAX_MATCHES:
            self.fatal_lines.append(display(line))
        if self.first_stage is None:
            self.first_stage = stage

    @property
    def failed(self) -> bool:
        """True when the evidence alone says the run failed (no FAILED line needed)."""
        return bool(self.fatal_lines) or self.crashed or self.error_class_found

    def phase(self, stage_at_end: str | None) -> str | None:
        """The step the run failed in: named by an error line, else how far it had got (None: not shown)."""
        return self.named_phase or self.first_stage or stage_at_end

    def result(self) -> tuple[str, str | None]:
        """The failure class and up to three lines that show it, root cause first."""
        if not self.matches:
            seen = ([self.first_error] if self.first_error else []) + self.fatal_lines[:1]
            return "other", "\n".join(dict.fromkeys(seen)) or None
        cls = min(self.matches, key=lambda c: PRIORITY[c])
        found = sorted(self.matches[cls], key=lambda m: not m[0])  # specific lines before generic ones
        lines: list[str] = []
        if cls == "plugin_missing" and self._standard_op_lookup(found):
            # The parser had no importer for a standard ONNX op and found no plugin of that name either:
            # TensorRT does not support the op (reference §5), no plugin is "missing".
            cls = "unsupported_op"
            if self.no_importer:
                lines.append(self.no_importer)
        if self.first_error and not GENERIC.search(self.first_error) and cls != "crash":
            lines.append(self.first_error)
        for _, shown in found:
            if shown not in lines:
                lines.append(shown)
        return cls, "\n".join(lines[:3])

    def _standard_op_lookup(self, found: list[tuple[bool, str]]) -> bool:
        from trtsweep.parsers.onnx_ops import ONNX_OPS

        return (self.op_name in ONNX_OPS and bool(found)
                and all(_PLUGIN_LOOKUP.search(shown) for _, shown in found))
