"""Apply the schema to composed YAML nodes: plain values out, every problem with its file:line:col.

The checker works on *nodes* rather than on constructed Python objects because only nodes keep the
``start_mark`` that locates a problem. Only plain YAML types are accepted: any tag that would build an
object (``!!python/object``, custom ``!tags``) is itself a problem, so loading is always safe.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml

from trtsweep.sweeps.schema import (
    BATCH_TOKEN,
    Field,
    FlagSets,
    Kind,
    MapOf,
    OneOrMany,
    Problem,
    Scalar,
    Section,
    Seq,
    in_range,
    normalize_number,
    show,
    suggest,
)

BAD: Any = type("Bad", (), {"__repr__": lambda self: "BAD"})()  # marks a value that failed its check

_STD = "tag:yaml.org,2002:"
_SCALAR_TAGS = {_STD + t for t in ("str", "int", "float", "bool", "null")}
_TAG_NAME = {_STD + "str": "a string", _STD + "int": "an integer", _STD + "float": "a number",
             _STD + "bool": "a boolean", _STD + "null": "null", _STD + "seq": "a list",
             _STD + "map": "a mapping"}
_CONSTRUCT = yaml.constructor.SafeConstructor()

Path_ = tuple[str | int, ...]
MAX_NODES = 200_000


def where(path: Path_) -> str:
    """``("models", 0, "inputs")`` -> ``models[0].inputs`` (``top level`` for the root)."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "top level"


