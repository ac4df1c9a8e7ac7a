"""What the API server admits of HostedClusters and NodePools, and that the models agree with it.

Every value the operator parses (durations, quantities, labels, tolerations, names,
ports, networks, platforms, sizes) is checked at admission by hcp's CRDs, so that a
bad spec is refused with a message instead of making the operator fail on every
pass. Each case sends one bad (or one good) value to a real kube-apiserver as a
server-side dry-run create and checks the answer; the same document is given to
the pydantic model, which must decide the same way.
"""

from __future__ import annotations

import copy
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import yaml
from lightkube import ApiError
from lightkube.resources.core_v1 import Namespace
from lightkube.types import PatchType
from pydantic import ValidationError

from hcp.api import HostedCluster, NodePool
from hcp.api.v1beta1.nodepool import MAX_NODE_POOL_REPLICAS
from hcp.kube.apply import resource_of
from tests.integration.apiserver import BareAPIServer

pytestmark = pytest.mark.integration

NAME = "admit"
MERGE = PatchType.MERGE  # custom resources take no strategic merge patches
MODELS = {"HostedCluster": HostedCluster, "NodePool": NodePool}

# From "Deploying a hosted cluster on AWS" (hcp create cluster aws --render), 4.17 docs, on hcp's KWOK platform:
# HyperShift's shape (LoadBalancer and Route services, a machine network, secret encryption, AWS fields hcp keeps
# without knowing them) must stay admitted.
DOCS_HOSTED_CLUSTER = """
apiVersion: hypershift.openshift.io/v1beta1
kind: HostedCluster
metadata: {name: example}
spec:
  autoscaling: {}
  configuration: {}
  controllerAvailabilityPolicy: SingleReplica
  dns: {baseDomain: example.com, privateZoneID: xxxxxxxx, publicZoneID: xxxxxxxx}
  etcd:
    managed:
      storage:
        persistentVolume: {size: 8Gi, storageClassName: gp3-csi}
        type: PersistentVolume
    managementType: Managed
  fips: false
  infraID: example-infra-id
  issuerURL: https://example-hosted-us-west-1.s3.us-west-1.amazonaws.com/example-infra-id
  networking:
    clusterNetwork: [{cidr: 10.132.0.0/14}]
    machineNetwork: [{cidr: 10.0.0.0/16}]
    networkType: OVNKubernetes
    serviceNetwork: [{cidr: 172.31.0.0/16}]
  olmCatalogPlacement: management
  platform: {type: KWOK}
  pullSecret: {name: example-pull-secret}
  release: {image: quay.io/openshift-release-dev/ocp-release:4.16-x86_64}
  secretEncryption:
    aescbc: {activeKey: {name: example-etcd-encryption-key}}
    type: aescbc
  services:
  - {service: APIServer, servicePublishingStrategy: {type: LoadBalancer}}
  - {service: OAuthServer, servicePublishingStrategy: {type: Route}}
  - {service: Konnectivity, servicePublishingStrategy: {type: Route}}
  - {service: Ignition, servicePublishingStrategy: {type: Route}}
  - {service: OVNSbDb, servicePublishingStrategy: {type: Route}}
  sshKey: {name: example-ssh-key}
"""


@pytest.fixture(scope="module")
def namespace(bare_apiserver: BareAPIServer) -> Iterator[str]:
    """A namespace of this module's own; deleted at the end (the throwaway API server has no namespace
    controller to finish the deletion, which is why objects made for real are deleted one by one)."""
    name = f"admission-{uuid.uuid4().hex[:6]}"
    bare_apiserver.client.create(Namespace(metadata={"name": name}))
    yield name
    bare_apiserver.client.delete(Namespace, name)


@pytest.fixture(scope="module")
def rendered(namespace: str) -> dict[str, dict[str, Any]]:
    """The HostedCluster and NodePool `hcp create cluster kwok --render` writes, by kind."""
    result = subprocess.run(
        [sys.executable, "-m", "hcp.cli", "create", "cluster", "kwok", "--name", NAME, "--namespace", namespace,
         "--render", "--api-server-address", "10.0.0.1"],
        capture_output=True, text=True, check=True, timeout=120,
    )
    documents = {doc["kind"]: doc for doc in yaml.safe_load_all(result.stdout) if doc}
    return {"HostedCluster": documents["HostedCluster"], "NodePool": documents["NodePool"]}


