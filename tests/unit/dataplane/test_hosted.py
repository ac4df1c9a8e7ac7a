"""The data-plane controller's decisions about hosted components: context, rendering, applies, leftovers,
rollouts and the kubernetes Service's endpoints, all without a cluster."""

from __future__ import annotations

import base64
import copy
import dataclasses
from typing import Any

import pytest
from lightkube.codecs import resource_registry

from hcp.api import HostedControlPlane
from hcp.api.v1beta1.networking import NetworkType
from hcp.controlplane.context import Endpoint
from hcp.controlplane.labels import MANAGED_BY, MANAGED_BY_LABEL
from hcp.dataplane import hosted
from hcp.dataplane.components import COMPONENTS, config, flannel, konnectivity_agent, metrics_server
from hcp.dataplane.components.context import COMPONENT_LABEL
from hcp.dataplane.hosted import Applied, EndpointError, LiveObject

IMAGES = {
    "konnectivity-agent": "registry.hcp.internal:5000/hcp/konnectivity-agent:v0.34.0",
    "flannel": "registry.hcp.internal:5000/hcp/flannel:v0.28.10",
    "kube-proxy": "registry.hcp.internal:5000/hcp/kube-proxy:v1.37.1",
    "coredns": "registry.hcp.internal:5000/hcp/coredns:v1.15.0",
    "metrics-server": "registry.hcp.internal:5000/hcp/metrics-server:v0.8.0",
}
AGENT = {"ca.crt": b"KONNECTIVITY CA", "tls.crt": b"AGENT CERT", "tls.key": b"AGENT KEY"}
METRICS = {"ca.crt": b"ROOT CA", "tls.crt": b"METRICS CERT", "tls.key": b"METRICS KEY"}
KAS = {"ca.crt": b"ROOT CA", "tls.crt": b"KAS CERT", "tls.key": b"KAS KEY"}
SECRETS = {"konnectivity-agent": AGENT, "metrics-server-crt": METRICS, "kas-server-crt": KAS}
CONFIG = config.parse(config.data(Endpoint("192.168.126.10", 30443), Endpoint("192.168.126.10", 30132),
                                  "1.37.1", IMAGES)[config.KEY])


def control_plane(networking: dict[str, Any] | None = None) -> HostedControlPlane:
    spec: dict[str, Any] = {
        "releaseImage": "registry.hcp.internal:5000/hcp/release:v1.37.1",
        "pullSecret": {"name": "pull-secret"}, "issuerURL": "", "sshKey": {"name": "ssh-key"},
        "infraID": "demo-abcde", "platform": {"type": "KWOK"}, "dns": {"baseDomain": "example.com"},
        "services": [{"service": name, "servicePublishingStrategy": {"type": "NodePort"}}
                     for name in ("APIServer", "OAuthServer", "Konnectivity", "Ignition")],
        "etcd": {"managementType": "Managed",
                 "managed": {"storage": {"type": "PersistentVolume", "persistentVolume": {"size": "8Gi"}}}},
    }
    if networking is not None:
        spec["networking"] = networking
    return HostedControlPlane.model_validate({
        "apiVersion": "hypershift.openshift.io/v1beta1", "kind": "HostedControlPlane",
        "metadata": {"name": "demo", "namespace": "clusters-demo"}, "spec": spec,
    })


FLANNEL_NETWORKING = {"networkType": "Flannel", "clusterNetwork": [{"cidr": "10.132.0.0/14"}],
                      "serviceNetwork": [{"cidr": "172.31.0.0/16"}]}


def context(network_type: str = "Flannel", secrets=SECRETS):
    return hosted.hosted_context(control_plane({**FLANNEL_NETWORKING, "networkType": network_type}),
                                 CONFIG, secrets)


def live(rendered: hosted.Rendered) -> list[LiveObject]:
    return [LiveObject(hosted.object_key(obj), component) for component, obj in rendered.objects]


# The context.


