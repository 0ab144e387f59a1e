"""The Ray backend: every step a Ray task with one GPU, on a node of its target; the run folder stays here.

``trtsweep run --executor ray [--ray-address HOST:PORT]`` connects to a running cluster (``--ray-address``,
else ``RAY_ADDRESS``) or starts a Ray of its own on this host for the run. Placement:

* a step asks for ``num_gpus=1`` plus its target's resources (``targets[].resources``, default
  ``{<name>: 1}``), so it lands on a node of that target; a target no live node can serve is an error
  before anything runs;
* a build lands anywhere in its target; the runs of its engine are pinned to the node that built it (the
  engine stays on that node's disk, see :mod:`.ray_worker`).

Connecting and the check of the targets are in :mod:`.ray_connect`; what a worker does, in
:mod:`.ray_worker`; this module is the coordinator's loop.

Each task runs ``orchestrate.step.run_one`` on the worker and returns the step's small artifacts; this
process writes them into the one run folder, status file last, atomically -- the folder is the truth,
so a coordinator killed with ``kill -9`` resumes like a local run. Ray's own task retry is off: a timed
step must not be silently re-run half-way. A step lost with its node is re-run here, whole: every repeat
of that variant on that target (repeats are compared with each other, so they run on one node), after a
rebuild of the engine when it was lost too; each retry is recorded in the steps' status files
(``retries``) and in :attr:`RayExecutor.retries`.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trtsweep import store
from trtsweep.orchestrate.backends import Callback, ExecutorError, ExecutorOptions
from trtsweep.orchestrate.backends.local import earlier_build_states
from trtsweep.orchestrate.backends.ray_connect import IMPLICIT, connect, needs, unserved_targets
from trtsweep.orchestrate.backends.ray_worker import run_key, run_on_node, unpack
from trtsweep.orchestrate.plan import Step
from trtsweep.orchestrate.step import Gpu, StepResult, kill_orphan, skip
from trtsweep.records import Status
from trtsweep.sweeps.spec import Spec, Target

NODE_FILE = "node.json"  # engines/<build-id>/node.json: which node holds the engine
MAX_LOSSES = 3  # a variant lost with its node this often fails instead of being re-run again
# A finished task's reply is normally inline (see ray_worker.collect_files); a large one is fetched from
# the worker's node, and when that node has just died the fetch can hang until Ray declares it dead.
FETCH_TIMEOUT_S = 60.0


def make_ray_executor(spec: Spec, options: ExecutorOptions) -> RayExecutor:
    """The registry's factory: connect, check every target has a node, return the executor."""
    address = options.address or os.environ.get("RAY_ADDRESS") or None
    ray, started = connect(address, len(options.gpus))
    targets = list(spec.targets) or [IMPLICIT]
    problems = unserved_targets(ray.nodes(), targets)
    if problems:
        if started:
            ray.shutdown()
        raise ExecutorError("; ".join(problems) + (
            " (a Ray started here has this host's GPUs only: start a cluster with 'ray start --head' "
            "and give --ray-address)" if started and spec.targets else ""))
    if options.run_dir is None:
        raise ExecutorError("the ray executor needs the run folder")
    return RayExecutor(ray, {t.name: t for t in spec.targets}, options.run_dir.resolve(),
                       options.extra.get("plan_steps", ()), shutdown=started)


@dataclass
class _Variant:
    """Bookkeeping of one variant on one target: its run steps and how often it was lost."""

    steps: list[Step]
    losses: list[dict[str, Any]] = field(default_factory=list)


