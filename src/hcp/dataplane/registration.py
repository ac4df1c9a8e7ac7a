"""What a joining machine's Node registers with: each NodePool's labels and taints, for the ignition server.

The kubelet of a machine of platform None or Container registers its Node
itself, from the join script the ignition server renders for the pool whose
token it shows. So the pool's spec.nodeLabels (plus the pool label) and
spec.taints must reach that server: the data-plane controller keeps them,
with the tokens, in ConfigMap `nodepool-registration` of the control-plane
namespace (key: the pool's name; value: hcp.ignition.server's
`registration_document`, JSON), which the ignition-server Deployment mounts
and re-reads per request. A ConfigMap with a key per pool for the reason
`bootstrap-tokens` is one Secret: a deleted pool's key is applied away, never
deleted (the operator deletes no ConfigMap on the management cluster). Not in
the tokens' directory: the server takes every file there for a token.

The taints are the kubelet's registerWithTaints, so a Node has them before any
pod can be scheduled on it. Of the labels, the kubelet registers with those it
may set (hcp.ignition.join.registration_labels); the NodePool controller puts
every label of spec.nodeLabels on the pool's Nodes through the API.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from hcp.api import NodePool
from hcp.controlplane.labels import common_labels
from hcp.ignition.nodeconfig import NodeConfig, from_document
from hcp.ignition.server import registration_document
from hcp.platforms.provider import node_labels, node_taints

CONFIGMAP = "nodepool-registration"
"""In the control-plane namespace: key <pool> -> the pool's registration settings (JSON)."""


def pool_registration(pool: NodePool, node: NodeConfig = NodeConfig()) -> dict[str, Any]:
    """The registration settings of a pool's Nodes: spec.nodeLabels with the pool label, spec.taints, and
    the node configuration of spec.config (hcp.ignition.nodeconfig)."""
    return registration_document(node_labels(pool), node_taints(pool), node)


def published_node_config(configmap_data: Mapping[str, str] | None, pool: str) -> NodeConfig:
    """The node configuration published for `pool` before (none if none or unreadable)."""
    try:
        return from_document(json.loads((configmap_data or {})[pool]).get("node"))
    except (KeyError, ValueError, TypeError, AttributeError):
        return NodeConfig()


def registration_configmap(namespace: str, pools: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Every joining pool's registration settings (pool -> `pool_registration`) in its control-plane namespace."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": CONFIGMAP, "namespace": namespace, "labels": common_labels(namespace)},
        "data": {pool: json.dumps(settings, sort_keys=True) for pool, settings in sorted(pools.items())},
    }