def dry_run_create(server: BareAPIServer, body: dict[str, Any]) -> str | None:
    """None when the API server admits `body` (a dry run: nothing is stored), else its message."""
    resource = resource_of(MODELS[body["kind"]])
    try:
        server.client.create(resource(copy.deepcopy(body)), namespace=body["metadata"]["namespace"], dry_run=True)
    except ApiError as error:
        assert error.status.code == 422, error.status
        return error.status.message
    return None


def model_refusal(body: dict[str, Any]) -> str | None:
    """None when the pydantic model accepts `body`, else its message."""
    try:
        MODELS[body["kind"]].model_validate(body)
    except ValidationError as error:
        return str(error)
    return None


def set_at(path: str, value: Any) -> Callable[[dict], None]:
    """A change of the document: set `a.b.c` (list indexes as numbers), creating missing maps."""
    def change(document: dict) -> None:
        *parents, last = path.split(".")
        node: Any = document
        for part in parents:
            node = node[int(part)] if part.isdigit() else node.setdefault(part, {})
        if last.isdigit():
            node[int(last)] = value
        else:
            node[last] = value
    return change


def drop(path: str) -> Callable[[dict], None]:
    def change(document: dict) -> None:
        *parents, last = path.split(".")
        node: Any = document
        for part in parents:
            node = node[part]
        node.pop(last, None)
    return change


def both(*changes: Callable[[dict], None]) -> Callable[[dict], None]:
    def change(document: dict) -> None:
        for one in changes:
            one(document)
    return change


@dataclass(frozen=True)
class Case:
    id: str
    kind: str
    change: Callable[[dict], None]
    expect: tuple[str, ...] = ()
    """Substrings of the API server's message, all of them; empty for an admitted case."""

    @property
    def param(self) -> Any:
        return pytest.param(self, id=self.id)


KWOK_CAPACITY = "spec.platform.kwok.capacity"
TOLERATION = "spec.tolerations"
LONG_63 = "a" * 63
LONG_64 = "a" * 64
SERVICE_PORT = "spec.services.0.servicePublishingStrategy.nodePort.port"
PLATFORMS = "platform type must be KWOK, None or Container, the platforms hcp has"

