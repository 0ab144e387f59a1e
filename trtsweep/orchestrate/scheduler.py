"""Which step a free GPU takes next: pure scheduling state, no threads, no processes, no files.

Run steps start as soon as their engine exists, on a GPU of the model that built it (an engine is only
valid for the GPU model it was built on); builds are taken when no run is ready. A failed build makes its
runs skippable. Backends drive it under their own lock and run the steps it hands out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from trtsweep.orchestrate.plan import Step

UNKNOWN = "unknown"


@dataclass(frozen=True)
class BuildState:
    """How a build ended: ``ok``, and the GPU model that built it (ok) or why it failed (not ok)."""

    ok: bool
    detail: str | None = None


class Scheduler:
    """Hands out steps: ready runs first (GPU time is best spent measuring), then builds."""

    def __init__(self, steps: Sequence[Step], earlier_builds: Mapping[str, BuildState] | None = None) -> None:
        """``earlier_builds``: the outcome of builds finished before this invocation (resume), keyed by
        the build step id their runs depend on."""
        self.builds = [s for s in steps if s.kind == "build"]
        # BASELINE steps depend on no engine: they queue with the runs and are ready at once.
        self.runs = [s for s in steps if s.kind != "build"]
        self.state: dict[str, BuildState] = dict(earlier_builds or {})

    def earlier_build_ids(self) -> set[str]:
        """Build step ids the runs depend on that this invocation does not build (done before)."""
        pending = {s.id for s in self.builds}
        return {s.depends_on for s in self.runs if s.depends_on and s.depends_on not in pending}

    def next_for(self, gpu_model: str) -> Step | None:
        """The step a GPU of ``gpu_model`` should run now, or None (nothing ready for it)."""
        for i, s in enumerate(self.runs):
            state = self.state.get(s.depends_on or "")
            # An unknown model on either side cannot be told apart from the builder's: allowed both ways.
            if s.depends_on is None or state and state.ok and (
                    state.detail in (None, gpu_model, UNKNOWN) or gpu_model == UNKNOWN):
                return self.runs.pop(i)
        if self.builds:
            return self.builds.pop(0)
        return None

    def waiting(self) -> bool:
        """True while some run waits for a build that has not finished."""
        return any(s.depends_on is not None and self.state.get(s.depends_on) is None for s in self.runs)

    def build_done(self, step: Step, ok: bool, detail: str | None) -> list[Step]:
        """Record a finished build; returns the runs that can no longer run (the build failed)."""
        self.state[step.id] = BuildState(ok, detail)
        return [] if ok else self.drop_dependents(step.id)

    def failed_builds(self) -> list[tuple[str, str | None]]:
        """(build step id, reason) of every failed build known so far."""
        return [(k, st.detail) for k, st in self.state.items() if not st.ok]

    def drop_dependents(self, build_step_id: str) -> list[Step]:
        """Remove and return the runs that depend on a build."""
        dropped = [s for s in self.runs if s.depends_on == build_step_id]
        self.runs = [s for s in self.runs if s.depends_on != build_step_id]
        return dropped
