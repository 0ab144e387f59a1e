"""trtexec console log parser: one :class:`RunRecord` per trtexec run, any TensorRT release 7.x – 11.x.

The log is streamed line by line (:func:`textio.iter_raw_chunks`) through a small state machine; only bounded
state is kept (option echo, summary values, a capped list of error lines, layers).  Runs are split at each
``&&&& RUNNING TensorRT.trtexec`` line and, for pasted fragments without status lines, at a second
performance summary.  Nothing here raises on any input: a line that trips a parser bug is skipped (see
:meth:`_Run.feed`), so one odd line never costs the user the rest of the log.

Formats and their release ranges are documented in ``shared/reference/trtexec.md`` §2, §3 and §5.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from trtsweep.parsers import log_options as lo
from trtsweep.parsers import log_sections as ls
from trtsweep.parsers.lazy_re import lazy
from trtsweep.parsers.log_failures import (
    CRASH_DETAIL,
    CRASH_RAW,
    DEVICE_NOT_FOUND,
    ERROR_CONTINUATION,
    MAX_CONTINUATION,
    OOM_HINT,
    FailureEvidence,
    short,
)
from trtsweep.parsers.log_layers import (
    PROFILE_HEADER_RE,
    LayerCollector,
    parse_info_layer,
    parse_profile_row,
    parse_verbose_layer,
    profile_layout,
)
from trtsweep.parsers.normalize import (
    HEAD_LINES,
    Normalizer,
    normalize_lines,
    paste_prefix,
    start_line,
    strip_prefix,
    strip_prefix_raw,
    unpaste,
)
from trtsweep.parsers.textio import decode_head, decode_line, iter_raw_chunks
from trtsweep.records import BuildInfo, Device, NoteRecord, RunRecord, Stats, WarningRecord
from trtsweep.versions import decode_version_int

KIND = "trtexec_log"
MAX_OTHER_WARNINGS = 50
MAX_NOTES = 20
MAX_RAW_OPTIONS = 500  # per echo section; real echoes have < 80 lines
HEAD_BYTES = 64 << 10  # how much of a log decides its paste prefix and where trtexec's output starts
MAX_LINE_LENGTH = 200_000  # longer lines (huge --dumpOutput tensors) are only looked at up to here

# ---------------------------------------------------------------------------------------------- sniffing
_STRONG = lazy(r"^&&&& (?:RUNNING|PASSED|FAILED) TensorRT\.trtexec", re.M)
_POLYGRAPHY = lazy(
    r"RUNNING \| Command:|Loaded Module: polygraphy|==== TensorRT Engine ===="
    r"|^\s*(?:\[[^\]]*\] )?\[TRT\] \[[IWEV]\]|\b(?:onnxrt|trt)-runner-N\d",
    re.M,
)
_WEAK = lazy(
    r"=== Performance summary ==="
    r"|^(?:\[[^\]]*\] )?\[I\] === (?:Model|Build|System|Inference|Reporting) Options ==="
    r"|=== Device Information ===|=== Trace details ===|=== Profile \(\d+ iterations ?\) ==="
    r"|Average on \d+ runs - GPU latency"
    r"|^\[\d{1,2}/\d{1,2}/\d{4}-\d{1,2}:\d{2}:\d{2}\] \[[IWEFV]\] "
    r"|^\[[IWEFV]\] \[TRT\] "  # trtexec's severity-first TensorRT lines (Polygraphy's are "[TRT] [I]")
    # A summary pasted without its timestamps (and maybe without its header line).
    r"|^\[I\] (?:Throughput: [\d.]+ qps|(?:Latency|GPU Compute Time|Enqueue Time): min\b"
    r"|(?:min|mean|median): [\d.]+ ms \(end to end|Total Host Walltime: |throughput: [\d.]+ qps)",
    re.M,
)


def looks_like(text: str, unpasted: bool = False) -> bool:
    """True when the head of a file is trtexec console output (whole logs, fragments, 7.x logs).

    trtexec's own status line decides at once; otherwise Polygraphy output (which can embed TensorRT's
    ``[TRT] [I]`` lines, note the reversed tag order) is refused before the weaker trtexec markers count.
    A paste prefix is removed first, unless the caller already did (``unpasted``).
    """
    if not text:
        return False
    if not unpasted:
        text = unpaste(text)
    if _STRONG.search(text):
        return True
    if _POLYGRAPHY.search(text):
        return False
    return bool(_WEAK.search(text))


# ---------------------------------------------------------------------------------------------- one run
class _Run:
    """State of one trtexec run while its lines stream past."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.strong = False  # holds something trtexec-specific (status, echo, summary, ...)
        self.weak = False  # holds at least one trtexec-style tagged line
        self.saw_running = False
        self.final: str | None = None
        self.version: str | None = None
        self.command: str | None = None
        self.device = Device()
        self.build = BuildInfo()
        self.loaded_engine_mib: float | None = None
        self.options: dict[str, Any] = {}
        self.raw: dict[str, dict[str, str]] = {}
        self.section: str | None = None
        self.echo_seen = False
        self.stats: dict[str, dict[str, float]] = {}
        self.trt7_block: str | None = None
        self.summary_seen = False
        self.throughput: float | None = None
        self.walltime: float | None = None
        self.total_compute: float | None = None
        self.cv: float | None = None
        self.warnings: list[WarningRecord] = []
        self._warning_keys: set[tuple[str, str]] = set()
        self._other_count = 0
        self._last_warning: WarningRecord | None = None
        self.notes: list[NoteRecord] = []
        self._last_note: NoteRecord | None = None
        self.evidence = FailureEvidence()
        self.stage: str | None = None  # how far the run got: parse, build, inference (see _STAGE)
        self.last_severity: str | None = None
        self.continuation_budget = 0
        self.layers = LayerCollector()
        self.mode: str | None = None  # verbose_layers | info_layers | info_tail | profile_header | profile
        self.profile_layout: str | None = None

    # -- helpers ------------------------------------------------------------------------------------
    @property
    def before_echo(self) -> bool:
        """True until trtexec accepted its argv (option echo, device block or version printed)."""
        return not (self.echo_seen or self.device.name or self.version)

    @property
    def has_content(self) -> bool:
        return self.strong or self.weak

    def starts_new_inference_section(self) -> bool:
        """A summary-like section after a finished summary (or a closing line) belongs to a new run."""
        return self.summary_seen or self.final is not None

    def set_version_from_int(self, value: str | None) -> None:
        if value and self.version is None:
            try:
                self.version = decode_version_int(value)
            except (ValueError, TypeError):
                pass

    # -- warnings -----------------------------------------------------------------------------------
    def add_warning(self, code: str, text: str) -> None:
        text = short(text.lstrip("* ").strip())
        key = (code, text)
        if key in self._warning_keys:
            self._last_warning = None
            return
        if code == "other":
            if self._other_count >= MAX_OTHER_WARNINGS:
                return
            self._other_count += 1
        self._warning_keys.add(key)
        record = WarningRecord(code=code, text=text)
        self.warnings.append(record)
        self._last_warning = record if code != "other" else None

    def advance(self, stage: str) -> None:
        """Note that the run reached ``stage`` (stages only move forward: parse, build, inference)."""
        if self.stage is None or _STAGE_ORDER[stage] > _STAGE_ORDER[self.stage]:
            self.stage = stage

    def add_note(self, code: str, text: str) -> None:
        text = short(text)
        if len(self.notes) < MAX_NOTES and all(n.text != text for n in self.notes):
            self._last_note = NoteRecord(code=code, text=text)
            self.notes.append(self._last_note)

    # -- the record ---------------------------------------------------------------------------------
    def to_record(self) -> RunRecord:
        if self.final == "PASSED":
            status = "passed"
        elif self.final == "FAILED" or self.evidence.failed:
            status = "failed"
        else:
            status = "incomplete"
        failure = failure_text = phase = None
        if status == "failed":
            failure, failure_text = self.evidence.result()
            phase = self.evidence.phase(self.stage)
        if self.build.engine_size_mib is None and self.loaded_engine_mib is not None:
            # Before 9.0 trtexec prints no engine size; TensorRT's own "Loaded engine size" (integer MiB,
            # "MB" in 8.0) is the best the log holds.
            self.build.engine_size_mib = self.loaded_engine_mib
        options = dict(self.options)
        lo.finish_options(options)
        if self.command:
            for key, value in lo.options_from_command(self.command).items():
                options.setdefault(key, value)
        if self.raw:
            options["raw"] = self.raw
        rec = RunRecord(
            source=self.source,
            kind=KIND,
            status=status,
            failure=failure,
            failure_text=failure_text,
            failure_phase=phase,
            trt_version=self.version,
            command=self.command,
            device=self.device,
            options=options,
            build=self.build,
            throughput_qps=self.throughput,
            host_walltime_s=self.walltime,
            total_gpu_compute_s=self.total_compute,
            gpu_compute_cv_pct=self.cv,
            warnings=self.warnings,
            notes=self.notes,
            layers=self.layers.records(),
        )
        for key, values in self.stats.items():
            stats = Stats(
                min=values.get("min"), max=values.get("max"),
                mean=values.get("mean"), median=values.get("median"),
                percentiles={k: v for k, v in values.items() if k.startswith("p")},
            )
            if not stats.is_empty():
                setattr(rec, key, stats)
        return rec