class RayExecutor:
    """Runs steps as Ray tasks (see the module docstring); ``retries`` lists every re-run of a lost step."""

    def __init__(self, ray: Any, targets: Mapping[str, Target], run_dir: Path,
                 plan_steps: Sequence[Step] = (), shutdown: bool = False) -> None:
        self.ray = ray
        self.targets = dict(targets)
        self.run_dir = run_dir
        self.key = run_key(socket.gethostname(), run_dir)
        self.plan_steps = list(plan_steps)
        self.shutdown = shutdown
        self.retries: list[dict[str, Any]] = []
        self.submitted: list[str] = []  # step ids in the order they were handed to Ray (tests, benchmark)
        self._task = ray.remote(max_retries=0, num_cpus=0)(run_on_node)
        self._inflight: dict[Any, Step] = {}
        self._waiting: dict[str, list[Step]] = {}  # build step id -> runs waiting for its engine
        self._engine_node: dict[str, str] = {}     # build step id -> node holding the engine
        self._rebuilding: set[str] = set()
        self._variants: dict[str, _Variant] = {}
        self._builds: dict[str, Step] = {}
        self._done_on: dict[str, str] = {}  # run step id -> node it finished on (this invocation)
        # Nodes a step was lost on. Ray may still list such a node as alive for a while (until its
        # heartbeats are missed): steps are not placed there again in this invocation.
        self._suspect: set[str] = set()
        self._build_losses: dict[str, int] = {}

    # ------------------------------------------------------------------ placement and submission

    def _target(self, step: Step) -> Target:
        return self.targets.get(step.target or "", IMPLICIT)

    def _submit(self, step: Step, node: str | None = None) -> None:
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        t = self._target(step)
        opts: dict[str, Any] = {"num_gpus": 1, "name": step.id}
        if t is not IMPLICIT:
            opts["resources"] = t.requested
        if node is not None:
            opts["scheduling_strategy"] = NodeAffinitySchedulingStrategy(node, soft=False)
        elif step.kind == "build":
            # Engines spread over the target's nodes, and with them the runs pinned to each engine.
            opts["scheduling_strategy"] = "SPREAD"
        # The step is not complete from here on, as locally where run_one removes it first: a coordinator
        # killed before the result comes back resumes by running it again.
        (step.dir / store.STATUS_FILE).unlink(missing_ok=True)
        ref = self._task.options(**opts).remote(step, self.key, step.target, t.gpu)
        self._inflight[ref] = step
        self.submitted.append(step.id)

    def _build_step(self, build_step_id: str) -> Step | None:
        return self._builds.get(build_step_id) or next(
            (s for s in self.plan_steps if s.id == build_step_id), None)

    def _rebuild(self, build_step_id: str, on_done: Callback, why: str) -> None:
        """The engine is gone with its node: build it again (its runs wait), once at a time."""
        self._engine_node.pop(build_step_id, None)
        if build_step_id in self._rebuilding or any(s.id == build_step_id for s in self._inflight.values()):
            return
        build = self._build_step(build_step_id)
        if build is None:
            for s in self._waiting.pop(build_step_id, []):
                on_done(skip(s, f"engine {build_step_id.removeprefix('build/')} lost ({why}) and its build "
                             "step is unknown to this invocation; run again to rebuild it"))
            return
        self.retries.append({"step": build.id, "reason": why})
        self._rebuilding.add(build_step_id)
        self._submit(build, self._pick_node(self._target(build)))

    def _pick_node(self, target: Target) -> str | None:
        """A live, unsuspected node that can run ``target``'s steps, holding the fewest engines; None
        (let Ray choose) when there is none."""
        want = needs(target)
        nodes = [n["NodeID"] for n in self.ray.nodes() if n.get("Alive") and n["NodeID"] not in self._suspect
                 and all((n.get("Resources") or {}).get(k, 0) >= v for k, v in want.items())]
        load = {n: 0 for n in nodes}
        for node in self._engine_node.values():
            if node in load:
                load[node] += 1
        return min(nodes, key=lambda n: load[n]) if nodes else None

    def _release_runs(self, build_step_id: str, on_done: Callback) -> None:
        node = self._engine_node.get(build_step_id)
        if node is None:
            self._rebuild(build_step_id, on_done, "engine node unknown")
            return
        for s in self._waiting.pop(build_step_id, []):
            self._submit(s, node)

    # ------------------------------------------------------------------ results

    def _write(self, step: Step, reply: Mapping[str, Any], losses: list[dict[str, Any]]) -> StepResult:
        """Write the step's artifacts into the run folder as the local backend leaves them, status last."""
        files = unpack(dict(reply.get("files") or {}))
        status_bytes = files.pop(store.STATUS_FILE, None)
        step.dir.mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            store.atomic_write_bytes(step.dir / name, data, durable=name == store.RECORD_FILE)
        if step.kind == "build":
            store.atomic_write_json(step.dir / NODE_FILE, {"node_id": reply.get("node_id"),
                                                           "node_ip": reply.get("node_ip")})
        status: dict[str, Any] = json.loads(status_bytes) if status_bytes else {
            "status": Status.FAILED, "reason": reply.get("reason") or "the worker returned no status",
            "argv": step.portable_argv}
        status["node_id"], status["node_ip"] = reply.get("node_id"), reply.get("node_ip")
        if losses:
            status["retries"] = losses
        store.atomic_write_json(step.dir / store.STATUS_FILE, status)
        record = store.load_record(step.dir) if store.RECORD_FILE in files else None
        return StepResult(step, str(status.get("status")), status.get("reason"), reply.get("gpu"),
                          float(reply.get("duration_s") or 0.0), record)

    def _variant(self, step: Step) -> _Variant | None:
        return self._variants.get(step.variant_id or "") if step.kind == "run" else None

    def _lost(self, step: Step, exc: BaseException, on_done: Callback) -> None:
        """A task that died with its node (or its worker): re-run it, whole, or give up after MAX_LOSSES."""
        why = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        if step.kind == "run" and step.depends_on in self._engine_node:
            self._suspect.add(self._engine_node[step.depends_on])  # where the run was pinned
        alive = {n["NodeID"] for n in self.ray.nodes() if n.get("Alive")} - self._suspect
        if step.kind == "build":
            self._rebuilding.discard(step.id)
            self._build_losses[step.id] = self._build_losses.get(step.id, 0) + 1
            if self._build_losses[step.id] >= MAX_LOSSES:
                reason = f"lost with its node {MAX_LOSSES} times ({why})"
                on_done(self._fail(step, reason))
                for s in self._waiting.pop(step.id, []):
                    on_done(skip(s, f"engine {step.build_id} failed ({reason})"))
                return
            self._rebuild(step.id, on_done, f"lost: {why}")
            return
        for bid, node in list(self._engine_node.items()):
            if node not in alive:  # every engine of a lost node is gone, not only this step's
                self._engine_node.pop(bid)
        if self._variant(step) is None:  # a baseline step: on its own
            self._submit(step)
            return
        self._rerun_variant(step, why, on_done)
        # Variants with repeats finished on a node that is gone and others still to run would have their
        # repeats measured on two nodes: they are re-run whole as well.
        for other in self._variants.values():
            done_dead = [s for s in other.steps if self._done_on.get(s.id, "") not in alive | {""}]
            mixed = done_dead and len(done_dead) < len(other.steps)
            if mixed and other.steps[0].variant_id != step.variant_id:
                self._rerun_variant(done_dead[0], f"repeats finished on a lost node ({why})", on_done)

    def _rerun_variant(self, step: Step, why: str, on_done: Callback) -> None:
        """Run every repeat of ``step``'s variant again, together, or fail them after MAX_LOSSES."""
        v = self._variant(step)
        assert v is not None
        bid = step.depends_on or ""
        for s in v.steps:
            self._done_on.pop(s.id, None)
        loss = {"step": step.id, "reason": why}
        v.losses.append(loss)
        self.retries.append(loss)
        # Every repeat of the variant runs again, on one node: those in flight are stopped, and any
        # already finished are measured again beside the others rather than mixed across nodes.
        for ref, s in list(self._inflight.items()):
            if s.variant_id == step.variant_id and s is not step:
                self._inflight.pop(ref)
                self.ray.cancel(ref, force=True)
        queued = {s.id for s in self._waiting.get(bid, [])}
        if len(v.losses) >= MAX_LOSSES:
            for s in v.steps:
                if s.id not in queued:
                    on_done(self._fail(s, f"lost with its node {len(v.losses)} times ({why})"))
            self._waiting[bid] = [s for s in self._waiting.get(bid, []) if s.variant_id != step.variant_id]
            return
        self._waiting.setdefault(bid, []).extend(s for s in v.steps if s.id not in queued)
        if bid in self._engine_node:
            self._release_runs(bid, on_done)
        else:
            self._rebuild(bid, on_done, f"engine lost with its node ({why})")

    def _fail(self, step: Step, reason: str) -> StepResult:
        store.write_step(step.dir, None, Status.FAILED, reason=reason, argv=step.portable_argv, error=True)
        return StepResult(step, Status.FAILED, reason, None, 0.0)

    def _finished(self, step: Step, reply: Mapping[str, Any], on_done: Callback) -> None:
        if reply.get("engine_missing"):
            # The engine is not on the node any more (its scratch folder was cleaned, the node restarted
            # under the same id): rebuild it, then run this step again.
            bid = step.depends_on or ""
            self._waiting.setdefault(bid, []).append(step)
            self._rebuild(bid, on_done, f"engine not found on node {reply.get('node_ip')}")
            return
        v = self._variant(step)
        result = self._write(step, reply, v.losses if v else [])
        if step.kind == "run":
            self._done_on[step.id] = str(reply.get("node_id"))
        if step.kind == "build":
            self._rebuilding.discard(step.id)
            if result.status == Status.PASSED:
                self._engine_node[step.id] = str(reply.get("node_id"))
                on_done(result)
                self._release_runs(step.id, on_done)
                return
            on_done(result)
            for s in self._waiting.pop(step.id, []):
                on_done(skip(s, f"engine {step.build_id} failed ({result.reason})"))
            return
        on_done(result)

    # ------------------------------------------------------------------ the loop

    def _start(self, steps: Sequence[Step], on_done: Callback) -> None:
        for s in steps:
            kill_orphan(s)  # a pid file of the coordinator's own folder (never written by this backend)
            if s.kind == "build":
                self._builds[s.id] = s
            elif s.kind == "run":
                self._waiting.setdefault(s.depends_on or "", []).append(s)
        for s in self.plan_steps or steps:
            if s.kind == "run":
                self._variants.setdefault(s.variant_id or "", _Variant([])).steps.append(s)
        for v in self._variants.values():
            v.steps.sort(key=lambda s: s.repeat)
        earlier = earlier_build_states([s for s in steps if s.kind != "baseline"])
        for s in steps:
            if s.kind == "baseline":
                self._submit(s)
        for bid, state in earlier.items():
            if not state.ok:
                for s in self._waiting.pop(bid, []):
                    on_done(skip(s, f"engine {bid.removeprefix('build/')} failed ({state.detail})"))
                continue
            node = self._recorded_node(bid)
            if node is not None:
                self._engine_node[bid] = node
            self._release_runs(bid, on_done)
        for b in self._builds.values():
            self._submit(b)

    def _recorded_node(self, build_step_id: str) -> str | None:
        """The live node that built an engine in an earlier invocation (``node.json``), else None."""
        build = self._build_step(build_step_id)
        edir = build.dir if build else store.engine_dir(self.run_dir, build_step_id.removeprefix("build/"))
        try:
            node = store.read_json(edir / NODE_FILE).get("node_id")
        except (OSError, ValueError, AttributeError):
            return None
        alive = {n["NodeID"] for n in self.ray.nodes() if n.get("Alive")}
        return node if node in alive else None

    def execute(self, steps: Sequence[Step], on_done: Callback,
                on_start: Callable[[Step, Gpu], None] | None = None) -> None:
        """Run ``steps`` (already filtered for resume) on the cluster; KeyboardInterrupt cancels every
        task and re-raises (finished steps are kept, the rest run again on the next invocation)."""
        ray = self.ray
        try:
            self._start(steps, on_done)
            while self._inflight:
                ready, _ = ray.wait(list(self._inflight), num_returns=1, timeout=1.0)
                for ref in ready:
                    step = self._inflight.pop(ref, None)
                    if step is None:
                        continue
                    try:
                        reply = ray.get(ref, timeout=FETCH_TIMEOUT_S)
                    except ray.exceptions.RayTaskError as exc:
                        # run_one never raises for the step's sake: this is a bug of trtsweep's own on
                        # the worker (or an import error there), recorded as the step's failure.
                        first = (str(exc.cause if hasattr(exc, "cause") else exc).splitlines() or ["?"])[0]
                        on_done(self._fail(step, f"trtsweep error on the Ray worker: {first}"))
                        continue
                    except (ray.exceptions.RayError, OSError) as exc:
                        # Lost with its node or worker; OSError: the connection to a node that died
                        # while its reply was being fetched ("Broken pipe").
                        self._lost(step, exc, on_done)
                        continue
                    self._finished(step, reply, on_done)
        except KeyboardInterrupt:
            for ref in list(self._inflight):
                ray.cancel(ref, force=True)
            raise
        finally:
            if self.shutdown:
                ray.shutdown()
