"""Admission and the operator agree: whatever the API server admits, the operator renders or conditions.

Hypothesis generates HostedClusters and NodePools from a mix of valid and
malformed field values; each is sent to a real kube-apiserver with hcp's CRDs
as a server-side dry run. For every object it admits, the operator's pure
decision path must end in either a rendering (control-plane objects, machine
templates, a plan) or a problem it reports as a condition; never in an
exception, which would be a reconcile that loops.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from lightkube import ApiError
from lightkube.resources.core_v1 import Namespace
from lightkube.models.meta_v1 import ObjectMeta

from hcp.api import HostedCluster, HostedControlPlane, NodePool
from hcp.api.parse import parse
from hcp.api.pause import pause_state
from hcp.api.types import parse_duration
from hcp.controlplane import Endpoint, RenderContext, RenderError
from hcp.controlplane.render import render
from hcp.kube.apply import resource_of
from hcp.kube.objects import as_dict
from hcp.operator.hostedcluster import control_plane_manifest
from hcp.operator.nodepool.machines import MachineView
from hcp.operator.nodepool.plan import Settings, plan
from hcp.operator.nodepool.scheduling import capacity_of
from hcp.api.validation import hosted_cluster_problems, node_pool_problems
from hcp.platforms import PROVIDERS, Machine, MachineTemplate
from hcp.platforms.kwok import node_capacity, node_manifest
from hcp.release.payload import COMPONENTS
from tests.unit.operator.test_validation import rendered

pytestmark = pytest.mark.integration

NAMESPACE = "property"
IMAGES = {c: f"registry.example:5000/hcp/{c}:v1" for c in COMPONENTS}
"""Every image a release carries: what the control plane renders depends on the spec (kwok, ignition, ...)."""
EXAMPLES = 400

durations = st.one_of(st.sampled_from(["0s", "5m", "1h30m", "90s", "-5m", "garbage", "", "1d", "5", "0"]),
                      st.text(max_size=8))
quantities = st.one_of(st.sampled_from(["4", "16Gi", "110", "-4", "0", "1.5", "500m", "1e3", "garbage", ""]),
                       st.integers(-10, 10**6), st.text(max_size=6))
label_keys = st.one_of(st.sampled_from(["role", "example.com/role", "Bad Key", "-x", "a/b/c", "x" * 64,
                                        "kubernetes.io/hostname", ""]), st.text(max_size=12))
label_values = st.one_of(st.sampled_from(["a", "", "with space", "v" * 64, "-x", "ok.1_2"]), st.text(max_size=10))
labels = st.dictionaries(label_keys, label_values, max_size=3)
effects = st.sampled_from(["NoSchedule", "PreferNoSchedule", "NoExecute", "Sometimes", ""])
platforms = st.sampled_from(["KWOK", "KWOK", "KWOK", "None", "None", "AWS", "KubeVirt", "Agent", "Mars"])
sometimes = st.integers(0, 3).map(lambda n: n == 0)
"""True one time in four: each field is malformed rarely enough that many specs are admitted."""
cluster_cidrs = st.sampled_from(["10.132.0.0/14"] * 4 + ["10.0.0.0/8", "999.1.1.1/99", "fd00::/48", "garbage"])
service_cidrs = st.sampled_from(["172.31.0.0/16"] * 4 + ["10.132.8.0/24", "192.168.0.0/16", "fd01::/112"])
machine_cidrs = st.sampled_from(["192.168.126.0/24", "172.31.0.0/24", "10.128.0.0/9"])
ports = st.one_of(st.integers(-5, 70000), st.sampled_from([80, 30080, 32767, 99999]))
paused = st.one_of(st.none(), st.sampled_from(["true", "2030-01-01T00:00:00Z", "yesterday", "2030-01-01"]))


@st.composite
def node_pools(draw: st.DrawFn) -> dict[str, Any]:
    _, pool = rendered()
    pool = copy.deepcopy(pool)
    pool["metadata"] = {"name": draw(st.sampled_from(["pool"] * 5 + ["p" * 58, "pool.dotted", "Pool"])),
                        "namespace": NAMESPACE}
    spec = pool["spec"]
    if draw(sometimes):
        spec.pop("replicas", None)
        spec["autoScaling"] = {"min": draw(st.integers(-2, 5)), "max": draw(st.integers(-1, 200000))}
    else:
        spec["replicas"] = draw(st.one_of(st.integers(0, 20), st.integers(-3, 200000)))
    for field in ("nodeDrainTimeout", "nodeVolumeDetachTimeout"):
        if draw(sometimes):
            spec[field] = draw(durations)
    if draw(sometimes):
        spec["nodeLabels"] = draw(labels)
    if draw(sometimes):
        spec["taints"] = [{"key": draw(label_keys), "value": draw(label_values), "effect": draw(effects)}]
    spec["platform"] = {"type": draw(platforms)}
    if spec["platform"]["type"] == "KWOK" and draw(sometimes):
        spec["platform"]["kwok"] = {"capacity": {k: draw(quantities) for k in ("cpu", "memory", "pods")
                                                 if draw(sometimes)}}
    if draw(sometimes):
        spec["pausedUntil"] = draw(paused)
    return pool


@st.composite
def hosted_clusters(draw: st.DrawFn) -> dict[str, Any]:
    cluster, _ = rendered()
    cluster = copy.deepcopy(cluster)
    cluster["metadata"] = {"name": draw(st.sampled_from(["demo"] * 4 + ["d" * 60, "demo.dotted", "Demo", "a-b"])),
                           "namespace": NAMESPACE}
    spec = cluster["spec"]
    spec["platform"] = {"type": draw(platforms)}
    networking = spec["networking"]
    networking["clusterNetwork"] = [{"cidr": draw(cluster_cidrs)}]
    networking["serviceNetwork"] = [{"cidr": draw(service_cidrs)}]
    if draw(sometimes):
        networking["machineNetwork"] = [{"cidr": draw(machine_cidrs)}]
    services = spec["services"]
    if draw(sometimes):
        services[0]["servicePublishingStrategy"]["nodePort"]["port"] = draw(ports)
    if draw(sometimes):
        services.append(copy.deepcopy(services[draw(st.integers(0, len(services) - 1))]))
    if draw(sometimes):
        del services[draw(st.integers(0, len(services) - 1))]
    for field in ("nodeSelector", "labels"):
        if draw(sometimes):
            spec[field] = draw(labels)
    if draw(sometimes):
        spec["tolerations"] = [{"key": draw(label_keys), "operator": draw(st.sampled_from(["Exists", "Equal", "Maybe"])),
                                "effect": draw(effects)}]
    if draw(sometimes):
        spec["pausedUntil"] = draw(paused)
    return cluster


def admitted(client: Any, model: type, obj: dict[str, Any]) -> dict[str, Any] | None:
    """The object as the API server would store it (defaults applied), or None if it refuses it."""
    try:
        stored = client.create(resource_of(model)(obj), namespace=NAMESPACE, dry_run=True)
    except ApiError as error:
        assert error.status.code in (400, 422), f"unexpected refusal {error.status.code}: {error.status.message}"
        return None
    return as_dict(stored)


def node_pool_outcome(obj: dict[str, Any]) -> str:
    """What the NodePool controller's pure path makes of an object: a condition, or a plan."""
    pool, invalid = parse(NodePool, obj)
    if pool is None:
        return f"condition: {invalid}"
    pause = pause_state(pool.spec.paused_until)
    if pool.spec.platform.type not in PROVIDERS:
        return "condition: platform not supported"
    problems = node_pool_problems(pool)
    if problems:
        return f"condition: {problems}"
    parse_duration(pool.spec.node_drain_timeout or "0s")
    parse_duration(pool.spec.node_volume_detach_timeout or "0s")
    template = MachineTemplate(pool=pool.metadata.name, kubernetes_version="1.37.1", arch=str(pool.spec.arch),
                               labels={**(pool.spec.node_labels or {})},
                               taints=tuple(t.model_dump(by_alias=True, exclude_none=True)
                                            for t in pool.spec.taints or ()),
                               platform=pool.spec.platform)
    node_manifest(f"{pool.metadata.name}-abcde", template)
    capacity = capacity_of(node_capacity(pool.spec.platform))
    now = datetime.now(UTC)
    machines = [MachineView(Machine(f"{pool.metadata.name}-{i}", now), None) for i in range(3)]
    scaling = (pool.spec.auto_scaling.min, pool.spec.auto_scaling.max) if pool.spec.auto_scaling else None
    plan(machines, now=now, replicas=pool.spec.replicas, autoscaling=scaling,
         auto_repair=pool.spec.management.auto_repair, settings=Settings(), capacity=capacity)
    return "planned" + (" (paused)" if pause.paused else "")


