"""``trtsweep inspect MODEL.onnx``: model facts through ONNX (and Polygraphy), no TensorRT needed.

:func:`inspect_onnx` gives inputs/outputs with their dynamic dimensions, the opsets, an op histogram
(subgraphs of Loop/If/Scan included) and the ops that commonly need a plugin or block fusion. With an
engine layer-info export (``--exportLayerInfo``, either the names-only or the detailed format) it adds
the fusion ratio (ONNX nodes per engine layer) and which ONNX nodes ended up in which engine layer.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import onnx

from trtsweep.records import LayerRecord

# Ops worth a look before building, with why. "plugin": may need a plugin or is unsupported in some
# TensorRT versions; "fusion": commonly breaks TensorRT's layer fusion or forces run-time shape work.
ATTENTION_OPS: dict[str, tuple[str, str]] = {
    "DeformConv": ("plugin", "no native layer in most TensorRT versions: needs a plugin"),
    "Unique": ("plugin", "not supported by the TensorRT ONNX parser"),
    "NonMaxSuppression": ("plugin", "data-dependent output shape; often replaced by the EfficientNMS plugin"),
    "RoiAlign": ("plugin", "native only from TensorRT 8.6; older versions need a plugin"),
    "GridSample": ("plugin", "native only from TensorRT 8.6; older versions need a plugin"),
    "NonZero": ("fusion", "data-dependent output shape: blocks fusion and static memory planning"),
    "OneHot": ("fusion", "cannot feed shape tensors (TensorRT error 'IIOneHotLayer cannot be used to "
                         "compute a shape tensor')"),
    "Loop": ("fusion", "control flow: the body runs as separate layers, no fusion across it"),
    "If": ("fusion", "control flow: both branches are built, no fusion across it"),
    "Scan": ("fusion", "control flow: the body runs as separate layers"),
    "ScatterND": ("fusion", "scatter kernels are slow and never fused"),
    "ScatterElements": ("fusion", "scatter kernels are slow and never fused"),
    "Einsum": ("fusion", "only some equations are supported; MatMul/Transpose rewrites fuse better"),
    "Where": ("fusion", "select (e.g. attention masks) often stays a separate layer"),
    "Cast": ("fusion", "type conversion between layers breaks element-wise fusion chains"),
    "Shape": ("fusion", "shape arithmetic (Shape/Gather/Concat/Reshape) runs at run time with dynamic "
                        "shapes; fold constants for static shapes"),
    "Range": ("fusion", "data-dependent shape computation"),
    "ConstantOfShape": ("fusion", "shape-dependent constant; fold it for static shapes"),
    "Resize": ("fusion", "dynamic scales or unusual modes can block fusion"),
    "TopK": ("fusion", "large K falls back to slow kernels"),
}
_STANDARD_DOMAINS = {"", "ai.onnx", "ai.onnx.ml", "com.microsoft.experimental"}
_MYELIN_SUFFIX = re.compile(r"_myl\d+_\d+$")
_FOREIGN = re.compile(r"ForeignNode\[(.+?)\.\.\.(.+?)\]")


def inspect_onnx(path: str | Path, layer_info: Path | None = None) -> dict[str, Any]:
    """Facts about an ONNX model (weights are not loaded); with ``layer_info``, its fusion by TensorRT.

    Raises FileNotFoundError for a missing file and ValueError for a file that is not an ONNX model.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{p}: no such file")
    try:
        model = onnx.load(str(p), load_external_data=False)
    except Exception as exc:  # noqa: BLE001 - protobuf raises several types for a non-ONNX file
        raise ValueError(f"{p}: not an ONNX model ({type(exc).__name__}: {exc})") from None
    nodes = list(_all_nodes(model.graph))
    histogram = Counter(n.op_type for n in nodes)
    initializers = {t.name for t in model.graph.initializer}
    custom = Counter((n.domain, n.op_type) for n in nodes if n.domain not in _STANDARD_DOMAINS)
    attention = [{"op": op, "count": histogram[op], "category": cat, "why": why}
                 for op, (cat, why) in ATTENTION_OPS.items() if histogram.get(op)]
    attention += [{"op": f"{domain}::{op}", "count": count, "category": "plugin",
                   "why": "custom-domain op: needs a TensorRT plugin with this name"}
                  for (domain, op), count in sorted(custom.items())]
    out: dict[str, Any] = {
        "model": str(p),
        "ir_version": model.ir_version,
        "producer": " ".join(x for x in (model.producer_name, model.producer_version) if x) or None,
        "opsets": {imp.domain or "ai.onnx": imp.version for imp in model.opset_import},
        "node_count": _node_count(model, nodes),
        "inputs": [_tensor(t) for t in model.graph.input if t.name not in initializers],
        "outputs": [_tensor(t) for t in model.graph.output],
        "op_histogram": dict(sorted(histogram.items(), key=lambda kv: (-kv[1], kv[0]))),
        "attention_ops": sorted(attention, key=lambda a: (a["category"] != "plugin", -a["count"])),
        "layer_info": None,
    }
    out["dynamic"] = any(d["dynamic"] for t in out["inputs"] for d in t["dims"])
    if layer_info is not None:
        layers, detailed = load_layer_info(layer_info)
        out["layer_info"] = map_layers([n.name for n in model.graph.node], layers, detailed)
        out["layer_info"]["source"] = str(layer_info)
    return out


