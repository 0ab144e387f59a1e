"""Run one trtexec step: argv list (never a shell), own process group, one interleaved log, hard timeout."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

StepStatus = Literal["passed", "failed", "timeout", "crash"]


@dataclass(frozen=True)
class StepOutcome:
    """How a step ended. ``signal`` is the signal number that ended the process (crash/timeout), else None."""

    returncode: int | None
    status: StepStatus
    duration_s: float
    signal: int | None = None


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # a member we cannot signal still exists
        return True
    return True


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass


def _kill_group(proc: subprocess.Popen[bytes], pgid: int, grace_s: float) -> None:
    """SIGTERM the whole group, give it ``grace_s`` to exit, then SIGKILL whatever is left.

    The group, not just the child: trtexec 11.1 forks tuning children, and wrappers may spawn helpers.
    """
    _signal_group(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        if proc.poll() is not None and not _group_alive(pgid):
            break
        time.sleep(0.02)
    _signal_group(pgid, signal.SIGKILL)
    proc.wait()


def _wait(proc: subprocess.Popen[bytes], timeout_s: float | None) -> int:
    """Wait for the child, waking the moment it exits.

    ``Popen.wait(timeout=...)`` polls with sleeps of up to 50 ms, which adds tens of ms to every step of a
    sweep; a pidfd becomes readable exactly when the process ends (Linux 5.3+, else fall back).
    """
    if timeout_s is None or not hasattr(os, "pidfd_open"):
        return proc.wait(timeout=timeout_s)
    try:
        fd = os.pidfd_open(proc.pid)
    except OSError:
        return proc.wait(timeout=timeout_s)
    try:
        ready, _, _ = select.select([fd], [], [], timeout_s)
    finally:
        os.close(fd)
    if not ready:
        raise subprocess.TimeoutExpired(proc.args, timeout_s)
    return proc.wait()


def run_step(
    argv: Sequence[str],
    log_path: str | os.PathLike[str],
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    timeout_s: float | None = None,
    grace_s: float = 5.0,
    on_start: Callable[[int], None] | None = None,
) -> StepOutcome:
    """Run ``argv`` with stdout and stderr interleaved, in order, into ``log_path``.

    Returns ``passed`` (rc 0), ``failed`` (rc > 0), ``crash`` (killed by a signal; ``signal`` set) or
    ``timeout`` (the whole process group was terminated after ``timeout_s``). A KeyboardInterrupt in the
    caller kills the process group before propagating: the child lives in its own session, so the
    terminal's Ctrl-C never reaches it. OSError (e.g. missing binary) propagates to the caller.
    ``on_start(pid)`` is called once the child runs: a caller running steps in worker threads needs the
    pid (= process group) to stop the child from its main thread, where Ctrl-C arrives.
    """
    log = Path(log_path)
    log.parent.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    with open(log, "wb") as out:
        # One file descriptor for both streams keeps trtexec's [I]/[W] lines in the order they were written.
        proc = subprocess.Popen(
            list(argv),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=True,
        )
        pgid = proc.pid  # start_new_session makes the child the leader of a new group
        try:
            if on_start is not None:
                on_start(pgid)
            rc = _wait(proc, timeout_s)
        except subprocess.TimeoutExpired:
            _kill_group(proc, pgid, grace_s)
            rc = proc.returncode
            return StepOutcome(
                rc, "timeout", time.monotonic() - start, -rc if rc is not None and rc < 0 else None
            )
        except BaseException:
            _kill_group(proc, pgid, min(grace_s, 1.0))
            raise
        # Do not leave stray grandchildren of a finished step holding the GPU.
        if _group_alive(pgid):
            _kill_group(proc, pgid, min(grace_s, 1.0))
    duration = time.monotonic() - start
    if rc < 0:
        return StepOutcome(rc, "crash", duration, -rc)
    return StepOutcome(rc, "passed" if rc == 0 else "failed", duration, None)
