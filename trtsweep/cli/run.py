"""``trtsweep run``: build each distinct engine once, then time every variant, resumably."""

from __future__ import annotations

import json
import shlex
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from trtsweep.cli.app import UserError, main
from trtsweep.cli.options import (
    default_run_dir,
    load_and_expand,
    only_option,
    plan_or_exit,
    trtexec_for,
    trtexec_option,
)


@main.command("run")
@click.argument("sweep", type=click.Path(path_type=Path))
@click.option("-o", "--output", "run_dir", type=click.Path(path_type=Path), default=None,
              help="Run folder [default: runs/<sweep name>]. If it exists, the sweep resumes there. It must "
              "be new, empty, or a trtsweep run folder.")
@click.option("--gpus", default=None, metavar="0,1",
              help="GPUs to use: CUDA device indices or UUIDs, each once [default: the spec's gpus, else "
              "every GPU nvidia-smi lists].")
@click.option("--executor", default=None, metavar="NAME",
              help="Backend that runs the steps: local (this host), ray (a Ray cluster) or slurm (jobs on "
              "an HPC cluster) [default: the spec's executor, else local].")
@click.option("--ray-address", default=None, metavar="HOST:PORT",
              help="Ray cluster to join with --executor ray [default: $RAY_ADDRESS, else a Ray started on "
              "this host for the run].")
@click.option("--fresh", is_flag=True, help="Delete this sweep's earlier steps and results in the run folder "
              "(only what its spec.lock.json lists) and start over.")
@click.option("--retry-failed", is_flag=True, help="Also re-run steps that failed, timed out, crashed or "
              "were skipped (by default a resume re-runs only steps that never completed).")
@click.option("--max-variants", type=click.IntRange(min=1), default=None, metavar="N",
              help="Allow a matrix of up to N variants [default: 5000].")
@click.option("--dry-run", is_flag=True, help="Plan and print the commands, run nothing.")
@trtexec_option
@only_option
@click.option("--quiet", "-q", is_flag=True, help="Print only the final summary.")
@click.option("--json", "as_json", is_flag=True, help="Print the final summary as JSON (the run folder's "
              "summary.json) instead of text; progress lines go to stderr.")
