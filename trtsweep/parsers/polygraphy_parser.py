"""The line-by-line reader behind :func:`trtsweep.parsers.polygraphy.parse_polygraphy_lines`.

Only top-level log lines (``[I] ...`` at the file's base indentation) are read as Polygraphy's own
output; indented lines belong to the block above them, so the output of a sub-command captured by
``debug`` (``==== CAPTURED STDOUT ====``) never counts as the outer command's result.
"""

from __future__ import annotations

import re
from typing import Any

from trtsweep.records import BuildInfo, RunRecord, unrecognized

from .polygraphy_blocks import (
    DataBlock,
    IgnoreBlock,
    ModelBlock,
    ProfileConfigBlock,
    classify_failure,
    kind_of,
    parse_float,
    parse_stats,
    subcommand_of,
)

_LOG = re.compile(r"^\[([A-Z!])\](?: (.*))?$")
_BASE = re.compile(r"^( +)\[[A-Z!]\] ")
_TRT_TS = re.compile(r"^\[\d{1,2}/\d{1,2}/\d{4}-\d\d:\d\d:\d\d\] \[TRT\] \[([A-Z])\] ?(.*)$")
_RUNNING = re.compile(r"^RUNNING \| Command: (.*)$")
_FINAL = re.compile(r"^(PASSED|FAILED) \| (?:Runtime: ([\d.]+)s \| )?Command: (.*)$")
_MODULE = re.compile(r"^Loaded Module: (\S+)\s*\|(?:\s*Version: (\S+)\s*\|)?")
_COMPLETED = re.compile(
    r"^(\S+)\s+\| Completed (\d+) iteration\(s\) in (\S+) ms \| Average inference time: (\S+?) ms"
)
_ACTIVATING = re.compile(r"^(\S+)\s+\| Activating and starting inference")
_BANNER = re.compile(r"^==== (ONNX Model|TensorRT Engine|TensorRT Network|Data \(\d+ iterations?\)"
                     r"|Run Results \(\d+ runners?\)) ====$")
_PAIR = re.compile(r"^Accuracy Comparison \| (.+?) vs\.? (.+)$")
_COMPARING = re.compile(r"^Comparing Output: '(.+?)' \(")
_TOLERANCE = re.compile(r"Tolerance: \[abs=([^,\]]+), rel=([^\]]+)\]")
_REQUIRED = re.compile(r"^Minimum Required Tolerance: [^\[]*\[abs=([^\]]+)\] OR \[rel=([^\]]+)\]")
_DIFF = re.compile(r"^(Absolute|Relative) Difference \| Stats: (.*)$")
_OUT_RESULT = re.compile(
    r"^(PASSED|FAILED) \| (?:Output: '(.+?)' \| )?Difference (?:is within|exceeds) tolerance"
)
_ALL_MATCHED = re.compile(r"^PASSED \| All outputs matched")
_MISMATCHED = re.compile(r"^FAILED \| Mismatched outputs")
_SUMMARY = re.compile(r"^Accuracy Summary \| (.+?) vs\.? (.+?) \| Passed: (\d+)/(\d+) iterations")
_VALIDATING = re.compile(r"^(\S+)\s+\| Validating output: (.+?) \(check_inf=(\w+), check_nan=(\w+)\)")
_DETECTED = re.compile(r"^(NaN|Inf) Detected \|")
_VALID = re.compile(r"^(?:PASSED \| Output: .+ is valid|FAILED \| Errors detected in output: .+)$")
_VALIDATION_DONE = re.compile(r"^(PASSED|FAILED) \| Output Validation$")
_ITERATION = re.compile(r"^(PASSED|FAILED) \| Iteration (\d+) \| Duration ([\d.]+)s")
_ENGINE_BUILD = re.compile(r"^Finished engine building in ([\d.]+) seconds")
_ENGINE_SIZE = re.compile(r"Loaded engine size: ([\d.]+) MiB")
_OPSET_LINE = re.compile(r"^Opset version:\s+(\d+)")
_TRT_VERSION = re.compile(r"TensorRT [Vv]ersion:?\s*v?(\d+\.\d+\.\d+(?:\.\d+)?)")
_FOREIGN_ERROR = re.compile(r"Traceback \(most recent call last\)|Segmentation fault|core dumped|^Killed"
                            r"|polygraphy[\w ]*: error:")
_IO_HEADER = re.compile(r"^\s+---- Inference (?:Input|Output)\(s\) ----\s*$")
_MAX_KEPT = 200
_MODEL_KINDS = {"ONNX Model": "onnx", "TensorRT Engine": "engine", "TensorRT Network": "network"}


