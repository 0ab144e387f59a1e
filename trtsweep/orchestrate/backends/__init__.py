"""Backends run steps: one interface (:class:`Executor`), several implementations, chosen by name.

A backend receives the steps still to do and reports each finished one through a callback; the caller
(``orchestrate.session``) owns the run folder's shared files (``results.*``). Each step itself is run by
``orchestrate.step.run_one``, so every backend leaves the same step folders.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from trtsweep.orchestrate.plan import Step
from trtsweep.orchestrate.step import Gpu, StepResult

Callback = Callable[[StepResult], None]


class Executor(Protocol):
    """Runs steps and reports each as it finishes; must tolerate being interrupted at any point."""

    def execute(self, steps: Sequence[Step], on_done: Callback, on_start: Callable[[Step, Gpu], None]
                | None = None) -> None: ...

