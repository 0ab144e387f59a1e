"""A real local Ray cluster for the Ray backend's tests, started with Ray's own ``ray.cluster_utils``.

CPU only: GPUs are declared (``num_gpus``) and each target is a custom resource (``h100``, ``l4``). Every
node is bound to 127.0.0.1 with a small object store and no dashboard. Each node gets its own environment
(``env_vars``): the trtexec double's config naming that node's GPU model, and a scratch folder under the
test's tmp dir, so a test can see which node holds which engine.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from e2e_helpers import FAST_PERF

# Ray resolves 127.0.0.1 to this host's routable address unless told this host is not part of a wider
# cluster; the test cluster listens on loopback only.
RAY_ENV = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}
STORE_BYTES = 100 << 20
GPU_NAMES = {"h100": "NVIDIA H100 PCIe", "l4": "NVIDIA L4"}


@dataclass
class RayCluster:
    """The cluster, its nodes by name, and where each node keeps its scratch folders."""

    cluster: Any
    root: Path
    nodes: dict[str, Any] = field(default_factory=dict)

    @property
    def address(self) -> str:
        return str(self.cluster.address)

    def config_path(self, node: str) -> Path:
        return self.root / f"double-{node}.json"

    def scratch(self, node: str) -> Path:
        return self.root / f"scratch-{node}"

    def set_config(self, node: str, target: str, **perf: Any) -> None:
        """(Re)write the double's config a node's trtexec reads (each invocation reads it afresh)."""
        name = GPU_NAMES[target]
        self.config_path(node).write_text(json.dumps({"gpus": [name, name], "perf": {**FAST_PERF, **perf}}))

    def add(self, node: str, target: str, gpus: int = 2, ip: str = "127.0.0.1") -> Any:
        """Start a worker node serving ``target`` with ``gpus`` fake GPUs.

        A node the test will remove gets another loopback address (``127.0.0.2``): a driver attaches to a
        raylet of its own IP, and with every node on 127.0.0.1 it may pick the one about to die, which
        a real coordinator (on its own host) never does."""
        self.set_config(node, target)
        self.scratch(node).mkdir(parents=True, exist_ok=True)
        env = {"TRTEXEC_DOUBLE_CONFIG": str(self.config_path(node)),
               "TRTSWEEP_RAY_SCRATCH": str(self.scratch(node))}
        handle = self.cluster.add_node(num_cpus=1, num_gpus=gpus, resources={target: gpus},
                                       object_store_memory=STORE_BYTES, node_ip_address=ip,
                                       env_vars=env)
        self.nodes[node] = handle
        self.cluster.wait_for_nodes()
        return handle

    def remove(self, node: str) -> None:
        """Kill every process of a worker node at once (as a host that dies), not a graceful drain."""
        self.cluster.remove_node(self.nodes.pop(node), allow_graceful=False)


def start_cluster(root: Path, targets: tuple[str, ...] = ("h100", "l4")) -> RayCluster:
    """Head (no CPU, no GPU: it only coordinates) plus one node per target."""
    from ray.cluster_utils import Cluster

    os.environ.update(RAY_ENV)
    root.mkdir(parents=True, exist_ok=True)
    cluster = Cluster(initialize_head=True, head_node_args={
        "num_cpus": 0, "num_gpus": 0, "object_store_memory": STORE_BYTES, "include_dashboard": False,
        "node_ip_address": "127.0.0.1"})
    tc = RayCluster(cluster, root)
    for target in targets:
        tc.add(f"{target}-a", target)
    return tc


TARGETS = [{"name": "h100", "gpu": "NVIDIA H100*", "resources": {"h100": 1}},
           {"name": "l4", "gpu": "NVIDIA L4"}]
MATRIX_24 = {"precision": ["fp32", "fp16"], "batch": [1, 2, 4], "streams": [1, 2],
             "cuda_graph": [False, True]}