def load_layer_info(path: Path) -> tuple[list[LayerRecord], bool]:
    """Engine layers of an ``--exportLayerInfo`` file, read by the export parser (names-only and detailed
    formats alike), and whether it is the detailed format (whose ``Metadata`` names the ONNX layers)."""
    from trtsweep.parsers.exports import parse_export

    records = parse_export(Path(path), "export_layer_info")
    rec = records[0] if records else None
    if rec is None or rec.kind != "export_layer_info" or not rec.layers:
        why = rec.failure_text if rec is not None and rec.failure_text else "no 'Layers' list"
        raise ValueError(f"{path}: {why}: not an --exportLayerInfo file")
    return rec.layers, rec.options.get("verbosity") == "detailed"


def map_layers(onnx_names: list[str], layers: list[LayerRecord], by_metadata: bool = False) -> dict[str, Any]:
    """Which ONNX nodes each engine layer holds, the fusion ratio, and the ONNX nodes no layer names.

    From the layer's ``Metadata`` when the export has it (the parser's ``fused_from``), else from its
    name: ``a + b + PWN(c)`` parts, ``ForeignNode[first...last]`` ranges (ONNX graph order) and Myelin
    suffixes (``name_myl0_1``).
    """
    known = set(onnx_names)
    order = {name: i for i, name in enumerate(onnx_names)}
    compute = [x for x in layers if not x.is_reformat]
    mapping: dict[str, list[str]] = {}
    for layer in compute:
        mapping[layer.name] = _names_in(layer, known, onnx_names, order)
    covered = {n for names in mapping.values() for n in names}
    fused = {name: names for name, names in mapping.items() if len(names) > 1}
    named = any(onnx_names)
    return {
        "engine_layers": len(compute),
        "reformat_layers": len(layers) - len(compute),
        "onnx_nodes": len(onnx_names),
        "onnx_nodes_named": named,
        "fusion_ratio": round(len(onnx_names) / len(compute), 3) if compute else None,
        "mapped_by": "metadata" if by_metadata else "names",
        "layers": mapping,
        "fused_layers": len(fused),
        "largest_fusions": sorted(fused.items(), key=lambda kv: -len(kv[1]))[:5],
        "unmapped_onnx_nodes": [n for n in onnx_names if n and n not in covered],
        "layers_without_onnx": [name for name, names in mapping.items() if not names],
    }


