"""The Container platform: a machine's Pod, and the provider's machines, against fake clients (no cluster)."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from lightkube import ApiError
from lightkube.models.meta_v1 import Status
from lightkube.resources.core_v1 import ConfigMap, Node, Pod, Secret

from hcp.api.v1beta1.nodepool import NodePoolPlatform
from hcp.api.v1beta1.platform import PlatformType
from hcp.ignition.join import public_key_pin
from hcp.pki import new_ca
from hcp.platforms import NODE_POOL_LABEL, PROVIDERS, MachineTemplate, PlatformContext
from hcp.platforms import container
from hcp.platforms.container import ContainerProvider, MachineSetupError, machine_pod

NAMESPACE = "clusters-demo"
URL = "https://192.0.2.10:30443"
PIN = "sha256//AAAA"
IMAGE = "registry.hcp.internal:5000/hcp/node:v1.6.20-abcdef12"


def template(images=None) -> MachineTemplate:
    return MachineTemplate(
        pool="workers", kubernetes_version="1.37.1", arch="amd64", labels={NODE_POOL_LABEL: "workers"}, taints=(),
        platform=NodePoolPlatform.model_validate({"type": "Container"}),
        images={"node": IMAGE, "kubelet": "k"} if images is None else images,
    )


def test_container_is_a_registered_platform_that_makes_machines():
    assert PROVIDERS[PlatformType.CONTAINER] is ContainerProvider
    assert ContainerProvider.makes_machines is True


def test_a_machine_is_a_privileged_pod_of_the_node_image_joining_its_pool():
    pod = machine_pod("workers-abcde", NAMESPACE, template(), URL, PIN, IMAGE)
    assert Pod.from_dict(pod).metadata.name == "workers-abcde"  # a valid Pod
    metadata, spec = pod["metadata"], pod["spec"]
    assert metadata["namespace"] == NAMESPACE
    assert metadata["labels"][NODE_POOL_LABEL] == "workers"
    assert metadata["labels"][container.MACHINE_LABEL] == "workers-abcde"
    assert spec["hostname"] == "workers-abcde"
    assert spec["restartPolicy"] == "Always"
    assert spec["automountServiceAccountToken"] is False
    assert spec["terminationGracePeriodSeconds"] == container.GRACE_SECONDS
    (node,) = spec["containers"]
    assert node["image"] == IMAGE
    assert node["securityContext"] == {"privileged": True}
    assert node["resources"] == {"requests": {"cpu": "100m", "memory": "256Mi"}}
    env = {e["name"]: e for e in node["env"]}
    assert env["HCP_IGNITION_URL"]["value"] == URL
    assert env["HCP_JOIN_PIN"]["value"] == PIN
    assert env["HCP_JOIN_TOKEN"]["valueFrom"] == {"secretKeyRef": {"name": "bootstrap-tokens", "key": "workers"}}
    assert env["HCP_NODE_NAME"]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.name"}}


def test_a_machine_asks_for_the_node_configuration_it_was_made_for():
    pod = machine_pod("workers-abcde", NAMESPACE, dataclasses.replace(template(), node_config="0123abcd"), URL, PIN,
                      IMAGE)
    env = {e["name"]: e.get("value") for e in pod["spec"]["containers"][0]["env"]}
    assert env["HCP_NODE_CONFIG"] == "0123abcd"
    assert "HCP_NODE_CONFIG" not in {e["name"] for e in machine_pod("w", NAMESPACE, template(), URL, PIN, IMAGE)[
        "spec"]["containers"][0]["env"]}


def test_the_machines_state_is_in_volumes_and_the_host_modules_read_only():
    pod = machine_pod("workers-abcde", NAMESPACE, template(), URL, PIN, IMAGE)
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    mounts = {m["mountPath"]: m for m in pod["spec"]["containers"][0]["volumeMounts"]}
    for path in ("/var/lib/containerd", "/var/lib/kubelet", "/var/log", "/run"):
        assert "emptyDir" in volumes[mounts[path]["name"]], path
    assert volumes[mounts["/run"]["name"]]["emptyDir"] == {"medium": "Memory"}
    assert mounts["/lib/modules"]["readOnly"] is True
    assert volumes[mounts["/lib/modules"]["name"]]["hostPath"] == {"path": "/lib/modules", "type": "DirectoryOrCreate"}


def _certificate() -> bytes:
    return new_ca("ignition-test").cert_pem


def test_the_ignition_settings_are_the_servers_url_and_key_pin():
    cert = _certificate()
    url, pin = container.ignition_settings(json.dumps({"ignitionURL": URL}), base64.b64encode(cert).decode())
    assert (url, pin) == (URL, public_key_pin(cert))
    with pytest.raises(MachineSetupError):
        container.ignition_settings("{}", base64.b64encode(cert).decode())


class FakeManagement:
    """Just the calls the provider makes, on an in-memory namespace."""

    def __init__(self, objects=None) -> None:
        self.pods: dict[str, Pod] = {}
        self.objects = objects or {}
        self.deleted: list[tuple[str, int | None]] = []

    def list(self, resource, *, namespace, labels):
        assert resource is Pod and namespace == NAMESPACE
        assert set(labels) == {NODE_POOL_LABEL, container.MACHINE_LABEL}

        async def pods():
            for pod in list(self.pods.values()):
                if pod.metadata.labels.get(NODE_POOL_LABEL) == labels[NODE_POOL_LABEL] \
                        and container.MACHINE_LABEL in pod.metadata.labels:
                    yield pod
        return pods()

    async def create(self, pod):
        pod.metadata.creationTimestamp = datetime(2026, 1, 1, tzinfo=UTC)
        self.pods[pod.metadata.name] = pod

    async def get(self, resource, name, *, namespace):
        found = self.pods.get(name) if resource is Pod else self.objects.get((resource, name))
        if found is None:
            raise _not_found()
        return found

    async def delete(self, resource, name, *, namespace, grace_period=None):
        self.deleted.append((name, grace_period))
        if self.pods.pop(name, None) is None:
            raise _not_found()


def _not_found() -> ApiError:
    response = SimpleNamespace(json=lambda: {"code": 404, "message": "not found", "status": "Failure"},
                               status_code=404)
    return ApiError(response=response, status=Status(code=404, message="not found"))


class FakeHosted:
    def __init__(self) -> None:
        self.deleted: list[str] = []
        self.client = self

    async def delete(self, resource, name):
        assert resource is Node
        self.deleted.append(name)


def provider(management) -> tuple[ContainerProvider, FakeHosted]:
    hosted = FakeHosted()
    return ContainerProvider(PlatformContext(management, NAMESPACE, hosted)), hosted


def published(cert: bytes) -> dict:
    return {
        (ConfigMap, "ignition-server"): ConfigMap.from_dict(
            {"metadata": {"name": "ignition-server"}, "data": {"config.json": json.dumps({"ignitionURL": URL})}}),
        (Secret, "ignition-server-tls"): Secret.from_dict(
            {"metadata": {"name": "ignition-server-tls"}, "data": {"tls.crt": base64.b64encode(cert).decode()}}),
    }


def test_created_machines_are_listed_with_their_node_named_after_them_and_deleted_with_their_node():
    cert = _certificate()
    management = FakeManagement(published(cert))
    machines, hosted = provider(management)

    async def scenario():
        await machines.create("workers-abcde", template())
        await machines.create("workers-fghij", template())
        listed = await machines.machines("workers")
        assert [m.name for m in listed] == ["workers-abcde", "workers-fghij"]
        assert [m.node_name for m in listed] == ["workers-abcde", "workers-fghij"]
        assert await machines.machines("other") == []
        env = {e.name: e.value for e in management.pods["workers-abcde"].spec.containers[0].env}
        assert (env["HCP_IGNITION_URL"], env["HCP_JOIN_PIN"]) == (URL, public_key_pin(cert))
        await machines.delete(listed[0])
        assert [m.name for m in await machines.machines("workers")] == ["workers-fghij"]
        assert management.deleted == [("workers-abcde", container.GRACE_SECONDS)]
        assert hosted.deleted == ["workers-abcde"]
        await machines.delete(listed[0])  # already gone: nothing fails

    asyncio.run(scenario())


def test_an_in_place_update_makes_the_machine_again_under_its_name():
    management = FakeManagement(published(_certificate()))
    machines, hosted = provider(management)
    old = dataclasses.replace(template(), config="old0")
    new = dataclasses.replace(template(), kubernetes_version="1.37.2", config="new1")

    async def scenario():
        await machines.create("workers-abcde", old)
        [machine] = await machines.machines("workers")
        assert machine.config == "old0"
        await machines.update(machine, new)
        [updated] = await machines.machines("workers")
        assert (updated.name, updated.config) == ("workers-abcde", "new1")
        assert management.deleted == [("workers-abcde", container.GRACE_SECONDS)]
        assert hosted.deleted == ["workers-abcde"]  # once stopped: the new kubelet registers it afresh

    asyncio.run(scenario())


def test_no_machine_before_the_ignition_server_is_published():
    machines, _ = provider(FakeManagement())
    with pytest.raises(MachineSetupError, match="ignition server of clusters-demo is not published yet"):
        asyncio.run(machines.create("workers-abcde", template()))


def test_no_machine_without_the_releases_node_image():
    machines, _ = provider(FakeManagement(published(_certificate())))
    with pytest.raises(MachineSetupError, match="no 'node' image"):
        asyncio.run(machines.create("workers-abcde", template(images={})))


def test_capacity_is_unknown_until_a_machine_registers():
    machines, _ = provider(FakeManagement())
    assert machines.capacity(template().platform) is None


def test_the_pod_is_what_the_operators_admission_policy_lets_it_create():
    """The policy's machinePod condition, checked on the rendered Pod (the policy itself is CEL)."""
    pod = machine_pod("workers-abcde", NAMESPACE, template(), URL, PIN, IMAGE)
    assert {container.MACHINE_LABEL, NODE_POOL_LABEL} <= set(pod["metadata"]["labels"])
    assert pod["spec"]["automountServiceAccountToken"] is False



