"""TensorRT version numbers: decoded, parsed and compared as tuples, never as strings."""

from __future__ import annotations

import re

Version = tuple[int, ...]

_DOTTED = re.compile(r"(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:\.(\d+))?")


def decode_version_int(value: int | str) -> str:
    """Decode trtexec's ``NV_TENSORRT_VERSION`` integer (``v8601``, ``100300``, ``8003``) to ``X.Y.Z``.

    8.x/9.x pack it as major*1000 + minor*100 + patch; 10.0 and later as major*10000 + minor*100 + patch.
    """
    n = int(str(value).lstrip("v"))
    if n >= 100000:
        major, minor, patch = n // 10000, (n // 100) % 100, n % 100
    else:
        major, minor, patch = n // 1000, (n // 100) % 10, n % 100
    return f"{major}.{minor}.{patch}"


def parse_version(text: str) -> Version:
    """``"8.6.1.6"`` -> ``(8, 6, 1, 6)``; ``"10.3"`` -> ``(10, 3)``. Raises ValueError if no number leads."""
    m = _DOTTED.search(text.strip())
    if not m:
        raise ValueError(f"not a version: {text!r}")
    return tuple(int(g) for g in m.groups() if g is not None)


def format_version(version: Version) -> str:
    return ".".join(str(p) for p in version)


def at_least(version: Version, *floor: int) -> bool:
    """True when ``version`` >= ``floor`` (missing trailing parts count as 0)."""
    width = max(len(version), len(floor))
    pad = lambda t: tuple(t) + (0,) * (width - len(t))  # noqa: E731
    return pad(version) >= pad(floor)
