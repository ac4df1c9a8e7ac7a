"""A hosted cluster to attach NodePools to, and helpers to drive them with kubectl as a user would."""

from __future__ import annotations

import base64
import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from hcp.upstream import binaries
from hcp.management.layout import Layout
from tests.integration.conftest import ManagementCluster, hosted_cluster_manifest, wait_for  # noqa: F401

NAMESPACE = "np-e2e"
CLUSTER = "pools"
CONTROL_PLANE_TOOLSET = "kubernetes-1.36"
"""The cluster runs the older supported release, so a NodePool on the newer one can be refused."""


def release_image(cluster: ManagementCluster, toolset: str) -> str:
    config = Layout(cluster.state_dir).load_config()
    return f"{config.registry}/hcp/release:{binaries.TOOLSETS[toolset].version}"


@dataclass(frozen=True)
class HostedCluster:
    """A hosted cluster on the test's management cluster, with kubectl for both sides."""

    management: ManagementCluster
    namespace: str
    name: str
    kubeconfig: Path

    def kubectl(self, *args: str, **kwargs: Any) -> subprocess.CompletedProcess:
        """kubectl against the management cluster."""
        return self.management.kubectl(*args, **kwargs)

    def hosted(self, *args: str, check: bool = True, input: str | None = None) -> subprocess.CompletedProcess:
        """kubectl against the hosted cluster."""
        command = [str(binaries.binary("kubernetes", "kubectl")), "--kubeconfig", str(self.kubeconfig), *args]
        result = subprocess.run(command, capture_output=True, text=True, input=input, timeout=120)
        if check and result.returncode != 0:
            raise AssertionError(f"hosted kubectl {' '.join(args)} failed:\n{result.stderr}")
        return result

    def hosted_json(self, *args: str) -> Any:
        return json.loads(self.hosted(*args, "-o", "json").stdout)

    def nodes(self, pool: str) -> list[dict[str, Any]]:
        return self.hosted_json("get", "nodes", "-l", f"hypershift.openshift.io/nodePool={pool}")["items"]

    def ready_nodes(self, pool: str) -> list[str]:
        return sorted(n["metadata"]["name"] for n in self.nodes(pool)
                      if any(c["type"] == "Ready" and c["status"] == "True" for c in n["status"].get("conditions", []))
                      and not n["spec"].get("unschedulable"))

    def nodepool(self, name: str) -> dict[str, Any]:
        return json.loads(self.kubectl("get", "nodepool", name, "-n", self.namespace, "-o", "json").stdout)

    def condition(self, pool: str, type_: str) -> dict[str, Any]:
        conditions = self.nodepool(pool).get("status", {}).get("conditions", [])
        return next((c for c in conditions if c["type"] == type_), {})

    def create_nodepool(self, name: str, *, replicas: int | None = 0, release: str | None = None,
                        cluster: str | None = None, annotations: dict[str, str] | None = None,
                        **spec: Any) -> None:
        body: dict[str, Any] = {
            "clusterName": cluster or self.name,
            "release": {"image": release or release_image(self.management, CONTROL_PLANE_TOOLSET)},
            "management": {"upgradeType": "Replace"},
            "platform": {"type": "KWOK", "kwok": {"capacity": {"cpu": "4", "memory": "16Gi", "pods": "110"}}},
            **spec,
        }
        if replicas is not None:
            body["replicas"] = replicas
        manifest = {"apiVersion": "hypershift.openshift.io/v1beta1", "kind": "NodePool",
                    "metadata": {"name": name, "namespace": self.namespace, "annotations": annotations or {}},
                    "spec": body}
        self.kubectl("apply", "-f", "-", input=json.dumps(manifest))

    def delete_nodepool(self, name: str) -> None:
        self.kubectl("delete", "nodepool", name, "-n", self.namespace, "--ignore-not-found", "--timeout=180s",
                     timeout=240)


def create_hosted_cluster(cluster: ManagementCluster, namespace: str, name: str, tmp_dir: Path,
                          toolset: str = CONTROL_PLANE_TOOLSET) -> HostedCluster:
    manifest = hosted_cluster_manifest(cluster, name, namespace, release=release_image(cluster, toolset))
    cluster.kubectl("apply", "-f", "-", input=manifest)
    cluster.kubectl("wait", "-n", namespace, f"hostedcluster/{name}", "--for=condition=Available",
                    "--timeout=420s", timeout=500)
    encoded = cluster.kubectl("get", "secret", "-n", namespace, f"{name}-admin-kubeconfig",
                              "-o", "jsonpath={.data.kubeconfig}").stdout
    kubeconfig = tmp_dir / f"{name}.kubeconfig"
    kubeconfig.write_bytes(base64.b64decode(encoded))
    kubeconfig.chmod(0o600)
    hosted = HostedCluster(cluster, namespace, name, kubeconfig)
    wait_for(lambda: hosted.hosted("get", "serviceaccount", "default", check=False).returncode == 0, 120,
             "the hosted cluster's default ServiceAccount")
    return hosted


def delete_hosted_cluster(cluster: ManagementCluster, namespace: str, name: str) -> None:
    cluster.kubectl("delete", "-n", namespace, f"hostedcluster/{name}", "--ignore-not-found",
                    "--wait=true", "--timeout=300s", timeout=400)


@pytest.fixture(scope="module")
def hosted_cluster(operator_installed: ManagementCluster, tmp_path_factory) -> Iterator[HostedCluster]:
    """HostedCluster np-e2e/pools on the older supported release; deleted (with its pools) afterwards."""
    hosted = create_hosted_cluster(operator_installed, NAMESPACE, CLUSTER, tmp_path_factory.mktemp("pools"))
    try:
        yield hosted
    finally:
        delete_hosted_cluster(operator_installed, NAMESPACE, CLUSTER)
