"""Where the real corpus lives at test time, and what its MANIFEST says.

The corpus is other people's output (public repositories and issue threads), so the project never ships a
copy: tests read it where it is. ``TRTSWEEP_CORPUS`` names the corpus folder (the one holding
``MANIFEST.jsonl``, ``files/`` and ``nvidia-smi/``); without it, ``../shared/corpus`` beside the repository
is used. ``scripts/fetch_corpus.py`` downloads the files from their sources into such a folder.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def corpus_dir() -> Path:
    """The corpus folder: ``$TRTSWEEP_CORPUS`` if set, else ``../shared/corpus`` next to the repository."""
    env = os.environ.get("TRTSWEEP_CORPUS")
    return Path(env).expanduser().resolve() if env else REPO.parent / "shared" / "corpus"


CORPUS_DIR = corpus_dir()
#: The real files, by MANIFEST name (``CORPUS / name``).
CORPUS = CORPUS_DIR / "files"
#: Real ``nvidia-smi`` outputs (H100 and H200 hosts).
SMI = CORPUS_DIR / "nvidia-smi"
AVAILABLE = (CORPUS_DIR / "MANIFEST.jsonl").is_file() and CORPUS.is_dir()
SKIP_REASON = (f"real corpus not found at {CORPUS_DIR}: set TRTSWEEP_CORPUS, or fetch it with "
               "`python scripts/fetch_corpus.py -o ../shared/corpus` (see CONTRIBUTING.md)")


def manifest() -> dict[str, dict]:
    """MANIFEST.jsonl keyed by file name (empty when the corpus is absent)."""
    if not AVAILABLE:
        return {}
    out = {}
    for line in (CORPUS_DIR / "MANIFEST.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            entry = json.loads(line)
            out[entry["file"]] = entry
    return out
