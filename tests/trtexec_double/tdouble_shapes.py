"""Shapes in the trtexec double: option echo, model inputs/outputs, the build-time optimization profile."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tdouble_args import BadInput, Options, dims_text, parse_shapes
from tdouble_log import reached

if TYPE_CHECKING:
    from tdouble_engine import Context

Profile = dict[str, tuple[list[int], list[int], list[int]]]


def shape_echo(opts: Options, v: tuple[int, ...]) -> dict:
    """``Input build shape(s)`` / ``Input inference shape(s)`` echo lines from the options alone."""
    specs = {k: parse_shapes(opts.get(f"--{k}Shapes")) for k in ("min", "opt", "max")}
    static = parse_shapes(opts.get("--shapes"))
    ten = reached(v, (10, 0))
    names = list(dict.fromkeys([*specs["min"], *specs["opt"], *specs["max"]])) or list(static)
    build = []
    for n in names:
        trio = [specs[k].get(n) or specs["opt"].get(n) or static.get(n) or [] for k in ("min", "opt", "max")]
        label = "Input build shape (profile 0)" if ten else "Input build shape"
        build.append(f"{label}: {n}=" + "+".join(dims_text(d) for d in trio))
    infer = static or specs["opt"]
    label = "Input inference shape : " if ten else "Input inference shape: "
    return {
        "build_shapes_echo": "\n".join(build) or "Input build shapes: model",
        "inference_shapes_echo": "\n".join(f"{label}{n}={dims_text(d)}" for n, d in infer.items())
        or "Input inference shapes: model",
    }


def _dims(value: object) -> list[int]:
    return [int(x) for x in value.split("x")] if isinstance(value, str) else [int(x) for x in value]  # type: ignore


def model_io(ctx: Context) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
    """Model inputs/outputs: from config ``model``, else taken from the shape flags (batch dim dynamic)."""
    model = ctx.cfg["model"] or {}
    outputs = {n: _dims(d) for n, d in (model.get("outputs") or {"output": "-1x1000"}).items()}
    if model.get("inputs"):
        return {n: _dims(d) for n, d in model["inputs"].items()}, outputs
    o = ctx.opts
    for key in ("shapes", "opt", "min", "max"):
        spec = parse_shapes(o[key])
        if spec:
            return {n: ([-1] + d[1:]) if d else d for n, d in spec.items()}, outputs
    return {"input": [-1, 3, 224, 224]}, outputs


def build_profile(ctx: Context, inputs: dict[str, list[int]]) -> Profile:
    o, out = ctx.opts, ctx.out
    specs = {k: parse_shapes(o[k]) for k in ("min", "opt", "max")}
    static = parse_shapes(o["shapes"])
    for name in {*specs["min"], *specs["opt"], *specs["max"], *static}:
        if name not in inputs:
            raise BadInput(
                f'Cannot find input tensor with name "{name}" in the network inputs! Please make sure '
                "the input tensor names are correct."
            )
    profile: Profile = {}
    for name, dims in inputs.items():
        given = {k: specs[k][name] for k in specs if name in specs[k]}
        if given:
            src = "opt" if "opt" in given else next(iter(given))
            for k in ("min", "opt", "max"):
                if k not in given:
                    out.w(f"{src}Shapes is being broadcasted to {k}Shapes for tensor {name}")
                    given[k] = given[src]
            trio = (given["min"], given["opt"], given["max"])
        elif name in static:
            trio = (static[name],) * 3
        else:
            fixed = [1 if d < 0 else d for d in dims]
            if fixed != dims:
                out.w(
                    f"Dynamic dimensions required for input: {name}, but no shapes were provided. "
                    "Automatically "
                    f"overriding shape to: {dims_text(fixed)}"
                )
            trio = (fixed,) * 3
        out.i(
            f"Set shape of input tensor {name} for optimization profile 0 to: MIN={dims_text(trio[0])} "
            f"OPT={dims_text(trio[1])} MAX={dims_text(trio[2])}"
        )
        profile[name] = trio
    return profile
