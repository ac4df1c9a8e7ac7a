"""The typed models: JSON names, defaults, round trips of the docs' examples, Python-side validation."""

from datetime import UTC, datetime, timedelta

import pytest
import yaml
from pydantic import ValidationError

from hcp.api import API_VERSION, HostedCluster, HostedControlPlane, NodePool, to_dict
from hcp.api.meta import Condition, ConditionStatus, LocalObjectReference
from hcp.api.types import parse_duration
from hcp.api.v1beta1.clusterversion import ClusterVersionStatus, Release, UpdateHistory, UpdateState
from hcp.api.v1beta1.common import AvailabilityPolicy
from hcp.api.v1beta1.etcd import EtcdManagementType
from hcp.api.v1beta1.hostedcluster import HostedClusterSpec
from hcp.api.v1beta1.networking import NetworkType, PublishingStrategyType, ServiceType
from hcp.api.v1beta1.nodepool import KWOKNodeCapacity, NodePoolSpec, UpgradeType
from hcp.api.v1beta1.platform import PlatformType

# From "Deploying a hosted cluster on AWS" (hcp create cluster aws --render), 4.17 docs.
DOCS_HOSTED_CLUSTER = """
apiVersion: hypershift.openshift.io/v1beta1
kind: HostedCluster
metadata:
  creationTimestamp: null
  name: example
  namespace: clusters
spec:
  autoscaling: {}
  configuration: {}
  controllerAvailabilityPolicy: SingleReplica
  dns:
    baseDomain: example.com
    privateZoneID: xxxxxxxx
    publicZoneID: xxxxxxxx
  etcd:
    managed:
      storage:
        persistentVolume:
          size: 8Gi
          storageClassName: gp3-csi
        type: PersistentVolume
    managementType: Managed
  fips: false
  infraID: example-infra-id
  issuerURL: https://example-hosted-us-west-1.s3.us-west-1.amazonaws.com/example-infra-id
  networking:
    clusterNetwork:
    - cidr: 10.132.0.0/14
    machineNetwork:
    - cidr: 10.0.0.0/16
    networkType: OVNKubernetes
    serviceNetwork:
    - cidr: 172.31.0.0/16
  olmCatalogPlacement: management
  platform:
    aws:
      endpointAccess: Public
      region: us-west-1
    type: AWS
  pullSecret:
    name: example-pull-secret
  release:
    image: quay.io/openshift-release-dev/ocp-release:4.16-x86_64
  secretEncryption:
    aescbc:
      activeKey:
        name: example-etcd-encryption-key
    type: aescbc
  services:
  - service: APIServer
    servicePublishingStrategy:
      type: LoadBalancer
  - service: OAuthServer
    servicePublishingStrategy:
      type: Route
  - service: Konnectivity
    servicePublishingStrategy:
      type: Route
  - service: Ignition
    servicePublishingStrategy:
      type: Route
  - service: OVNSbDb
    servicePublishingStrategy:
      type: Route
  sshKey:
    name: example-ssh-key
status:
  controlPlaneEndpoint:
    host: ""
    port: 0
"""

# From "Creating a NodePool object for the hosted cluster" (Agent platform), 4.17 docs.
DOCS_NODE_POOL = """
apiVersion: hypershift.openshift.io/v1beta1
kind: NodePool
metadata:
  creationTimestamp: null
  name: hosted-dual
  namespace: clusters
spec:
  arch: amd64
  clusterName: hosted-dual
  management:
    autoRepair: false
    upgradeType: InPlace
  nodeDrainTimeout: 0s
  platform:
    type: Agent
  release:
    image: registry.example.com:5000/openshift/release-images:4.17.0-x86_64
  replicas: 2
status:
  replicas: 2
"""


def on_kwok(document: str) -> dict:
    """A docs example moved to hcp's KWOK platform: hcp refuses the platforms it does not have (AWS, Agent),
    and their settings under platform (see test_docs_aws_settings_are_refused_naming_hcps_platforms)."""
    data = yaml.safe_load(document)
    data["spec"]["platform"]["type"] = "KWOK"
    data["spec"]["platform"].pop("aws", None)
    return data


def without_nulls(value):
    """What the API server stores: null fields are dropped."""
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value]
    return value


