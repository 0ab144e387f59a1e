"""The values the nightly history stores and returns: what one run brings (:class:`RunEntry` and its
parts) and the rows its queries give back. Plain dataclasses, no database: ``store.history`` reads and
writes them, ``analysis`` computes with them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

# --- what one run brings ------------------------------------------------------------------------

@dataclass
class TargetFacts:
    """The machine and GPU a run measured (its stable identity)."""

    host: str | None
    gpu_name: str | None
    gpu_uuid: str | None = None

    @property
    def key(self) -> str:
        # A GPU's UUID identifies the board; without one (imported logs) host and model must do.
        ident = [self.host or "", self.gpu_uuid or self.gpu_name or ""]
        return hashlib.sha256(json.dumps(ident).encode()).hexdigest()[:16]

    @property
    def name(self) -> str:
        return f"{self.host or 'unknown-host'}/{self.gpu_name or 'unknown-gpu'}"


@dataclass
class VariantEntry:
    """A variant by what makes it the same experiment every night."""

    key: str
    label: str
    axes: dict[str, Any]
    model: str | None = None
    model_sha256: str | None = None


@dataclass
class LayerEntry:
    name: str
    type: str | None = None
    precision: str | None = None
    time_ms: float | None = None
    time_pct: float | None = None


@dataclass
class RepeatEntry:
    """One repeat (trtexec process) of one variant with its figures."""

    variant_key: str
    repeat: int
    folder_variant: str  # the variant's folder id in the run folder
    status: str
    metrics: dict[str, float]
    layers: list[LayerEntry] = field(default_factory=list)


@dataclass
class RunEntry:
    """Everything ``history add`` stores of one run folder."""

    run_id: str
    created: str
    night: str  # YYYY-MM-DD the run measured
    origin: str
    target: TargetFacts
    variants: list[VariantEntry]
    repeats: list[RepeatEntry]
    trt_version: str | None = None
    driver: str | None = None
    cuda: str | None = None
    sm_clock_mhz: float | None = None
    max_sm_clock_mhz: float | None = None
    power_limit_w: float | None = None
    clock_event_reasons: str | None = None
    spec_sha256: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    source: str | None = None
    missing: list[str] = field(default_factory=list)  # what could not be derived, in words

    def idempotency_key(self) -> str:
        """sha256 of the measured content (not of labels or the folder's path): the same run is one key."""
        body = asdict(self)
        for name in ("labels", "source", "missing"):
            body.pop(name)
        text = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class AddResult:
    run_id: str
    added: bool  # False when this run was already in the history (nothing changed)
    repeats: int
    variants: int


@dataclass(frozen=True)
class RunRow:
    pk: int
    run_id: str
    night: str
    created: str
    target: str
    trt_version: str | None
    origin: str | None
    labels: dict[str, str]
    variants: int
    missing: list[str]


@dataclass(frozen=True)
class TargetRow:
    pk: int
    key: str
    name: str
    host: str | None
    gpu_name: str | None
    gpu_uuid: str | None


@dataclass(frozen=True)
class VariantRow:
    pk: int
    key: str
    label: str
    axes: dict[str, Any]
    model: str | None
    model_sha256: str | None


@dataclass(frozen=True)
class Point:
    """One repeat's value of one metric, with the run it belongs to."""

    target: int
    variant: int
    run: int
    run_id: str
    night: str
    created: str
    trt_version: str | None
    repeat: int
    value: float


@dataclass(frozen=True)
class Annotation:
    run_id: str
    note: str
    expected: bool
    created: str
