"""``trtsweep doctor``: is this host ready for a stable measurement (thin over ``orchestrate.doctor``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from trtsweep.cli.app import UserError, main


@main.command("doctor", short_help="Check the GPUs and host before timing (clocks, power, other processes).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json: the verdict, every finding (its fix, whether root is needed) and the facts.")
@click.option("--trtexec", "trtexec_path", type=click.Path(path_type=Path), default=None,
              help="The trtexec to check [default: $TRTEXEC, PATH, /usr/src/tensorrt/bin/trtexec].")
@click.option("--warnings-only", is_flag=True, help="Print only the warnings (the short doctor of 'run').")
def doctor_cmd(fmt: str, trtexec_path: Path | None, warnings_only: bool) -> None:
    """Check the GPUs and the host before timing: persistence mode, locked or application clocks, power
    limit vs default, current clocks and clock-event reasons, MIG, ECC, other processes on the GPUs, the
    CPU frequency governor, GPU telemetry (NVML), and trtexec with its version. Each finding names the
    command that fixes it and whether that needs root.

    \b
    Examples:
      trtsweep doctor
      trtsweep doctor --format json > doctor.json
      trtsweep doctor --trtexec /opt/tensorrt/bin/trtexec --warnings-only

    \b
    Exit status: 0 nothing stands in the way of a stable measurement; 1 warnings (listed); 2 bad input.
    """
    from trtsweep.orchestrate import doctor
    from trtsweep.orchestrate.host import doctor_facts
    from trtsweep.orchestrate.telemetry import default_telemetry

    trtexec = version = None
    if trtexec_path is not None:
        from trtsweep.trtexec.discover import TrtexecProbeError, probe

        if not trtexec_path.is_file():
            raise UserError(f"{trtexec_path}: no such file (--trtexec expects the trtexec binary)")
        try:
            info = probe(trtexec_path)
        except TrtexecProbeError as exc:
            raise UserError(str(exc)) from None
        trtexec, version = info.path, info.version_text
    facts = doctor_facts(default_telemetry(), trtexec, version)
    found = doctor.findings(facts)
    if fmt == "json":
        click.echo(json.dumps(doctor.document(facts, found), indent=2))
    else:
        shown = [f for f in found if f.severity == "warning"] if warnings_only else found
        for f in shown:
            click.echo(f.line())
        warnings = sum(f.severity == "warning" for f in found)
        click.echo(f"{warnings} warning(s)" if warnings else "no warnings: ready for a stable measurement")
    sys.exit(doctor.exit_code(found))


def preflight(trtexec: str, version: str) -> list[str]:
    """The short doctor ``trtsweep run`` prints before it starts: one line per warning (never raises)."""
    try:
        from trtsweep.orchestrate import doctor
        from trtsweep.orchestrate.host import doctor_facts
        from trtsweep.orchestrate.telemetry import default_telemetry

        return doctor.short_lines(doctor.findings(doctor_facts(default_telemetry(), trtexec, version)))
    except Exception as exc:  # noqa: BLE001 - a preflight problem must never stop the sweep
        return [f"doctor: could not check the host ({type(exc).__name__}: {exc})"]
