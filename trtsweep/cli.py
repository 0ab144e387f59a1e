"""The ``trtsweep`` command: a thin layer that parses options, calls the library and prints."""

from __future__ import annotations

import click

from trtsweep import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="trtsweep")
def main() -> None:
    """Sweep, parse, report and diagnose TensorRT trtexec runs."""


if __name__ == "__main__":  # pragma: no cover
    main()