def test_the_context_comes_from_the_spec_the_published_config_and_the_control_plane_secrets():
    ctx = hosted.hosted_context(control_plane({
        "networkType": "Other", "clusterNetwork": [{"cidr": "10.128.0.0/14"}, {"cidr": "fd01::/48"}],
        "serviceNetwork": [{"cidr": "172.30.0.0/16"}, {"cidr": "fd02::/112"}]}), CONFIG, SECRETS)
    assert ctx.network_type == NetworkType.OTHER
    assert ctx.cluster_cidrs == ("10.128.0.0/14", "fd01::/48")
    assert ctx.service_cidrs == ("172.30.0.0/16", "fd02::/112")
    assert ctx.api_server == Endpoint("192.168.126.10", 30443)
    assert ctx.konnectivity == Endpoint("192.168.126.10", 30132)
    assert ctx.kubernetes_version == "1.37.1" and dict(ctx.images) == IMAGES
    assert {name: dict(data) for name, data in ctx.secrets.items()} == {
        konnectivity_agent.SECRET: AGENT, metrics_server.SECRET: METRICS}
    assert ctx.kubelet_serving_ca == b"ROOT CA"  # the root CA, which kube-controller-manager signs kubelets with


def test_without_networking_the_context_has_hypershifts_defaults():
    ctx = hosted.hosted_context(control_plane(), CONFIG, {})
    assert (ctx.cluster_cidrs, ctx.service_cidrs) == (("10.132.0.0/14",), ("172.31.0.0/16",))
    assert ctx.network_type == NetworkType.OVN_KUBERNETES
    assert dict(ctx.secrets) == {} and ctx.kubelet_serving_ca is None


def test_secrets_are_read_from_their_base64_data():
    data = {"ca.crt": base64.b64encode(b"ROOT CA").decode(), "broken": "not base64!", "empty": ""}
    assert hosted.decode_secret(data) == {"ca.crt": b"ROOT CA", "empty": b""}
    assert hosted.decode_secret(None) == {}
    assert set(hosted.MANAGEMENT_SECRETS) == {"konnectivity-agent", "metrics-server-crt", "kas-server-crt"}


@pytest.mark.parametrize("network_type", ["OpenShiftSDN", "Calico", "OVNKubernetes"])
def test_cnis_hcp_cannot_deploy_are_reported(network_type):
    problem = hosted.network_type_problem(NetworkType(network_type))
    assert problem is not None and network_type in problem and "Flannel" in problem


@pytest.mark.parametrize("network_type", ["Flannel", "Other"])
def test_cnis_hcp_deploys_or_leaves_to_the_user_are_not(network_type):
    assert hosted.network_type_problem(NetworkType(network_type)) is None


# Rendering.


def test_every_component_is_rendered_and_stamped_namespaces_first():
    rendered = hosted.render_components(context())
    assert dict(rendered.failed) == {}
    assert set(rendered.by_component()) == {c.NAME for c in COMPONENTS}
    kinds = [obj["kind"] for _, obj in rendered.objects]
    assert kinds[0] == "Namespace" and "Namespace" not in kinds[1:]
    for component, obj in rendered.objects:
        labels = obj["metadata"]["labels"]
        assert labels[COMPONENT_LABEL] == component and labels[MANAGED_BY_LABEL] == MANAGED_BY
    # The components' order is kept after the Namespaces.
    order = list(dict.fromkeys(component for component, _ in rendered.objects[1:]))
    assert order == [c.NAME for c in COMPONENTS]


def test_stamping_leaves_the_components_rendering_untouched():
    rendered = konnectivity_agent.render(context())
    before = copy.deepcopy(rendered)
    stamped = hosted.stamp(rendered[0], konnectivity_agent.NAME)
    assert rendered == before
    assert stamped["metadata"]["labels"] == {**before[0]["metadata"]["labels"], COMPONENT_LABEL: "konnectivity-agent",
                                             MANAGED_BY_LABEL: MANAGED_BY}


