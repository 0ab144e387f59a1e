"""Building blocks of the Polygraphy parser: value parsing, failure classes, multi-line block readers.

Polygraphy prints a multi-line report as one log line (``[I] ==== ONNX Model ====``) followed by
indented continuation lines.  Each reader here takes those continuation lines one at a time, so a
report with megabytes of initializer values is read in constant memory.
"""

from __future__ import annotations

import math
import re
from typing import Any

from .sniff import kind_of, subcommand_of

__all__ = ["kind_of", "subcommand_of"]  # re-exported: they moved to .sniff (imported without this module)

Shape = list[int | str]

_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?(?:nan|inf)"
# "mean=0.1, std-dev=0.2, ..., min=0 at (0, 1), max=3 at (2, 4)": only key=number pairs matter.
_STAT_PAIR = re.compile(rf"(?<![\w-])([A-Za-z][\w-]*)=({_NUM})(?![\w.])")
_INT = re.compile(r"[-+]?\d+")
# "y [dtype=float32, shape=(4, 10)]" or "z [dtype=int64, shape=(-1,), Format: Int64]" or "x [shape=(1, 3)]".
# The name is lazy so that names holding " [" (TensorRT's "(Unnamed Layer* 8) [Shuffle]_output") survive.
_TENSOR = re.compile(
    r"^(?P<name>.+?) \[(?:dtype=(?P<dtype>[^,\]]+), )?shape=(?P<shape>\([^)]*\)|\[[^\]]*\]|[^,\]]+)"
    r"(?:, [^\]]*)?\]$"
)
_MAX_ITEM = 4096
_SECTION = re.compile(r"^---- (?:(\d+) )?(.+?) ----$")
_NAME_LINE = re.compile(r"^Name: (?P<name>.*?)(?: \| (?P<rest>.*))?$")
_OPSET = re.compile(r"ONNX Opset: (\d+)")
_LAYER_TOTAL = re.compile(r"\((\d+) layers?\)\s*$")
_NODE = re.compile(r"^(?:Node|Layer) \d+\s+\| ")
_PROFILE_MARK = re.compile(r"^- Profile: (\d+)")
# "Tensor: x   (Input), Index: 0 | Shapes: min=(1, 2), opt=(..), max=(..)" (0.4x) and
# "Binding Index: 0 (Input)  [Name: x]  | Shapes: ..." (0.3x); names are cut out with str.find, because a
# regex with a lazy name before padding spaces backtracks cubically on long garbage lines.
_SHAPES = re.compile(r"min=(?P<min>\([^)]*\)), opt=(?P<opt>\([^)]*\)), max=(?P<max>\([^)]*\))")
_DEVICE_MEMORY = re.compile(r"^Device Memory: (\d+) bytes")
_DATA_TENSOR = re.compile(r"^(?P<tensor>.+?\]) \| Stats: ")
_RESULTS_RUNNER = re.compile(r"^---- (?P<name>.+?) \((?P<n>\d+) iterations?\) ----$")
# "Profile().add('x', min=[1, 2], opt=[...], max=[...])" (0.3x-0.47) and "{x [min=[..], opt=[..], max=[..]]}".
_PROFILE_ADD = re.compile(
    r"add\(\s*'?(?P<name>[^',]+?)'?, "
    r"min=(?P<min>\[[^\]]*\]), opt=(?P<opt>\[[^\]]*\]), max=(?P<max>\[[^\]]*\])"
)
_PROFILE_BRACE = re.compile(
    r"^\{?(?P<name>.+?) \[min=(?P<min>\[[^\]]*\]), opt=(?P<opt>\[[^\]]*\]), max=(?P<max>\[[^\]]*\])\]"
)
_PROFILE_N = re.compile(r"^Profile (\d+):")

# Failure classes, tried in this order over all error lines: the most specific cause wins, e.g. an
# UNSUPPORTED_NODE line beats the generic "Could not parse ONNX" that always follows it.
FAILURE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("oom", re.compile(
        r"out of memory|OutOfMemory|cudaErrorMemoryAllocation|insufficient (?:device |GPU )?memory"
        r"|Requested amount of GPU memory|failed to allocate", re.I)),
    ("unsupported_op", re.compile(
        r"UNSUPPORTED_NODE|No importer registered for op|No Op registered for|unsupported operator"
        r"|Unsupported ONNX", re.I)),
    ("plugin_missing", re.compile(
        r"Plugin not found|getPluginCreator could not find|could not find plugin|No plugin creator", re.I)),
    ("engine_mismatch", re.compile(
        r"Version tag does not match|Serialization assertion|deserializ\w* failed|not compatible with this"
        r"|magicTag", re.I)),
    ("shape_error", re.compile(
        r"shape mismatch|invalid shape|incompatible shape|unexpected shape|setInputShape"
        r"|setBindingDimensions|out of bounds of the profile|not within the bounds|dimensions? mismatch"
        r"|missing dimensions in profile",
        re.I)),
    ("invalid_argument", re.compile(
        r"unrecognized arguments|invalid choice|error: argument|usage: polygraphy")),
    ("parse_error", re.compile(
        r"Could not parse|Failed to parse|parse error|While parsing node|INVALID_GRAPH|INVALID_NODE", re.I)),
    ("timeout", re.compile(r"timed out|timeout expired", re.I)),
    ("crash", re.compile(
        r"Segmentation fault|core dumped|Traceback \(most recent call last\)|SIGSEGV|SIGABRT"
        r"|illegal memory access", re.I)),
)