def kwok_hosted_cluster() -> HostedCluster:
    return HostedCluster(
        metadata={"name": "example", "namespace": "clusters"},
        spec=HostedClusterSpec(
            release={"image": "registry.local/hcp/release:1.31.2"},
            platform={"type": PlatformType.KWOK, "kwok": {}},
            pull_secret=LocalObjectReference(name="example-pull-secret"),
            services=[
                {"service": service, "service_publishing_strategy": {"type": PublishingStrategyType.LOAD_BALANCER}}
                for service in (ServiceType.API_SERVER, ServiceType.OAUTH_SERVER, ServiceType.KONNECTIVITY,
                                ServiceType.IGNITION)
            ],
            controller_availability_policy=AvailabilityPolicy.SINGLE_REPLICA,
        ),
    )


@pytest.mark.parametrize(("kind", "document"), [(HostedCluster, DOCS_HOSTED_CLUSTER), (NodePool, DOCS_NODE_POOL)])
def test_docs_examples_round_trip(kind, document):
    data = on_kwok(document)
    obj = kind.model_validate(data)
    assert to_dict(obj, exclude_unset=True) == without_nulls(data)
    assert kind.model_validate(to_dict(obj)) == obj


def test_docs_hosted_cluster_is_typed():
    hc = HostedCluster.model_validate(on_kwok(DOCS_HOSTED_CLUSTER))
    assert hc.spec.controller_availability_policy is AvailabilityPolicy.SINGLE_REPLICA
    assert hc.spec.etcd.management_type is EtcdManagementType.MANAGED
    assert hc.spec.etcd.managed.storage.persistent_volume.storage_class_name == "gp3-csi"
    assert hc.spec.networking.machine_network[0].cidr == "10.0.0.0/16"
    assert hc.spec.services[0].service_publishing_strategy.type is PublishingStrategyType.LOAD_BALANCER
    assert hc.spec.secret_encryption.aescbc.active_key.name == "example-etcd-encryption-key"
    assert hc.spec.infra_id == "example-infra-id"
    assert hc.status.control_plane_endpoint.port == 0
    assert hc.spec.platform.model_extra == {}


def test_docs_aws_settings_are_refused_naming_hcps_platforms():
    data = yaml.safe_load(DOCS_HOSTED_CLUSTER)
    data["spec"]["platform"]["type"] = "KWOK"
    with pytest.raises(ValidationError, match="aws is the setting of platform AWS, which hcp does not have; "
                                              "hcp has the platforms KWOK, None and Container"):
        HostedCluster.model_validate(data)


def test_docs_node_pool_is_typed():
    np = NodePool.model_validate(on_kwok(DOCS_NODE_POOL))
    assert np.spec.management.upgrade_type is UpgradeType.IN_PLACE
    assert np.spec.node_drain_timeout == "0s"
    assert np.spec.replicas == 2
    assert np.status.replicas == 2


def test_hostedcluster_defaults():
    spec = kwok_hosted_cluster().spec
    assert spec.issuer_url == "https://kubernetes.default.svc"
    assert spec.infrastructure_availability_policy is AvailabilityPolicy.SINGLE_REPLICA
    assert spec.networking.network_type is NetworkType.OVN_KUBERNETES
    assert [n.cidr for n in spec.networking.cluster_network] == ["10.132.0.0/14"]
    assert [n.cidr for n in spec.networking.service_network] == ["172.31.0.0/16"]
    assert spec.etcd.managed.storage.persistent_volume.size == "8Gi"
    assert HostedClusterSpec.model_fields["controller_availability_policy"].default is AvailabilityPolicy.HIGHLY_AVAILABLE


def test_defaults_are_not_shared_between_objects():
    first, second = kwok_hosted_cluster(), kwok_hosted_cluster()
    first.spec.networking.cluster_network[0].host_prefix = 23
    assert second.spec.networking.cluster_network[0].host_prefix is None


def test_kwok_hosted_cluster_wire_format():
    data = to_dict(kwok_hosted_cluster())
    assert data["apiVersion"] == API_VERSION
    assert data["kind"] == "HostedCluster"
    assert data["metadata"] == {"name": "example", "namespace": "clusters"}
    assert data["spec"]["platform"] == {"type": "KWOK", "kwok": {}}
    assert data["spec"]["issuerURL"] == "https://kubernetes.default.svc"
    assert data["spec"]["services"][0] == {
        "service": "APIServer",
        "servicePublishingStrategy": {"type": "LoadBalancer"},
    }
    assert "status" not in data
    assert "sshKey" not in data["spec"]
    assert HostedCluster.model_validate(data) == kwok_hosted_cluster()