REFUSED = [
    # 1. Durations: Go syntax, not negative, not beyond Go's range.
    Case("drain-timeout-garbage", "NodePool", set_at("spec.nodeDrainTimeout", "garbage"),
         ("spec.nodeDrainTimeout", "should match")),
    Case("drain-timeout-negative", "NodePool", set_at("spec.nodeDrainTimeout", "-5m"),
         ("spec.nodeDrainTimeout", "should match")),
    Case("drain-timeout-no-unit", "NodePool", set_at("spec.nodeDrainTimeout", "5"), ("spec.nodeDrainTimeout",)),
    Case("drain-timeout-overflow", "NodePool", set_at("spec.nodeDrainTimeout", "9999999h"),
         ("spec.nodeDrainTimeout", "must be at most 2562047h47m16.854775807s")),
    Case("volume-detach-timeout-negative", "NodePool", set_at("spec.nodeVolumeDetachTimeout", "-1s"),
         ("spec.nodeVolumeDetachTimeout", "should match")),
    # 2. Quantities: capacities not negative, pods whole, etcd volume above zero.
    Case("kwok-cpu-negative-string", "NodePool", set_at(f"{KWOK_CAPACITY}.cpu", "-4"),
         (f"{KWOK_CAPACITY}.cpu", "must be a non-negative quantity")),
    Case("kwok-cpu-negative-number", "NodePool", set_at(f"{KWOK_CAPACITY}.cpu", -4),
         (f"{KWOK_CAPACITY}.cpu", "must be a non-negative quantity")),
    Case("kwok-memory-negative", "NodePool", set_at(f"{KWOK_CAPACITY}.memory", "-1Gi"),
         (f"{KWOK_CAPACITY}.memory", "must be a non-negative quantity")),
    Case("kwok-memory-garbage", "NodePool", set_at(f"{KWOK_CAPACITY}.memory", "lots"),
         (f"{KWOK_CAPACITY}.memory",)),
    Case("kwok-pods-fraction", "NodePool", set_at(f"{KWOK_CAPACITY}.pods", "1.5"),
         (f"{KWOK_CAPACITY}.pods", "must be a whole number")),
    Case("kwok-pods-suffix", "NodePool", set_at(f"{KWOK_CAPACITY}.pods", "1k"),
         (f"{KWOK_CAPACITY}.pods", "must be a whole number")),
    Case("kwok-pods-negative", "NodePool", set_at(f"{KWOK_CAPACITY}.pods", "-110"),
         (f"{KWOK_CAPACITY}.pods", "must be a non-negative quantity")),
    Case("etcd-size-zero", "HostedCluster", set_at("spec.etcd.managed.storage.persistentVolume.size", "0"),
         ("must be a positive quantity",)),
    # 3. Labels: qualified-name keys, label values.
    Case("node-label-key-space", "NodePool", set_at("spec.nodeLabels", {"bad key": "x"}),
         ("spec.nodeLabels", "label key must have two segments")),
    Case("node-label-key-two-slashes", "NodePool", set_at("spec.nodeLabels", {"a/b/c": "x"}),
         ("label key must have two segments",)),
    Case("node-label-key-name-64", "NodePool", set_at("spec.nodeLabels", {LONG_64: "x"}),
         ("label key must have two segments",)),
    Case("node-label-key-prefix-254", "NodePool", set_at("spec.nodeLabels", {f"{'a' * 254}/x": "x"}),
         ("label key must have two segments",)),
    Case("node-label-value-64", "NodePool", set_at("spec.nodeLabels", {"role": LONG_64}),
         ("spec.nodeLabels.role", "may not be more than 63 bytes")),
    Case("node-label-value-dash", "NodePool", set_at("spec.nodeLabels", {"role": "-worker"}),
         ("spec.nodeLabels[role]", "label value must be 63 characters or less")),
    Case("node-selector-key", "HostedCluster", set_at("spec.nodeSelector", {"bad key": "x"}),
         ("spec.nodeSelector", "label key must have two segments")),
    Case("node-selector-value", "HostedCluster", set_at("spec.nodeSelector", {"disk": "s s d"}),
         ("spec.nodeSelector[disk]", "label value must be 63 characters or less")),
    Case("pod-labels-key", "HostedCluster", set_at("spec.labels", {"example.com/": "x"}),
         ("spec.labels", "label key must have two segments")),
    Case("pod-labels-value", "HostedCluster", set_at("spec.labels", {"team": "a/b"}),
         ("spec.labels[team]", "label value must be 63 characters or less")),
    # 4. Tolerations (as Kubernetes checks a pod's) and taints (as it checks a Node's).
    Case("toleration-effect", "HostedCluster", set_at(TOLERATION, [{"key": "k", "operator": "Exists",
                                                                     "effect": "Sometimes"}]),
         ("spec.tolerations[0].effect", "Unsupported value")),
    Case("toleration-operator", "HostedCluster", set_at(TOLERATION, [{"key": "k", "operator": "Maybe"}]),
         ("spec.tolerations[0].operator", "Unsupported value")),
    Case("toleration-key", "HostedCluster", set_at(TOLERATION, [{"key": "bad key", "operator": "Exists"}]),
         ("spec.tolerations[0].key", "key must be a qualified name")),
    Case("toleration-empty-key-equal", "HostedCluster", set_at(TOLERATION, [{"operator": "Equal", "value": "v"}]),
         ("spec.tolerations[0]", "operator must be Exists when `key` is empty")),
    Case("toleration-exists-with-value", "HostedCluster",
         set_at(TOLERATION, [{"key": "k", "operator": "Exists", "value": "v"}]),
         ("value must be empty when `operator` is 'Exists'",)),
    Case("toleration-seconds-without-no-execute", "HostedCluster",
         set_at(TOLERATION, [{"key": "k", "operator": "Exists", "effect": "NoSchedule", "tolerationSeconds": 30}]),
         ("effect must be 'NoExecute' when `tolerationSeconds` is set",)),
    Case("toleration-value-64", "HostedCluster", set_at(TOLERATION, [{"key": "k", "value": LONG_64}]),
         ("spec.tolerations[0].value", "may not be more than 63 bytes")),
    Case("taint-value-64", "NodePool", set_at("spec.taints", [{"key": "k", "value": LONG_64,
                                                               "effect": "NoSchedule"}]),
         ("spec.taints[0].value", "value must be at most 63 characters")),
    Case("taint-key", "NodePool", set_at("spec.taints", [{"key": "-k", "effect": "NoSchedule"}]),
         ("spec.taints[0].key", "key must be a qualified name")),
    # 5. HostedCluster names: a DNS label, short enough for <namespace>-<name>.
    Case("name-with-dots", "HostedCluster", set_at("metadata.name", "my.cluster"),
         ("HostedCluster name failed RFC1123 validation",)),
    Case("name-62", "HostedCluster", set_at("metadata.name", "a" * 62),
         ("HostedCluster name must be at most 61 characters",)),
    Case("name-uppercase", "HostedCluster", set_at("metadata.name", "MyCluster"), ("metadata.name",)),
    # 6. Node ports.
    Case("node-port-too-big", "HostedCluster", set_at(SERVICE_PORT, 99999),
         (SERVICE_PORT.replace(".0.", "[0]."), "less than or equal to 65535")),
    Case("node-port-zero", "HostedCluster", set_at(SERVICE_PORT, 0),
         ("greater than or equal to 1",)),
    # 7. Networks: real CIDRs, disjoint.
    Case("cidr-out-of-range", "HostedCluster", set_at("spec.networking.clusterNetwork", [{"cidr": "999.1.1.1/99"}]),
         ("spec.networking.clusterNetwork[0].cidr", "cidr must be a valid IPv4 or IPv6 CIDR notation")),
    Case("cidr-without-prefix", "HostedCluster", set_at("spec.networking.serviceNetwork", [{"cidr": "10.0.0.0"}]),
         ("spec.networking.serviceNetwork[0].cidr", "cidr must be a valid IPv4 or IPv6 CIDR notation")),
    Case("cidr-ipv4-mapped", "HostedCluster",
         set_at("spec.networking.serviceNetwork", [{"cidr": "::ffff:10.0.0.0/104"}]),
         ("cidr must be a valid IPv4 or IPv6 CIDR notation",)),
    Case("service-network-inside-cluster-network", "HostedCluster",
         set_at("spec.networking.serviceNetwork", [{"cidr": "10.132.0.0/16"}]),
         ("spec.networking", "must be unique and non-overlapping")),
    Case("cluster-network-inside-service-network", "HostedCluster",
         set_at("spec.networking.clusterNetwork", [{"cidr": "172.31.128.0/20"}]),
         ("must be unique and non-overlapping",)),
    Case("machine-network-overlaps", "HostedCluster",
         set_at("spec.networking.machineNetwork", [{"cidr": "10.0.0.0/8"}]),
         ("must be unique and non-overlapping",)),
    Case("same-network-twice", "HostedCluster",
         set_at("spec.networking.serviceNetwork", [{"cidr": "10.132.0.0/14"}]),
         ("must be unique and non-overlapping",)),
    Case("ipv6-overlap", "HostedCluster", both(
        set_at("spec.networking.clusterNetwork", [{"cidr": "10.132.0.0/14"}, {"cidr": "fd01::/48"}]),
        set_at("spec.networking.serviceNetwork", [{"cidr": "172.31.0.0/16"}, {"cidr": "fd01::/112"}])),
         ("must be unique and non-overlapping",)),
    # 8. Each control-plane service once.
    Case("service-twice", "HostedCluster",
         lambda hc: hc["spec"]["services"].append(copy.deepcopy(hc["spec"]["services"][0])),
         ("spec.services", "each service may appear in services only once")),
    # 9. Platforms hcp has.
    *(Case(f"cluster-platform-{p}", "HostedCluster", set_at("spec.platform.type", p), ("spec.platform.type", PLATFORMS))
      for p in ("AWS", "KubeVirt", "Agent")),
    *(Case(f"pool-platform-{p}", "NodePool", set_at("spec.platform.type", p), ("spec.platform.type", PLATFORMS))
      for p in ("AWS", "KubeVirt", "Agent")),
    # 10. NodePool size.
    Case("replicas-over-limit", "NodePool", set_at("spec.replicas", MAX_NODE_POOL_REPLICAS + 1),
         ("spec.replicas", f"less than or equal to {MAX_NODE_POOL_REPLICAS}")),
    Case("replicas-negative", "NodePool", set_at("spec.replicas", -1),
         ("spec.replicas", "greater than or equal to 0")),
    Case("autoscaling-max-over-limit", "NodePool",
         both(drop("spec.replicas"), set_at("spec.autoScaling", {"min": 1, "max": MAX_NODE_POOL_REPLICAS + 1})),
         ("spec.autoScaling.max", f"less than or equal to {MAX_NODE_POOL_REPLICAS}")),
]