def parse_float(text: str | None) -> float | None:
    """A finite float from printed text, else None (NaN/inf are not JSON, and mean 'no value' here)."""
    if text is None:
        return None
    try:
        value = float(text.strip().rstrip("."))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def parse_shape(text: str | None) -> Shape | None:
    """``(1, 'nBS', -1)`` / ``[32, 1]`` -> ``[1, 'nBS', -1]``; None when the text is not a shape."""
    if text is None:
        return None
    t = text.strip()
    if len(t) < 2 or t[0] not in "([" or t[-1] not in ")]":
        return None
    dims: Shape = []
    for part in t[1:-1].split(","):
        p = part.strip()
        if not p:
            continue
        dims.append(int(p) if _INT.fullmatch(p) else p.strip("'\""))
    return dims


def parse_tensor(text: str) -> dict[str, Any] | None:
    """One tensor item of a Polygraphy list (``{x [dtype=float32, shape=(1, 2)],``): {name, dtype, shape}."""
    if len(text) > _MAX_ITEM:  # no real tensor line is this long; keeps the regex cost bounded
        return None
    item = text.strip().rstrip(",").strip()
    item = item.removeprefix("{").removesuffix("}").strip()
    if item.startswith("Initializer | "):
        return None
    m = _TENSOR.match(item)
    if m is None:
        return None
    return {"name": m["name"].strip(), "dtype": m["dtype"], "shape": parse_shape(m["shape"])}


def parse_stats(text: str) -> dict[str, float | None]:
    """The ``key=number`` pairs of a Polygraphy ``Stats:`` line (non-finite values become None)."""
    return {m[1]: parse_float(m[2]) for m in _STAT_PAIR.finditer(text)}


def parse_int_list(text: str) -> list[int] | None:
    """``[1, 3, 224, 224]`` -> list of int, None if any element is not an int."""
    dims = parse_shape(text)
    if dims is None or not all(isinstance(d, int) for d in dims):
        return None
    return [int(d) for d in dims]


def classify_failure(lines: list[str]) -> tuple[str, str] | None:
    """The failure class and the line showing it, from error lines; None when no pattern applies."""
    for cls, pattern in FAILURE_PATTERNS:
        for line in lines:
            if pattern.search(line):
                return cls, line
    return None


class ModelBlock:
    """Reads a model report: ``==== ONNX Model ====``, ``==== TensorRT Engine/Network ====``,
    ``Minimum Bad Model:``, and the per-runner ``---- Inference Input(s)/Output(s) ----`` lists."""

    def __init__(self, kind: str | None) -> None:
        self.kind = kind
        self.name: str | None = None
        self.opset: int | None = None
        self.inputs: list[dict[str, Any]] = []
        self.outputs: list[dict[str, Any]] = []
        self.declared: dict[str, int] = {}
        self.op_counts: dict[str, int] = {}
        self.listed = 0
        self.profiles: list[dict[str, Any]] = []
        self.device_memory_bytes: int | None = None
        self._section: str | None = None
        self._layer_profile: int | None = None

    def feed(self, line: str) -> None:
        """Take one continuation line of the report."""
        s = line.strip()
        if not s:
            return
        m = _SECTION.match(s)
        if m:
            section = _section_of(m[2])
            if section is None:  # "---- Attributes ----" etc. live inside a node listing
                return
            self._section = section
            self._layer_profile = None
            if m[1] is not None:
                self.declared[section] = int(m[1])
            return
        sec = self._section
        if sec is None:
            m = _NAME_LINE.match(s)
            if m:
                self.name = m["name"]
                opset = _OPSET.search(m["rest"] or "")
                self.opset = int(opset[1]) if opset else self.opset
                # Older Polygraphy: "Name: Unnamed Network 0 | Explicit Batch Engine (48 layers)".
                layers = _LAYER_TOTAL.search(m["rest"] or "")
                if layers:
                    self.declared.setdefault("layers", int(layers[1]))
        elif sec in ("inputs", "outputs"):
            tensor = parse_tensor(s)
            if tensor is not None:
                (self.inputs if sec == "inputs" else self.outputs).append(tensor)
        elif sec in ("nodes", "layers"):
            self._feed_node(s)
        elif sec == "profiles":
            self._feed_profile(s)
        elif sec == "memory":
            m = _DEVICE_MEMORY.match(s)
            if m:
                self.device_memory_bytes = int(m[1])

    def _feed_node(self, s: str) -> None:
        m = _PROFILE_MARK.match(s)
        if m:
            self._layer_profile = int(m[1])
            return
        # "Layer 3 | name [profile 1] [Op: CaskConvolution]": the op is the last bracket (found with
        # rfind rather than a regex, which backtracks quadratically on long garbage lines).
        at = s.rfind(" [Op: ")
        if not _NODE.match(s) or at < 0 or not s.endswith("]"):
            return
        # Engines with several profiles list every layer once per profile; counting only the first
        # profile keeps op_counts consistent with the printed layer count.
        if self._layer_profile in (None, 0):
            self.listed += 1
            op = s[at + 6 : -1].strip()
            self.op_counts[op] = self.op_counts.get(op, 0) + 1

    def _feed_profile(self, s: str) -> None:
        m = _PROFILE_MARK.match(s)
        if m:
            self.profiles.append({"profile": int(m[1]), "inputs": {}})
            return
        at = s.find("| Shapes: ")
        if at < 0 or not self.profiles or "(Input)" not in s[:at]:
            return
        m = _SHAPES.match(s, at + 10)
        if s.startswith("Tensor: "):
            name = s[8 : s.find("(Input)")].strip()
        elif "[Name: " in s[:at]:
            start = s.find("[Name: ") + 7
            name = s[start : s.find("]", start)].strip()
        else:
            return
        if m and name:
            self.profiles[-1]["inputs"][name] = {
                "min": parse_shape(m["min"]), "opt": parse_shape(m["opt"]), "max": parse_shape(m["max"]),
            }

    def truncated(self) -> bool:
        """True when the report lists fewer items than its own headers announce (a cut-short file)."""
        if len(self.inputs) < self.declared.get("inputs", 0) or len(self.outputs) < self.declared.get(
            "outputs", 0
        ):
            return True
        declared = self.declared.get("nodes", self.declared.get("layers", 0))
        # Without --show layers Polygraphy prints only the count: zero listed is not truncation.
        return 0 < self.listed < declared

    def summary(self) -> dict[str, Any]:
        """The JSON-ready model facts (used for the Minimum Bad Model of ``debug reduce``)."""
        return {
            "name": self.name,
            "opset": self.opset,
            "inputs": self.inputs or None,
            "outputs": self.outputs or None,
            "node_count": self.declared.get("nodes"),
            "initializer_count": self.declared.get("initializers"),
        }


