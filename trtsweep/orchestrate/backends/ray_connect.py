"""Joining (or starting) the Ray cluster of a run and checking that every target has a node to run on.

The Ray backend's first step, before anything is written: Ray not installed, an address nobody answers
at, or a target no live node serves is one line for the user (:class:`ExecutorError`, exit 2).
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Mapping, Sequence
from typing import Any

from trtsweep.orchestrate.backends import ExecutorError
from trtsweep.sweeps.spec import Target

EXTRA_HINT = "pip install 'trtsweep[ray]'"
CONNECT_TIMEOUT_S = 5.0
IMPLICIT = Target("default")  # no ``targets``: any node with a GPU


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ExecutorError(f"--executor ray needs Ray, which is not installed: {EXTRA_HINT}") from None
    return ray


def _check_reachable(address: str) -> None:
    """An address nobody listens on makes ``ray.init`` retry for a minute: fail in seconds instead."""
    if address == "auto" or "://" in address:
        return  # 'auto' reads this host's running cluster; ray:// (Ray Client) has its own errors
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        raise ExecutorError(f"--ray-address {address}: expected HOST:PORT (e.g. 10.0.0.1:6379) or 'auto'")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=CONNECT_TIMEOUT_S):
            pass
    except OSError as exc:
        raise ExecutorError(f"--ray-address {address}: no Ray cluster answers there "
                            f"({exc.strerror or exc}); start one with 'ray start --head' or fix the "
                            "address") from None


def connect(address: str | None, local_gpus: int) -> tuple[Any, bool]:
    """(ray module, started here): join the cluster at ``address`` or start a Ray on this host with
    ``local_gpus`` GPU slots (at least one, like the local backend's single slot without nvidia-smi)."""
    ray = _import_ray()
    if ray.is_initialized():
        return ray, False
    try:
        if address:
            _check_reachable(address)
            ray.init(address=address, logging_level=logging.ERROR, log_to_driver=False)
            return ray, False
        # address="local": a Ray of the run's own, never a cluster that happens to run on this host; on
        # loopback, since nothing but this process and its workers talks to it.
        ray.init(address="local", num_gpus=max(1, local_gpus), include_dashboard=False,
                 logging_level=logging.ERROR, log_to_driver=False, _node_ip_address="127.0.0.1")
        return ray, True
    except ExecutorError:
        raise
    except Exception as exc:  # noqa: BLE001 - Ray raises many kinds; the user needs one line
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        where = f"--ray-address {address}" if address else "starting a local Ray"
        raise ExecutorError(f"{where}: {first}") from None


def needs(target: Target) -> dict[str, float]:
    """What one step of ``target`` asks a node for: one GPU and the target's resources."""
    return {"GPU": 1.0, **({} if target is IMPLICIT else target.requested)}


def unserved_targets(nodes: Sequence[Mapping[str, Any]], targets: Sequence[Target]) -> list[str]:
    """One line per target that no live node can run a step of (pure: takes ``ray.nodes()``)."""
    alive = [n.get("Resources") or {} for n in nodes if n.get("Alive")]
    lines = []
    for t in targets:
        want = needs(t)
        if not any(all(r.get(k, 0) >= v for k, v in want.items()) for r in alive):
            asked = ", ".join(f"{k}: {v:g}" for k, v in want.items())
            offered = "; ".join(", ".join(f"{k}: {v:g}" for k, v in sorted(r.items())
                                          if not k.startswith(("node:", "memory", "object_store")))
                                for r in alive) or "no live node"
            name = "the run (no targets)" if t is IMPLICIT else f"target '{t.name}'"
            lines.append(f"{name} needs a node with {{{asked}}}; the cluster offers: {offered}")
    return lines