STRATEGY = "spec.services.0.servicePublishingStrategy"

# HyperShift's rules on strings, which the models now check from the same patterns.
REFUSED += [
    Case("release-image-space", "HostedCluster", set_at("spec.release.image", "registry/x y"),
         ("spec.release.image", "Image must start with a word character")),
    Case("base-domain", "HostedCluster", set_at("spec.dns.baseDomain", "a_b.com"),
         ("spec.dns.baseDomain", "baseDomain must be a valid domain name")),
    Case("cluster-id", "HostedCluster", set_at("spec.clusterID", "z" * 36),
         ("spec.clusterID", "clusterID must be an RFC4122 UUID value")),
    Case("infra-id", "HostedCluster", set_at("spec.infraID", "Infra"),
         ("spec.infraID", "infraID must consist of lowercase alphanumeric characters")),
    Case("cluster-name", "NodePool", set_at("spec.clusterName", "demo."),
         ("spec.clusterName", "clusterName must consist of lowercase alphanumeric characters")),
    Case("paused-until", "NodePool", set_at("spec.pausedUntil", "tomorrow"),
         ("spec.pausedUntil", "PausedUntil must be a date in RFC3339 format")),
    Case("snapshot-url", "HostedCluster",
         set_at("spec.etcd.managed.storage.restoreSnapshotURL", ["http://bucket/snap.db"]),
         ("restoreSnapshotURL must be a valid URL with scheme https or s3",)),
    Case("node-port-address", "HostedCluster", set_at(f"{STRATEGY}.nodePort.address", "not an address"),
         ("address must be a valid hostname, IPv4, or IPv6 address",)),
    Case("load-balancer-hostname", "HostedCluster",
         set_at(STRATEGY, {"type": "LoadBalancer", "loadBalancer": {"hostname": "api"}}),
         ("hostname must be a valid domain name",)),
]

