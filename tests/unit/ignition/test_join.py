"""The join script and command: what a machine runs to become a node of a pool."""

from __future__ import annotations

import base64
import json
import subprocess

from hcp.pki import new_ca
from hcp.ignition.join import JoinConfig, RegistryMirror, join_command, kubelet_config, public_key_pin, script


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
