"""``trtsweep run``: build each distinct engine once, then time every variant, resumably."""

from __future__ import annotations

import json
import sys
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
              help="Run folder [default: runs/<sweep name>]. If it exists, the sweep resumes there.")
@click.option("--gpus", default=None, metavar="0,1",
              help="GPUs to use (CUDA device indices) [default: the spec's gpus, else every GPU].")
@click.option("--fresh", is_flag=True, help="Delete earlier results in the run folder and start over.")
@click.option("--dry-run", is_flag=True, help="Plan and print the commands, run nothing.")
@trtexec_option
@only_option
@click.option("--quiet", "-q", is_flag=True, help="Print only the final summary.")
def run_cmd(sweep: Path, run_dir: Path | None, gpus: str | None, fresh: bool, dry_run: bool,
            trtexec_path: Path | None, only: tuple[str, ...], quiet: bool) -> None:
    """Run a sweep: build each distinct engine once, then time every variant.

    Nothing finished is lost: each step's record is written as it ends, and running the same command
    again resumes, re-running only steps that never completed and variants that are new or changed in
    the spec (--fresh starts over). Ctrl-C stops cleanly. A failed build marks its runs skipped and the
    sweep goes on.

    \b
    Exit status: 0 every step passed; 1 some step failed, timed out or was skipped
    (the rest ran and was saved); 2 bad spec, options or trtexec; 130 stopped by Ctrl-C
    (finished steps are kept: run again to resume).
    """
    import shlex

    from trtsweep.orchestrate.backends.local import LocalExecutor
    from trtsweep.orchestrate.session import (
        RunFolderBusy,
        gpus_from_env,
        lock_variants,
        pending_steps,
        prepare_folder,
        run_session,
    )

    spec, variants, everything = load_and_expand(sweep, only, with_all=True)
    trtexec, version = trtexec_for(spec, trtexec_path, None, need_binary=True)
    run_dir = run_dir or default_run_dir(sweep)
    listed = lock_variants(run_dir, variants, everything) if not fresh else variants
    plan = plan_or_exit(spec, variants, run_dir, trtexec, version, listed)
    if dry_run:
        for s in pending_steps(plan):
            click.echo(shlex.join(s.argv))
        return
    models = {m.name: Path(m.onnx.path) for m in spec.models}
    if plan.run_dir.exists() and not fresh:
        from trtsweep.orchestrate.session import pending_steps as todo

        left = len(todo(plan))
        if left < len(plan.steps) and not quiet:
            click.echo(f"resuming in {plan.run_dir}: {len(plan.steps) - left} of {len(plan.steps)} steps "
                       "already done")
    prepare_folder(plan, sweep, fresh, models)
    env = json.loads((plan.run_dir / "env.json").read_text())
    wanted = [g.strip() for g in gpus.split(",")] if gpus else (
        [str(g) for g in spec.gpus] if spec.gpus else None)
    slots = gpus_from_env(env, wanted)
    from trtsweep.cli.console import Progress

    progress = Progress(len(pending_steps(plan)), baseline=plan.lock.get("baseline"), quiet=quiet)
    try:
        summary = run_session(plan, LocalExecutor(slots), on_done=progress.finished,
                              on_start=progress.started)
    except RunFolderBusy as exc:
        raise UserError(str(exc)) from None
    finally:
        progress.close()
    _print_run_summary(summary, plan)
    if summary.interrupted:
        sys.exit(130)
    if not summary.ok:
        sys.exit(1)


def _print_run_summary(summary, plan) -> None:
    from trtsweep import store
    from trtsweep.analysis.model import build_model
    from trtsweep.reports.tables import fmt

    model = build_model(store.load_result_set(plan.run_dir))
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
    click.echo(f"results: {plan.run_dir / 'results.csv'} (report: trtsweep report {plan.run_dir})")