ADMITTED = [
    Case("drain-timeout-0s", "NodePool", set_at("spec.nodeDrainTimeout", "0s")),
    Case("drain-timeout-0", "NodePool", set_at("spec.nodeDrainTimeout", "0")),
    Case("drain-timeout-5m", "NodePool", set_at("spec.nodeDrainTimeout", "5m")),
    Case("drain-timeout-1h30m", "NodePool", set_at("spec.nodeDrainTimeout", "1h30m")),
    Case("drain-timeout-fraction", "NodePool", set_at("spec.nodeDrainTimeout", "1.5h")),
    Case("volume-detach-timeout-250ms", "NodePool", set_at("spec.nodeVolumeDetachTimeout", "250ms")),
    Case("kwok-capacity", "NodePool", set_at(KWOK_CAPACITY, {"cpu": "500m", "memory": "16Gi", "pods": "110"})),
    Case("kwok-capacity-numbers", "NodePool", set_at(KWOK_CAPACITY, {"cpu": 4, "pods": 110})),
    Case("kwok-capacity-zero", "NodePool", set_at(KWOK_CAPACITY, {"cpu": "0", "memory": "0", "pods": 0})),
    Case("kwok-pods-number", "NodePool", set_at(f"{KWOK_CAPACITY}.pods", 250)),
    Case("node-labels", "NodePool", set_at("spec.nodeLabels", {
        "example.com/role": "worker", "empty": "", LONG_63: LONG_63, f"{'a' * 253}/x": "v"})),
    Case("node-selector", "HostedCluster", set_at("spec.nodeSelector", {"kubernetes.io/os": "linux"})),
    Case("pod-labels", "HostedCluster", set_at("spec.labels", {"team": "a.b_c-d"})),
    Case("tolerations", "HostedCluster", set_at(TOLERATION, [
        {"operator": "Exists"},
        {"key": "dedicated", "operator": "Equal", "value": "cp", "effect": "NoSchedule"},
        {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute",
         "tolerationSeconds": 300},
        {"key": "example.com/k", "value": "v", "effect": ""},
    ])),
    Case("taints", "NodePool", set_at("spec.taints", [{"key": "example.com/k", "value": LONG_63,
                                                       "effect": "PreferNoSchedule"}])),
    Case("name-61", "HostedCluster", set_at("metadata.name", "a" * 61)),
    Case("node-port", "HostedCluster", set_at(SERVICE_PORT, 30000)),
    Case("dual-stack", "HostedCluster", both(
        set_at("spec.networking.clusterNetwork", [{"cidr": "10.132.0.0/14"}, {"cidr": "fd01::/48"}]),
        set_at("spec.networking.serviceNetwork", [{"cidr": "172.31.0.0/16"}, {"cidr": "fd02::/112"}]))),
    Case("machine-network-beside", "HostedCluster", set_at("spec.networking.machineNetwork", [{"cidr": "10.0.0.0/16"}])),
    Case("cidr-host-bits", "HostedCluster", set_at("spec.networking.machineNetwork", [{"cidr": "192.168.1.7/24"}])),
    Case("cluster-platform-none", "HostedCluster", set_at("spec.platform.type", "None")),
    Case("pool-platform-none", "NodePool", set_at("spec.platform.type", "None")),
    Case("replicas-at-limit", "NodePool", set_at("spec.replicas", MAX_NODE_POOL_REPLICAS)),
    Case("replicas-zero", "NodePool", set_at("spec.replicas", 0)),
    Case("strings-hypershift-admits", "HostedCluster", both(
        set_at("spec.dns", {"baseDomain": "", "baseDomainPrefix": ""}),
        set_at("spec.clusterID", "8a7f3cd4-1e2b-4c5d-9e0f-123456789abc"), set_at("spec.infraID", "infra-1"),
        set_at("spec.pausedUntil", "true"),
        set_at("spec.etcd.managed.storage.restoreSnapshotURL", ["s3://bucket/snap.db"]),
        set_at(f"{STRATEGY}.nodePort.address", "fd00::1"))),
    Case("autoscaling-at-limit", "NodePool",
         both(drop("spec.replicas"), set_at("spec.autoScaling", {"min": 1, "max": MAX_NODE_POOL_REPLICAS}))),
]


