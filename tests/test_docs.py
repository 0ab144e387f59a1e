"""The docs tell the truth: the generated sweep reference is current and README's commands run."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from trtsweep.cli import main
from trtsweep.sweeps.schema import describe

ROOT = Path(__file__).parent.parent


def test_sweep_reference_is_generated_from_the_schema():
    expected = describe().rstrip("\n") + "\n"
    actual = (ROOT / "docs" / "sweep-reference.md").read_text()
    assert actual == expected, "regenerate: python -c 'from trtsweep.sweeps.schema import describe; " \
                               "print(describe())' > docs/sweep-reference.md"


def test_readme_quick_start_parse_prints_real_results():
    res = CliRunner().invoke(main, ["parse", str(ROOT / "examples/h100-model-trained/01-onnx-default.log"),
                                    "--format", "table"])
    assert res.exit_code == 0, res.output
    # From the log: "[I] Throughput: 15374.3 qps", "Selected Device: NVIDIA H100 PCIe".
    assert "15374.3" in res.output and "NVIDIA H100 PCIe" in res.output


def test_every_command_has_help():
    for cmd in ("parse", "import", "plan", "run", "report", "diagnose", "inspect"):
        res = CliRunner().invoke(main, [cmd, "--help"])
        assert res.exit_code == 0, cmd
        assert "Usage: " in res.output and len(res.output.splitlines()) > 8, cmd
