"""The join script and command: what a machine runs to become a node of a pool."""

from __future__ import annotations

import base64
import json
import subprocess

from hcp.pki import new_ca
import pytest

from hcp.ignition.join import (
    JoinConfig, RegistryMirror, join_command, kubelet_config, kubelet_may_set, public_key_pin, registration_labels,
    script,
)


def config(**overrides) -> JoinConfig:
    ca = new_ca("root-ca")
    values = dict(
        cluster="clusters/demo", pool="workers", token="abcdef.0123456789abcdef",
        api_server_url="https://172.30.0.2:31443", ca_pem=ca.cert_pem, ignition_url="https://172.30.0.2:31900",
        pin=public_key_pin(ca.cert_pem), kubelet_sha256="0" * 64, kubernetes_version="1.37.1",
        cluster_dns="172.31.0.10", cluster_domain="cluster.local", pause_image="registry.hcp.internal:5000/hcp/pause:v1",
        labels={"hypershift.openshift.io/nodePool": "workers"},
        mirrors=(RegistryMirror("registry.hcp.internal:5000", "https://172.30.0.2:5000", ca.cert_pem),),
    )
    values.update(overrides)
    return JoinConfig(**values)


def test_the_script_is_valid_posix_shell():
    result = subprocess.run(["sh", "-n"], input=script(config()), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_the_script_bootstraps_with_the_pools_token_and_trusts_only_the_clusters_ca():
    text = script(config())
    assert "abcdef.0123456789abcdef" in text
    assert "--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf" in text
    assert "--node-labels=hypershift.openshift.io/nodePool=workers" in text
    encoded = [line.split()[1] for line in text.splitlines() if line.startswith("echo ") and "bootstrap-kubelet" in line]
    kubeconfig = json.loads(base64.b64decode(encoded[0]))
    assert kubeconfig["users"][0]["user"] == {"token": "abcdef.0123456789abcdef"}
    assert kubeconfig["clusters"][0]["cluster"]["server"] == "https://172.30.0.2:31443"


def test_kubelet_serving_and_client_certificates_come_from_the_cluster():
    kubelet = kubelet_config(config(taints=({"key": "dedicated", "value": "gpu", "effect": "NoSchedule"},)))
    assert kubelet["serverTLSBootstrap"] is True and kubelet["rotateCertificates"] is True
    assert kubelet["authentication"]["anonymous"] == {"enabled": False}
    assert kubelet["authorization"] == {"mode": "Webhook"}
    assert kubelet["clusterDNS"] == ["172.31.0.10"]
    assert kubelet["registerWithTaints"] == [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]


def test_the_command_pins_the_servers_key_and_pipes_the_script_to_sh():
    command = join_command("https://10.0.0.1:31900", "sha256//AAAA", "abcdef.0123456789abcdef")
    assert command == ("curl -sS --fail-with-body --insecure --pinnedpubkey sha256//AAAA "
                       "-H 'Authorization: Bearer abcdef.0123456789abcdef' https://10.0.0.1:31900/join | sh")


@pytest.mark.parametrize("key", [
    "hypershift.openshift.io/nodePool", "team", "example.com/gpu", "kubernetes.io.example.com/x",
    "kubernetes.io/hostname", "kubernetes.io/os", "kubernetes.io/arch", "beta.kubernetes.io/os",
    "beta.kubernetes.io/arch", "beta.kubernetes.io/instance-type", "node.kubernetes.io/instance-type",
    "topology.kubernetes.io/zone", "topology.kubernetes.io/region", "failure-domain.beta.kubernetes.io/zone",
    "failure-domain.beta.kubernetes.io/region", "kubelet.kubernetes.io/anything", "node.kubernetes.io/anything",
    "x.kubelet.kubernetes.io/y", "sub.node.kubernetes.io/y",
])
def test_the_kubelet_may_register_with_labels_outside_kubernetes_io_and_its_own(key):
    assert kubelet_may_set(key)


@pytest.mark.parametrize("key", [
    "node-role.kubernetes.io/worker", "node-role.kubernetes.io/infra", "kubernetes.io/role", "k8s.io/x",
    "example.k8s.io/x", "topology.kubernetes.io/rack", "node-restriction.kubernetes.io/pool",
    "x.node-restriction.kubernetes.io/y", "beta.kubernetes.io/fluentd",
])
def test_the_kubelet_may_not_register_with_other_kubernetes_io_or_k8s_io_labels(key):
    # kubelet: "unknown 'kubernetes.io' or 'k8s.io' labels specified with --node-labels" and it does not start.
    assert not kubelet_may_set(key)


def test_a_key_without_a_prefix_or_in_a_lookalike_domain_is_the_kubelets():
    assert kubelet_may_set("node-role.kubernetes.io")  # no "/": no namespace, an ordinary name
    assert kubelet_may_set("nodekubernetes.io/x")  # not kubernetes.io nor a subdomain of it


def test_the_script_registers_with_the_labels_a_kubelet_may_set_and_the_pools_taints():
    text = script(config(labels={"hypershift.openshift.io/nodePool": "workers", "node-role.kubernetes.io/worker": "",
                                 "node.kubernetes.io/disk": "ssd", "team": "a"},
                         taints=({"key": "dedicated", "value": "gpu", "effect": "NoSchedule"},)))
    assert "--node-labels=hypershift.openshift.io/nodePool=workers,node.kubernetes.io/disk=ssd,team=a\"" in text
    assert "node-role" not in text
    assert registration_labels({"z": "1", "a": "", "kubernetes.io/role": "x"}) == {"a": "", "z": "1"}
    assert list(registration_labels({"z": "1", "a": ""})) == ["a", "z"]
    result = subprocess.run(["sh", "-n"], input=text, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_a_pool_without_labels_the_kubelet_may_set_renders_no_node_labels_flag():
    assert "--node-labels" not in script(config(labels={"node-role.kubernetes.io/worker": ""}))
