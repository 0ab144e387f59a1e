"""Failure injection for the trtexec double: matching ``fail`` entries and writing real failure messages.

Messages follow reference §5 for the version family (8.x wording vs 10.x/11.x wording).
"""

from __future__ import annotations

import os
import resource
import signal
import time

from tdouble_log import Out, reached

MODES = ("oom", "unsupported_op", "crash", "hang", "parse_error")


def matching(fails: list[dict], phase: str, argv_text: str, precision: str, batch: int) -> dict | None:
    """First ``fail`` entry whose ``when`` holds for this phase (``build`` or ``run``), else None.

    ``when`` may be a string (substring of the argv) or a dict with any of ``argv`` (substring),
    ``precision``, ``batch`` and ``phase``; every given key must match.
    """
    for entry in fails:
        mode = entry.get("mode")
        if mode not in MODES or (phase == "run" and mode in ("unsupported_op", "parse_error")):
            continue
        when = entry.get("when") or {}
        if isinstance(when, str):
            when = {"argv": when}
        if "argv" in when and when["argv"] not in argv_text:
            continue
        if "precision" in when and when["precision"] != precision:
            continue
        if "batch" in when and int(when["batch"]) != batch:
            continue
        if when.get("phase", phase) != phase:
            continue
        return entry
    return None


def _tail(out: Out, lines: list[str]) -> int:
    for line in lines:
        out.e(line)
    out.status("FAILED")
    return 1


def oom(out: Out, phase: str) -> int:
    out.e("Error[1]: [defaultAllocator.cpp::allocate::31] Error Code 1: Cuda Runtime (out of memory)")
    if phase == "run":
        return _tail(out, ["Unable to create execution context for stream 0.", "Inference set up failed"])
    out.w(
        "[TRT] Requested amount of GPU memory (15485030400 bytes) could not be allocated. There may not be "
        "enough free memory for allocation to succeed."
    )
    out.e(
        "Error[9]: Error Code: 9: Skipping tactic 0x0000000000000000 due to exception "
        "[tunable_graph.cpp:create:117] autotuning: User allocator error allocating 15485030400-byte buffer"
    )
    node = "{ForeignNode[/conv1/Conv.../fc/Gemm]}"
    if reached(out.version, (10, 0)):
        out.e(
            "Error[10]: IBuilder::buildSerializedNetwork: Error Code 10: Internal Error (Could not find any "
            f"implementation for node {node}.)"
        )
    else:
        out.e(
            "Error[10]: [optimizer.cpp::computeCosts::3869] Error Code 10: Internal Error (Could not find "
            "any "
            f"implementation for node {node}.)"
        )
        out.e(
            "Error[2]: [builder.cpp::buildSerializedNetwork::751] Error Code 2: Internal Error (Assertion "
            "engine != nullptr failed. )"
        )
    return _tail(
        out,
        [
            "Engine could not be created from network",
            "Building engine failed",
            "Failed to create engine from model or file.",
            "Engine set up failed",
        ],
    )


def _node_dump(out: Out, op: str) -> None:
    for line in ('input: "input"', f'output: "{op}_out"', f'name: "{op}_0"', f'op_type: "{op}"', ""):
        out.raw(line, err=True)


def unsupported_op(out: Out, op: str) -> int:
    if reached(out.version, (10, 0)):
        out.i(
            f"[TRT] Plugin not found with node attribute namespace: using pluginName: {op}, pluginVersion: "
            "1, "
            "pluginNamespace:"
        )
        out.e(f'[TRT] ModelImporter.cpp:138: While parsing node number 0 [{op} -> "{op}_out"]:')
        out.e("[TRT] ModelImporter.cpp:140: --- Begin node ---")
        _node_dump(out, op)
        out.e("[TRT] ModelImporter.cpp:141: --- End node ---")
        out.e(
            "[TRT] ModelImporter.cpp:149: ERROR: onnxOpCheckers.cpp:923 In function "
            "checkFallbackPluginImporter:"
        )
        out.raw(
            '[6] creator && "Plugin not found, are the plugin name, version, and namespace correct?"',
            err=True,
        )
        out.e("Failed to parse onnx file")
        out.i("Finished parsing network model. Parse time: 0.00104328")
    else:
        out.i(f"[TRT] No importer registered for op: {op}. Attempting to import as plugin.")
        out.i(f"[TRT] Searching for plugin: {op}, plugin_version: 1, plugin_namespace: ")
        out.e(f"[TRT] 3: getPluginCreator could not find plugin: {op} version: 1")
        out.e(f'[TRT] ModelImporter.cpp:771: While parsing node number 0 [{op} -> "{op}_out"]:')
        out.e("[TRT] ModelImporter.cpp:772: --- Begin node ---")
        _node_dump(out, op)
        out.e("[TRT] ModelImporter.cpp:773: --- End node ---")
        out.e(
            "[TRT] ModelImporter.cpp:776: ERROR: builtin_op_importers.cpp:5404 In function "
            "importFallbackPluginImporter:"
        )
        out.raw(
            '[8] Assertion failed: creator && "Plugin not found, are the plugin name, version, and namespace '
            'correct?"',
            err=True,
        )
        out.e("Failed to parse onnx file")
        out.i("Finish parsing network model")
    return _tail(
        out, ["Parsing model failed", "Failed to create engine from model or file.", "Engine set up failed"]
    )


def parse_error(out: Out) -> int:
    out.e('[TRT] ModelImporter.cpp:771: While parsing node number 3 [Resize -> "resize_out"]:')
    out.e("[TRT] ModelImporter.cpp:776: ERROR: builtin_op_importers.cpp:3422 In function importResize:")
    out.raw('[8] Assertion failed: (outDims.nbDims == 1) && "The scales input must be 1D."', err=True)
    out.e("Failed to parse onnx file")
    return _tail(
        out, ["Parsing model failed", "Failed to create engine from model or file.", "Engine set up failed"]
    )


def crash(out: Out, entry: dict) -> int:
    """Die by a signal like a real segfault/abort (no FAILED line); core dumps disabled first."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    sig = (
        signal.SIGABRT
        if str(entry.get("signal", "SIGSEGV")).upper() in ("SIGABRT", "ABORT")
        else signal.SIGSEGV
    )
    out.raw(
        "Segmentation fault"
        if sig == signal.SIGSEGV
        else "terminate called after throwing an instance of 'std::runtime_error'",
        err=True,
    )
    signal.signal(sig, signal.SIG_DFL)
    os.kill(os.getpid(), sig)
    time.sleep(10)
    return 139


def hang() -> int:
    while True:
        time.sleep(3600)


def inject(out: Out, entry: dict, phase: str) -> int:
    mode = entry["mode"]
    if mode == "oom":
        return oom(out, phase)
    if mode == "unsupported_op":
        return unsupported_op(out, str(entry.get("op", "CustomOp")))
    if mode == "parse_error":
        return parse_error(out)
    if mode == "crash":
        return crash(out, entry)
    return hang()
