"""NodePool rollouts on a real hosted cluster: a release or config change rolls the machines, within the limits.

The hosted cluster runs the newer supported release; its pools start on the
older one and are moved to the newer, as docs 6 (updating node pools) do with
`kubectl patch nodepool ... spec.release.image`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from hcp.upstream import binaries
from tests.integration.conftest import ManagementCluster
from tests.integration.nodepool.conftest import (
    CONTROL_PLANE_TOOLSET,
    HostedCluster,
    create_hosted_cluster,
    delete_hosted_cluster,
    release_image,
    wait_for,
)
from tests.integration.nodepool.test_nodepool import deployment, running_pods

pytestmark = pytest.mark.integration

NAMESPACE = "np-rollout"
CLUSTER = "rolling"
OLD = binaries.TOOLSETS[CONTROL_PLANE_TOOLSET].version
NEW = binaries.TOOLSETS["kubernetes"].version


@pytest.fixture(scope="module")
def newer_cluster(operator_installed: ManagementCluster, tmp_path_factory) -> Iterator[HostedCluster]:
    hosted = create_hosted_cluster(operator_installed, NAMESPACE, CLUSTER, tmp_path_factory.mktemp("rolling"),
                                   toolset="kubernetes")
    try:
        yield hosted
    finally:
        delete_hosted_cluster(operator_installed, NAMESPACE, CLUSTER)


def versions(cluster: HostedCluster, pool: str) -> dict[str, str]:
    return {n["metadata"]["name"]: n["status"]["nodeInfo"]["kubeletVersion"] for n in cluster.nodes(pool)}


def condition_status(cluster: HostedCluster, pool: str, type_: str) -> str | None:
    return cluster.condition(pool, type_).get("status")


def rolled_out(cluster: HostedCluster, pool: str, version: str, replicas: int) -> bool:
    found = versions(cluster, pool)
    status = cluster.nodepool(pool).get("status", {})
    return (len(found) == replicas and set(found.values()) == {version} and len(cluster.ready_nodes(pool)) == replicas
            and status.get("version") == version.lstrip("v")
            and condition_status(cluster, pool, "UpdatingVersion") == "False")


def patch_release(cluster: HostedCluster, pool: str, toolset: str) -> None:
    image = release_image(cluster.management, toolset)
    cluster.kubectl("patch", "nodepool", pool, "-n", cluster.namespace, "--type=merge",
                    "-p", json.dumps({"spec": {"release": {"image": image}}}))


def test_replace_rollout_keeps_max_unavailable_and_the_budget(newer_cluster):
    cluster = newer_cluster
    strategy = {"upgradeType": "Replace", "replace": {"strategy": "RollingUpdate",
                                                      "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}}}
    cluster.create_nodepool("replace", replicas=3, release=release_image(cluster.management, CONTROL_PLANE_TOOLSET),
                            management=strategy)
    wait_for(lambda: rolled_out(cluster, "replace", OLD, 3), 90, f"3 Ready nodes on {OLD}")
    before = set(versions(cluster, "replace"))
    cluster.hosted("apply", "-f", "-", input=deployment("roll", 3))
    wait_for(lambda: len(running_pods(cluster, "roll")) == 3, 60, "3 roll pods Running")
    cluster.hosted("create", "poddisruptionbudget", "roll", "--selector=app=roll", "--min-available=2")

    patch_release(cluster, "replace", "kubernetes")
    wait_for(lambda: condition_status(cluster, "replace", "UpdatingVersion") == "True", 30, "UpdatingVersion True")
    assert NEW.lstrip("v") in cluster.condition("replace", "UpdatingVersion")["message"]
    fewest_ready, most_nodes, fewest_pods = 3, 3, 3
    crowd: list[str] = []

    def observe() -> bool:
        nonlocal fewest_ready, most_nodes, fewest_pods
        fewest_ready = min(fewest_ready, len(cluster.ready_nodes("replace")))
        nodes = cluster.nodes("replace")
        if len(nodes) > most_nodes:
            crowd[:] = [f"{n['metadata']['name']} {n['status']['nodeInfo']['kubeletVersion']} "
                        f"unschedulable={n['spec'].get('unschedulable', False)} "
                        f"deleting={bool(n['metadata'].get('deletionTimestamp'))} "
                        f"annotations={sorted(k for k in n['metadata'].get('annotations', {}) if 'hcp.io' in k)}"
                        for n in nodes]
        most_nodes = max(most_nodes, len(nodes))
        fewest_pods = min(fewest_pods, len(running_pods(cluster, "roll")))
        return rolled_out(cluster, "replace", NEW, 3)

    wait_for(observe, 300, f"every machine replaced by one on {NEW}")
    assert not before & set(versions(cluster, "replace")), "Replace must make new machines"
    assert fewest_ready >= 2, "more than maxUnavailable 1 machine was unavailable"
    assert most_nodes <= 3, f"maxSurge 0 made a machine above the desired count: {crowd}"
    assert fewest_pods >= 2, "the PodDisruptionBudget (minAvailable 2) was not honoured"
    wait_for(lambda: len(running_pods(cluster, "roll")) == 3, 60, "3 roll pods Running again")
    cluster.hosted("delete", "poddisruptionbudget", "roll")
    cluster.hosted("delete", "deployment", "roll")
    cluster.delete_nodepool("replace")


def test_in_place_rollout_updates_the_same_nodes_one_at_a_time(newer_cluster):
    cluster = newer_cluster
    cluster.create_nodepool("inplace", replicas=2, release=release_image(cluster.management, CONTROL_PLANE_TOOLSET),
                            management={"upgradeType": "InPlace", "inPlace": {"maxUnavailable": 1}})
    wait_for(lambda: rolled_out(cluster, "inplace", OLD, 2), 90, f"2 Ready nodes on {OLD}")
    names = set(versions(cluster, "inplace"))
    patch_release(cluster, "inplace", "kubernetes")
    most_cordoned = 0

    def observe() -> bool:
        nonlocal most_cordoned
        cordoned = [n for n in cluster.nodes("inplace") if n["spec"].get("unschedulable")]
        most_cordoned = max(most_cordoned, len(cordoned))
        return rolled_out(cluster, "inplace", NEW, 2)

    wait_for(observe, 180, f"both nodes updated in place to {NEW}")
    assert set(versions(cluster, "inplace")) == names, "InPlace must keep the machines"
    assert most_cordoned <= 1, "more than inPlace.maxUnavailable nodes were cordoned at once"
    events = cluster.kubectl("get", "events", "-n", NAMESPACE, "--field-selector",
                             "involvedObject.name=inplace,reason=UpdatedInPlace", "-o", "name").stdout
    assert events.strip(), "no UpdatedInPlace event"
    cluster.delete_nodepool("inplace")


def config_map(name: str, payload: str) -> str:
    return json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": NAMESPACE},
                       "data": {"config": payload}})


KUBELET_CONFIG = "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nmaxPods: {}\n"


def test_a_config_change_rolls_the_pool_and_an_invalid_one_rolls_nothing(newer_cluster):
    cluster = newer_cluster
    cluster.kubectl("apply", "-f", "-", input=config_map("node-tuning", KUBELET_CONFIG.format(100)))
    cluster.create_nodepool("configured", replicas=2, release=release_image(cluster.management, "kubernetes"),
                            config=[{"name": "node-tuning"}], nodeLabels={"tier": "a"})
    wait_for(lambda: rolled_out(cluster, "configured", NEW, 2), 90, "2 Ready nodes")
    assert condition_status(cluster, "configured", "ValidMachineConfig") == "True"
    first = set(versions(cluster, "configured"))

    # Label and taint edits reach the nodes in place.
    taint = {"key": "example.com/tier", "value": "b", "effect": "PreferNoSchedule"}
    cluster.kubectl("patch", "nodepool", "configured", "-n", NAMESPACE, "--type=merge",
                    "-p", json.dumps({"spec": {"nodeLabels": {"tier": "b"}, "taints": [taint]}}))

    def pool_taints() -> list[list[dict]]:
        return [[t for t in n["spec"].get("taints", []) if t["key"] == taint["key"]] for n in cluster.nodes("configured")]

    wait_for(lambda: {n["metadata"]["labels"].get("tier") for n in cluster.nodes("configured")} == {"b"}
             and pool_taints() == [[taint]] * 2, 60, "the new label and taint on the existing nodes")
    cluster.kubectl("patch", "nodepool", "configured", "-n", NAMESPACE, "--type=json",
                    "-p", json.dumps([{"op": "remove", "path": "/spec/taints"}]))
    wait_for(lambda: pool_taints() == [[]] * 2, 60, "the taint removed from the pool gone from the nodes")
    assert set(versions(cluster, "configured")) == first, "label and taint edits must not replace nodes"

    # An invalid payload: a clear condition, and nothing rolls.
    cluster.kubectl("apply", "-f", "-", input=config_map("node-tuning", "kind: [unclosed"))
    invalid = wait_for(lambda: condition_status(cluster, "configured", "ValidMachineConfig") == "False"
                       and cluster.condition("configured", "ValidMachineConfig"), 60, "ValidMachineConfig False")
    assert "node-tuning" in invalid["message"] and "not valid YAML" in invalid["message"]
    assert set(versions(cluster, "configured")) == first

    # A valid change rolls the pool: UpdatingConfig True while a PodDisruptionBudget holds the drain of the
    # first old machine (no nodeDrainTimeout: it waits), then every machine replaced, then False.
    cluster.hosted("apply", "-f", "-", input=deployment("held", 2))
    wait_for(lambda: len(running_pods(cluster, "held")) == 2, 60, "2 held pods Running")
    cluster.hosted("create", "poddisruptionbudget", "held", "--selector=app=held", "--min-available=2")
    cluster.kubectl("apply", "-f", "-", input=config_map("node-tuning", KUBELET_CONFIG.format(50)))
    updating = wait_for(lambda: condition_status(cluster, "configured", "UpdatingConfig") == "True"
                        and cluster.condition("configured", "UpdatingConfig"), 90, "UpdatingConfig True")
    assert "Updating config in progress" in updating["message"]
    assert condition_status(cluster, "configured", "UpdatingVersion") == "False"
    cluster.hosted("delete", "poddisruptionbudget", "held")
    wait_for(lambda: not first & set(versions(cluster, "configured")) and len(cluster.ready_nodes("configured")) == 2
             and condition_status(cluster, "configured", "UpdatingConfig") == "False", 180,
             "the pool rolled to the new config")
    cluster.hosted("delete", "deployment", "held")
    cluster.delete_nodepool("configured")
    cluster.kubectl("delete", "configmap", "node-tuning", "-n", NAMESPACE)