def hosted_cluster_outcome(obj: dict[str, Any]) -> str:
    """What the HostedCluster and HostedControlPlane controllers' pure paths make of an object."""
    obj = {**obj, "metadata": {**obj["metadata"], "uid": "11111111-2222-3333-4444-555555555555"}}
    hc, invalid = parse(HostedCluster, obj)
    if hc is None:
        return f"condition: {invalid}"
    pause_state(hc.spec.paused_until)
    problems = hosted_cluster_problems(hc)
    if problems:
        return f"condition: {problems}"
    target = f"{NAMESPACE}-{hc.metadata.name}"
    control_plane = control_plane_manifest(hc, obj["spec"], target)
    hcp, invalid = parse(HostedControlPlane, control_plane)
    if hcp is None:
        return f"condition: {invalid}"
    try:
        render(RenderContext.for_hcp(hcp, images=IMAGES, kubernetes_version="1.37.1",
                                     api_endpoint=Endpoint("192.0.2.10", 30443)))
    except RenderError as error:
        return f"condition: {error}"
    return "rendered"


@pytest.fixture(scope="module")
def api(bare_apiserver):
    client = bare_apiserver.client
    try:
        client.create(Namespace(metadata=ObjectMeta(name=NAMESPACE)))
    except ApiError as error:
        if error.status.code != 409:
            raise
    return client


PROPERTY = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@PROPERTY
@given(pool=node_pools())
def test_every_admitted_node_pool_is_planned_or_conditioned(api, pool):
    stored = admitted(api, NodePool, pool)
    event("refused" if stored is None else node_pool_outcome(stored).split(":")[0])  # raises if it would loop


@PROPERTY
@given(cluster=hosted_clusters())
def test_every_admitted_hosted_cluster_is_rendered_or_conditioned(api, cluster):
    stored = admitted(api, HostedCluster, cluster)
    event("refused" if stored is None else hosted_cluster_outcome(stored).split(":")[0])


def test_the_cli_rendering_is_admitted_and_a_malformed_one_is_not(api):
    """The property is only worth something if both sides are reached: a good spec passes, a bad one does not."""
    cluster, pool = rendered()
    for obj in (cluster, pool):
        obj["metadata"] = {"name": obj["metadata"]["name"], "namespace": NAMESPACE}
    assert hosted_cluster_outcome(admitted(api, HostedCluster, cluster)) == "rendered"
    assert node_pool_outcome(admitted(api, NodePool, pool)) == "planned"
    pool["spec"]["nodeDrainTimeout"] = "garbage"
    assert admitted(api, NodePool, pool) is None