def changed(rendered: dict[str, dict], case: Case) -> dict[str, Any]:
    body = copy.deepcopy(rendered[case.kind])
    case.change(body)
    return body


def test_rendered_cluster_and_node_pool_are_admitted(bare_apiserver, rendered):
    for body in rendered.values():
        assert dry_run_create(bare_apiserver, body) is None
        assert model_refusal(body) is None


def test_hypershift_shaped_cluster_is_admitted(bare_apiserver, namespace):
    body = yaml.safe_load(DOCS_HOSTED_CLUSTER)
    body["metadata"]["namespace"] = namespace
    assert dry_run_create(bare_apiserver, body) is None
    assert model_refusal(body) is None


@pytest.mark.parametrize("case", [c.param for c in REFUSED])
def test_refused_with_a_message(bare_apiserver, rendered, case):
    body = changed(rendered, case)
    message = dry_run_create(bare_apiserver, body)
    assert message is not None, f"the API server admitted {case.id}"
    for expected in case.expect:
        assert expected in message
    assert model_refusal(body) is not None, f"the API server refused {case.id} but the model accepts it: {message}"


@pytest.mark.parametrize("case", [c.param for c in ADMITTED])
def test_admitted(bare_apiserver, rendered, case):
    body = changed(rendered, case)
    assert dry_run_create(bare_apiserver, body) is None
    assert model_refusal(body) is None


def test_scaling_beyond_the_limit_is_refused(bare_apiserver, rendered):
    """`kubectl scale` goes through the scale subresource, which the same schema guards."""
    pool = resource_of(NodePool)
    body = rendered["NodePool"]
    name, namespace = body["metadata"]["name"], body["metadata"]["namespace"]
    bare_apiserver.client.create(pool(copy.deepcopy(body)), namespace=namespace)
    try:
        scale = {"spec": {"replicas": MAX_NODE_POOL_REPLICAS + 1}}
        with pytest.raises(ApiError) as refused:
            bare_apiserver.client.patch(pool.Scale, name, scale, namespace=namespace, patch_type=MERGE)
        assert f"less than or equal to {MAX_NODE_POOL_REPLICAS}" in refused.value.status.message
        bare_apiserver.client.patch(pool.Scale, name, {"spec": {"replicas": MAX_NODE_POOL_REPLICAS}},
                                    namespace=namespace, patch_type=MERGE)
        assert bare_apiserver.client.get(pool, name, namespace=namespace)["spec"]["replicas"] == MAX_NODE_POOL_REPLICAS
    finally:
        bare_apiserver.client.delete(pool, name, namespace=namespace)
