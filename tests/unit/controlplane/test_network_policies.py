"""The control-plane namespace's NetworkPolicies allow the flows a hosted control plane needs, and no more.

Evaluated with tests/unit/network_policy.py (the API's ingress semantics, pure) over the pods the
components actually render: their labels and their named container ports, so a port renumbered in a
component's manifest but not in the policies fails here. The flows are the ones hcp uses (who dials
whom is named in each case); the denials are the isolation the policies are for: another hosted
cluster's pods, the machines' hosted workloads and the world never reach etcd or the controllers.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from hcp.controlplane import Endpoint as PublishedEndpoint
from hcp.controlplane.components.network_policy import adapter
from hcp.controlplane.podsecurity import namespace_labels
from hcp.controlplane.render import render, render_component
from hcp.operator import install
from hcp.operator.etcdbackup.job import render_job
from hcp.platforms.container import machine_pod
from tests.unit.controlplane.conftest import HIGHLY_AVAILABLE, SINGLE_REPLICA, make_context, make_hcp
from tests.unit.controlplane.test_audit import with_spec
from tests.unit.network_policy import Endpoint, allowed, selects
from tests.unit.operator.etcdbackup.objects import ETCD_IMAGE, OPERATOR_IMAGE, backup, control_plane
from tests.unit.platforms.test_container import template as machine_template

HA = make_context(make_hcp(HIGHLY_AVAILABLE), PublishedEndpoint("api.example.com", 6443),
                  ignition_endpoint=PublishedEndpoint("ignition.example.com", 443), operator_image=OPERATOR_IMAGE)
CONTAINER = with_spec(HA, platform={"type": "Container"})
KWOK = make_context(make_hcp(SINGLE_REPLICA))
NAMESPACE = HA.namespace
OTHER_NAMESPACE = "clusters-other"
CONTROL_PLANE_NAMESPACE_LABELS = {"hypershift.openshift.io/hosted-control-plane": "true",
                                  **namespace_labels(privileged_machines=False)}

NODE = Endpoint(ip="192.168.126.10")
"""A node or a user outside the pod network (through a NodePort or a load balancer, often as a node's address)."""
OPERATOR = Endpoint(ip="10.88.0.5", namespace=install.NAMESPACE, labels={"app": "operator"})
MONITORING = Endpoint(ip="10.88.0.6", namespace="monitoring", labels={"app": "prometheus"},
                      namespace_labels={adapter.MONITORING_LABEL: "true"})
SOME_POD = Endpoint(ip="10.88.0.7", namespace="default", labels={"app": "curl"})


def policies(ctx) -> list[dict[str, Any]]:
    return [o for o in render(ctx) if o["kind"] == "NetworkPolicy"]


def pod(template: dict[str, Any], namespace: str, ip: str) -> Endpoint:
    ports = {p["name"]: p["containerPort"] for c in template["spec"]["containers"] for p in c.get("ports") or ()}
    return Endpoint(ip=ip, namespace=namespace, labels=template["metadata"]["labels"],
                    namespace_labels=CONTROL_PLANE_NAMESPACE_LABELS, ports=ports)


def pods(ctx, namespace: str = NAMESPACE) -> dict[str, Endpoint]:
    """The control-plane pods `ctx` renders (by workload name), the etcd backup Job's and a machine's."""
    found = {}
    for index, obj in enumerate(render(ctx)):
        if obj["kind"] in ("Deployment", "StatefulSet"):
            found[obj["metadata"]["name"]] = pod(obj["spec"]["template"], namespace, f"10.88.1.{index}")
    job = render_job(backup(), control_plane(), backup_uid="u-1", etcd_image=ETCD_IMAGE, operator_image=OPERATOR_IMAGE)
    found["etcd-backup"] = pod(job["spec"]["template"], namespace, "10.88.2.1")
    machine = machine_pod("workers-abcde", namespace, machine_template(), "https://ignition", "pin", "node:1")
    found["machine"] = pod(machine, namespace, "10.88.3.1")
    return found


PODS = pods(CONTAINER)
OTHER = pods(CONTAINER, OTHER_NAMESPACE)
"""Another hosted cluster's pods: the same labels, another namespace."""
POLICIES = policies(CONTAINER)


def port(target: str, name: str) -> int:
    return PODS[target].ports[name]


def reaches(source: Endpoint, target: str, port_name: str) -> bool:
    return allowed(POLICIES, source, PODS[target], port(target, port_name))


@pytest.mark.parametrize(("who", "source", "target", "port_name"), [
    ("users and nodes -> the API server", NODE, "kube-apiserver", "client"),
    ("any pod of the management cluster -> the API server", SOME_POD, "kube-apiserver", "client"),
    ("the operator -> the API server (hosted clients, the revocation probe of each pod)", OPERATOR,
     "kube-apiserver", "client"),
    ("konnectivity agents on the nodes -> the konnectivity server", NODE, "kube-apiserver", "konnectivity"),
    ("joining machines -> the ignition server", NODE, "ignition-server", "https"),
    ("a Container machine -> the ignition server", PODS["machine"], "ignition-server", "https"),
    ("a Container machine's kubelet -> the API server", PODS["machine"], "kube-apiserver", "client"),
    ("a Container machine's agent -> the konnectivity server", PODS["machine"], "kube-apiserver", "konnectivity"),
    ("the API server -> etcd", PODS["kube-apiserver"], "etcd", "client"),
    ("etcd members -> each other", PODS["etcd"], "etcd", "peer"),
    ("the etcd backup Job -> etcd", PODS["etcd-backup"], "etcd", "client"),
    ("kube-controller-manager -> the API server", PODS["kube-controller-manager"], "kube-apiserver", "client"),
    ("kube-scheduler -> the API server", PODS["kube-scheduler"], "kube-apiserver", "client"),
    ("the ignition server -> the API server", PODS["ignition-server"], "kube-apiserver", "client"),
    ("the operator -> kube-controller-manager's secure port", OPERATOR, "kube-controller-manager", "client"),
    ("the operator -> kube-scheduler's secure port", OPERATOR, "kube-scheduler", "client"),
    ("a monitoring namespace -> etcd's client port (scraped with mutual TLS)", MONITORING, "etcd", "client"),
    ("a monitoring namespace -> kube-controller-manager's metrics", MONITORING, "kube-controller-manager", "client"),
    ("a monitoring namespace -> the konnectivity server's health", MONITORING, "kube-apiserver", "proxy-health"),
])
def test_the_flows_the_control_plane_needs_are_allowed(who, source, target, port_name):
    assert reaches(source, target, port_name), who


@pytest.mark.parametrize(("who", "source", "target", "port_name"), [
    ("another hosted cluster's API server -> this etcd", OTHER["kube-apiserver"], "etcd", "client"),
    ("another hosted cluster's etcd -> this etcd's peer port", OTHER["etcd"], "etcd", "peer"),
    ("another hosted cluster's machine -> this etcd", OTHER["machine"], "etcd", "client"),
    ("this cluster's own machines (its hosted workloads) -> its etcd", PODS["machine"], "etcd", "client"),
    ("a machine -> kube-controller-manager", PODS["machine"], "kube-controller-manager", "client"),
    ("users and nodes -> etcd", NODE, "etcd", "client"),
    ("any pod -> etcd", SOME_POD, "etcd", "client"),
    ("the operator -> etcd (it never dials it: backups run here)", OPERATOR, "etcd", "client"),
    ("a monitoring namespace -> etcd's plain-HTTP metrics port (scrapes use the TLS client port)", MONITORING, "etcd",
     "metrics"),
    ("another hosted cluster's pods -> kube-controller-manager", OTHER["kube-apiserver"], "kube-controller-manager",
     "client"),
    ("another hosted cluster's pods -> kube-scheduler", OTHER["kube-scheduler"], "kube-scheduler", "client"),
    ("users and nodes -> kube-controller-manager", NODE, "kube-controller-manager", "client"),
    ("users and nodes -> the konnectivity server's health port", NODE, "kube-apiserver", "proxy-health"),
    ("any pod -> the konnectivity server's health port", SOME_POD, "kube-apiserver", "proxy-health"),
])
def test_what_isolation_forbids_is_denied(who, source, target, port_name):
    assert not reaches(source, target, port_name), who


def test_a_container_machine_is_a_node_reachable_from_anywhere():
    """Other machines' overlay traffic and users of the hosted cluster's NodePort Services reach a machine."""
    machine = PODS["machine"]
    for source, port_number, protocol in ((NODE, 30080, "TCP"), (OTHER["machine"], 8472, "UDP"),
                                          (PODS["machine"], 10250, "TCP")):
        assert allowed(POLICIES, source, machine, port_number, protocol)


def test_every_pod_of_the_namespace_is_closed_by_default():
    """A pod no other policy opens, such as one someone else started in the namespace, takes nothing."""
    stranger = Endpoint(ip="10.88.9.9", namespace=NAMESPACE, labels={"app": "stranger"})
    for source in (NODE, SOME_POD, OPERATOR, PODS["kube-apiserver"], PODS["machine"]):
        assert not allowed(POLICIES, source, stranger, 8080)


def test_a_kwok_clusters_api_server_reaches_kwoks_simulated_kubelets_and_nothing_opens_machines():
    kwok_pods, kwok_policies = pods(KWOK), policies(KWOK)
    assert allowed(kwok_policies, kwok_pods["kube-apiserver"], kwok_pods["kwok"], kwok_pods["kwok"].ports["kwok"])
    assert not allowed(kwok_policies, NODE, kwok_pods["kwok"], kwok_pods["kwok"].ports["kwok"])
    assert {adapter.MACHINES_POLICY, adapter.IGNITION_POLICY}.isdisjoint({p["metadata"]["name"] for p in kwok_policies})
    assert adapter.MACHINES_POLICY not in {p["metadata"]["name"] for p in policies(HA)}  # None: no Container pools
    assert adapter.MACHINES_POLICY in {p["metadata"]["name"] for p in POLICIES}


def test_every_port_a_policy_opens_is_a_container_port_of_a_pod_it_selects():
    """A renumbered container port must move the policy with it (and a policy must not open nothing)."""
    for ctx in (CONTAINER, KWOK):
        rendered = pods(ctx)
        for policy in policies(ctx):
            selected = [p for p in rendered.values() if selects(policy["spec"]["podSelector"], p.labels)]
            assert selected, policy["metadata"]["name"]
            numbers = {n for p in selected for n in p.ports.values()}
            for rule in policy["spec"].get("ingress") or ():
                for rule_port in rule.get("ports") or ():
                    assert rule_port["port"] in numbers, (policy["metadata"]["name"], rule_port)


def test_the_policies_are_ingress_only_and_egress_stays_open():
    for policy in POLICIES:
        assert policy["spec"]["policyTypes"] == ["Ingress"], policy["metadata"]["name"]
        assert "egress" not in policy["spec"]


def test_the_policies_are_rendered_owned_and_pruned_like_every_control_plane_object():
    for policy in POLICIES:
        labels = policy["metadata"]["labels"]
        assert policy["metadata"]["namespace"] == NAMESPACE
        assert labels["hcp.io/control-plane-component"] == adapter.NAME
        assert labels["app.kubernetes.io/managed-by"] == "hcp"
    assert [o["kind"] for o in render_component(HA, adapter.COMPONENT)] == ["NetworkPolicy"] * len(policies(HA))


def test_the_operator_namespace_is_the_installed_one():
    assert adapter.OPERATOR_NAMESPACE == install.NAMESPACE


def test_the_evaluator_reads_selectors_and_peers_as_the_api_does():
    namespace = "ns"
    target = Endpoint(ip="10.0.0.1", namespace=namespace, labels={"app": "db"}, ports={"sql": 5432})

    def policy(ingress: list[dict[str, Any]], selector: dict[str, Any] | None = None) -> dict[str, Any]:
        return {"metadata": {"namespace": namespace}, "spec": {"podSelector": selector or {},
                                                               "policyTypes": ["Ingress"], "ingress": ingress}}

    client = Endpoint(ip="10.0.0.2", namespace=namespace, labels={"app": "web"})
    foreign = dataclasses.replace(client, namespace="other")
    assert allowed([], NODE, target, 5432)  # no policy: open
    assert not allowed([policy([])], client, target, 5432)  # selected, no rule: closed
    assert allowed([policy([{}])], NODE, target, 1)  # an empty rule: everything
    by_pod = policy([{"from": [{"podSelector": {"matchLabels": {"app": "web"}}}]}])
    assert allowed([by_pod], client, target, 5432) and not allowed([by_pod], foreign, target, 5432)
    by_namespace = policy([{"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "other"}}}]}])
    assert allowed([by_namespace], foreign, target, 5432) and not allowed([by_namespace], client, target, 5432)
    named = policy([{"ports": [{"port": "sql"}]}])
    assert allowed([named], NODE, target, 5432) and not allowed([named], NODE, target, 5433)
    assert not allowed([named], NODE, target, 5432, "UDP")
    block = policy([{"from": [{"ipBlock": {"cidr": "192.168.0.0/16", "except": ["192.168.126.0/24"]}}]}])
    assert not allowed([block], NODE, target, 5432)
    assert allowed([block], Endpoint(ip="192.168.1.1"), target, 5432)
    other_pods = policy([{}], {"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["db"]}]})
    assert allowed([other_pods, policy([])], NODE, target, 5432) is False
