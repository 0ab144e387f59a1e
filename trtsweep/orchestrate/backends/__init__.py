"""Backends run steps: one interface (:class:`Executor`), several implementations, chosen by name.

A backend receives the steps still to do and reports each finished one through a callback; the caller
(``orchestrate.session``) owns the run folder's shared files (``results.*``). Each step itself is run by
``orchestrate.step.run_one``, so every backend leaves the same step folders.

Backends are found through :data:`EXECUTORS` (name -> factory). A factory gets the validated spec and the
:class:`ExecutorOptions` of the command line and returns a ready executor, or raises
:class:`ExecutorError` (one line; the CLI exits 2 and starts nothing). Adding a backend (``slurm``) is one
module and one entry here; its module is imported only when it is chosen, so an optional dependency
(Ray, submitit) is needed only by those who use it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from trtsweep.orchestrate.plan import Step
from trtsweep.orchestrate.step import Gpu, StepResult
from trtsweep.sweeps.spec import Spec

Callback = Callable[[StepResult], None]
DEFAULT_EXECUTOR = "local"


class Executor(Protocol):
    """Runs steps and reports each as it finishes; must tolerate being interrupted at any point."""

    def execute(self, steps: Sequence[Step], on_done: Callback, on_start: Callable[[Step, Gpu], None]
                | None = None) -> None: ...


class ExecutorError(ValueError):
    """A backend cannot be used as asked (unknown name, extra not installed, cluster unreachable, a
    target no node serves): one line for the user, exit 2, nothing started."""


@dataclass(frozen=True)
class ExecutorOptions:
    """What the command line gives every backend; each uses the fields that apply to it and ignores the
    rest, so a new backend's options are added here without changing the other factories."""

    gpus: Sequence[Gpu] = ()              # local: this host's GPU slots (--gpus / the spec's gpus)
    env: Mapping[str, str] | None = None  # environment of each trtexec (default: this process's)
    address: str | None = None            # cluster address (ray: --ray-address / RAY_ADDRESS)
    run_dir: Path | None = None           # the run folder (names per-run scratch space on workers)
    extra: Mapping[str, Any] = field(default_factory=dict)  # backend-specific settings


ExecutorFactory = Callable[[Spec, ExecutorOptions], Executor]


def _local(spec: Spec, options: ExecutorOptions) -> Executor:
    from trtsweep.orchestrate.backends.local import LocalExecutor

    if spec.targets:
        # This host's GPUs are one device group; timing every target's variants on them would label
        # numbers of one GPU model with the names of others.
        names = ", ".join(t.name for t in spec.targets)
        raise ExecutorError(f"{spec.file}: targets ({names}) need a multi-host executor: run with "
                            "--executor ray (or remove 'targets' to run on this host)")
    return LocalExecutor(options.gpus, options.env)


def _ray(spec: Spec, options: ExecutorOptions) -> Executor:
    from trtsweep.orchestrate.backends.ray import make_ray_executor

    return make_ray_executor(spec, options)


def _slurm(spec: Spec, options: ExecutorOptions) -> Executor:
    from trtsweep.orchestrate.backends import slurm
    from trtsweep.orchestrate.backends.slurm_options import SlurmOptionsError

    if spec.targets:
        names = ", ".join(t.name for t in spec.targets)
        raise ExecutorError(f"{spec.file}: targets ({names}) are not supported by the slurm executor yet "
                            "(one set of slurm: settings per sweep): run with --executor ray, or one sweep "
                            "per partition")
    if options.run_dir is None:
        raise ExecutorError("the slurm executor needs the run folder")
    try:
        return slurm.make_slurm_executor(spec.slurm, options.run_dir, options.env)
    except SlurmOptionsError as exc:
        raise ExecutorError(f"{spec.file}: {exc}") from None
    except (slurm.SlurmExtraMissing, slurm.SlurmUnavailable) as exc:
        raise ExecutorError(str(exc)) from None


EXECUTORS: dict[str, ExecutorFactory] = {
    "local": _local,
    "ray": _ray,
    "slurm": _slurm,
}


def executor_name(cli_name: str | None, spec: Spec) -> tuple[str, str]:
    """(name, where it came from): ``--executor`` wins over the spec's ``executor:``, else local."""
    if cli_name:
        return cli_name, "--executor"
    if spec.executor:
        return spec.executor, f"{spec.executor_at or spec.file}: executor"
    return DEFAULT_EXECUTOR, "default"


def check_executor_name(name: str, where: str = "--executor") -> ExecutorFactory:
    """The factory registered as ``name``; raises :class:`ExecutorError` naming the known ones."""
    factory = EXECUTORS.get(name)
    if factory is None:
        raise ExecutorError(f"{where}: unknown executor '{name}'; expected one of: "
                            f"{', '.join(sorted(EXECUTORS))}")
    return factory


def make_executor(name: str, spec: Spec, options: ExecutorOptions, where: str = "--executor") -> Executor:
    """The executor registered as ``name``, built for ``spec``; raises :class:`ExecutorError`."""
    return check_executor_name(name, where)(spec, options)