@dataclass
class Checker:
    """Walks YAML nodes against a :data:`Kind`, returning plain values and collecting problems.

    ``marks`` maps each checked path to its node's start mark so later cross-field checks
    (in spec.py) can still point at the right line.
    """

    file: str
    problems: list[Problem] = field(default_factory=list)
    marks: dict[Path_, yaml.Mark] = field(default_factory=dict)
    _open: set[int] = field(default_factory=set)  # ids of nodes being checked: catches `&a [*a]`
    _visits: int = 0

    def error(self, mark: yaml.Mark | None, message: str) -> None:
        if mark is None:
            self.problems.append(Problem(self.file, None, None, message))
        else:
            self.problems.append(Problem(self.file, mark.line + 1, mark.column + 1, message))

    def error_at(self, path: Path_, message: str) -> None:
        """Report at the mark of an already checked path (or its closest checked parent)."""
        while path and path not in self.marks:
            path = path[:-1]
        self.error(self.marks.get(path), message)

    def check(self, node: yaml.Node, kind: Kind, path: Path_) -> Any:
        self.marks[path] = node.start_mark
        if not self._tag_ok(node, path):
            return BAD
        # Aliases can make a tiny file expand to a cycle or to billions of nodes ("billion laughs").
        self._visits += 1
        if id(node) in self._open or self._visits > MAX_NODES:
            self.error(node.start_mark, f"{where(path)}: recursive or excessively repeated YAML alias")
            return BAD
        self._open.add(id(node))
        try:
            return self._dispatch(node, kind, path)
        finally:
            self._open.discard(id(node))

    def _dispatch(self, node: yaml.Node, kind: Kind, path: Path_) -> Any:
        handlers: dict[type, Callable[..., Any]] = {
            Scalar: self._scalar, Seq: self._seq, MapOf: self._mapof, Section: self._section,
            OneOrMany: self._one_or_many, FlagSets: self._flagsets,
        }
        handler = handlers[type(kind)]
        return handler(node, kind, path)

    def _tag_ok(self, node: yaml.Node, path: Path_) -> bool:
        # Safe loading: only plain YAML types; no tag may construct objects (!!python/..., !custom).
        if node.tag in _SCALAR_TAGS or node.tag in (_STD + "seq", _STD + "map"):
            return True
        tag = node.tag.replace(_STD, "!!")
        self.error(node.start_mark,
                   f"tag '{tag}' is not allowed in {where(path)}; use plain YAML values")
        return False

    def _got(self, node: yaml.Node) -> str:
        if isinstance(node, yaml.ScalarNode):
            return f"'{node.value}' ({_TAG_NAME.get(node.tag, node.tag)})"
        return _TAG_NAME.get(node.tag, node.tag)

    def _scalar(self, node: yaml.Node, kind: Scalar, path: Path_) -> Any:
        expected = f"{where(path)} must be {kind.expected()}"
        if not isinstance(node, yaml.ScalarNode):
            self.error(node.start_mark, f"{expected}, got {self._got(node)}")
            return BAD
        if node.tag == _STD + "null":
            if kind.nullable:
                return None
            self.error(node.start_mark, f"{expected}, got nothing (null)")
            return BAD
        if kind.type in ("str", "path"):
            value: Any = node.value  # the text as written: `version: 10.3` stays "10.3"
            if kind.type == "path" and not value.strip():
                self.error(node.start_mark, f"{expected}, got an empty string")
                return BAD
        elif kind.type == "dim" and node.tag == _STD + "str":
            if node.value != BATCH_TOKEN:
                self.error(node.start_mark, f"{expected}, got {self._got(node)}")
                return BAD
            return BATCH_TOKEN
        else:
            value = _CONSTRUCT.construct_object(node)
            ok = {"int": (int,), "dim": (int,), "float": (int, float), "bool": (bool,)}[kind.type]
            if isinstance(value, bool) and kind.type != "bool" or not isinstance(value, ok):
                self.error(node.start_mark, f"{expected}, got {self._got(node)}")
                return BAD
            if isinstance(value, float) and not math.isfinite(value):
                # .nan/.inf would become trtexec flags such as --warmUp=nan (and NaN passes every range)
                self.error(node.start_mark, f"{expected} (a finite number), got {node.value}")
                return BAD
            value = normalize_number(value)
            minimum = 1 if kind.type == "dim" else kind.minimum
            if (minimum is not None and value < minimum) or not in_range(kind, value):
                self.error(node.start_mark, f"{expected}, got {show(value)}")
                return BAD
        if kind.choices and value not in kind.choices:
            self.error(node.start_mark, f"unknown value '{node.value}' in {where(path)}"
                       f"{suggest(str(node.value), tuple(show(c) for c in kind.choices))}")
            return BAD
        return value

    def _seq(self, node: yaml.Node, kind: Seq, path: Path_) -> Any:
        if not isinstance(node, yaml.SequenceNode):
            self.error(node.start_mark, f"{where(path)} must be a list, got {self._got(node)}")
            return BAD
        if len(node.value) < kind.min_items:
            self.error(node.start_mark, f"{where(path)} needs at least {kind.min_items} item(s)")
            return BAD
        items = [self.check(item, kind.item, (*path, i)) for i, item in enumerate(node.value)]
        if kind.unique:
            self._no_duplicates(node.value, items, path)
        return BAD if any(v is BAD for v in items) else tuple(items)

    def _no_duplicates(self, nodes: list[yaml.Node], values: list[Any], path: Path_) -> None:
        seen: list[Any] = []
        for item_node, value in zip(nodes, values, strict=True):
            if value is not BAD and value in seen:
                self.error(item_node.start_mark, f"duplicate value {show(value)} in {where(path)}")
            seen.append(value)

    def _pairs(self, node: yaml.Node, path: Path_) -> list[tuple[yaml.Node, yaml.Node]] | None:
        if isinstance(node, yaml.ScalarNode) and node.tag == _STD + "null":
            return []  # `run:` with nothing under it means "all defaults"
        if not isinstance(node, yaml.MappingNode):
            self.error(node.start_mark, f"{where(path)} must be a mapping, got {self._got(node)}")
            return None
        return node.value

    def _mapof(self, node: yaml.Node, kind: MapOf, path: Path_) -> Any:
        pairs = self._pairs(node, path)
        if pairs is None:
            return BAD
        out: dict[Any, Any] = {}
        bad = False
        for key_node, value_node in pairs:
            key = self.check(key_node, kind.key, (*path, "<key>"))
            if key is BAD:
                bad = True
                continue
            if key in out:
                self.error(key_node.start_mark, f"duplicate key '{key_node.value}' in {where(path)}")
                bad = True
                continue
            out[key] = self.check(value_node, kind.value, (*path, key))
            bad = bad or out[key] is BAD
        return BAD if bad else out

    def _section(self, node: yaml.Node, kind: Section, path: Path_) -> Any:
        pairs = self._pairs(node, path)
        if pairs is None:
            return BAD
        fields = {f.name: f for f in kind.fields}
        out: dict[str, Any] = {}
        bad = False
        for key_node, value_node in pairs:
            name = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if name not in fields:
                self.error(key_node.start_mark, f"unknown key '{name}' in {where(path)}"
                           f"{suggest(str(name), kind.names())}")
                bad = True
                continue
            if name in out:
                self.error(key_node.start_mark, f"duplicate key '{name}' in {where(path)}")
                bad = True
                continue
            out[name] = self.check(value_node, fields[name].kind, (*path, name))
            bad = bad or out[name] is BAD
        for f in kind.fields:
            if f.name in out:
                continue
            if f.required:
                self.error(node.start_mark, f"missing required key '{f.name}' in {where(path)}")
                bad = True
            elif kind.fill_defaults:
                out[f.name] = _default(f)
        return BAD if bad else out

    def _one_or_many(self, node: yaml.Node, kind: OneOrMany, path: Path_) -> Any:
        if isinstance(kind.item, FlagSets):
            return self._dispatch(node, kind.item, path)
        if not isinstance(node, yaml.SequenceNode):
            value = self._dispatch(node, kind.item, path)
            return BAD if value is BAD else (value,)
        return self._seq(node, Seq(kind.item, min_items=1, unique=True), path)

    def _flagsets(self, node: yaml.Node, kind: FlagSets, path: Path_) -> Any:
        if isinstance(node, yaml.ScalarNode):
            flag = self._flag(node, path)
            return BAD if flag is BAD else ((flag,),)
        if not isinstance(node, yaml.SequenceNode):
            self.error(node.start_mark, f"{where(path)} must be a list of flags, got {self._got(node)}")
            return BAD
        if node.value and all(isinstance(n, yaml.SequenceNode) for n in node.value):
            sets = []
            for i, sub in enumerate(node.value):
                flags = tuple(self._flag(n, (*path, i, j)) for j, n in enumerate(sub.value))
                sets.append(flags)
            result: Any = tuple(sets)
            if not any(BAD in s for s in sets):
                self._no_duplicates(node.value, sets, path)
        else:
            flags = tuple(self._flag(n, (*path, i)) for i, n in enumerate(node.value))
            result = (flags,)
        return BAD if any(BAD in s for s in result) else result

    def _flag(self, node: yaml.Node, path: Path_) -> Any:
        self.marks[path] = node.start_mark
        if not isinstance(node, yaml.ScalarNode) or node.tag == _STD + "null":
            self.error(node.start_mark, f"{where(path)} must be a trtexec flag string, got {self._got(node)}")
            return BAD
        name = node.value.split("=", 1)[0]
        # trtexec splits each argv item at the first '=' only; '--iterations 100' is one unknown option.
        if not name.startswith("-") or not name.lstrip("-") or any(c.isspace() for c in name):
            self.error(node.start_mark, f"'{node.value}' in {where(path)} is not a trtexec flag; "
                       "write '--name' or '--name=value' (no space before the value)")
            return BAD
        owner = _flag_owner(name, node.value)
        if owner is not None:
            # A variant labelled fp32 whose flags add --fp16 is an FP16 engine under the wrong name.
            self.error(node.start_mark, f"'{node.value}' in {where(path)} sets what {owner}; remove it "
                       "here so every variant is labelled by what it ran")
            return BAD
        return node.value


