"""Every example command in README.md and in each command's --help runs, in order, and exits 0.

One workspace holds what the examples name: the quick start's logs (downloaded by README's own curl
block, with curl replaced by a stand-in serving each pinned URL from the corpus file its MANIFEST entry
names), `sweep.example.yaml` and `examples/`, and the trtexec test double on PATH for the `run` examples
(with two simulated GPUs, so `--gpus 0,1` is valid). A new example that cannot run fails here.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from corpus_location import CORPUS_DIR
from e2e_helpers import double_env
from test_docs import fake_tools

from trtsweep.cli import main

pytestmark = [pytest.mark.e2e, pytest.mark.corpus]

ROOT = Path(__file__).parent.parent
DOUBLE = ROOT / "tests" / "trtexec_double"


def _bash_blocks(text: str) -> list[str]:
    return [b.split("\n```", 1)[0] for b in text.split("```bash\n")[1:]]


def _logical_lines(block: str) -> list[str]:
    joined = re.sub(r"\\\n\s*", " ", block)
    out = []
    for line in joined.splitlines():
        line = re.sub(r"\s+#\s.*$", "", line).strip()
        if line:
            out.append(line)
    return out


def _is_trtsweep(line: str) -> bool:
    return line.startswith("trtsweep ") or re.match(r"^PATH=\S+ trtsweep ", line) is not None


# Sections and commands whose examples run in this workspace; those of compare, history and doctor run in
# tests/test_examples_compare_history.py (they need two sweeps and a history database first).
SECTIONS = ("Quick start", "Run a sweep", "Diagnose", "Inspect a model", "Parse and import")
COMMANDS = ("diagnose", "import", "inspect", "parse", "plan", "report", "run")


def readme_commands() -> tuple[str, list[str]]:
    """(the download script, every trtsweep command of README's SECTIONS in order)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    parts = [p for p in text.split("\n## ")[1:] if p.split("\n", 1)[0].strip() in SECTIONS]
    blocks = [b for p in parts for b in _bash_blocks(p)]
    download = next(b for b in blocks if "curl " in b)
    setup = "\n".join(line for line in _logical_lines(download) if not _is_trtsweep(line))
    commands = [line for b in blocks for line in _logical_lines(b) if _is_trtsweep(line)]
    return setup, commands


def help_commands() -> list[str]:
    """The example lines of the top-level help and of every command's --help."""
    out = []
    for args in ([], *([name] for name in COMMANDS)):
        res = CliRunner().invoke(main, [*args, "--help"], terminal_width=100)
        assert res.exit_code == 0, args
        out += [line.strip() for line in res.output.splitlines() if line.strip().startswith("trtsweep ")]
    return out


def test_top_level_help_truncates_no_command_description() -> None:
    res = CliRunner().invoke(main, ["--help"], terminal_width=100)
    commands = res.output.split("Commands:\n", 1)[1]
    assert "..." not in commands, commands
    assert "_TRTSWEEP_COMPLETE=bash_source trtsweep" in res.output


def make_workspace(tmp_path: Path) -> Path:
    """A folder laid out as README's examples expect: sweep.example.yaml, examples/ and the trtexec double
    at tests/trtexec_double (for the examples that put it on PATH)."""
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(ROOT / "sweep.example.yaml", work)
    shutil.copytree(ROOT / "examples", work / "examples")
    (work / "tests").mkdir()
    (work / "tests" / "trtexec_double").symlink_to(DOUBLE)
    return work


def test_every_example_runs(tmp_path: Path) -> None:
    setup, from_readme = readme_commands()
    from_help = help_commands()
    assert from_help and len(from_readme) > 10
    work = make_workspace(tmp_path)
    bindir = fake_tools(tmp_path / "bin", CORPUS_DIR)
    env = double_env(tmp_path, {"gpus": ["NVIDIA H100 PCIe", "NVIDIA H100 PCIe"]})  # --gpus 0,1 is valid
    env.update(PATH=os.pathsep.join([str(bindir), env["PATH"]]), COLUMNS="100")
    res = subprocess.run(["bash", "-euo", "pipefail", "-c", setup], cwd=work, env=env, capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    ran: list[str] = []
    for command in dict.fromkeys(from_readme + from_help):  # each distinct command once, README first
        res = subprocess.run(["bash", "-euo", "pipefail", "-c", command], cwd=work, env=env,
                             capture_output=True, text=True, timeout=300)
        assert res.returncode == 0, f"{command}\n{res.stdout[-2000:]}\n{res.stderr[-2000:]}"
        assert "Traceback" not in res.stderr, command
        ran.append(command)
    # The ones that need the most set-up did run: a report, a diagnosis of the double's sweep, a plan.
    assert any(c.startswith("trtsweep report runs/h100 runs/ada") for c in ran)
    assert "trtsweep diagnose runs/fp32" in ran and (work / "report-gpus" / "index.html").is_file()
