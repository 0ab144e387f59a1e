"""The docs tell the truth: the generated sweep reference is current and README's commands run."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from trtsweep.cli import main
from trtsweep.sweeps.schema import describe

ROOT = Path(__file__).parent.parent


def test_sweep_reference_is_generated_from_the_schema():
    expected = describe().rstrip("\n") + "\n"
    actual = (ROOT / "docs" / "sweep-reference.md").read_text()
    assert actual == expected, "regenerate: python -c 'from trtsweep.sweeps.schema import describe; " \
                               "print(describe())' > docs/sweep-reference.md"


def test_every_command_has_help():
    for cmd in ("parse", "import", "plan", "run", "report", "diagnose", "inspect"):
        res = CliRunner().invoke(main, [cmd, "--help"])
        assert res.exit_code == 0, cmd
        assert "Usage: " in res.output and len(res.output.splitlines()) > 8, cmd


def readme_blocks(section: str) -> list[str]:
    """The ```bash blocks of one README section (## heading), in order."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    body = text.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    return [b.split("\n```", 1)[0] for b in body.split("```bash\n")[1:]]


FAKE_CURL = '''#!{python}
"""curl stand-in for the test: serves raw.githubusercontent.com URLs from the corpus by MANIFEST entry."""
import json, shutil, sys, urllib.parse
from pathlib import Path
corpus = Path({corpus!r})
by_url = {{}}
for line in (corpus / "MANIFEST.jsonl").read_text().splitlines():
    if line.strip():
        e = json.loads(line)
        url = "https://raw.githubusercontent.com/%s/%s/%s" % (e["repo"], e["commit"], e["path"])
        by_url[url] = corpus / "files" / e["file"]
args, pairs, i = sys.argv[1:], [], 0
while i < len(args):
    if args[i] == "-o":
        pairs.append((args[i + 1], args[i + 2]))
        i += 3
    else:
        i += 1
for target, url in pairs:
    src = by_url.get(urllib.parse.unquote(url))
    if src is None:
        sys.exit("curl: (22) The requested URL returned error: 404 " + url)
    Path(target).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, target)
'''


def fake_tools(bindir: Path, corpus: Path) -> Path:
    """A folder for PATH with the curl stand-in (serving ``corpus``) and a ``trtsweep`` launcher."""
    import sys

    bindir.mkdir()
    (bindir / "curl").write_text(FAKE_CURL.format(python=sys.executable, corpus=str(corpus)))
    (bindir / "trtsweep").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m trtsweep.cli "$@"\n')
    for tool in bindir.iterdir():
        tool.chmod(0o755)
    return bindir


@pytest.mark.corpus
def test_readme_quick_start_runs_literally_and_ends_in_real_results(tmp_path):
    """The quick start's download-and-analyse block, run by bash as written; curl is replaced by a stand-in
    that serves each pinned URL from the corpus file its MANIFEST entry names (so a wrong repo, commit or
    path in README fails here)."""
    import os
    import subprocess

    from corpus_location import CORPUS_DIR

    blocks = readme_blocks("Quick start")
    script = next(b for b in blocks if "curl " in b)
    bindir = fake_tools(tmp_path / "bin", CORPUS_DIR)
    work = tmp_path / "work"
    work.mkdir()
    env = dict(os.environ, PATH=f"{bindir}{os.pathsep}{os.environ['PATH']}", COLUMNS="200")
    res = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=work, env=env,
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    # hackcn__trt10.16.1_result-01.log: "[I] Throughput: 15374.3 qps", "Selected Device: NVIDIA H100 PCIe";
    # hackcn__trt10.14.1_result-01.log: "[I] Throughput: 23188.6 qps" on an RTX 6000 Ada Generation.
    # parse writes qps to 4 significant digits: 15374, 23189.
    assert "logs/h100/01-onnx-default.log  (trtexec log; TensorRT 10.16.1; NVIDIA H100 PCIe)" in res.stdout
    rows = [line.split() for line in res.stdout.splitlines() if line.startswith("1  passed")]
    assert [r[5] for r in rows[:3]] == ["15374", "24897", "23189"]
    assert "imported 3 variant(s) into runs/h100" in res.stdout
    html = (work / "report-gpus" / "index.html").read_text()
    assert "NVIDIA RTX 6000 Ada Generation" in html and "NVIDIA H100 PCIe" in html
    assert "[HIGH]" in res.stdout or "[MEDIUM]" in res.stdout  # diagnose printed findings


def test_readme_offline_path_needs_no_gpu_trtexec_or_network(tmp_path):
    import os
    import subprocess
    import sys

    script = next(b for b in readme_blocks("Quick start") if "trtsweep plan" in b)
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "trtsweep").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m trtsweep.cli "$@"\n')
    (bindir / "trtsweep").chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k != "TRTEXEC"}
    env["PATH"] = f"{bindir}{os.pathsep}/usr/bin{os.pathsep}/bin"  # no trtexec, no nvidia-smi
    res = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "--loadEngine=" in res.stdout and "--fp16" in res.stdout  # the exact commands of the plan