def test_the_kinds_looked_at_for_leftovers_cover_everything_a_component_renders():
    full = context()
    variants = [full, context("Other"), context(secrets={}),
                dataclasses.replace(full, cluster_cidrs=("fd01::/48",), service_cidrs=("fd02::/112",))]
    rendered_kinds = {(obj["apiVersion"], obj["kind"]) for ctx in variants
                      for _, obj in hosted.render_components(ctx).objects}
    assert rendered_kinds <= set(hosted.KINDS)
    assert len(set(hosted.KINDS)) == len(hosted.KINDS)
    for api_version, kind in hosted.KINDS:  # every one is a built-in kind lightkube can list and delete
        assert resource_registry.load(api_version, kind) is not None


def test_a_component_that_cannot_be_rendered_fails_alone():
    rendered = hosted.render_components(context(secrets={"kas-server-crt": KAS}))
    assert set(rendered.failed) == {konnectivity_agent.NAME}
    assert "konnectivity-agent" in rendered.failed[konnectivity_agent.NAME]
    assert not rendered.failed[konnectivity_agent.NAME].startswith("'")
    components = set(rendered.by_component())
    assert {"flannel", "kube-proxy", "coredns"} <= components and konnectivity_agent.NAME not in components
    # metrics-server renders nothing without its serving certificate: it is not a failure.
    assert "metrics-server" not in components


def test_a_component_rendering_an_object_another_renders_fails_instead_of_fighting_over_it():
    class Copycat:
        NAME = "copycat"

        @staticmethod
        def render(ctx):
            return flannel.render(ctx)[:1]

    rendered = hosted.render_components(context(), (flannel, Copycat))
    assert set(rendered.failed) == {"copycat"} and "Namespace kube-flannel" in rendered.failed["copycat"]
    assert set(rendered.by_component()) == {"flannel"}


# Applying only what changed.


def test_an_object_is_applied_when_new_changed_missing_or_due_a_resync():
    obj = hosted.render_components(context()).objects[0][1]
    wanted = hosted.digest(obj)
    last = Applied(wanted, at=1000.0)
    assert hosted.apply_due(wanted, None, 1000.0, present=True, resync=600)
    assert not hosted.apply_due(wanted, last, 1599.0, present=True, resync=600)
    assert hosted.apply_due(wanted, last, 1600.0, present=True, resync=600)
    assert hosted.apply_due(wanted, last, 1001.0, present=False, resync=600)
    assert hosted.apply_due(hosted.digest({**obj, "x": 1}), last, 1001.0, present=True, resync=600)


def test_the_digest_is_stable_and_follows_the_object():
    first, second = hosted.render_components(context()), hosted.render_components(context())
    assert [hosted.digest(o) for _, o in first.objects] == [hosted.digest(o) for _, o in second.objects]
    flannel_config = {hosted.object_key(o): o for _, o in first.objects}[("ConfigMap", "kube-flannel",
                                                                             flannel.CONFIG_MAP)]
    changed = hosted.render_components(hosted.hosted_context(
        control_plane({**FLANNEL_NETWORKING, "clusterNetwork": [{"cidr": "10.200.0.0/16"}]}), CONFIG, SECRETS))
    assert hosted.digest(flannel_config) != hosted.digest(
        {hosted.object_key(o): o for _, o in changed.objects}[hosted.object_key(flannel_config)])
    assert hosted.digest({"b": 1, "a": 2}) == hosted.digest({"a": 2, "b": 1})


# Leftovers.


def test_flannel_is_removed_when_network_type_changes_to_other_namespace_last():
    before = hosted.render_components(context("Flannel"))
    after = hosted.render_components(context("Other"))
    gone = hosted.leftovers(after.keys, live(before), after.failed)
    assert {obj.component for obj in gone} == {"flannel"}
    assert {obj.key for obj in gone} == {hosted.object_key(o) for o in before.by_component()["flannel"]}
    kinds = [obj.key[0] for obj in gone]
    assert kinds[-1] == "Namespace"
    assert kinds[0] == "DaemonSet"  # the pods go before what they use
    assert kinds.index("ClusterRoleBinding") < kinds.index("ServiceAccount")


