"""Node configuration from spec.config (docs 9.1): what is applied on real nodes, what is refused and why."""

from __future__ import annotations

import base64
import json
import urllib.request

import pytest

from hcp.ignition import nodeconfig
from hcp.ignition.join import kubelet_config, script
from hcp.ignition.nodeconfig import NODE_CONFIG_HEADER, NodeConfig, NodeConfigError, NodeFile
from hcp.ignition.server import registration_document
from tests.unit.ignition.test_join import config as join_config
from tests.unit.ignition.test_server import TOKEN, get, server  # noqa: F401 - the fixture

KUBELET = """
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
maxPods: 50
systemReserved: {cpu: 100m}
"""
MACHINE_CONFIG = """
apiVersion: machineconfiguration.openshift.io/v1
kind: MachineConfig
metadata: {name: 50-motd}
spec:
  config:
    ignition: {version: 3.2.0}
    storage:
      files:
      - path: /etc/motd
        mode: 420
        contents: {source: "data:,hello%20nodes%0A"}
      - path: /etc/hcp/blob
        mode: 384
        contents: {source: "data:text/plain;base64,c2VjcmV0"}
"""


def test_kubelet_fields_and_machine_config_files_are_read():
    parsed = nodeconfig.parse("tuning", {"config": KUBELET + "---" + MACHINE_CONFIG})
    assert dict(parsed.kubelet) == {"maxPods": 50, "systemReserved": {"cpu": "100m"}}
    assert parsed.files == (NodeFile("/etc/motd", b"hello nodes\n", 0o644), NodeFile("/etc/hcp/blob", b"secret", 0o600))


@pytest.mark.parametrize(("payload", "message"), [
    (None, "ConfigMap tuning of spec.config has no key 'config'"),
    ("kind: [unclosed", "is not valid YAML"),
    ("- a list", "must be an object with a kind"),
    ("apiVersion: v1\nkind: Pod", "kind Pod is not supported; hcp applies KubeletConfiguration"),
    ("apiVersion: kubelet.config.k8s.io/v1\nkind: KubeletConfiguration", "must have apiVersion kubelet.config.k8s.io/v1beta1"),
    (KUBELET + "clusterDNS: [1.1.1.1]\nauthentication: {}", "field(s) authentication, clusterDNS are set by hcp"),
    ("apiVersion: machineconfiguration.openshift.io/v1\nkind: MachineConfig\nspec: {kernelArguments: [a]}",
     "kernelArguments not supported; hcp writes the files of spec.config.storage.files only"),
    ("apiVersion: machineconfiguration.openshift.io/v1\nkind: MachineConfig\nspec: {config: {systemd: {}}}",
     "config.systemd not supported"),
    ("apiVersion: machineconfiguration.openshift.io/v1\nkind: MachineConfig\n"
     "spec: {config: {storage: {files: [{path: etc/x}]}}}", "must be absolute and normalized"),
    ("apiVersion: machineconfiguration.openshift.io/v1\nkind: MachineConfig\n"
     "spec: {config: {storage: {files: [{path: /etc/../x}]}}}", "must be absolute and normalized"),
    ("apiVersion: machineconfiguration.openshift.io/v1\nkind: MachineConfig\n"
     "spec: {config: {storage: {files: [{path: /x, contents: {source: 'https://e/x'}}]}}}", "must have a data: URL"),
])
def test_what_hcp_cannot_apply_is_refused_naming_the_configmap_and_the_problem(payload, message):
    with pytest.raises(NodeConfigError) as refused:
        nodeconfig.parse("tuning", {"config": payload} if payload else {})
    assert message in str(refused.value)
    assert "tuning" in str(refused.value)


def test_later_configmaps_win_and_the_published_form_round_trips():
    first = nodeconfig.parse("a", {"config": KUBELET + "---" + MACHINE_CONFIG})
    second = NodeConfig({"maxPods": 80}, (NodeFile("/etc/motd", b"bye\n"),))
    merged = nodeconfig.merge([first, second])
    assert merged.kubelet["maxPods"] == 80 and merged.kubelet["systemReserved"] == {"cpu": "100m"}
    assert [f.contents for f in merged.files if f.path == "/etc/motd"] == [b"bye\n"]
    assert nodeconfig.from_document(json.loads(json.dumps(nodeconfig.to_document(merged)))) == merged
    assert nodeconfig.digest(merged) != nodeconfig.digest(first) == nodeconfig.digest(
        nodeconfig.parse("b", {"config": KUBELET + "---" + MACHINE_CONFIG}))


def test_the_join_script_merges_kubelet_fields_but_never_over_hcps_and_writes_the_files():
    node = NodeConfig({"maxPods": 50, "clusterDNS": ["1.1.1.1"]}, (NodeFile("/etc/motd", b"hello\n", 0o600),))
    joined = join_config(node=node)
    kubelet = kubelet_config(joined)
    assert kubelet["maxPods"] == 50
    assert kubelet["clusterDNS"] == [joined.cluster_dns], "hcp's fields are kept even if a payload slipped by"
    text = script(joined)
    assert base64.b64encode(b"hello\n").decode() in text
    assert "chmod 0600 /etc/motd.tmp" in text


def test_a_machine_waits_until_the_server_has_the_node_configuration_it_was_made_for(server):  # noqa: F811
    url, context, paths = server
    wanted = NodeConfig({"maxPods": 50})
    expect = nodeconfig.digest(wanted)

    def join(expected: str) -> tuple[int, bytes]:
        request = urllib.request.Request(url + "/join", headers={"Authorization": f"Bearer {TOKEN}",
                                                                 NODE_CONFIG_HEADER: expected})
        try:
            with urllib.request.urlopen(request, context=context, timeout=5) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    status, body = join(expect)
    assert status == 503 and f"does not have node configuration {expect} of NodePool workers".encode() in body
    assert get(url + "/join", context, TOKEN)[0] == 200, "a join command without the header gets the current one"
    (paths.pools / "workers").write_text(json.dumps(registration_document(
        {"hypershift.openshift.io/nodePool": "workers"}, [], wanted)))
    status, body = join(expect)
    assert status == 200 and b'"maxPods": 50' in base64.b64decode(
        next(line.split()[1] for line in body.decode().splitlines()
             if line.startswith("echo ") and "config.yaml" in line))