@pytest.mark.parametrize(("platform", "privileged"), [("Container", True), ("None", False), ("KWOK", False)])
def test_only_a_container_clusters_namespace_lets_privileged_pods_in(platform, privileged):
    from hcp.api import HostedCluster
    from hcp.operator.hostedcluster import HostedClusterController
    from tests.unit.api.test_api_validation import HOSTED_CLUSTER

    created = []

    class Client:
        async def create(self, namespace):
            created.append(namespace)

    document = {**HOSTED_CLUSTER, "metadata": {**HOSTED_CLUSTER["metadata"], "uid": "u-1"},
                "spec": {**HOSTED_CLUSTER["spec"], "platform": {"type": platform}}}
    hc = HostedCluster.model_validate(document)
    owner = SimpleNamespace(client=Client())
    assert asyncio.run(HostedClusterController._ensure_namespace(owner, hc, "clusters-demo", None))
    labels = created[0].metadata.labels
    # Every other control-plane namespace enforces `baseline` (no privileged pods) and audits and warns at
    # `restricted`, which every control-plane pod meets; a Container cluster's too (hcp.controlplane.podsecurity).
    assert labels["pod-security.kubernetes.io/enforce"] == ("privileged" if privileged else "baseline")
    assert labels["pod-security.kubernetes.io/audit"] == labels["pod-security.kubernetes.io/warn"] == "restricted"
    assert all(labels[f"pod-security.kubernetes.io/{mode}-version"] == "latest" for mode in ("enforce", "audit", "warn"))
    assert labels["hypershift.openshift.io/hosted-control-plane"] == "true"