def _section_of(title: str) -> str | None:
    # "Engine Input(s)" (0.3x+) and "Engine Inputs" (older Polygraphy, as TAO's containers ship it).
    if title.endswith(("Input(s)", "Inputs")):
        return "inputs"
    if title.endswith(("Output(s)", "Outputs")):
        return "outputs"
    if title.startswith("Initializer"):
        return "initializers"
    if title.startswith(("Node(s)", "Nodes")):
        return "nodes"
    if title.startswith(("Layer(s)", "Layers")):
        return "layers"
    if title.startswith(("Profile(s)", "Profiles")):
        return "profiles"
    if title == "Memory":
        return "memory"
    if title in ("Attributes", "Histogram", "Values"):
        return None
    return "other"


class DataBlock:
    """Reads ``inspect data`` reports: ``==== Data (N iterations) ====`` and ``==== Run Results ====``."""

    def __init__(self, results: bool) -> None:
        self.results = results
        self.tensors: list[dict[str, Any]] = []
        self.runners: list[dict[str, Any]] = []

    def feed(self, line: str) -> None:
        """Take one continuation line of the report."""
        s = line.strip()
        m = _RESULTS_RUNNER.match(s)
        if m:
            self.runners.append({"name": m["name"], "iterations": int(m["n"])})
            return
        m = _DATA_TENSOR.match(s)
        if m:
            tensor = parse_tensor(m["tensor"])
            if tensor is not None:
                self.tensors.append(tensor)


class ProfileConfigBlock:
    """Reads ``Configuring with profiles: ...``: the min/opt/max shapes a run built its engine with."""

    def __init__(self, head: str) -> None:
        self.profiles: list[dict[str, Any]] = []
        # Old form: everything on the head line, one "Profile()" per optimisation profile.
        for index, chunk in enumerate(head.split("Profile()")[1:]):
            profile: dict[str, Any] = {"profile": index, "inputs": {}}
            for m in _PROFILE_ADD.finditer(chunk):
                profile["inputs"][m["name"].strip()] = _min_opt_max(m)
            self.profiles.append(profile)

    def feed(self, line: str) -> None:
        """Take one continuation line (0.48+ prints ``Profile 0:`` then ``{x [min=.., opt=.., max=..]}``)."""
        s = line.strip()
        m = _PROFILE_N.match(s)
        if m:
            self.profiles.append({"profile": int(m[1]), "inputs": {}})
            return
        m = _PROFILE_BRACE.match(s)
        if m and self.profiles:
            self.profiles[-1]["inputs"][m["name"].strip()] = _min_opt_max(m)


def _min_opt_max(m: re.Match[str]) -> dict[str, list[int] | None]:
    return {"min": parse_int_list(m["min"]), "opt": parse_int_list(m["opt"]), "max": parse_int_list(m["max"])}


class IgnoreBlock:
    """Swallows continuation lines nobody needs (captured sub-command output, histograms, values)."""

    def feed(self, line: str) -> None:
        """Ignore one continuation line."""
