"""What the operator refuses to act on, and why: problems that become conditions instead of exceptions."""

from __future__ import annotations

import pytest
import yaml
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Namespace

from hcp.api import HostedCluster, NodePool
from hcp.api.names import CLUSTER_ANNOTATION, HOSTED_CLUSTER_UID_LABEL, HOSTED_CONTROL_PLANE_LABEL
from hcp.api.parse import parse
from hcp.hostedcluster import objects
from hcp.api.validation import hosted_cluster_problems, namespace_owner_problem, node_pool_problems, pool_platform_problem

UID = "11111111-2222-3333-4444-555555555555"


def rendered(name: str = "demo", namespace: str = "clusters") -> tuple[dict, dict]:
    """The HostedCluster and NodePool `hcp create cluster kwok` makes."""
    cluster = objects.ClusterOptions(name=name, namespace=namespace, release_image="r.example/hcp/release:v1.37.1",
                                     api_server_address="10.0.0.1")
    pool = objects.NodePoolOptions(name=name, namespace=namespace, cluster_name=name, replicas=2,
                                   release_image="r.example/hcp/release:v1.37.1")
    documents = objects.cluster_objects(cluster, pool)
    hc = next(d for d in documents if d["kind"] == "HostedCluster")
    np = next(d for d in documents if d["kind"] == "NodePool")
    for document in (hc, np):
        document["metadata"]["uid"] = UID
    return hc, np


def hosted_cluster(**changes) -> HostedCluster:
    hc, _ = rendered(**changes)
    return HostedCluster.model_validate(hc)


def test_a_cluster_as_the_cli_makes_it_has_no_problems():
    hc, np = rendered()
    assert hosted_cluster_problems(HostedCluster.model_validate(hc)) == []
    assert node_pool_problems(NodePool.model_validate(np)) == []


def test_a_control_plane_namespace_longer_than_a_dns_label_is_a_problem():
    problems = hosted_cluster_problems(hosted_cluster(name="n" * 40, namespace="s" * 30))
    assert len(problems) == 1
    assert "must be a DNS label of at most 63 characters" in problems[0]


def test_overlapping_networks_and_duplicate_services_are_problems():
    hc, _ = rendered()
    hc["spec"]["networking"]["serviceNetwork"] = [{"cidr": "10.132.8.0/24"}]  # inside clusterNetwork 10.132.0.0/14
    hc["spec"]["services"].append(hc["spec"]["services"][0])
    model, invalid = parse(HostedCluster, hc)
    if model is None:  # the models may refuse it already; then the operator reports that
        assert invalid
        return
    problems = hosted_cluster_problems(model)
    assert any("overlaps" in p for p in problems)
    assert any("more than once" in p for p in problems)


def test_a_node_pool_larger_than_hcp_supports_is_a_problem_or_refused():
    _, np = rendered()
    np["spec"]["replicas"] = 100000
    model, invalid = parse(NodePool, np)
    assert invalid if model is None else "exceed the largest NodePool" in node_pool_problems(model)[0]


def test_parse_quotes_the_field_paths_the_models_refuse():
    _, np = rendered()
    np["spec"]["management"]["upgradeType"] = "Sideways"
    model, invalid = parse(NodePool, np)
    assert model is None
    assert "spec.management.upgradeType" in invalid


def namespace(labels: dict | None = None, annotations: dict | None = None, deleting: bool = False) -> Namespace:
    return Namespace(metadata=ObjectMeta(name="clusters-demo", labels=labels, annotations=annotations,
                                         deletionTimestamp="2030-01-01T00:00:00Z" if deleting else None))


@pytest.mark.parametrize("live, expected", [
    (None, ""),
    (namespace({HOSTED_CONTROL_PLANE_LABEL: "true", HOSTED_CLUSTER_UID_LABEL: UID}), ""),
    (namespace(), "was not made by hcp"),
    (namespace({HOSTED_CONTROL_PLANE_LABEL: "true"}, {CLUSTER_ANNOTATION: "clusters/demo"}),
     f"is not marked {HOSTED_CLUSTER_UID_LABEL}={UID}"),
    (namespace({HOSTED_CONTROL_PLANE_LABEL: "true", HOSTED_CLUSTER_UID_LABEL: "other"},
               {CLUSTER_ANNOTATION: "clusters-demo/x"}),
     "it is the control plane of HostedCluster clusters-demo/x"),
    (namespace({HOSTED_CONTROL_PLANE_LABEL: "true", HOSTED_CLUSTER_UID_LABEL: "other"}, deleting=True),
     "is still being deleted"),
])
def test_only_a_namespace_with_this_clusters_uid_is_its_own(live, expected):
    problem = namespace_owner_problem(live, UID, "clusters/demo")
    assert (expected in problem) if expected else problem == ""
    if expected and "deleted" not in expected:
        assert "hcp creates nothing in it and never deletes it" in problem


def test_the_rendered_cluster_round_trips_through_yaml():
    hc, _ = rendered()
    assert hosted_cluster_problems(HostedCluster.model_validate(yaml.safe_load(yaml.safe_dump(hc)))) == []


def test_a_node_pool_name_too_long_for_its_machines_names_is_a_problem():
    _, np = rendered()
    np["metadata"]["name"] = "p" * 58
    problems = node_pool_problems(NodePool.model_validate(np))
    assert len(problems) == 1 and "at most 57 characters, not 58" in problems[0]


@pytest.mark.parametrize("cluster_platform, pool_platform, served", [
    ("KWOK", "KWOK", True), ("KWOK", "None", False), ("KWOK", "Container", False),
    ("Container", "Container", True), ("Container", "None", True), ("Container", "KWOK", False),
    ("None", "None", True), ("None", "Container", False), ("None", "KWOK", False),
])
def test_a_cluster_serves_the_pools_its_control_plane_has_machinery_for(cluster_platform, pool_platform, served):
    """kwok runs only in KWOK clusters, the ignition server only in the others, privileged machine pods only
    where the namespace admits them (Container): a pool elsewhere gets a reason."""
    problem = pool_platform_problem(cluster_platform, pool_platform)
    assert (problem == "") is served
    if not served:
        assert f"platform {cluster_platform} cannot serve NodePools of platform {pool_platform}" in problem
