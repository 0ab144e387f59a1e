"""Find the trtexec binary and learn its version from its own ``--help`` output."""

from __future__ import annotations

import os
import re
import select
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from trtsweep.versions import Version, decode_version_int, parse_version

DEFAULT_LOCATION = Path("/usr/src/tensorrt/bin/trtexec")
_BANNER = re.compile(r"\[TensorRT v(\d+)\]")
_HELP_FLAG = re.compile(r"^\s+(--[A-Za-z][A-Za-z0-9]*)", re.MULTILINE)


class TrtexecNotFound(FileNotFoundError):
    """No usable trtexec; ``searched`` lists every place that was looked at, in order."""

    def __init__(self, searched: list[str]) -> None:
        self.searched = searched
        super().__init__(
            "looked at " + ", ".join(searched) + " (pass --trtexec PATH or set $TRTEXEC)"
        )


class TrtexecProbeError(RuntimeError):
    """trtexec exists but ``trtexec --help`` could not be run or understood."""


@dataclass(frozen=True)
class TrtexecInfo:
    """What the probe learnt. ``version`` is None for 7.x builds, which print no version banner."""

    path: str
    version: Version | None
    version_text: str | None
    help_text: str

    @property
    def help_flags(self) -> frozenset[str]:
        """Flags listed in the help text (some accepted flags are unlisted: consult the flag table too)."""
        return frozenset(_HELP_FLAG.findall(self.help_text))


def _usable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def find_trtexec(
    explicit: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None
) -> Path:
    """Locate trtexec: ``explicit`` path, then ``$TRTEXEC``, then ``PATH``, then the TensorRT default.

    An explicit path or a set ``$TRTEXEC`` that is not executable is an error rather than a fall-through:
    silently running another trtexec would mislabel every result.
    """
    env = os.environ if env is None else env
    searched: list[str] = []
    for label, candidate in (("explicit path", explicit), ("$TRTEXEC", env.get("TRTEXEC"))):
        if candidate:
            # Absolute: steps run in their own folders, where a relative path would name nothing.
            path = Path(candidate).expanduser().absolute()
            if _usable(path):
                return path
            raise TrtexecNotFound([f"{label} {path} (missing or not executable)"])
        searched.append(f"{label} (not given)")
    on_path = shutil.which("trtexec", path=env.get("PATH", ""))
    if on_path:
        return Path(on_path).absolute()  # PATH may hold relative folders (PATH=tests/trtexec_double:...)
    folders = [d for d in env.get("PATH", "").split(os.pathsep) if d]
    searched.append(f"the {len(folders)} folders of $PATH")
    if _usable(DEFAULT_LOCATION):
        return DEFAULT_LOCATION
    searched.append(str(DEFAULT_LOCATION))
    raise TrtexecNotFound(searched)


def parse_help_banner(text: str) -> tuple[Version | None, str | None]:
    """Version from the ``[TensorRT vNNNN]`` banner of any trtexec output; (None, None) when absent."""
    m = _BANNER.search(text)
    if not m:
        return None, None
    dotted = decode_version_int(m.group(1))
    return parse_version(dotted), dotted


_CACHE: dict[tuple[str, int, int], TrtexecInfo] = {}


MAX_PROBE_BYTES = 4 << 20  # trtexec --help prints ~30 KB; a binary that prints more is not trtexec


def _run_bounded(argv: list[str], timeout: float) -> tuple[int, bytes]:
    """Run ``argv`` in its own process group, keeping at most MAX_PROBE_BYTES of its output; on timeout
    or too much output the whole group is killed (a wrapper script's children too)."""
    try:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    except OSError as exc:
        raise TrtexecProbeError(f"cannot run {argv[0]}: {exc}") from exc
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    chunks: list[bytes] = []
    size = 0
    problem = None
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                problem = f"{argv[0]} --help did not finish within {timeout:g} s"
                break
            ready, _, _ = select.select([proc.stdout], [], [], min(left, 0.5))
            if not ready:
                continue
            chunk = os.read(proc.stdout.fileno(), 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_PROBE_BYTES:
                problem = f"{argv[0]} --help printed more than {MAX_PROBE_BYTES >> 20} MiB: not trtexec"
                break
    finally:
        if problem is not None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass
        proc.stdout.close()
        proc.wait()
    if problem is not None:
        raise TrtexecProbeError(problem)
    return proc.returncode, b"".join(chunks)


def probe(
    path: str | os.PathLike[str], timeout: float = 30, pinned_version: Version | str | None = None
) -> TrtexecInfo:
    """Run ``trtexec --help`` (exit 0 on every release) and read the version banner.

    ``pinned_version`` supplies the version when the binary prints none (7.x). Results are cached per
    path, mtime and size, so probing the same binary again is free until it is replaced.
    """
    resolved = str(Path(path).resolve())
    try:
        st = os.stat(resolved)
    except OSError as exc:
        raise TrtexecProbeError(f"cannot stat {resolved}: {exc}") from exc
    key = (resolved, st.st_mtime_ns, st.st_size)
    info = _CACHE.get(key)
    if info is None:
        returncode, output = _run_bounded([resolved, "--help"], timeout)
        text = output.decode("utf-8", errors="replace")
        version, dotted = parse_help_banner(text)
        if returncode != 0 and version is None:
            raise TrtexecProbeError(f"{resolved} --help exited with {returncode}: {text[-500:]}")
        info = TrtexecInfo(path=resolved, version=version, version_text=dotted, help_text=text)
        _CACHE[key] = info
    if pinned_version is not None:
        pinned = parse_version(pinned_version) if isinstance(pinned_version, str) else tuple(pinned_version)
        if info.version is not None and info.version[: len(pinned)] != pinned:
            raise TrtexecProbeError(
                f"{resolved} reports TensorRT {info.version_text}, but version {pinned_version} was pinned"
            )
        return TrtexecInfo(info.path, info.version or pinned, info.version_text, info.help_text)
    return info
