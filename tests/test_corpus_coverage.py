"""Every corpus file (all MANIFEST kinds, TensorRT 7.x to 10.x) parses through the content-sniffing
dispatcher into the kind its MANIFEST entry names, with no exception."""

from __future__ import annotations

import pytest
from corpus_location import CORPUS, manifest

from trtsweep.parsers import parse_file

# MANIFEST kind -> record kinds the dispatcher may give it.
EXPECTED = {
    "trtexec_log": {"trtexec_log"},
    "trtexec_verbose_log": {"trtexec_log"},
    "trtexec_failed_log": {"trtexec_log"},
    "trtexec_help": {"trtexec_log"},  # help output carries the RUNNING banner: a run with no metrics
    "export_times_json": {"export_times"},
    "export_profile_json": {"export_profile"},
    "export_layerinfo_json": {"export_layer_info"},
    "polygraphy_output": {"polygraphy_run", "polygraphy_inspect"},
}
ENTRIES = sorted(manifest().items())


@pytest.mark.corpus
@pytest.mark.parametrize(("name", "entry"), ENTRIES, ids=[n for n, _ in ENTRIES])
def test_corpus_file_parses_to_its_kind(name, entry):
    records = parse_file(CORPUS / name)
    assert records
    assert {r.kind for r in records} <= EXPECTED[entry["kind"]], (name, [r.kind for r in records])


@pytest.mark.corpus
def test_corpus_covers_every_kind_and_five_versions():
    kinds = {e["kind"] for _, e in ENTRIES}
    assert kinds == set(EXPECTED)
    versions = set()
    for name, _entry in ENTRIES:
        for rec in parse_file(CORPUS / name):
            if rec.trt_version:
                versions.add(tuple(int(p) for p in rec.trt_version.split(".")[:2]))
    majors = {v[0] for v in versions}
    assert len(versions) >= 5 and 10 in majors and 8 in majors, versions


@pytest.mark.corpus
def test_help_text_version_from_its_banner():
    # hackcn__trt8.6.1_Help.txt: "&&&& PASSED TensorRT.trtexec [TensorRT v8601] # trtexec"
    (rec,) = parse_file(CORPUS / "hackcn__trt8.6.1_Help.txt")
    assert rec.trt_version == "8.6.1"
    assert rec.throughput_qps is None


@pytest.mark.corpus
def test_failed_logs_name_their_cause():
    by_name = {name: parse_file(CORPUS / name)[-1]
               for name, e in ENTRIES if e["kind"] == "trtexec_failed_log"}
    # hackcn__trt10.16.0_result-08-FAILED.log: "Plugin not found, are the plugin name, version, and ..."
    # for the custom op AddScalar: a plugin the run needs is missing.
    assert by_name["hackcn__trt10.16.0_result-08-FAILED.log"].failure == "plugin_missing"
    # clawmachine tail: "[E] Failed to parse onnx file" after an IOneHotLayer error.
    assert by_name["clawmachine__trt10.3.0_nanosam_decoder_parse_FAILED_tail.log"].failure == "parse_error"
    # hackcn__trt8.2.3_result-FP16-FAILED.txt ends in "&&&& FAILED" with no [E] line: nothing names a cause.
    assert by_name["hackcn__trt8.2.3_result-FP16-FAILED.txt"].failure == "other"