# Flags trtsweep sets itself, from an axis or from the run folder: free flags must not override them.
_AXIS_FLAGS = {
    **{f: "the precision axis sets (matrix.precision)" for f in (
        "--fp16", "--bf16", "--int8", "--fp8", "--int4", "--best", "--noTF32", "--stronglyTyped")},
    **{f: "the cuda_graph axis sets (matrix.cuda_graph)" for f in ("--useCudaGraph", "--noCudaGraph")},
    **{f: "the spin_wait axis sets (matrix.spin_wait)" for f in ("--useSpinWait", "--noSpinWait")},
    **{f: "the data_transfers axis sets (matrix.data_transfers)"
       for f in ("--noDataTransfers", "--includeDataTransfers")},
    "--threads": "the threads axis sets (matrix.threads)",
    **{f: "the streams axis sets (matrix.streams)" for f in ("--streams", "--infStreams")},
    **{f: "the batch and shapes axes and models[].inputs set"
       for f in ("--shapes", "--minShapes", "--optShapes", "--maxShapes", "--batch", "--maxBatch")},
    "--builderOptimizationLevel": "the builder_optimization_level axis sets",
    "--workspace": "the workspace_mib axis sets (matrix.workspace_mib)",
    "--device": "--gpus sets (trtsweep pins each step to its GPU)",
    **{f: "trtsweep sets to write the step's files" for f in (
        "--onnx", "--loadEngine", "--saveEngine", "--exportTimes", "--exportProfile", "--exportLayerInfo",
        "--timingCacheFile")},
}


def _flag_owner(name: str, text: str) -> str | None:
    """What sets a free flag already (an axis, trtsweep itself), or None when it is free to use."""
    if name == "--memPoolSize":
        return "the workspace_mib axis sets (matrix.workspace_mib)" if "workspace" in text else None
    return _AXIS_FLAGS.get(name) or _AXIS_FLAGS.get("--" + name.lstrip("-"))


def _default(f: Field) -> Any:
    """What an absent key means; an absent section whose default is ``{}`` has every key at its default."""
    if isinstance(f.kind, Section) and f.default == {}:
        return {g.name: _default(g) for g in f.kind.fields if not g.required}
    return f.default
