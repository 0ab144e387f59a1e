"""The ``trtsweep`` command group and the one error type every command raises for bad input.

Exit codes, the same for every command: 0 success; 1 some variants failed or some files were
unrecognized (the rest was done and saved); 2 bad input (spec, flags, paths), with one line saying what
and where, never a traceback; 3 a regression found; 4 inconclusive where a decision was asked for;
130 stopped by Ctrl-C.
"""

from __future__ import annotations

import click

from trtsweep import __version__


class UserError(click.ClickException):
    """Bad input: printed as one line, exit code 2."""

    exit_code = 2

    def show(self, file=None) -> None:  # noqa: ANN001 - click's signature
        click.echo(f"trtsweep: error: {self.format_message()}", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="trtsweep")
def main() -> None:
    """Sweep, parse, report and diagnose TensorRT trtexec runs.

    \b
    Read logs you already have (no GPU, no TensorRT needed):
      trtsweep parse logs/h100/01-onnx-default.log --format table
      trtsweep import logs/h100 -o runs/h100
      trtsweep report runs/h100 runs/ada -o report-gpus
      trtsweep diagnose runs/h100
    \b
    Plan and run a sweep (run needs trtexec and a GPU):
      trtsweep plan sweep.example.yaml --trt-version 10.8
      trtsweep run sweep.example.yaml
    \b
    Look at a model:
      trtsweep inspect examples/models/tracker.onnx
    \b
    Shell completion (bash; zsh and fish likewise with zsh_source / fish_source):
      eval "$(_TRTSWEEP_COMPLETE=bash_source trtsweep)"
    """