def run_cmd(sweep: Path, run_dir: Path | None, gpus: str | None, executor: str | None,
            ray_address: str | None, fresh: bool, retry_failed: bool,
            max_variants: int | None, dry_run: bool, trtexec_path: Path | None, only: tuple[str, ...],
            quiet: bool, as_json: bool) -> None:
    """Run a sweep: build each distinct engine once, then time every variant.

    Nothing finished is lost: each step's record is written as it ends, and running the same command
    again resumes, re-running only steps that never completed and variants that are new or changed in
    the spec (--retry-failed also re-runs failed ones; --fresh starts over). Ctrl-C, SIGTERM and SIGHUP
    stop cleanly (running trtexec processes are stopped, finished steps kept). A failed build marks its
    runs skipped and the sweep goes on. --executor ray runs the steps on a Ray cluster, --executor slurm as
    Slurm jobs (see the README's "Many hosts on Ray" and "On a Slurm cluster").

    \b
    Examples:
      trtsweep run sweep.example.yaml
      trtsweep run sweep.example.yaml --only precision=fp16 --gpus 0,1
      trtsweep run sweep.example.yaml --retry-failed

    \b
    Exit status (for the whole run folder, not only this invocation's steps):
      0   every step passed
      1   some step failed, timed out, was skipped, or is missing or stale (the rest was saved)
      2   bad spec, options, GPUs, trtexec or run folder: nothing was started
      130 stopped by Ctrl-C (143 SIGTERM, 129 SIGHUP): run the same command again to resume
    """

    from trtsweep.orchestrate.backends import (
        ExecutorError,
        ExecutorOptions,
        check_executor_name,
        executor_name,
        make_executor,
    )
    from trtsweep.orchestrate.host import capture_env
    from trtsweep.orchestrate.session import (
        GpuChoiceError,
        RunFolderBusy,
        RunFolderError,
        claim_folder,
        folder_lock,
        folder_outcome,
        fresh_start,
        lock_variants,
        pending_steps,
        prepare_folder,
        run_session,
        select_gpus,
    )

    spec, variants, everything = load_and_expand(sweep, only, with_all=True, max_variants=max_variants)
    backend, backend_from = executor_name(executor, spec)
    try:
        check_executor_name(backend, backend_from)  # a typo is reported before anything is probed
    except ExecutorError as exc:
        raise UserError(str(exc)) from None
    trtexec, version = trtexec_for(spec, trtexec_path, None, need_binary=True)
    run_dir = run_dir or default_run_dir(sweep)
    try:
        claim_folder(run_dir)
    except RunFolderError as exc:
        raise UserError(str(exc)) from None
    listed = lock_variants(run_dir, variants, everything) if not fresh else variants
    plan = plan_or_exit(spec, variants, run_dir, trtexec, version, listed)
    if plan.baselines and not dry_run:
        from trtsweep.baselines.preflight import preflight

        # Measured baselines: the factory is imported and run once (in a child process) before anything.
        problems = preflight(spec)
        if problems:
            raise UserError("\n".join(map(str, problems)))
    if dry_run:
        for s in pending_steps(plan, retry_failed):
            click.echo(shlex.join(s.argv))
        return
    models = {m.name: Path(m.onnx.path) for m in spec.models}
    env = capture_env(plan.trtexec, ".".join(map(str, plan.version)), models)
    wanted = [g for g in gpus.split(",")] if gpus is not None else (
        [str(g) for g in spec.gpus] if spec.gpus else None)
    try:
        # --gpus picks GPUs of this host; on a cluster the executor assigns them.
        slots = select_gpus(env, wanted if backend == "local" else None)
    except GpuChoiceError as exc:
        raise UserError(str(exc)) from None
    try:
        # Built before anything is written: an unknown name, a missing extra, an unreachable cluster or a
        # target no node serves stops here with one line (exit 2).
        runner = make_executor(backend, spec, ExecutorOptions(
            gpus=slots, address=ray_address, run_dir=plan.run_dir,
            extra={"plan_steps": tuple(plan.steps)}), where=backend_from)
    except ExecutorError as exc:
        raise UserError(str(exc)) from None
    from trtsweep.cli.console import Progress
    from trtsweep.cli.doctor import preflight as doctor_preflight

    if not quiet:
        for line in doctor_preflight(plan.trtexec, ".".join(map(str, plan.version))):
            click.echo(line, err=True)  # stderr: the summary on stdout stays as scripts read it

    stopped_by: list[int] = []
    try:
        with folder_lock(run_dir), _signals_as_interrupt(stopped_by):
            if fresh:
                fresh_start(plan.run_dir)
            elif not quiet:
                left = len(pending_steps(plan, retry_failed))
                if left < len(plan.steps):
                    click.echo(f"resuming in {plan.run_dir}: {len(plan.steps) - left} of {len(plan.steps)} "
                               "steps already done")
            prepare_folder(plan, spec.text, env)
            progress = Progress(len(pending_steps(plan, retry_failed)), baseline=plan.lock.get("baseline"),
                                quiet=quiet, stream=sys.stderr if as_json else None)
            try:
                summary = run_session(plan, runner, on_done=progress.finished,
                                      on_start=progress.started, retry_failed=retry_failed)
            finally:
                progress.close()
    except (RunFolderBusy, RunFolderError) as exc:
        raise UserError(str(exc)) from None
    except OSError as exc:
        raise UserError(f"{run_dir}: cannot write the run folder ({exc.strerror or exc})") from None
    try:
        outcome = folder_outcome(plan)
    except (OSError, ValueError) as exc:
        raise UserError(f"{run_dir}: the run folder cannot be read back ({exc})") from None
    code = 128 + int(stopped_by[0] if stopped_by else signal.SIGINT) if summary.interrupted else (
        1 if set(outcome) - {"passed"} or summary.results_error else 0)
    from trtsweep import store
    from trtsweep.analysis.model import build_model

    model = build_model(store.load_result_set(plan.run_dir))  # one model for summary.json and the text
    doc = _write_summary_json(model, summary, plan, outcome, code)
    if as_json:
        click.echo(json.dumps(doc, indent=2))
    else:
        _print_run_summary(model, summary, plan, outcome)
    if summary.results_error:
        click.echo(f"warning: {summary.results_error}; the records are kept, 'trtsweep report' reads them",
                   err=True)
    if summary.interrupted:
        click.echo("stopped: finished steps are kept; run the same command again to resume: "
                   + _resume_command(), err=as_json)
    sys.exit(code)


