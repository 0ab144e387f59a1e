"""The normalisation stage (issue #13): pasted logs read as the clean log does.

Each tolerance is tested three ways: on the pure functions with lines as they appear in pastes; on real
corpus files that carry the damage (trtelan's indented tail, the shell prompts before bugdev021's and
violetta's runs); and on transformations of every corpus log (quote, indent, stripped timestamps, joined
summary lines, padding, a banner in front), which must give the record of the clean log. The strict path
(``strict=True``, no normalisation) must give the same records as the normal one on every clean log.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from corpus_location import CORPUS, manifest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trtsweep.parsers import detect_kind, parse_file
from trtsweep.parsers.log_sections import parse_metric_line
from trtsweep.parsers.normalize import normalize_lines, paste_prefix, split_joined, start_line, unpaste
from trtsweep.parsers.polygraphy import parse_polygraphy, parse_polygraphy_lines
from trtsweep.parsers.textio import iter_lines
from trtsweep.parsers.trtexec_log import parse_lines, parse_log
from trtsweep.records import RunRecord

_MANIFEST = manifest()
LOGS = sorted(n for n, e in _MANIFEST.items() if e["kind"].startswith("trtexec_"))
POLY = sorted(n for n, e in _MANIFEST.items() if e["kind"] == "polygraphy_output")
# The one corpus log that arrived damaged: every line indented by four spaces (a Markdown code block).
PASTED = {"trtelan__trt8.4.1_a10_reflectpad_parse_FAILED_tail.log"}
TS = "[07/07/2026-02:10:58] "


def read_lines(name: str) -> list[str]:
    """A corpus file's lines, split at newlines only (str.splitlines would also split at the U+001E that
    10.x layer metadata holds)."""
    text = (CORPUS / name).read_text(encoding="utf-8")
    return text[:-1].split("\n") if text.endswith("\n") else text.split("\n")


def docs(records: list[RunRecord]) -> list[dict]:
    out = []
    for rec in records:
        d = rec.to_dict()
        d.pop("source")
        out.append(d)
    return out


# ---------------------------------------------------------------------------------------------- functions
def test_paste_prefix_of_quotes_and_code_blocks() -> None:
    log = [TS + "[I] === Model Options ===", TS + "[I] Format: ONNX", "&&&& PASSED TensorRT.trtexec # x"]
    assert paste_prefix("\n".join("> " + x for x in log) + "\n") == "> "
    assert paste_prefix("\n".join("> > " + x for x in log) + "\n") == "> > "
    assert paste_prefix("\n".join("    " + x for x in log) + "\n") == "    "
    assert paste_prefix("\n".join("\t" + x for x in log) + "\n") == "\t"
    assert paste_prefix("\n".join(">     " + x for x in log) + "\n") == ">     "  # a code block in a quote
    assert paste_prefix("\n".join(log) + "\n") == ""  # a clean log
    # Untagged lines with their own indentation (node dumps, help text) neither decide nor break it.
    mixed = ["    " + log[0], "      --onnx=<file>   ONNX model", "    " + log[1], "", ">"]
    assert paste_prefix("\n".join(mixed) + "\n") == "    "


def test_paste_prefix_ignores_a_banner_and_the_cut_last_line() -> None:
    head = ("Here is my log, any idea?\n\nroot@box:/w# trtexec --onnx=m.onnx\n"
            "> &&&& RUNNING TensorRT.trtexec [TensorRT v8601] # trtexec --onnx=m.onnx\n"
            f"> {TS}[I] === Model Options ===\n{TS}[I] Form")  # the head ends mid-line, unquoted
    assert paste_prefix(head) == "> "
    assert start_line(unpaste(head).split("\n")) == 3


def test_unpaste_keeps_quote_only_lines_as_blank_lines() -> None:
    text = f"> {TS}[I] a\n>\n> {TS}[I] b\n"
    assert unpaste(text) == f"{TS}[I] a\n\n{TS}[I] b\n"


@pytest.mark.parametrize(("joined", "lines"), [
    # The example: three summary lines glued by a paste that lost the newlines.
    (TS + "[I] Latency: min = 1 ms, percentile(99%) = 2 ms Total Host Walltime: 3.00013 s Total GPU Compute "
          "Time: 1.6586 s",
     [TS + "[I] Latency: min = 1 ms, percentile(99%) = 2 ms", "[I] Total Host Walltime: 3.00013 s",
      "[I] Total GPU Compute Time: 1.6586 s"]),
    (TS + "[I] Throughput: 15374.3 qps " + TS + "[I] Latency: min = 0.04 ms",
     [TS + "[I] Throughput: 15374.3 qps", TS + "[I] Latency: min = 0.04 ms"]),
    ("[I] === Performance summary === [I] Throughput: 12 qps",
     ["[I] === Performance summary ===", "[I] Throughput: 12 qps"]),
    ("[I] === Performance summary === Throughput: 12 qps",
     ["[I] === Performance summary ===", "[I] Throughput: 12 qps"]),
    (TS + "[I] Total GPU Compute Time: 2.9 s &&&& PASSED TensorRT.trtexec [TensorRT v8502] # trtexec",
     [TS + "[I] Total GPU Compute Time: 2.9 s", "&&&& PASSED TensorRT.trtexec [TensorRT v8502] # trtexec"]),
    # 7.x block summary lines, and a block header glued to its first stat line.
    ("[02/22/2021-15:14:52] [I] percentile: 3.4563 ms at 99% (end to end 3.47168 ms at 99%) throughput: "
     "318.785 qps walltime: 3.00516 s Enqueue Time min: 3.02222 ms",
     ["[02/22/2021-15:14:52] [I] percentile: 3.4563 ms at 99% (end to end 3.47168 ms at 99%)",
      "[I] throughput: 318.785 qps", "[I] walltime: 3.00516 s", "[I] Enqueue Time", "[I] min: 3.02222 ms"]),
    # Found by the hypothesis test below: a short glued header, and a glued header padded to the width.
    ("[I] GPU Compute min: 344.5 ms", ["[I] GPU Compute", "[I] min: 344.5 ms"]),
    ("[I] walltime: 3.00516 s Enqueue Time      ", ["[I] walltime: 3.00516 s", "[I] Enqueue Time      "]),
])
def test_joined_lines_are_split_where_trtexec_lines_begin(joined: str, lines: list[str]) -> None:
    assert split_joined(joined) == lines


@pytest.mark.parametrize("line", [
    # Real lines that hold a second timestamp, ": ", " [" or a metric-like word: each stays one line.
    "[06/11/2020-10:40:02] [06/11/2020-10:40:02] [I] [TRT] Detected 1 inputs and 3 output network tensors.",
    TS + "[I] Average on 10 runs - GPU latency: 3.03 ms - Host latency: 3.09 ms (end to end 3.1 ms, "
         "enqueue 3 ms)",
    TS + "[I] [TRT] [MemUsageChange] Init CUDA: CPU +1, GPU +0, now: CPU 32, GPU 458 (MiB)",
    TS + "[W] * Throughput may be bound by Enqueue Time rather than GPU Compute and the GPU may be "
         "under-utilized.",
    TS + "[I]   Device 0: \"NVIDIA H100 PCIe\" UUID: GPU-31e9692b-62b7-2d62-f0b1-f4195b568ac7",
    TS + "[I] Latency: min = 0.0410156 ms, max = 0.14917 ms, mean = 0.0441053 ms, percentile(99%) = 0.05 ms",
    TS + "[V] Total GPU Compute Time: the summation of the GPU Compute Time of all the queries. If this is "
         "significantly shorter than Total Host Walltime, the GPU may be under-utilized.",
    "&&&& RUNNING TensorRT.trtexec [TensorRT v8502] # trtexec --onnx=m.onnx --shapes=x:1x3",
    "Layer(CaskConvolution): conv + relu, Tactic: 0x1, in[Float(-2,1,28,28)] -> out[Float(-2,32,28,28)]",
])
def test_single_lines_are_left_alone(line: str) -> None:
    assert split_joined(line) == [line]


def test_summary_items_without_equal_signs() -> None:
    # A paste (or a chat client) that ate the "=" signs: "mean 0.5 ms" reads as "mean = 0.5 ms".
    key, values = parse_metric_line("GPU Compute Time: min 0.5 ms, max 2 ms, mean 0.75 ms, median 0.7 ms, "
                                    "percentile(99%) 0.9 ms")
    assert key == "gpu_compute_ms"
    assert values == {"min": 0.5, "max": 2.0, "mean": 0.75, "median": 0.7, "p99": 0.9}
    _, mixed = parse_metric_line("Latency: min = 0.5 ms, max 2 ms, percentile(90%)=0.8 ms")
    assert mixed == {"min": 0.5, "max": 2.0, "p90": 0.8}


def test_normalize_lines_streams_and_drops_the_banner() -> None:
    lines = ["Segmentation fault (core dumped)   <- an earlier command", "$ trtexec --onnx=m.onnx",
             "> &&&& RUNNING TensorRT.trtexec # trtexec --onnx=m.onnx", "> " + TS + "[I] Throughput: 5 qps"]
    assert list(normalize_lines(iter(lines))) == [
        "&&&& RUNNING TensorRT.trtexec # trtexec --onnx=m.onnx", TS + "[I] Throughput: 5 qps"]
    [rec] = parse_lines(lines, "x")
    assert rec.status == "incomplete" and rec.failure is None  # the earlier command's crash is not this run's
    assert rec.throughput_qps == 5.0


# ---------------------------------------------------------------------------------------------- real files
@pytest.mark.corpus
def test_indented_real_tail_needs_the_stage() -> None:
    # trtelan: every line indented by four spaces, so the closing "    &&&& FAILED TensorRT.trtexec
    # [TensorRT v8401] ..." (line 10) is no status line until the prefix goes.
    name = "trtelan__trt8.4.1_a10_reflectpad_parse_FAILED_tail.log"
    [strict] = parse_log(CORPUS / name, strict=True)
    [rec] = parse_log(CORPUS / name)
    assert strict.trt_version is None and strict.command is None
    assert rec.trt_version == "8.4.1" and rec.command.startswith("trtexec --onnx=unit.onnx")
    assert detect_kind(CORPUS / name) == "trtexec_log"


@pytest.mark.corpus
@pytest.mark.parametrize("name", ["bugdev021__trt8.5.2_yolov8seg_nms_fp16_workspace_deprecated.log",
                                  "violetta__trt8.0.1_jetson_nano_loadEngine_exportTimes_exportProfile.log",
                                  "lix19937dnn__trt8.5.10_posenc_dumpLayerInfo_dumpProfile_verbose.log"])
def test_real_logs_with_a_prompt_or_comment_before_the_run(name: str) -> None:
    # Line 1 is a shell prompt ("root@...# trtexec ...") or a comment ("# polygraphy surgeon ..."); the run
    # starts at the "&&&& RUNNING" line after it.
    lines = read_lines(name)
    first = next(i for i, x in enumerate(lines) if x.startswith("&&&& RUNNING"))
    assert first >= 1 and start_line(lines[:400]) == first
    [rec] = parse_log(CORPUS / name)
    assert rec.status == "passed" and rec.command == lines[first].split(" # ", 1)[1].strip()


@pytest.mark.corpus
def test_real_log_line_without_timestamp() -> None:
    # clawmachine line 1: "[E] Error[4]: ITensor::getDimensions: Error Code 4: Internal Error (/OneHot: ...)"
    # lost its timestamp in the paste; the later lines have theirs.
    [rec] = parse_log(CORPUS / "clawmachine__trt10.3.0_nanosam_decoder_parse_FAILED_tail.log")
    assert rec.failure_text.splitlines()[0].startswith("[E] Error[4]: ITensor::getDimensions")


# ---------------------------------------------------------------------------------------------- every log
@pytest.mark.corpus
def test_strict_path_unchanged_for_every_clean_log() -> None:
    differ = [name for name in LOGS
              if docs(parse_log(CORPUS / name, strict=True)) != docs(parse_log(CORPUS / name))]
    assert set(differ) == PASTED


@pytest.mark.corpus
def test_raw_fast_path_equals_the_line_path_for_every_log() -> None:
    # parse_log skips verbose and trace lines in C; parse_lines feeds every line through the state machine.
    for name in LOGS:
        lines = read_lines(name)
        assert docs(parse_log(CORPUS / name)) == docs(parse_lines(lines, "x")), name


@pytest.mark.corpus
def test_polygraphy_stage_unchanged_for_every_clean_output() -> None:
    # parse_polygraphy strips a paste prefix and drops lines before Polygraphy's first; on the clean corpus
    # files neither may change a record.
    for name in POLY:
        path = CORPUS / name
        plain = parse_polygraphy_lines(iter_lines(path), str(path))
        assert docs([parse_polygraphy(path)]) == docs([plain]), name


# Transformations of a log's lines, as pastes damage them.
_LEADING_TS = re.compile(r"^(?:\[\d{1,2}/\d{1,2}/\d{4}-\d{1,2}:\d{2}:\d{2}\] ?)+")
_SUMMARY = re.compile(
    r"^(?:\[[^\]]*\] )*\[I\] (?:=== Performance summary ===|(?:Throughput|Latency|End-to-End Host Latency"
    r"|Enqueue Time|H2D Latency|GPU Compute Time|D2H Latency|Total Host Walltime|Total GPU Compute Time): "
    r"|Host [Ll]atency$|Enqueue Time$|GPU Compute$"
    r"|(?:min|max|mean|median|percentile|throughput|walltime|total compute time): )"
)
_TAGS = re.compile(r"^(?:\[[^\]]*\] )*\[[IWEFV]\] ")
BANNER = [
    "==========================", "== TensorRT ==", "==========================", "",
    "NVIDIA Release 23.08 (build 66128610)", "NVIDIA TensorRT Version 8.6.1",
    "Copyright (c) 2016-2023, NVIDIA CORPORATION & AFFILIATES.  All rights reserved.", "",
    "WARNING: The NVIDIA Driver was not detected.  GPU functionality will not be available.",
    "./bench.sh: line 3:  4242 Segmentation fault      (core dumped) python old_infer.py",
    "root@8f1c2b:/workspace# trtexec --onnx=model.onnx", "",
]


def quote(lines: list[str], depth: int = 1) -> list[str]:
    return [">" * depth if not x.strip() else "> " * depth + x for x in lines]


def indent(lines: list[str], prefix: str = "    ") -> list[str]:
    return [x if not x.strip() else prefix + x for x in lines]


def strip_timestamps(lines: list[str]) -> list[str]:
    return [_LEADING_TS.sub("", x) for x in lines]


def pad(lines: list[str], width: int = 160) -> list[str]:
    return [x + " " * (width - len(x)) for x in lines]


def join(lines: list[str], keep_tags: bool = True, size: int = 3) -> list[str]:
    """Glue runs of consecutive summary lines, ``size`` at a time (``keep_tags=False``: the glued lines lose
    their timestamp and tag, as when a paste keeps only the text)."""
    out: list[str] = []
    group: list[str] = []

    def flush() -> None:
        for i in range(0, len(group), size):
            chunk = group[i:i + size]
            rest = chunk[1:] if keep_tags else [_TAGS.sub("", x, count=1) for x in chunk[1:]]
            out.append(" ".join([chunk[0], *rest]))
        group.clear()

    for line in lines:
        if _SUMMARY.match(line):
            group.append(line)
            continue
        flush()
        out.append(line)
    flush()
    return out


def banner(lines: list[str]) -> list[str]:
    return BANNER + lines


TRANSFORMS: dict[str, Callable[[list[str]], list[str]]] = {
    "quote": quote, "nested_quote": lambda x: quote(x, 2), "indent": indent, "tab": lambda x: indent(x, "\t"),
    "strip_timestamps": strip_timestamps, "pad": pad, "join": join,
    "join_untagged": lambda x: join(x, keep_tags=False, size=8), "banner": banner,
    "join_untagged_padded": lambda x: pad(join(x, keep_tags=False, size=3), 100),
    "banner_and_quoted_code_block": lambda x: banner(quote(indent(x))),
}
_TMP = Path(tempfile.mkdtemp(prefix="trtsweep-normalize-"))
_CLEAN: dict[str, list[dict]] = {}


def _parse_text(lines: list[str], tag: str) -> list[dict]:
    path = _TMP / f"{tag}.log"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return docs(parse_file(path))


def clean(name: str) -> list[dict]:
    if name not in _CLEAN:
        _CLEAN[name] = _parse_text(read_lines(name), "clean")
    return _CLEAN[name]


@pytest.mark.corpus
@pytest.mark.parametrize("transform", sorted(TRANSFORMS))
def test_every_log_survives_the_paste(transform: str) -> None:
    """Each transformation of every corpus log gives the clean log's records, field for field."""
    changed = 0
    for name in LOGS:
        lines = read_lines(name)
        damaged = TRANSFORMS[transform](lines)
        changed += damaged != lines
        assert _parse_text(damaged, transform) == clean(name), (transform, name)
    # Not vacuous: 34 of the corpus logs hold a summary to join, 51 have timestamps, all have lines to wrap.
    assert changed >= {"join": 30, "join_untagged": 30, "strip_timestamps": 45}.get(transform, len(LOGS))