def test_exclude_unset_keeps_type_meta_and_drops_defaults():
    data = to_dict(kwok_hosted_cluster(), exclude_unset=True)
    assert data["apiVersion"] == API_VERSION
    assert data["kind"] == "HostedCluster"
    assert "etcd" not in data["spec"]
    assert "issuerURL" not in data["spec"]
    assert data["spec"]["controllerAvailabilityPolicy"] == "SingleReplica"


def test_json_names_that_are_not_plain_camel_case():
    spec = HostedClusterSpec.model_validate(
        {
            "release": {"image": "registry.local/hcp/release:1.31.2"},
            "platform": {"type": "None"},
            "pullSecret": {"name": "p"},
            "services": [],
            "clusterID": "8a7f3cd4-1e2b-4c5d-9e0f-123456789abc",
            "infraID": "infra",
            "issuerURL": "https://issuer.example.com",
            "networking": {"allocateNodeCIDRs": "Enabled", "networkType": "Other"},
            "etcd": {
                "managementType": "Managed",
                "managed": {"storage": {"type": "PersistentVolume", "restoreSnapshotURL": ["https://s/snap.db"]}},
            },
        }
    )
    data = to_dict(spec)
    assert data["clusterID"] == spec.cluster_id
    assert data["infraID"] == "infra"
    assert data["issuerURL"] == "https://issuer.example.com"
    assert data["networking"]["allocateNodeCIDRs"] == "Enabled"
    assert data["etcd"]["managed"]["storage"]["restoreSnapshotURL"] == ["https://s/snap.db"]


def test_kwok_node_pool_with_autoscaling():
    np = NodePool(
        metadata={"name": "example-kwok", "namespace": "clusters"},
        spec=NodePoolSpec(
            cluster_name="example",
            release={"image": "registry.local/hcp/release:1.31.2"},
            platform={"type": "KWOK", "kwok": {"capacity": KWOKNodeCapacity(cpu=4, memory="16Gi", pods="110")}},
            management={"upgrade_type": "Replace", "auto_repair": True},
            auto_scaling={"min": 1, "max": 5},
            node_drain_timeout="5m",
        ),
    )
    data = to_dict(np)
    assert data["spec"]["platform"]["kwok"]["capacity"] == {"cpu": "4", "memory": "16Gi", "pods": "110"}
    assert data["spec"]["autoScaling"] == {"min": 1, "max": 5}
    assert "replicas" not in data["spec"]
    assert data["spec"]["management"] == {
        "upgradeType": "Replace",
        "replace": {"strategy": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
        "autoRepair": True,
    }
    assert data["spec"]["arch"] == "amd64"
    assert NodePool.model_validate(data) == np


def test_int_or_string_keeps_its_kind():
    np = NodePool.model_validate(on_kwok(DOCS_NODE_POOL))
    np.spec.management.in_place = {"max_unavailable": "25%"}
    np.spec.management.replace.rolling_update.max_surge = 2
    data = to_dict(np)
    assert data["spec"]["management"]["inPlace"] == {"maxUnavailable": "25%"}
    assert data["spec"]["management"]["replace"]["rollingUpdate"]["maxSurge"] == 2


def test_status_serialization():
    started = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)
    hc = kwok_hosted_cluster()
    hc.status = {
        "conditions": [
            Condition(
                type="Available",
                status=ConditionStatus.TRUE,
                last_transition_time=started,
                reason="AsExpected",
                message="The hosted control plane is available",
            )
        ],
        "version": ClusterVersionStatus(
            desired=Release(version="1.31.2", image="registry.local/hcp/release:1.31.2"),
            history=[
                UpdateHistory(
                    state=UpdateState.PARTIAL,
                    started_time=started,
                    completion_time=None,
                    image="registry.local/hcp/release:1.31.2",
                    verified=False,
                )
            ],
            observed_generation=1,
            available_updates=None,
        ),
        "kubeconfig": {"name": "example-admin-kubeconfig"},
    }
    status = to_dict(hc)["status"]
    assert status["conditions"] == [
        {
            "type": "Available",
            "status": "True",
            "lastTransitionTime": "2024-05-01T12:00:00Z",
            "reason": "AsExpected",
            "message": "The hosted control plane is available",
        }
    ]
    # Required-but-nullable fields are sent as null, as the API expects.
    assert status["version"]["availableUpdates"] is None
    assert status["version"]["history"] == [
        {
            "state": "Partial",
            "startedTime": "2024-05-01T12:00:00Z",
            "completionTime": None,
            "image": "registry.local/hcp/release:1.31.2",
            "verified": False,
        }
    ]
    assert HostedCluster.model_validate(to_dict(hc)).status.version.history[0].started_time == started.replace(
        microsecond=0
    )


