"""The examples of `compare`, `history` and `doctor` (README and --help) run and exit as documented.

They name run folders, databases and ids of the reader's own (runs/h100, /shared/history.sqlite, a run id
like 20250601-3fa2c1d0). The workspace makes two real sweeps through the trtexec double (README's own
"Compare two runs" block, which must exit 3 as its comment says), copies them under every folder name the
examples use, and puts this workspace's paths and ids in place of the reader's (PLACEHOLDERS); then every
example runs in order and must exit with a status its command documents.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from e2e_helpers import double_env
from test_examples_run import _bash_blocks, _is_trtsweep, _logical_lines, make_workspace

from trtsweep.cli import main

pytestmark = [pytest.mark.e2e]

ROOT = Path(__file__).parent.parent
DOUBLE = ROOT / "tests" / "trtexec_double"
COMMANDS = ("compare", "doctor", "history add", "history list", "history check", "history annotate",
            "history trend", "history publish", "history merge")
# What each command documents as its exit statuses (the --help "Exit status" lines).
EXITS = {"compare": {0, 3, 4}, "history check": {0, 3, 4}, "doctor": {0, 1}}
COPIES = ("h100", "a100", "l4", "trt10.8", "trt10.13", "gtx1070", "rtx3090", "2025-06-01", "nightly",
          "imported-logs")  # the last is made by `trtsweep import`, the others are copies of runs/before


def _section(title: str) -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    part = next(p for p in text.split("\n## ")[1:] if p.split("\n", 1)[0].strip() == title)
    return _bash_blocks(part)


def help_examples() -> list[str]:
    out = []
    for name in COMMANDS:
        res = CliRunner().invoke(main, [*name.split(), "--help"], terminal_width=100)
        assert res.exit_code == 0, name
        out += [line.strip() for line in res.output.splitlines() if line.strip().startswith("trtsweep ")]
    return out


def _command_of(line: str) -> str:
    words = line.split()[1:3]
    return " ".join(words) if words[0] == "history" else words[0]


def _run(script: str, work: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-uo", "pipefail", "-c", script], cwd=work, env=env, capture_output=True,
                          text=True, timeout=300)


def test_compare_history_doctor_examples_exit_as_documented(tmp_path: Path) -> None:
    work = make_workspace(tmp_path)
    env = double_env(tmp_path)
    env.update(COLUMNS="100", TRTSWEEP_HISTORY=str(work / "history.sqlite"))

    # README's "Compare two runs": two sweeps, the second 5 % slower at fp16 batch 8; the block's last
    # command says "# exit status 3". Every line before it must succeed.
    block = _section("Compare two runs")[0].rstrip("\n")
    head, last = block.rsplit("\n", 1)
    expected = int(re.search(r"# exit status (\d)", last).group(1))  # type: ignore[union-attr]
    res = _run(f"set -e\n{head}\nset +e\n{last}\n", work, env)
    assert res.returncode == expected, f"{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
    assert "slower" in res.stdout and "precision=fp16, batch=8" in res.stdout

    for name in COPIES[:-1]:
        # A copy is another run: its own run id, or the history would refuse it as the same run changed.
        copy = shutil.copytree(work / "runs" / "before", work / "runs" / name)
        meta = json.loads((copy / "meta.json").read_text())
        (copy / "meta.json").write_text(json.dumps({**meta, "run_id": f"{meta['run_id']}-{name}"}))
    # runs/imported-logs is what its name says: trtexec logs imported (history add needs --night for it).
    logs = work / "logs" / "nightly"
    logs.mkdir(parents=True)
    for log in sorted((work / "runs" / "after" / "runs").glob("*/run.log")):
        shutil.copy(log, logs / f"{log.parent.name}.log")
    assert _run("trtsweep import logs/nightly -o runs/imported-logs", work, env).returncode == 0
    (work / "shared").mkdir()
    for db, run in (("host-a.sqlite", "before"), ("host-b.sqlite", "after")):
        assert _run(f"trtsweep history add runs/{run} --db {db}", work, env).returncode == 0
    run_id = json.loads((work / "runs" / "2025-06-01" / "meta.json").read_text())["run_id"]
    host = json.loads((work / "runs" / "before" / "meta.json").read_text())["host"]
    placeholders = {
        "/shared/": f"{work}/shared/", "/var/www/nightly": "www/nightly",
        "/opt/tensorrt/bin/trtexec": str(DOUBLE / "trtexec"),
        "20250601-3fa2c1d0": run_id, "20250603-77ab0e12": run_id,
        # --target names a host (or host/GPU): the reader's lab-a10 is this workspace's host.
        "--target lab-a10": f"--target {host}",
    }

    readme = [line for b in _section("Compare two runs")[1:] + _section("Nightly history")
              for line in _logical_lines(b) if _is_trtsweep(line)]
    examples = list(dict.fromkeys(readme + help_examples()))
    assert len(examples) > 20
    ran = []
    for line in examples:
        command = line
        for old, new in placeholders.items():
            command = command.replace(old, new)
        res = _run(command, work, env)
        allowed = EXITS.get(_command_of(line), {0})
        assert res.returncode in allowed, \
            f"{command}\nexit {res.returncode}\n{res.stdout[-2000:]}\n{res.stderr[-2000:]}"
        assert "Traceback" not in res.stderr, command
        ran.append(command)
    assert (work / "compare-gpus" / "index.html").is_file() and (work / "site" / "index.html").is_file()
    assert (work / "all.sqlite").is_file() and (work / "doctor.json").is_file()