@pytest.mark.corpus
@pytest.mark.parametrize("transform", ["quote", "indent", "banner"])
def test_every_polygraphy_output_survives_the_paste(transform: str) -> None:
    for name in POLY:
        lines = read_lines(name)
        got = _parse_text(TRANSFORMS[transform](lines), f"poly-{transform}")
        assert got == clean(name), (transform, name)


def fuzz(examples: int) -> settings:
    # As in test_fuzz_parsers: CI replays one fixed stream of inputs; local runs draw new ones each time.
    return settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck),
                    database=None, derandomize=bool(os.environ.get("CI")))


@st.composite
def damaged(draw) -> tuple[str, list[str]]:
    """A corpus log with a random sequence of paste damage: content first, then the wrapping."""
    name = draw(st.sampled_from(LOGS))
    lines = read_lines(name)
    if draw(st.booleans()):
        lines = strip_timestamps(lines)
    if draw(st.booleans()):
        lines = join(lines, keep_tags=draw(st.booleans()), size=draw(st.integers(2, 9)))
    if draw(st.booleans()):
        lines = pad(lines, draw(st.integers(60, 240)))
    for wrap in draw(st.lists(st.sampled_from(["quote", "indent2", "indent4", "tab"]), max_size=2)):
        lines = {"quote": quote, "indent2": lambda x: indent(x, "  "), "indent4": indent,
                 "tab": lambda x: indent(x, "\t")}[wrap](lines)
    if draw(st.booleans()):
        lines = banner(lines)
    return name, lines


@pytest.mark.corpus
@fuzz(150)
@given(damaged())
def test_random_paste_damage_keeps_the_record(case: tuple[str, list[str]]) -> None:
    name, lines = case
    assert _parse_text(lines, "fuzz") == clean(name), name
