"""Regular expressions compiled on first use, so that importing a parser costs no compile time.

The log parser has ~100 patterns; a run of ``trtsweep parse`` on one file uses a fraction of them, and
compiling all of them at import was a large share of its start-up. :func:`lazy` returns an object that
behaves as the compiled pattern (``match``, ``search``, ``finditer``, ...): the first attribute access
compiles it and binds the compiled pattern's methods on the object, so later calls cost what calls on a
compiled pattern cost.
"""

from __future__ import annotations

import re
from typing import Any, AnyStr, cast

_BOUND = ("match", "search", "fullmatch", "findall", "finditer", "sub", "subn", "split", "pattern",
          "flags", "groups", "groupindex")


class _LazyPattern:
    def __init__(self, pattern: str | bytes, flags: int) -> None:
        self._source: tuple[Any, int] = (pattern, flags)

    def __getattr__(self, name: str) -> Any:  # only reached before the first compile
        if name.startswith("__"):
            raise AttributeError(name)
        compiled = re.compile(*self._source)
        for attr in _BOUND:
            setattr(self, attr, getattr(compiled, attr))
        return getattr(compiled, name)

    def __repr__(self) -> str:
        return f"lazy({self._source[0]!r})"


def lazy(pattern: AnyStr, flags: int = 0) -> re.Pattern[AnyStr]:
    """``re.compile(pattern, flags)``, deferred until the pattern is first used."""
    return cast("re.Pattern[AnyStr]", _LazyPattern(pattern, flags))
