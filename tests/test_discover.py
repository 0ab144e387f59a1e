"""find_trtexec search order and probe of the version banner (with the trtexec double)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from trtsweep.trtexec import discover
from trtsweep.trtexec.discover import TrtexecNotFound, TrtexecProbeError, find_trtexec, probe

DOUBLE = Path(__file__).parent / "trtexec_double" / "trtexec"


def fake(dir_: Path, text: str = "", name: str = "trtexec") -> Path:
    dir_.mkdir(parents=True, exist_ok=True)
    path = dir_ / name
    path.write_text(f"#!/bin/sh\ncat <<'EOF'\n{text}\nEOF\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_search_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a, b, c = fake(tmp_path / "a"), fake(tmp_path / "b"), fake(tmp_path / "c")
    env = {"TRTEXEC": str(b), "PATH": str(c.parent)}
    assert find_trtexec(a, env) == a
    assert find_trtexec(None, env) == b
    assert find_trtexec(None, {"PATH": str(c.parent)}) == c
    monkeypatch.setattr(discover, "DEFAULT_LOCATION", a)
    assert find_trtexec(None, {"PATH": str(tmp_path / "empty")}) == a


def test_not_found_lists_where_it_looked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(discover, "DEFAULT_LOCATION", tmp_path / "none" / "trtexec")
    with pytest.raises(TrtexecNotFound) as err:
        find_trtexec(None, {"PATH": str(tmp_path)})
    msg = str(err.value)
    assert "$TRTEXEC" in msg and str(tmp_path) in msg and "none/trtexec" in msg
    with pytest.raises(TrtexecNotFound, match="explicit path"):
        find_trtexec(tmp_path / "missing", {})
    with pytest.raises(TrtexecNotFound, match=r"\$TRTEXEC"):
        find_trtexec(None, {"TRTEXEC": str(tmp_path / "missing")})


@pytest.mark.parametrize(
    ("env_version", "expected"), [("8.6.1", (8, 6, 1)), ("10.8.0", (10, 8, 0)), ("11.0", (11, 0, 0))]
)
def test_probe_double(monkeypatch: pytest.MonkeyPatch, env_version: str, expected: tuple[int, ...]) -> None:
    monkeypatch.setenv("TRTEXEC_DOUBLE_VERSION", env_version)
    monkeypatch.delenv("TRTEXEC_DOUBLE_CONFIG", raising=False)
    discover._CACHE.clear()
    info = probe(DOUBLE)
    assert info.version == expected and info.version_text == ".".join(map(str, expected))
    assert "--loadEngine" in info.help_flags
    assert ("--noCudaGraph" in info.help_flags) == (expected >= (11,))


def test_probe_7x_without_banner_and_pin(tmp_path: Path) -> None:
    path = fake(tmp_path, "&&&& RUNNING TensorRT.trtexec # trtexec --help\n  --onnx=<file>   ONNX model")
    assert probe(path).version is None
    assert probe(path, pinned_version="7.1.3").version == (7, 1, 3)


def test_probe_cached_per_mtime(tmp_path: Path) -> None:
    path = fake(tmp_path, "&&&& RUNNING TensorRT.trtexec [TensorRT v8601] # trtexec")
    assert probe(path).version == (8, 6, 1)
    fake(tmp_path, "&&&& RUNNING TensorRT.trtexec [TensorRT v101601] [b11] # trtexec --help")
    os.utime(path, ns=(1, 10**18))
    assert probe(path).version == (10, 16, 1)
    with pytest.raises(TrtexecProbeError, match="pinned"):
        probe(path, pinned_version="10.8")


def test_probe_timeout(tmp_path: Path) -> None:
    path = tmp_path / "slow"
    path.write_text("#!/bin/sh\nexec sleep 30\n")
    path.chmod(0o755)
    with pytest.raises(TrtexecProbeError, match="did not finish"):
        probe(path, timeout=0.5)
