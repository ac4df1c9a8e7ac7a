"""NetworkPolicy ingress semantics as a pure function (tests only): may this source connect to this pod's port?

Written from the networking.k8s.io/v1 API's rules: a pod no policy of its namespace selects (for Ingress)
takes every connection; a selected pod takes only what some rule of some selecting policy allows, the
rules adding up. A rule allows a connection when one of its ports matches (none listed: every port) and
one of its peers matches (none listed: every source). A peer with only a podSelector means pods of the
policy's own namespace; with only a namespaceSelector, every pod of the namespaces it selects; with both,
those pods in those namespaces; an ipBlock, addresses in its CIDR but its exceptions (how it applies to
pods is left to the implementation; here by the pod's address). Sources that are not pods (nodes, users
behind a NodePort or load balancer) match only ipBlocks and empty peer lists.

What the management cluster's network plugin enforces is the real thing; this lets unit tests check
hcp's policies against the flows a hosted control plane needs without one that enforces them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Endpoint:
    """One end of a connection: a pod (namespace and labels) or something outside the pod network."""

    ip: str
    namespace: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    namespace_labels: Mapping[str, str] = field(default_factory=dict)
    ports: Mapping[str, int] = field(default_factory=dict)
    """Named container ports of a pod (a policy may name a port)."""

    @property
    def is_pod(self) -> bool:
        return self.namespace is not None

    def all_namespace_labels(self) -> dict[str, str]:
        """The namespace's labels with the one the API server sets on every namespace to its name."""
        assert self.namespace is not None
        return {**self.namespace_labels, "kubernetes.io/metadata.name": self.namespace}


def selects(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """A metav1.LabelSelector against labels; an empty selector selects everything."""
    selector = selector or {}
    if any(labels.get(key) != value for key, value in (selector.get("matchLabels") or {}).items()):
        return False
    for expression in selector.get("matchExpressions") or ():
        key, operator, values = expression["key"], expression["operator"], expression.get("values") or ()
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True


def _peer_matches(peer: Mapping[str, Any], policy_namespace: str, source: Endpoint) -> bool:
    if "ipBlock" in peer:
        block = peer["ipBlock"]
        address = ipaddress.ip_address(source.ip)
        return (address in ipaddress.ip_network(block["cidr"])
                and not any(address in ipaddress.ip_network(e) for e in block.get("except") or ()))
    if not source.is_pod:
        return False
    if "namespaceSelector" in peer:
        if not selects(peer["namespaceSelector"], source.all_namespace_labels()):
            return False
    elif source.namespace != policy_namespace:
        return False
    return "podSelector" not in peer or selects(peer["podSelector"], source.labels)


def _port_matches(rule_port: Mapping[str, Any], target: Endpoint, port: int, protocol: str) -> bool:
    if rule_port.get("protocol", "TCP") != protocol:
        return False
    wanted = rule_port.get("port")
    if wanted is None:
        return True
    if isinstance(wanted, str):
        return target.ports.get(wanted) == port
    return wanted <= port <= rule_port.get("endPort", wanted)


def _ingress_policies(policies: Iterable[Mapping[str, Any]], target: Endpoint) -> list[Mapping[str, Any]]:
    selecting = []
    for policy in policies:
        if policy["metadata"]["namespace"] != target.namespace:
            continue
        spec = policy["spec"]
        types = spec.get("policyTypes") or ["Ingress"]
        if "Ingress" in types and selects(spec.get("podSelector"), target.labels):
            selecting.append(policy)
    return selecting


def allowed(policies: Iterable[Mapping[str, Any]], source: Endpoint, target: Endpoint, port: int,
            protocol: str = "TCP") -> bool:
    """Whether the policies let `source` connect to `port` of the pod `target`."""
    selecting = _ingress_policies(policies, target)
    if not selecting:
        return True
    for policy in selecting:
        for rule in policy["spec"].get("ingress") or ():
            ports = rule.get("ports") or ()
            peers = rule.get("from") or ()
            if ports and not any(_port_matches(p, target, port, protocol) for p in ports):
                continue
            if peers and not any(_peer_matches(p, policy["metadata"]["namespace"], source) for p in peers):
                continue
            return True
    return False
