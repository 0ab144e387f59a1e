"""run_step: argv verbatim, interleaved log, process-group timeout, crash and Ctrl-C handling."""

from __future__ import annotations

import os
import signal
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from trtsweep.trtexec.runner import run_step


def script(tmp_path: Path, name: str, code: str) -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(code))
    return str(path)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_passed_and_order_of_stdout_stderr_kept(tmp_path: Path) -> None:
    prog = script(
        tmp_path,
        "p.py",
        """
        import sys
        for i in range(50):
            stream = sys.stderr if i % 3 == 0 else sys.stdout
            stream.write(f"line {i}\\n"); stream.flush()
    """,
    )
    out = run_step([sys.executable, prog], tmp_path / "logs" / "run.log", timeout_s=30)
    assert out.status == "passed" and out.returncode == 0 and out.signal is None and out.duration_s > 0
    assert (tmp_path / "logs" / "run.log").read_text().splitlines() == [f"line {i}" for i in range(50)]


def test_failed_rc(tmp_path: Path) -> None:
    out = run_step([sys.executable, "-c", "raise SystemExit(1)"], tmp_path / "r.log")
    assert (out.status, out.returncode) == ("failed", 1)


def test_argv_passed_verbatim_without_shell(tmp_path: Path) -> None:
    odd = tmp_path / "dir with space; rm -rf x" / 'it\'s "q" $HOME.onnx'
    odd.parent.mkdir()
    prog = script(tmp_path, "echo.py", "import sys\nprint(repr(sys.argv[1:]))\n")
    args = [f"--onnx={odd}", "--shapes='x:0':1x3", "a;b", "*"]
    out = run_step([sys.executable, prog, *args], tmp_path / "r.log", cwd=odd.parent, env=dict(os.environ))
    assert out.status == "passed"
    assert (tmp_path / "r.log").read_text().strip() == repr(args)


def test_crash_reports_signal(tmp_path: Path) -> None:
    out = run_step(
        [sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)"], tmp_path / "r.log"
    )
    assert out.status == "crash" and out.signal == signal.SIGSEGV and out.returncode == -signal.SIGSEGV


def test_timeout_kills_whole_group_including_grandchild(tmp_path: Path) -> None:
    pidfile = tmp_path / "grandchild.pid"
    prog = script(
        tmp_path,
        "tree.py",
        f"""
        import signal, subprocess, sys, time
        child = subprocess.Popen([sys.executable, "-c",
            "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"])
        open({str(pidfile)!r}, "w").write(str(child.pid))
        print("started", flush=True)
        time.sleep(600)
    """,
    )
    start = time.monotonic()
    out = run_step([sys.executable, prog], tmp_path / "r.log", timeout_s=1.0, grace_s=0.5)
    assert out.status == "timeout" and out.signal == signal.SIGTERM
    assert time.monotonic() - start < 10
    grandchild = int(pidfile.read_text())
    deadline = time.monotonic() + 5
    while alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)  # SIGKILLed; wait for init to reap it
    assert not alive(grandchild)
    assert "started" in (tmp_path / "r.log").read_text()


def test_keyboard_interrupt_kills_child(tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    prog = script(
        tmp_path,
        "sleep.py",
        f"""
        import os, time
        open({str(pidfile)!r}, "w").write(str(os.getpid()))
        time.sleep(600)
    """,
    )

    def interrupt() -> None:
        while not pidfile.exists() or not pidfile.read_text():
            time.sleep(0.02)
        signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)

    threading.Thread(target=interrupt, daemon=True).start()
    with pytest.raises(KeyboardInterrupt):
        run_step([sys.executable, prog], tmp_path / "r.log", timeout_s=60)
    assert not alive(int(pidfile.read_text()))


def test_missing_binary_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        run_step([str(tmp_path / "nope")], tmp_path / "r.log")