def test_nothing_rendered_is_a_leftover():
    rendered = hosted.render_components(context())
    assert hosted.leftovers(rendered.keys, live(rendered)) == []


def test_the_apiservice_goes_before_the_service_it_names():
    before = hosted.render_components(context())
    after = hosted.render_components(context(secrets={k: v for k, v in SECRETS.items() if k != "metrics-server-crt"}))
    gone = [obj.key[0] for obj in hosted.leftovers(after.keys, live(before), after.failed)]
    assert gone[0] == "APIService" and gone.index("Deployment") < gone.index("Service") < gone.index("ServiceAccount")


def test_what_a_component_that_failed_to_render_applied_is_kept():
    before = hosted.render_components(context())
    after = hosted.render_components(context(secrets={"kas-server-crt": KAS, "metrics-server-crt": METRICS}))
    assert konnectivity_agent.NAME in after.failed
    assert [o for o in hosted.leftovers(after.keys, live(before), after.failed)
            if o.component == konnectivity_agent.NAME] == []


def test_objects_of_components_that_no_longer_exist_are_leftovers_but_system_namespaces_are_never_deleted():
    found = [LiveObject(("ConfigMap", "kube-system", "old"), "retired"),
             LiveObject(("Namespace", None, "kube-system"), "retired"),
             LiveObject(("Namespace", None, "retired"), "retired")]
    assert [o.key for o in hosted.leftovers(set(), found)] == [("ConfigMap", "kube-system", "old"),
                                                               ("Namespace", None, "retired")]


# Rollouts.


def deployment(wanted=2, **status) -> dict[str, Any]:
    return {"kind": "Deployment", "metadata": {"generation": 3}, "spec": {"replicas": wanted},
            "status": {"observedGeneration": 3, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 2,
                       **status}}


def daemon_set(**status) -> dict[str, Any]:
    return {"kind": "DaemonSet", "metadata": {"generation": 2}, "spec": {},
            "status": {"observedGeneration": 2, "desiredNumberScheduled": 3, "updatedNumberScheduled": 3,
                       "numberAvailable": 3, **status}}


def test_rollouts():
    assert hosted.rolled_out(deployment())
    assert not hosted.rolled_out(deployment(observedGeneration=2))
    assert not hosted.rolled_out(deployment(availableReplicas=1))
    assert not hosted.rolled_out(deployment(updatedReplicas=1))
    assert not hosted.rolled_out(deployment(replicas=3))  # an old pod is still there
    assert hosted.rolled_out(deployment(wanted=0, replicas=0, updatedReplicas=0, availableReplicas=0))
    assert hosted.rolled_out(daemon_set())
    assert not hosted.rolled_out(daemon_set(numberAvailable=2))
    assert not hosted.rolled_out(daemon_set(updatedNumberScheduled=1))
    assert hosted.rolled_out(daemon_set(desiredNumberScheduled=0, updatedNumberScheduled=0, numberAvailable=0))
    assert not hosted.rolled_out(None)
    assert not hosted.rolled_out({"kind": "Deployment", "metadata": {"generation": 1}, "spec": {}})


def test_the_workloads_not_rolled_out_are_named():
    rendered = hosted.render_components(context())
    coredns = ("Deployment", "kube-system", "coredns")
    kube_proxy = ("DaemonSet", "kube-system", "kube-proxy")
    observed = {coredns: deployment(), kube_proxy: daemon_set(numberAvailable=0)}
    waiting = hosted.not_rolled_out(rendered.keys, observed)
    assert "DaemonSet kube-system/kube-proxy" in waiting and "Deployment kube-system/coredns" not in waiting
    assert "DaemonSet kube-flannel/kube-flannel-ds" in waiting  # not seen at all yet
    assert all(w.split()[0] in hosted.WORKLOAD_KINDS for w in waiting)
    assert waiting == sorted(waiting)