def _resume_command() -> str:
    """This invocation without --fresh (rerun with it, a resume would delete what was just measured)."""
    return shlex.join(["trtsweep", *(a for a in sys.argv[1:] if a != "--fresh")])


def _write_summary_json(model, summary, plan, outcome, code: int) -> dict:
    from trtsweep import store
    from trtsweep.reports.run_summary import run_summary

    doc = run_summary(model, plan.run_dir, summary.by_status, summary.skipped_done, outcome,
                      summary.failures_by_class, summary.interrupted, code, summary.results_error)
    try:
        store.atomic_write_json(plan.run_dir / "summary.json", doc)
    except OSError as exc:
        click.echo(f"warning: cannot write {plan.run_dir / 'summary.json'} ({exc.strerror or exc})", err=True)
    return doc


@contextmanager
def _signals_as_interrupt(seen: list[int]) -> Iterator[None]:
    """SIGTERM and SIGHUP (docker stop, batch schedulers, a closed terminal) stop the sweep the way Ctrl-C
    does: running trtexec processes are killed, finished steps kept, the summary printed."""
    def handler(signum: int, frame: object) -> None:  # noqa: ARG001 - signal's signature
        seen.append(signum)
        raise KeyboardInterrupt

    previous = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    except KeyboardInterrupt:
        if not seen:
            seen.append(signal.SIGINT)
        raise
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def _print_run_summary(model, summary, plan, outcome) -> None:
    from trtsweep.reports.tables import fmt

    counts = summary.by_status
    ran = ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "nothing to do"
    head = "interrupted" if summary.interrupted else "done"
    click.echo(f"\n{head}: {ran}" + (f"; {summary.skipped_done} steps were already done"
                                      if summary.skipped_done else ""))
    if model.best is not None:
        best = model.best
        click.echo(f"most samples/s: {best.variant_id} at {fmt(best.samples_per_s)} samples/s "
                   f"({fmt(best.time_per_batch_ms)} ms per batch of {best.batch})")
        ordered = sorted(model.best_by_batch.items(), key=lambda kv: (str(kv[0][0]), kv[0][1] or 0))
        for (_, batch), view in ordered:
            sp = view.speedup
            extra = f", {fmt(sp.ratio)}x vs {sp.baseline_label} ({sp.basis})" if sp else ""
            click.echo(f"  batch {batch}: {view.variant_id} {fmt(view.time_per_batch_ms)} ms per batch, "
                       f"{fmt(view.samples_per_s)} samples/s{extra}")
    if summary.failures_by_class:
        click.echo("failures: " + ", ".join(f"{k} x{n}" for k, n in summary.failures_by_class.items()))
    not_passed = {k: n for k, n in sorted(outcome.items()) if k != "passed"}
    if not_passed:
        click.echo("run folder: " + ", ".join(f"{n} {k}" for k, n in not_passed.items())
                   + f" of {sum(outcome.values())} variants (--retry-failed re-runs failed and skipped "
                   "steps; stale ones run again when their slice does)")
    click.echo(f"results: {plan.run_dir / 'results.csv'} (report: trtsweep report {plan.run_dir})")