def test_hosted_control_plane_round_trip():
    hcp = HostedControlPlane.model_validate(
        {
            "apiVersion": API_VERSION,
            "kind": "HostedControlPlane",
            "metadata": {"name": "example", "namespace": "clusters-example"},
            "spec": {
                "releaseImage": "registry.local/hcp/release:1.31.2",
                "pullSecret": {"name": "pull-secret"},
                "sshKey": {"name": ""},
                "issuerURL": "https://kubernetes.default.svc",
                "infraID": "example-abcde",
                "platform": {"type": "KWOK"},
                "dns": {"baseDomain": ""},
                "services": [
                    {"service": s, "servicePublishingStrategy": {"type": "NodePort", "nodePort": {"address": "10.0.0.1"}}}
                    for s in ("APIServer", "OAuthServer", "Konnectivity", "Ignition")
                ],
                "etcd": {"managementType": "Managed", "managed": {"storage": {"type": "PersistentVolume"}}},
                "kubeconfig": {"name": "admin-kubeconfig", "key": "kubeconfig"},
            },
            "status": {
                "ready": True,
                "initialized": True,
                "kubeConfig": {"name": "admin-kubeconfig", "key": "kubeconfig"},
                "controlPlaneEndpoint": {"host": "10.0.0.1", "port": 31443},
                "lastReleaseImageTransitionTime": "2024-05-01T12:00:00Z",
            },
        }
    )
    assert hcp.spec.controller_availability_policy is AvailabilityPolicy.HIGHLY_AVAILABLE
    assert hcp.status.external_managed_control_plane is True
    data = to_dict(hcp)
    assert data["spec"]["kubeconfig"] == {"name": "admin-kubeconfig", "key": "kubeconfig"}
    assert data["status"]["kubeConfig"] == {"name": "admin-kubeconfig", "key": "kubeconfig"}
    assert data["status"]["lastReleaseImageTransitionTime"] == "2024-05-01T12:00:00Z"
    assert HostedControlPlane.model_validate(data) == hcp


def test_unknown_fields_are_kept_for_read_modify_write():
    data = on_kwok(DOCS_NODE_POOL)
    data["spec"]["someNewerField"] = {"a": 1}
    assert to_dict(NodePool.model_validate(data))["spec"]["someNewerField"] == {"a": 1}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d.update(kind="NodePool"), "kind"),
        (lambda d: d["spec"]["networking"]["clusterNetwork"][0].update(cidr="10.132.0.0/99"), "cidr"),
        (lambda d: d["spec"]["etcd"]["managed"]["storage"]["persistentVolume"].update(size="eight"), "size"),
        (lambda d: d["spec"].update(controllerAvailabilityPolicy="TwoReplicas"), "controllerAvailabilityPolicy"),
        (lambda d: d["spec"]["platform"].update(type="Azure"), "type"),
        (lambda d: d["spec"].update(clusterID="too-short"), "clusterID"),
        (lambda d: d["spec"].pop("release"), "release"),
    ],
)
def test_invalid_hosted_cluster_is_rejected(change, field):
    data = on_kwok(DOCS_HOSTED_CLUSTER)
    change(data)
    with pytest.raises(ValidationError) as error:
        HostedCluster.model_validate(data)
    assert field in str(error.value)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d["spec"].update(nodeDrainTimeout="5 minutes"), "nodeDrainTimeout"),
        (lambda d: d["spec"]["management"].update(upgradeType="Recreate"), "upgradeType"),
        (lambda d: d["spec"].update(arch="riscv64"), "arch"),
        (lambda d: d["spec"].update(autoScaling={"min": 0, "max": 0}), "max"),
        (lambda d: d["spec"].update(taints=[{"key": "k", "effect": "Sometimes"}]), "effect"),
    ],
)
def test_invalid_node_pool_is_rejected(change, field):
    data = on_kwok(DOCS_NODE_POOL)
    change(data)
    with pytest.raises(ValidationError) as error:
        NodePool.model_validate(data)
    assert field in str(error.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", timedelta()),
        ("0s", timedelta()),
        ("90s", timedelta(seconds=90)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1.5h", timedelta(minutes=90)),
        ("250ms", timedelta(milliseconds=250)),
        ("-5m", timedelta(minutes=-5)),
    ],
)
def test_parse_duration(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "5", "5 m", "m", "1d"])
def test_parse_duration_rejects_non_go_durations(text):
    with pytest.raises(ValueError):
        parse_duration(text)
