"""The konnectivity agent the hosted cluster runs on every node: what it dials, with what, and where it runs."""

from __future__ import annotations

import base64
import dataclasses
from typing import Any

import pytest

from hcp.api.v1beta1.networking import NetworkType
from hcp.controlplane import Endpoint, pki_secrets, secret_data
from hcp.dataplane.components import COMPONENTS, konnectivity_agent
from hcp.dataplane.components.context import HostedContext
from tests.unit.controlplane.conftest import NAMESPACE, SINGLE_REPLICA, make_hcp

IMAGE = "registry.hcp.internal:5000/hcp/konnectivity-agent:v0.34.0"
PKI = {s["metadata"]["name"]: secret_data(s)
       for s in pki_secrets(NAMESPACE, make_hcp(SINGLE_REPLICA), "192.168.126.10", {}, endpoint_port=30443,
                            konnectivity_host="192.168.126.10")}


@pytest.fixture
def ctx() -> HostedContext:
    return HostedContext(
        images={"konnectivity-agent": IMAGE, "coredns": "registry.hcp.internal:5000/hcp/coredns:v1.12.1"},
        kubernetes_version="1.37.1",
        cluster_cidrs=("10.132.0.0/14",),
        service_cidrs=("172.31.0.0/16",),
        network_type=NetworkType.OTHER,
        api_server=Endpoint("192.168.126.10", 30443),
        konnectivity=Endpoint("192.168.126.10", 31091),
        secrets={"konnectivity-agent": PKI["konnectivity-agent"], "unrelated": {"x": b"y"}},
    )


def by_kind(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {obj["kind"]: obj for obj in objects}


def flag(arguments: list[str], name: str) -> str | None:
    values = [arg.split("=", 1)[1] for arg in arguments if arg.startswith(f"--{name}=")]
    assert len(values) <= 1, f"--{name} given {len(values)} times"
    return values[0] if values else None


def agent_container(objects: list[dict[str, Any]]) -> dict[str, Any]:
    (container,) = by_kind(objects)["DaemonSet"]["spec"]["template"]["spec"]["containers"]
    return container


def test_it_is_a_hosted_component():
    assert konnectivity_agent in COMPONENTS
    assert konnectivity_agent.NAME == "konnectivity-agent"


def test_nothing_until_the_konnectivity_endpoint_is_published(ctx):
    assert konnectivity_agent.render(dataclasses.replace(ctx, konnectivity=None)) == []


def test_service_account_secret_and_daemon_set_in_kube_system(ctx):
    objects = konnectivity_agent.render(ctx)
    assert [(o["kind"], o["metadata"]["name"]) for o in objects] == [
        ("ServiceAccount", "konnectivity-agent"), ("Secret", "konnectivity-agent"), ("DaemonSet", "konnectivity-agent"),
    ]
    assert {o["metadata"]["namespace"] for o in objects} == {"kube-system"}
    assert by_kind(objects)["ServiceAccount"]["automountServiceAccountToken"] is False


def test_the_secret_is_the_control_planes_agent_certificate_and_nothing_else(ctx):
    secret = by_kind(konnectivity_agent.render(ctx))["Secret"]
    assert {key: base64.b64decode(value) for key, value in secret["data"].items()} == PKI["konnectivity-agent"]
    assert set(secret["data"]) == {"ca.crt", "tls.crt", "tls.key"}


def test_a_missing_certificate_is_an_error_not_an_empty_render(ctx):
    """Rendering nothing would have the controller remove a running agent while the PKI is being minted."""
    with pytest.raises(KeyError, match="konnectivity-agent"):
        konnectivity_agent.render(dataclasses.replace(ctx, secrets={}))


def test_the_agent_dials_the_published_endpoint_with_its_certificate(ctx):
    objects = konnectivity_agent.render(ctx)
    agent = agent_container(objects)
    assert agent["image"] == IMAGE
    assert agent["command"] == ["/usr/local/bin/proxy-agent"]
    arguments = agent["args"]
    assert flag(arguments, "proxy-server-host") == "192.168.126.10"
    assert flag(arguments, "proxy-server-port") == "31091"
    pod = by_kind(objects)["DaemonSet"]["spec"]["template"]["spec"]
    (volume,) = pod["volumes"]
    assert volume["secret"]["secretName"] == by_kind(objects)["Secret"]["metadata"]["name"]
    (mount,) = agent["volumeMounts"]
    assert mount["name"] == volume["name"]
    for name, key in (("ca-cert", "ca.crt"), ("agent-cert", "tls.crt"), ("agent-key", "tls.key")):
        assert flag(arguments, name) == f"{mount['mountPath']}/{key}"


def test_the_agent_announces_its_node_so_kubelet_traffic_goes_through_it(ctx):
    agent = agent_container(konnectivity_agent.render(ctx))
    assert flag(agent["args"], "agent-identifiers") == "ipv4=$(HOST_IP)"
    assert {"name": "HOST_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.hostIP"}}} in agent["env"]


def test_it_runs_on_every_node_before_the_cni(ctx):
    daemon_set = by_kind(konnectivity_agent.render(ctx))["DaemonSet"]
    pod = daemon_set["spec"]["template"]["spec"]
    assert pod["hostNetwork"] is True
    assert pod["dnsPolicy"] == "Default"
    assert pod["tolerations"] == [{"operator": "Exists"}]
    assert pod["priorityClassName"] == "system-node-critical"
    assert pod["automountServiceAccountToken"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert daemon_set["spec"]["selector"]["matchLabels"].items() <= daemon_set["spec"]["template"]["metadata"][
        "labels"].items()


def test_the_agent_is_probed_on_its_health_port(ctx):
    agent = agent_container(konnectivity_agent.render(ctx))
    port = int(flag(agent["args"], "health-server-port"))
    assert agent["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": port, "scheme": "HTTP"}
    assert agent["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": port, "scheme": "HTTP"}
    assert set(agent["resources"]["requests"]) == {"cpu", "memory"}
    assert agent["securityContext"]["readOnlyRootFilesystem"] is True


def test_a_reissued_certificate_rolls_the_agents(ctx):
    def annotations(context: HostedContext) -> dict[str, str]:
        return by_kind(konnectivity_agent.render(context))["DaemonSet"]["spec"]["template"]["metadata"]["annotations"]

    other = {"ca.crt": b"ca", "tls.crt": b"crt", "tls.key": b"key"}
    assert annotations(ctx) == annotations(dataclasses.replace(ctx))
    assert annotations(ctx) != annotations(dataclasses.replace(ctx, secrets={"konnectivity-agent": other}))