# ---------------------------------------------------------------------------------------------- the parser
class _Parser:
    """Feeds lines to the current run and starts a new run where the log says one begins."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.records: list[RunRecord] = []
        self.run = _Run(source)
        self.in_task = False  # inside an 11.1 "&&&& TASK_BEGIN" … "TASK_END" tuning iteration

    def new_run(self) -> None:
        self.close()
        self.run = _Run(self.source)

    def close(self) -> None:
        if self.run.has_content:
            try:
                self.records.append(self.run.to_record())
            except Exception:  # noqa: BLE001 - a record we cannot build is dropped, never raised
                pass

    def note_verbose(self) -> None:
        """Account for a verbose line skipped undecoded (see ``parse_log``): it ends error continuations."""
        self.run.weak = True
        self.run.last_severity = "V"

    def feed(self, raw: str) -> None:
        """Process one line; never raises (a line that trips a bug is skipped)."""
        try:
            self._feed(raw)
        except Exception:  # noqa: BLE001 - see module docstring: one odd line must not lose the log
            self.run.mode = None

    def _feed(self, raw: str) -> None:
        line = ls.split_prefix(raw)
        text = line.text
        run = self.run
        if text.startswith("&&&&"):
            self._status_line(text)
            return
        if line.severity is None and self._untagged(line):
            return
        if line.severity is not None:
            run.weak = True
            run.last_severity = line.severity
        if run.mode is not None and self._in_block(line):
            return
        if line.severity == "V":
            # Verbose lines are most of a verbose log: only the layer-information header matters here.
            if "Engine Layer Information" in text:
                run.layers.reset_verbose()
                run.mode = "verbose_layers"
                run.strong = True
            return
        if line.severity in ("E", "F"):
            self._error_line(line)
            return
        if line.trt:
            self._trt_line(line)
            return
        if line.severity == "W":
            self._warning_line(line)
            return
        self._info_line(line)

    # -- status lines -------------------------------------------------------------------------------
    def _status_line(self, text: str) -> None:
        task = ls.TASK_RE.match(text)
        if task:
            self.in_task = task.group(1) == "BEGIN"
            return
        m = ls.STATUS_RE.match(text.rstrip())
        if not m:
            return
        if self.in_task:
            # Build-route tuning children print their own RUNNING/PASSED lines (reference §2.1);
            # the outer run's result is its own first RUNNING and last PASSED/FAILED.
            return
        kind, vint, _build, command = m.groups()
        if kind == "RUNNING":
            if self.run.strong or self.run.saw_running:
                self.new_run()
            run = self.run
            run.saw_running = True
        else:
            run = self.run
            run.final = kind if kind in ("PASSED", "FAILED") else run.final
        run.strong = True
        run.section = None
        run.mode = None
        run.set_version_from_int(vint)
        if command and run.command is None:
            run.command = command.strip()

    # -- untagged lines -----------------------------------------------------------------------------
    def _untagged(self, line: ls.Line) -> bool:
        """Handle an untagged line; False hands it on to the tagged-line logic (pasted summaries)."""
        run = self.run
        text = line.text
        if run.mode == "verbose_layers":
            parsed = parse_verbose_layer(text.strip())
            if parsed:
                run.layers.add_verbose(*parsed)
                return True
            run.mode = None
        elif run.mode == "info_layers":
            if not text.strip() or text.strip() == "Bindings:":
                run.mode = "info_tail"
                return True
            parsed_info = parse_info_layer(text)
            if parsed_info:
                run.layers.add_info(*parsed_info)
            return True
        elif run.mode == "info_tail":
            return True
        if run.final is None:
            if CRASH_RAW.search(text.strip()):
                run.evidence.note_crash(line, run.stage)
                return True
            if run.evidence.crashed and CRASH_DETAIL.match(text):
                run.evidence.note_crash_detail(line)
                return True
        in_error = run.last_severity in ("E", "F") and run.continuation_budget > 0
        if in_error and ERROR_CONTINUATION.match(text):
            # Continuation of an error message: ONNX node dumps, "[6] Invalid Node - /Tile", ...
            run.continuation_budget -= 1
            run.evidence.note(line, from_error=True, early=run.before_echo, stage=run.stage)
            return True
        # Pasted fragments may have lost their tags: the tagged-line logic only acts on lines it knows.
        return False

    # -- block continuations (profile tables) -------------------------------------------------------
    def _in_block(self, line: ls.Line) -> bool:
        run = self.run
        text = line.text.strip()
        if run.mode in ("info_layers", "info_tail"):
            run.mode = None
            return False
        if run.mode == "verbose_layers":
            parsed = parse_verbose_layer(text) if line.severity == "V" else None
            if parsed:
                run.layers.add_verbose(*parsed)
                return True
            run.mode = None
            return False
        if line.trt or line.severity not in ("I", None):
            return False
        if run.mode == "profile_header":
            if not text:
                return True
            run.profile_layout = profile_layout(text)
            run.mode = "profile" if run.profile_layout else None
            return run.mode is not None
        if run.mode == "profile" and run.profile_layout:
            row = parse_profile_row(text, run.profile_layout)
            if row is None:
                run.mode = None
                return not text
            name, timing = row
            if name.strip() == "Total":
                run.mode = None
            else:
                run.layers.add_profile(name.strip(), timing)
            return True
        run.mode = None
        return False

    # -- tagged lines -------------------------------------------------------------------------------
    def _error_line(self, line: ls.Line) -> None:
        run = self.run
        run.strong = True
        run.continuation_budget = MAX_CONTINUATION
        run.evidence.note(line, from_error=True, early=run.before_echo, stage=run.stage)
        text = line.text.strip()
        # trtexec's own [E] lines end the run; the error recorder's "Error[N]:" lines (8.0+) and TRT's
        # "[E] [TRT]" lines can be recoverable (a tactic that failed), and ≤8.5 continues after a plugin
        # library that failed to load (reference §2.2).
        if not line.trt and not text.startswith("Error[") and "Could not load plugin library" not in text:
            run.evidence.note_fatal(line, run.stage)

    def _trt_line(self, line: ls.Line) -> None:
        run = self.run
        text = line.text.strip()
        if line.severity == "W":
            if OOM_HINT.search(text):
                run.evidence.note(line, from_error=False)
            return
        m = ls.LOADED_ENGINE_SIZE_RE.match(text)
        if m:
            run.advance("build")
            if run.loaded_engine_mib is None:
                run.loaded_engine_mib = ls.to_float(m.group(1))
            return
        if text.startswith("Input filename:"):  # the ONNX parser's banner: parsing has begun
            run.advance("parse")
        elif "No importer registered for op" in text:
            run.evidence.note_hint(line)

    def _warning_line(self, line: ls.Line) -> None:
        run = self.run
        text = line.text
        if text[:1].isspace():
            # Advice line under a rule warning ("  If not already in use, --useCudaGraph ...").
            last = run._last_warning
            if last is not None and text.strip():
                last.text = short(f"{last.text} {text.strip()}")
            return
        run.strong = True
        text = text.strip()
        if not text:
            return
        if OOM_HINT.search(text):
            run.evidence.note(line, from_error=False)
        code = ls.classify_warning(text)
        if code == "dynamic_shape_missing":
            ls.apply_auto_shape(run.options, text)
        cv = ls.CV_RE.search(text)
        if cv:
            run.cv = ls.to_float(cv.group(1))
        run.add_warning(code, text)

    def _info_line(self, line: ls.Line) -> None:
        run = self.run
        text = line.text.strip()
        if not text:
            run.section = None
            run.trt7_block = None
            return
        # The echo is always tagged; untagged "=== Model Options ===" lines are trtexec's help text.
        header = lo.SECTION_RE.match(text) if line.severity == "I" and text[:4] == "=== " else None
        if header:
            if header.group(1) == "Model" and run.starts_new_inference_section() and not run.saw_running:
                self.new_run()
                run = self.run
            run.section = header.group(1)
            run.echo_seen = run.strong = True
            return
        if text == "=== Device Information ===":
            run.section = None
            run.strong = True
            return
        if run.section is not None:
            if line.severity == "I":
                self._option_line(text)
            return
        if self._summary_line(text):
            return
        if text == "Layers:":
            run.layers.info = {}
            run.mode = "info_layers"
            run.strong = True
            return
        if PROFILE_HEADER_RE.match(text):
            run.layers.reset_profile()
            run.mode = "profile_header"
            run.strong = True
            return
        stage = _STAGE.match(text)
        if stage:
            run.advance(stage.lastgroup or "build")
        if self._note_line(text):
            return
        if DEVICE_NOT_FOUND.match(text):
            # 9.1+: trtexec lists the visible GPUs, prints this at [I] level and exits (reference §2.2).
            run.strong = True
            run.evidence.note(line, from_error=True, stage=run.stage)
            run.evidence.note_fatal(line, run.stage)
            return
        version = ls.VERSION_LINE_RE.match(text)
        if version:
            run.strong = True
            if run.version is None:
                run.version = ls.version_from_text(version.group(1))
            return
        device = ls.parse_device_line(text)
        if device:
            run.strong = True
            setattr(run.device, device[0], device[1])
            return
        build = ls.parse_build_line(text)
        if build:
            run.strong = True
            setattr(run.build, build[0], build[1])

    def _note_line(self, text: str) -> bool:
        """Informational lines kept as notes; True when the line was one."""
        run = self.run
        if ls.PROFILE_INACCURATE_RE.search(text):
            run.strong = True
            run.add_note("profile_total_inaccurate", text)
            return True
        if text.startswith("To show e2e network timing report"):
            # The advice line that follows the note above.
            note = run._last_note
            if note is not None and note.code == "profile_total_inaccurate" and text not in note.text:
                note.text = short(f"{note.text} {text}")
            return True
        if ls.SKIPPED_INFERENCE_RE.match(text):
            run.strong = True
            run.add_note("inference_skipped", text)
            return True
        return False

    def _option_line(self, text: str) -> None:
        run = self.run
        kv = lo.split_option(text)
        if kv is None or run.section is None:
            return
        key, value = kv
        section = run.raw.setdefault(f"{run.section} Options", {})
        if key in section:
            section[key] = f"{section[key]}; {value}"
        elif len(section) < MAX_RAW_OPTIONS:
            section[key] = value
        lo.apply_option(run.options, key, value)

    def _summary_line(self, text: str) -> bool:
        """Performance summary lines of every era; True when the line was one."""
        run = self.run
        if text in ("=== Performance summary ===", "=== Trace details ===") or text in ls.TRT7_BLOCKS:
            # A second summary (or one after a closing line) is the next run of a pasted fragment.
            if text in _RUN_STARTING_HEADERS and run.starts_new_inference_section():
                self.new_run()
                run = self.run
            run.strong = True
            run.trt7_block = ls.TRT7_BLOCKS.get(text)
            return True
        if run.trt7_block:
            stat = ls.parse_trt7_stat(text)
            if stat:
                key, value, e2e = stat
                run.stats.setdefault(run.trt7_block, {})[key] = value
                if e2e is not None:
                    run.stats.setdefault("end_to_end_ms", {})[key] = e2e
                run.summary_seen = True
                return True
        metric = ls.parse_metric_line(text)
        if metric:
            key, values = metric
            run.stats.setdefault(key, {}).update(values)
            run.summary_seen = run.strong = True
            return True
        m = ls.THROUGHPUT_RE.match(text)
        if m:
            if run.summary_seen and run.trt7_block is None and run.throughput is not None:
                self.new_run()
                run = self.run
            run.throughput = ls.to_float(m.group(1))
            run.summary_seen = run.strong = True
            return True
        m = ls.WALLTIME_RE.match(text)
        if m:
            run.walltime = ls.to_s(m.group(1), m.group(2))
            run.summary_seen = run.strong = True
            return True
        m = ls.TOTAL_COMPUTE_RE.match(text)
        if m:
            run.total_compute = ls.to_s(m.group(1), m.group(2))
            run.summary_seen = run.strong = True
            return True
        return False


# trtexec's own progress lines: the step a run has reached (reference §3.2). A failure with no line naming its
# step happened in the last one reached. "build" covers the engine set-up: building, or loading and
# deserializing an engine given with --loadEngine.
_STAGE = lazy(
    r"^(?:(?P<parse>Start parsing network model)"
    r"|(?P<build>Finish(?:ed)? parsing network model|Engine loaded in )"
    r"|(?P<inference>Engine built in |Engine deserialized in |Created execution context|Starting inference"
    r"|Created (?:input|output) binding|(?:Input|Output) binding for |Set shape of input tensor \S+ to:"
    r"|Warmup completed|Timing trace has))"
)
_STAGE_ORDER = {"parse": 0, "build": 1, "inference": 2}

_RUN_STARTING_HEADERS = (
    "=== Performance summary ===", "=== Trace details ===", "Host latency", "Host Latency",
)


# ---------------------------------------------------------------------------------------------- public API
def parse_lines(lines: Iterable[str], source: str, *, strict: bool = False) -> list[RunRecord]:
    """Parse cleaned console lines into one record per trtexec run (empty when none is recognisable).

    The lines go through the normalisation stage (:mod:`normalize`: paste prefixes, banners, joined lines)
    unless ``strict``. Never raises for the content of ``lines``; exceptions raised by the iterable itself
    (I/O errors) propagate.
    """
    parser = _Parser(source)
    stream: Iterable[str] = (raw[:MAX_LINE_LENGTH].rstrip("\r\n") for raw in lines if isinstance(raw, str))
    if not strict:
        stream = normalize_lines(stream)
    for line in stream:
        parser.feed(line)
    parser.close()
    return parser.records


def parse_log(path: str | Path, *, strict: bool = False) -> list[RunRecord]:
    """Parse a trtexec console log file into one record per run, streaming it in constant memory.

    Verbose ``[V]`` lines and the per-iteration trace (``[I] Average on 10 runs - ...``) are most of a long
    log, and none of them says anything a record holds. A regular expression over each raw chunk finds the
    other lines in C, so those lines are never decoded or even visited one by one in Python; inside a
    block (layer information, tables) or at a layer-information header they are fed after all.

    Unless ``strict``, the head decides the paste prefix and where trtexec's output starts, and each kept
    line goes through the normalisation stage (:mod:`normalize`).
    """
    parser = _Parser(str(path))
    stage: Normalizer | None = None
    prefix = b""
    first = True
    for chunk in iter_raw_chunks(path):
        data = b"\n" + chunk  # every line, the first included, now follows a newline
        if first:
            first = False
            if data.startswith(b"\n\xef\xbb\xbf"):
                data = b"\n" + data[4:]  # a UTF-8 byte-order mark
            if not strict:
                stage, prefix, data = _head(data)
        elif prefix:
            data = strip_prefix_raw(data, prefix)
        done = 1  # data[:done] is handled
        for m in _KEPT_LINE_START.finditer(data):
            if m.start() > done:
                _skipped(parser, data[done:m.start()])
            end = data.find(b"\n", m.end())
            end = len(data) if end < 0 else end
            for line in decode_line(data[m.end():end][:MAX_LINE_LENGTH]):
                if stage is None:
                    parser.feed(line)
                else:
                    for part in stage.lines(line):
                        parser.feed(part)
            done = end + 1
        if done < len(data):
            _skipped(parser, data[done:])
    parser.close()
    return parser.records


def _head(data: bytes) -> tuple[Normalizer, bytes, bytes]:
    """From the first chunk: the stage, the paste prefix (bytes) and the chunk from the first trtexec line."""
    head = decode_head(data[1:HEAD_BYTES + 1])
    prefix_text = paste_prefix(head)
    prefix = prefix_text.encode("utf-8")
    data = strip_prefix_raw(data, prefix)
    lines = [strip_prefix(x, prefix_text) for x in head.split("\n")[:HEAD_LINES]]
    skip = start_line(lines[:-1] if len(lines) > 1 else lines)
    at = 0
    for _ in range(skip):  # drop the banner: data[at] is the newline before trtexec's first line
        at = data.find(b"\n", at + 1)
    return Normalizer(prefix_text), prefix, data[at:] if at > 0 else data


# The newline before a line that is *not* a plain verbose or trace line. Plain: a "[V] " tag (or "[I] Average
# on N runs - ") preceded by nothing but timestamps, spaces and a wrapper's "[TRT] " (anything else, e.g.
# another program's text or an escape sequence, keeps the line). Anchoring on the newline lets the regex
# engine jump from line to line instead of trying every byte. A verbose layer-information header is found by
# _skipped, with a substring search over the skipped block.
_KEPT_LINE_START = lazy(rb"\n(?![0-9/\-:.\[\] TRZ]{0,60}(?:\[V\] |\[I\] Average on \d+ runs - ))")
_LAYER_HEADER = b"Layer Information"


def _skipped(parser: _Parser, block: bytes) -> None:
    """Account for the plain verbose / trace lines the expression skipped; feed those that can matter.

    They matter inside an open block (verbose layer rows, tables), at a verbose layer-information header
    (which opens one) and inside an option echo section; everywhere else they are only counted. Once the
    block closes and no header follows, the rest is skipped at once.
    """
    pos, size = 0, len(block)
    while pos < size:
        run = parser.run
        if run.mode is None and run.section is None:
            header = block.find(_LAYER_HEADER, pos)
            if header < 0:
                parser.note_verbose()
                return
            line_start = block.rfind(b"\n", pos, header) + 1
            if line_start > pos:
                parser.note_verbose()
            pos = max(line_start, pos)
        end = block.find(b"\n", pos)
        end = size if end < 0 else end
        for line in decode_line(block[pos:end][:MAX_LINE_LENGTH]):
            parser.feed(line)
        pos = end + 1