def render_inspect_text(info: dict[str, Any]) -> str:
    """Plain text for ``trtsweep inspect``."""
    lines = [f"Model: {info['model']}"]
    if info.get("producer"):
        lines.append(f"Producer: {info['producer']}")
    lines.append("Opsets: " + ", ".join(f"{d} {v}" for d, v in info["opsets"].items()))
    lines.append(f"Nodes: {info['node_count']}" + (" (dynamic shapes)" if info.get("dynamic") else ""))
    for kind in ("inputs", "outputs"):
        lines.append(f"{kind.capitalize()}:")
        for t in info[kind]:
            dims = "x".join(str(d["value"]) if d["value"] is not None else (d["param"] or "?")
                            for d in t["dims"])
            dyn = [str(d["param"] or f"dim {d['index']}") for d in t["dims"] if d["dynamic"]]
            lines.append(f"  {t['name']}: {t['dtype']} [{dims}]"
                         + (f"  dynamic: {', '.join(dyn)}" if dyn else ""))
    lines.append("Ops: " + ", ".join(f"{op} {n}" for op, n in info["op_histogram"].items()))
    if info["attention_ops"]:
        lines.append("Ops to check:")
        for a in info["attention_ops"]:
            lines.append(f"  {a['op']} x{a['count']} [{a['category']}]: {a['why']}")
    li = info.get("layer_info")
    if li:
        lines.append(f"Engine layers ({li['source']}): {li['engine_layers']} "
                     f"(+{li['reformat_layers']} reformat), {li['onnx_nodes']} ONNX nodes, "
                     f"fusion ratio {li['fusion_ratio']} nodes per layer")
        if not li["onnx_nodes_named"]:
            # Without node names nothing ties an engine layer to a node: say so once, list nothing.
            lines.append("  The model's ONNX nodes have no names, so engine layers cannot be mapped to "
                         "them (export with named nodes, e.g. torch.onnx.export's default names).")
            return "\n".join(lines) + "\n"
        lines.append(f"Engine layer <- ONNX nodes (mapped by {li['mapped_by']}):")
        for name, names in li["layers"].items():
            lines.append(f"  {name} <- {', '.join(names) if names else '(no ONNX node named)'}")
        if li["unmapped_onnx_nodes"]:
            lines.append("ONNX nodes in no engine layer (folded, or named differently): "
                         + ", ".join(li["unmapped_onnx_nodes"]))
    return "\n".join(lines) + "\n"


def _all_nodes(graph: onnx.GraphProto) -> Iterator[onnx.NodeProto]:
    """Every node, including those in Loop/If/Scan bodies."""
    for node in graph.node:
        yield node
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.GRAPH:
                yield from _all_nodes(attr.g)
            elif attr.type == onnx.AttributeProto.GRAPHS:
                for g in attr.graphs:
                    yield from _all_nodes(g)


def _node_count(model: onnx.ModelProto, nodes: list[onnx.NodeProto]) -> int:
    try:  # Polygraphy's count is the one its own tools print; fall back to ours if its API moves
        from polygraphy.backend.onnx import util as poly_util

        return int(poly_util.get_num_nodes(model))
    except Exception:  # noqa: BLE001
        return len(nodes)


def _tensor(t: onnx.ValueInfoProto) -> dict[str, Any]:
    tt = t.type.tensor_type
    dims = []
    if tt.HasField("shape"):
        for i, d in enumerate(tt.shape.dim):
            value = d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else None
            dims.append({"index": i, "value": value, "param": d.dim_param or None, "dynamic": value is None})
    dtype = onnx.TensorProto.DataType.Name(tt.elem_type).lower() if tt.elem_type else None
    return {"name": t.name, "dtype": dtype, "dims": dims, "rank": len(dims) if tt.HasField("shape") else None}


def _names_in(layer: LayerRecord, known: set[str], onnx_names: list[str], order: dict[str, int]) -> list[str]:
    found: list[str] = []
    for first, last in _FOREIGN.findall(layer.name):
        if first in order and last in order:
            found += onnx_names[order[first]:order[last] + 1]
    for part in layer.fused_from:
        for candidate in (part, _MYELIN_SUFFIX.sub("", part)):
            if candidate in known:
                found.append(candidate)
                break
    return list(dict.fromkeys(found))
