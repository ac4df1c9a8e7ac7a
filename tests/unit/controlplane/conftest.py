"""HostedControlPlanes and render contexts shared by the control-plane tests."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import pytest

from hcp.api import HostedControlPlane
from hcp.controlplane import Endpoint, RenderContext
from hcp.ignition.join import RegistryMirror

NAMESPACE = "clusters-example"
IMAGES = {
    "etcd": "registry.hcp.local:5000/hcp/etcd:v3.6.16",
    "kube-apiserver": "registry.hcp.local:5000/hcp/kube-apiserver:v1.37.1",
    "kube-controller-manager": "registry.hcp.local:5000/hcp/kube-controller-manager:v1.37.1",
    "kube-scheduler": "registry.hcp.local:5000/hcp/kube-scheduler:v1.37.1",
    "kwok": "registry.hcp.local:5000/hcp/kwok:v0.8.0",
    "konnectivity-server": "registry.hcp.local:5000/hcp/konnectivity-server:v0.34.0",
    "kubelet": "registry.hcp.local:5000/hcp/kubelet:v1.37.1",
    "pause": "registry.hcp.local:5000/hcp/pause:v1.37.1",
    **{c: f"registry.hcp.local:5000/hcp/{c}:v1" for c in
       ("coredns", "kube-proxy", "flannel", "metrics-server", "konnectivity-agent")},
}
ACTIVE_KEY = bytes(range(32))
BACKUP_KEY = bytes(range(32, 64))
OIDC_CA = "OIDC CA PEM\n"
"""The issuer CA of the HighlyAvailable control plane's OIDC provider (ConfigMap oidc-ca), as copied."""


def _services(api_server: dict[str, Any]) -> list[dict[str, Any]]:
    other = {"type": "NodePort", "nodePort": {"address": "192.168.126.10"}}
    return [
        {"service": "APIServer", "servicePublishingStrategy": api_server},
        *(
            {"service": name, "servicePublishingStrategy": other}
            for name in ("OAuthServer", "Konnectivity", "Ignition")
        ),
    ]


SINGLE_REPLICA = {
    "apiVersion": "hypershift.openshift.io/v1beta1",
    "kind": "HostedControlPlane",
    "metadata": {"name": "example", "namespace": NAMESPACE},
    "spec": {
        "releaseImage": "registry.hcp.local:5000/hcp/release:1.37.1",
        "pullSecret": {"name": "pull-secret"},
        "issuerURL": "",
        "sshKey": {"name": "ssh-key"},
        "infraID": "example-abcde",
        "platform": {"type": "KWOK"},
        "dns": {"baseDomain": "example.com"},
        "controllerAvailabilityPolicy": "SingleReplica",
        "services": _services({"type": "NodePort", "nodePort": {"address": "192.168.126.10", "port": 30443}}),
        "etcd": {
            "managementType": "Managed",
            "managed": {"storage": {"type": "PersistentVolume", "persistentVolume": {"size": "8Gi"}}},
        },
    },
}

HIGHLY_AVAILABLE = {
    "apiVersion": "hypershift.openshift.io/v1beta1",
    "kind": "HostedControlPlane",
    "metadata": {
        "name": "example",
        "namespace": NAMESPACE,
        "annotations": {"hypershift.openshift.io/restart-date": "2025-01-02T03:04:05Z"},
    },
    "spec": {
        "releaseImage": "registry.hcp.local:5000/hcp/release:1.37.1",
        "pullSecret": {"name": "pull-secret"},
        "issuerURL": "https://oidc.example.com/example-abcde",
        "sshKey": {"name": "ssh-key"},
        "infraID": "example-abcde",
        # Real machines that join (so the ignition server is rendered; the single replica has kwok's).
        "platform": {"type": "None"},
        "dns": {"baseDomain": "example.com"},
        "controllerAvailabilityPolicy": "HighlyAvailable",
        "networking": {
            "clusterNetwork": [{"cidr": "10.128.0.0/14", "hostPrefix": 23}],
            "serviceNetwork": [{"cidr": "172.30.0.0/16"}],
            "networkType": "Other",
            "allocateNodeCIDRs": "Enabled",
        },
        "services": _services({"type": "LoadBalancer"}),
        "etcd": {
            "managementType": "Managed",
            "managed": {
                "storage": {
                    "type": "PersistentVolume",
                    "persistentVolume": {"size": "16Gi", "storageClassName": "fast-local"},
                }
            },
        },
        "configuration": {
            "featureGate": {
                "featureSet": "CustomNoUpgrade",
                "customNoUpgrade": {"enabled": ["DRAPartitionableDevices"], "disabled": ["KubeletPodResourcesGet"]},
            },
            "authentication": {
                "type": "OIDC",
                "oidcProviders": [{
                    "name": "corporate",
                    "issuer": {"issuerURL": "https://login.example.com/realms/hcp", "audiences": ["hcp"],
                               "issuerCertificateAuthority": {"name": "oidc-ca"}},
                    "claimMappings": {
                        "username": {"claim": "email", "prefixPolicy": "Prefix", "prefix": {"prefixString": "oidc:"}},
                        "groups": {"claim": "groups", "prefix": "oidc:"},
                    },
                }],
            },
        },
        "secretEncryption": {
            "type": "aescbc",
            "aescbc": {"activeKey": {"name": "etcd-encryption-key"}, "backupKey": {"name": "etcd-encryption-key-old"}},
        },
        "nodeSelector": {"node-role.kubernetes.io/infra": ""},
        "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "control-plane", "effect": "NoSchedule"}],
        "labels": {"team": "platform"},
    },
}


def make_hcp(document: dict[str, Any], **spec_changes: Any) -> HostedControlPlane:
    document = copy.deepcopy(document)
    document["spec"].update(spec_changes)
    return HostedControlPlane.model_validate(document)


def make_context(
    hcp: HostedControlPlane, endpoint: Endpoint = Endpoint("192.168.126.10", 30443), **changes: Any
) -> RenderContext:
    ctx = RenderContext.for_hcp(
        hcp,
        images=IMAGES,
        kubernetes_version="1.37.1",
        api_endpoint=endpoint,
        encryption_keys={"etcd-encryption-key": ACTIVE_KEY, "etcd-encryption-key-old": BACKUP_KEY},
        oidc_ca_bundles={"oidc-ca": OIDC_CA},
    )
    if changes:
        ctx = dataclasses.replace(ctx, **changes)
    return ctx


@pytest.fixture
def single_ctx() -> RenderContext:
    return make_context(make_hcp(SINGLE_REPLICA))


@pytest.fixture
def ha_ctx() -> RenderContext:
    return make_context(
        make_hcp(HIGHLY_AVAILABLE), Endpoint("api.example.com", 6443),
        ignition_endpoint=Endpoint("ignition.example.com", 443), operator_image="registry.hcp.local:5000/hcp/operator:0.1.0",
        registry_mirrors=(RegistryMirror("registry.hcp.local:5000", "https://192.168.126.10:5000", b"CA PEM\n"),),
    )