class LineParser:
    """Line-by-line state machine: :meth:`feed` every line, then :meth:`finish` builds the record."""

    def __init__(self) -> None:
        self.base: int | None = None
        self.block: Any = None
        self.block_target: str | None = None
        self.recognised = False
        self.version: str | None = None
        self.trt_version: str | None = None
        self.modules: dict[str, str] = {}
        self.invocations: list[dict[str, Any]] = []
        self.open_inv = False  # the last invocation has a RUNNING line but no PASSED/FAILED yet
        self.evidence: list[str] = []  # error lines since the current invocation began
        self.failed_evidence: list[str] = []
        self.errors: list[str] = []
        self.runners: dict[str, dict[str, Any]] = {}
        self.times: dict[str, list[float]] = {}
        self.pair: list[str] | None = None
        self.comparisons: list[dict[str, Any]] = []
        self.accuracy_passed: bool | None = None
        self.accuracy_failures: list[str] = []
        self.summaries: list[dict[str, Any]] = []
        self.nan_inf: dict[str, Any] | None = None
        self.model: ModelBlock | None = None
        self.data_inputs: list[dict[str, Any]] | None = None
        self.data_outputs: list[dict[str, Any]] | None = None
        self.bad_model: ModelBlock | None = None
        self.debug_iterations: list[dict[str, Any]] = []
        self.debug_marker = False
        self.lint: list[dict[str, str]] = []
        self.build = BuildInfo()
        self.opset: int | None = None
        self.profiles: list[dict[str, Any]] | None = None
        self.run_marker = False

    # ---- line routing -------------------------------------------------------------------------
    def feed(self, raw: str) -> None:
        """Take the next line of the file."""
        line = raw.rstrip("\r\n")
        if self.base is None:
            m = _BASE.match(line)
            self.base = len(m[1]) if m else (0 if _LOG.match(line) else None)
        if self.base and line.startswith(" " * self.base):
            line = line[self.base:]  # markdown-extracted logs are indented as a whole
        if not line.strip() or line[0] in " \t":
            if self.block is not None:
                self.block.feed(line)
            elif _IO_HEADER.match(line):
                # Output that starts mid-run, inside a runner's "---- Inference Input(s) ----" block.
                block = ModelBlock(None)
                self._open(block)
                self.run_marker = True
                block.feed(line)
            return
        self._close_block()
        m = _LOG.match(line)
        if m:
            self._log(m[1], m[2] or "")
            return
        m = _TRT_TS.match(line)
        if m:
            self._misc(m[2])
            if m[1] == "E":
                self._error(f"[TRT] [E] {m[2].strip()}")
            return
        if _FOREIGN_ERROR.search(line):
            self._error(line.strip())

    def _close_block(self) -> None:
        block, target = self.block, self.block_target
        self.block, self.block_target = None, None
        if isinstance(block, ModelBlock) and target is not None:
            if target == "bad_model":
                self.bad_model = block
            elif target == "model":
                self.model = self.model or block
            elif target.startswith("runner:") and target[7:] in self.runners:
                # Polygraphy prints a runner's I/O on every inference; the first print describes them all.
                runner = self.runners[target[7:]]
                runner["inputs"] = runner["inputs"] or block.inputs or None
                runner["outputs"] = runner["outputs"] or block.outputs or None
        elif isinstance(block, DataBlock):
            if block.results:
                self.data_outputs = (self.data_outputs or []) + block.tensors
                for r in block.runners:
                    self._runner(r["name"])["iterations"] = r["iterations"]
            else:
                self.data_inputs = (self.data_inputs or []) + block.tensors
        elif isinstance(block, ProfileConfigBlock) and self.profiles is None and block.profiles:
            self.profiles = block.profiles

    def _open(self, block: Any, target: str | None = None) -> None:
        self.block, self.block_target = block, target
        self.recognised = True

    # ---- top-level log lines ------------------------------------------------------------------
    def _log(self, level: str, rest: str) -> None:
        msg = rest.strip()
        top = not rest[: len(rest) - len(rest.lstrip())]  # no indentation after the [X] prefix
        if msg.startswith("=========="):  # CAPTURED STDOUT / STDERR of a debug check command
            self._open(IgnoreBlock())
            return
        if top and self._invocation_line(msg):
            return
        if self._result_line(msg, level, top):
            return
        if self._section_line(msg):
            return
        self._misc(msg)
        if msg.startswith("LINT | "):
            self.lint.append({"level": {"E": "error", "W": "warning"}.get(level, "info"), "text": msg[7:]})
            self.recognised = True
        if level in "E!" and top and not msg.startswith(("PASSED |", "FAILED |")):
            self._error(f"[{level}] {msg}")

    def _invocation_line(self, msg: str) -> bool:
        m = _RUNNING.match(msg)
        if m:
            self.invocations.append({"command": m[1].strip(), "subcommand": subcommand_of(m[1]),
                                     "status": None, "runtime_s": None})
            self.open_inv, self.evidence = True, []
            self.recognised = True
            return True
        m = _FINAL.match(msg)
        if m:
            if not self.open_inv:  # Polygraphy < 0.40 printed no RUNNING line: the final line is all
                self.invocations.append({"command": m[3].strip(), "subcommand": subcommand_of(m[3])})
            inv = self.invocations[-1]
            inv["status"] = "passed" if m[1] == "PASSED" else "failed"
            inv["runtime_s"] = parse_float(m[2])
            if m[1] == "FAILED" and not self.failed_evidence:
                self.failed_evidence = self.evidence + [f"[E] {msg}"]
            self.open_inv, self.evidence = False, []
            self.recognised = True
            return True
        return False

    def _result_line(self, msg: str, level: str, top: bool) -> bool:
        """Runner timings, accuracy comparisons, NaN/Inf validation and debug iterations."""
        if m := _COMPLETED.match(msg):
            runner = self._runner(m[1])
            runner["iterations"] = (runner["iterations"] or 0) + int(m[2])
            avg = parse_float(m[4])
            if avg is not None:
                self.times.setdefault(m[1], []).append(avg)
        elif m := _ACTIVATING.match(msg):
            self._runner(m[1])
            self.run_marker = True
        elif m := _PAIR.match(msg):
            self.pair = [m[1].strip(), m[2].strip()]
            self.run_marker = True
        elif m := _COMPARING.match(msg):
            self.comparisons.append({
                "output": m[1], "runners": self.pair, "passed": None,
                "max_abs_error": None, "mean_abs_error": None, "median_abs_error": None,
                "max_rel_error": None, "mean_rel_error": None, "median_rel_error": None,
                "atol": None, "rtol": None, "required_atol": None, "required_rtol": None,
            })
            self._tolerance(msg)
        elif msg.startswith("Tolerance: ["):
            self._tolerance(msg)
        elif (m := _REQUIRED.match(msg)) and self.comparisons:
            self.comparisons[-1]["required_atol"] = parse_float(m[1])
            self.comparisons[-1]["required_rtol"] = parse_float(m[2])
        elif (m := _DIFF.match(msg)) and self.comparisons:
            stats, kind = parse_stats(m[2]), "abs" if m[1] == "Absolute" else "rel"
            for stat in ("max", "mean", "median"):
                self.comparisons[-1][f"{stat}_{kind}_error"] = stats.get(stat)
        elif m := _OUT_RESULT.match(msg):
            self._output_result(m[1] == "PASSED", m[2], level, msg)
        elif _ALL_MATCHED.match(msg) or _MISMATCHED.match(msg):
            ok = msg.startswith("PASSED")
            self.accuracy_passed = ok if self.accuracy_passed is None else (self.accuracy_passed and ok)
            if not ok:
                self._failure_line(f"[{level}] {msg}")
        elif m := _SUMMARY.match(msg):
            self.summaries.append({"runners": [m[1].strip(), m[2].strip()],
                                   "passed_iterations": int(m[3]), "total_iterations": int(m[4])})
        else:
            return self._validation_line(msg, level) or self._debug_line(msg, top)
        self.recognised = True
        return True

    def _tolerance(self, msg: str) -> None:
        m = _TOLERANCE.search(msg)
        if m and self.comparisons:
            self.comparisons[-1]["atol"] = parse_float(m[1])
            self.comparisons[-1]["rtol"] = parse_float(m[2])

    def _output_result(self, passed: bool, output: str | None, level: str, msg: str) -> None:
        target = None
        for comp in reversed(self.comparisons):
            if output is None or comp["output"] == output:
                target = comp
                break
        if target is not None:
            target["passed"] = passed
        if not passed:
            self._failure_line(f"[{level}] {msg}")

    def _failure_line(self, text: str) -> None:
        if len(self.accuracy_failures) < _MAX_KEPT:
            self.accuracy_failures.append(text)
        if len(self.evidence) < _MAX_KEPT:
            self.evidence.append(text)

    def _validation_line(self, msg: str, level: str) -> bool:
        if msg.startswith("Output Validation | "):
            self.nan_inf = self.nan_inf or {"passed": None, "outputs": []}
            self.run_marker = True
        elif (m := _VALIDATING.match(msg)) and self.nan_inf is not None:
            self.nan_inf["outputs"].append({
                "output": m[2], "runner": m[1], "check_inf": m[3] == "True", "check_nan": m[4] == "True",
                "passed": None, "nan": False, "inf": False,
            })
        elif (m := _DETECTED.match(msg)) and self.nan_inf and self.nan_inf["outputs"]:
            self.nan_inf["outputs"][-1]["nan" if m[1] == "NaN" else "inf"] = True
            self._failure_line(f"[{level}] {msg}")
        elif _VALID.match(msg) and self.nan_inf and self.nan_inf["outputs"]:
            self.nan_inf["outputs"][-1]["passed"] = msg.startswith("PASSED")
            if msg.startswith("FAILED"):
                self._failure_line(f"[{level}] {msg}")
        elif (m := _VALIDATION_DONE.match(msg)) and self.nan_inf is not None:
            ok, before = m[1] == "PASSED", self.nan_inf["passed"]
            self.nan_inf["passed"] = ok if before is None else (before and ok)
        else:
            return False
        self.recognised = True
        return True

    def _debug_line(self, msg: str, top: bool) -> bool:
        if m := _ITERATION.match(msg):
            self.debug_iterations.append({"iteration": int(m[2]), "passed": m[1] == "PASSED",
                                          "duration_s": parse_float(m[3])})
        elif msg.startswith(("RUNNING | Iteration ", "Reducing model ", "Finished reducing model")):
            self.debug_marker = True
        elif msg == "Minimum Bad Model:" and top:
            self.debug_marker = True
            self._open(ModelBlock("onnx"), "bad_model")
        else:
            return False
        self.run_marker = True
        self.recognised = True
        return True

    def _section_line(self, msg: str) -> bool:
        """Heads of multi-line blocks: model reports, runner I/O, data reports, profiles."""
        if m := _BANNER.match(msg):
            title = m[1]
            if title.startswith("Data"):
                self._open(DataBlock(results=False))
            elif title.startswith("Run Results"):
                self._open(DataBlock(results=True))
            else:
                self._open(ModelBlock(_MODEL_KINDS[title]), "model")
            return True
        if msg in self.runners or (" " not in msg and "-runner-" in msg):
            self._runner(msg)
            self._open(ModelBlock(None), f"runner:{msg}")
            return True
        if msg.startswith("Configuring with profiles"):
            self._open(ProfileConfigBlock(msg))
            return True
        return False

    def _misc(self, msg: str) -> None:
        """Versions and build facts, from Polygraphy's lines and TensorRT's own log lines."""
        if m := _MODULE.match(msg):
            if m[2]:
                self.modules[m[1]] = m[2]
                if m[1] == "polygraphy":
                    self.version, self.recognised = m[2], True
                elif m[1] == "tensorrt":
                    self.trt_version = m[2]
        elif m := _ENGINE_BUILD.match(msg):
            self.build.engine_build_s = parse_float(m[1])
            self.recognised = self.run_marker = True  # only a runner builds engines this way
        elif m := _ENGINE_SIZE.search(msg):
            self.build.engine_size_mib = parse_float(m[1])
        elif (m := _OPSET_LINE.match(msg)) and self.opset is None:
            self.opset = int(m[1])
        elif (m := _TRT_VERSION.search(msg)) and self.trt_version is None:
            self.trt_version = m[1]

    def _error(self, text: str) -> None:
        # Bounded: a log with a million error lines needs only its first ones to say why it failed.
        if len(self.errors) < _MAX_KEPT:
            self.errors.append(text)
        if len(self.evidence) < _MAX_KEPT:
            self.evidence.append(text)

    def _runner(self, name: str) -> dict[str, Any]:
        self.recognised = True
        if name not in self.runners:
            self.runners[name] = {"name": name, "inference_ms": None, "iterations": None,
                                  "inputs": None, "outputs": None}
        return self.runners[name]

    # ---- the record ---------------------------------------------------------------------------
    def finish(self, source: str) -> RunRecord:
        """The record for everything fed so far."""
        self._close_block()
        if not self.recognised:
            return unrecognized(source, "no Polygraphy output found")
        for name, values in self.times.items():
            self.runners[name]["inference_ms"] = sum(values) / len(values)
        sub = next((inv["subcommand"] for inv in self.invocations if inv.get("subcommand")), None)
        inferred = sub is None
        if inferred:
            sub = self._infer_subcommand()
        kind = kind_of(None if inferred else sub, self.model is not None or self.data_inputs is not None
                     or self.data_outputs is not None, self.run_marker)
        status, failure, failure_text, command = self._status(kind)
        rec = RunRecord(source=source, kind=kind, status=status, failure=failure, failure_text=failure_text,
                        trt_version=self.trt_version, command=command, build=self.build)
        rec.polygraphy = self._details(sub, inferred)
        return rec

    def _infer_subcommand(self) -> str | None:
        # Only from markers that a single subcommand prints; otherwise leave it unknown.
        if self.debug_marker:
            return "debug reduce" if self.bad_model is not None else "debug"
        if self.lint:
            return "check lint"
        if self.model is not None:
            return "inspect model"
        if self.data_inputs is not None or self.data_outputs is not None:
            return "inspect data"
        if self.run_marker or self.comparisons or self.nan_inf:
            return "run"
        return None

    def _status(self, kind: str) -> tuple[str, str | None, str | None, str | None]:
        failed = next((inv for inv in self.invocations if inv.get("status") == "failed"), None)
        first = self.invocations[0]["command"] if self.invocations else None
        if failed is None and (self.open_inv or not self.invocations):
            # No final PASSED/FAILED line for the last command: an error says why it stopped,
            # otherwise the output was cut short (an inspection report that is whole counts as done).
            if self.evidence:
                cls, text = self._cause(self.evidence)
                return "failed", cls, text, self.invocations[-1]["command"] if self.invocations else None
            if kind == "polygraphy_inspect" and not self.open_inv and self._report_whole():
                return "passed", None, None, first
            return "incomplete", None, None, first
        if failed is None:
            return "passed", None, None, first
        cls, text = self._cause(self.failed_evidence)
        return "failed", cls, text, failed["command"]

    def _report_whole(self) -> bool:
        if self.model is not None:
            return not self.model.truncated()
        return self.data_inputs is not None or self.data_outputs is not None

    def _cause(self, lines: list[str]) -> tuple[str, str | None]:
        accuracy = [x for x in lines if x in self.accuracy_failures]
        if accuracy:
            return "other", "\n".join(accuracy[:4])
        found = classify_failure([x for x in lines if x in self.errors])
        if found is not None:
            return found
        errors = [x for x in lines if x in self.errors]
        return "other", (errors[0] if errors else (lines[-1] if lines else None))

    def _details(self, sub: str | None, inferred: bool) -> dict[str, Any]:
        model = self.model
        is_onnx = model is not None and model.kind == "onnx"
        if model is not None:
            inputs, outputs = model.inputs or None, model.outputs or None
        else:
            inputs, outputs = self.data_inputs or None, self.data_outputs or None
        passed = None
        if self.invocations and all(inv.get("status") for inv in self.invocations):
            passed = all(inv["status"] == "passed" for inv in self.invocations)
        elif self.accuracy_passed is not None or (self.nan_inf and self.nan_inf["passed"] is not None):
            nan_inf_failed = bool(self.nan_inf and self.nan_inf["passed"] is False)
            passed = self.accuracy_passed is not False and not nan_inf_failed
        debug = None
        if self.debug_marker or self.debug_iterations:
            debug = {"iterations": self.debug_iterations or None,
                     "minimum_bad_model": self.bad_model.summary() if self.bad_model else None}
        return {
            "version": self.version,
            "subcommand": sub,
            "subcommand_inferred": inferred and sub is not None,
            "trt_version": self.trt_version,
            "modules": self.modules or None,
            "invocations": [{"command": i["command"], "subcommand": i["subcommand"],
                             "status": i.get("status") or "incomplete", "runtime_s": i.get("runtime_s")}
                            for i in self.invocations] or None,
            "runners": list(self.runners.values()) or None,
            "comparisons": self.comparisons or None,
            "accuracy_summaries": self.summaries or None,
            "passed": passed,
            "model_kind": model.kind if model else None,
            "model_name": model.name if model else None,
            "opset": (model.opset if model and model.opset is not None else self.opset),
            "inputs": inputs,
            "outputs": outputs,
            "node_count": model.declared.get("nodes") if is_onnx and model else None,
            "layer_count": model.declared.get("layers") if model and not is_onnx else None,
            "initializer_count": model.declared.get("initializers") if model else None,
            "op_counts": (model.op_counts or None) if model else None,
            "profiles": (model.profiles or None) if model and model.kind == "engine" else self.profiles,
            "device_memory_bytes": model.device_memory_bytes if model else None,
            "nan_inf": self.nan_inf,
            "debug": debug,
            "lint": self.lint or None,
        }