# The kubernetes Service's endpoints.


def test_the_kubernetes_service_points_at_the_published_ip():
    endpoints, endpoint_slice = hosted.kubernetes_endpoints(
        hosted.service_addresses("192.168.126.10", ["192.168.126.10"], ["172.31.0.0/16"]), 30443)
    assert endpoints == {
        "apiVersion": "v1", "kind": "Endpoints",
        "metadata": {"name": "kubernetes", "namespace": "default",
                     "labels": {"endpointslice.kubernetes.io/skip-mirror": "true", MANAGED_BY_LABEL: MANAGED_BY}},
        "subsets": [{"addresses": [{"ip": "192.168.126.10"}],
                     "ports": [{"name": "https", "port": 30443, "protocol": "TCP"}]}],
    }
    assert endpoint_slice == {
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"name": "kubernetes", "namespace": "default",
                     "labels": {"kubernetes.io/service-name": "kubernetes",
                                "endpointslice.kubernetes.io/managed-by": MANAGED_BY, MANAGED_BY_LABEL: MANAGED_BY}},
        "addressType": "IPv4",
        "endpoints": [{"addresses": ["192.168.126.10"], "conditions": {"ready": True}}],
        "ports": [{"name": "https", "port": 30443, "protocol": "TCP"}],
    }
    assert endpoint_slice["metadata"]["labels"]["endpointslice.kubernetes.io/managed-by"] not in (
        "endpointslice-controller.k8s.io", "endpointslicemirroring-controller.k8s.io")


def test_a_resolved_name_gives_every_address_of_the_service_family_in_a_stable_order():
    resolved = ["10.0.0.2", "fd00::1", "10.0.0.1", "10.0.0.2"]
    assert hosted.service_addresses("api.example.com", resolved, ["172.31.0.0/16"]) == ["10.0.0.1", "10.0.0.2"]
    assert hosted.service_addresses("api.example.com", resolved[::-1], ["172.31.0.0/16"]) == ["10.0.0.1", "10.0.0.2"]
    v6 = hosted.service_addresses("api.example.com", resolved + ["2001:db8::1%eth0"], ["fd02::/112", "172.31.0.0/16"])
    assert v6 == ["2001:db8::1", "fd00::1"]
    (_, endpoint_slice) = hosted.kubernetes_endpoints(v6, 6443)
    assert endpoint_slice["addressType"] == "IPv6"
    assert [e["addresses"] for e in endpoint_slice["endpoints"]] == [["2001:db8::1"], ["fd00::1"]]


def test_addresses_a_pod_cannot_reach_the_api_server_at_are_left_out():
    resolved = ["127.0.0.1", "169.254.1.1", "0.0.0.0", "224.0.0.1", "10.0.0.1"]
    assert hosted.service_addresses("api.example.com", resolved, ["172.31.0.0/16"]) == ["10.0.0.1"]
    with pytest.raises(EndpointError, match="localhost has no IPv4 address.*127.0.0.1, ::1 only"):
        hosted.service_addresses("localhost", ["::1", "127.0.0.1"], ["172.31.0.0/16"])


def test_a_name_without_an_address_of_the_service_family_is_reported():
    with pytest.raises(EndpointError, match="api.example.com has no IPv4 address .*fd00::1 only"):
        hosted.service_addresses("api.example.com", ["fd00::1"], ["172.31.0.0/16"])
    with pytest.raises(EndpointError, match="has no address"):
        hosted.service_addresses("api.example.com", [], ["172.31.0.0/16"])
    with pytest.raises(EndpointError):
        hosted.kubernetes_endpoints([], 6443)


# Backoff.


def test_failing_passes_back_off_up_to_a_limit():
    delays = [hosted.backoff(n) for n in range(1, 12)]
    assert delays[0] == hosted.BACKOFF_BASE
    assert delays == sorted(delays) and delays[-1] == hosted.BACKOFF_MAX
