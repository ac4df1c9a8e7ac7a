"""What the rendered control plane must do, beyond the golden files: names, flags, paths the docs rely on."""

from __future__ import annotations

import base64
import dataclasses
from fractions import Fraction
from typing import Any

import pytest
import yaml

from hcp.controlplane import Endpoint, RenderError, pki_secrets, render, secret_data
from hcp.capacity.baseline import workload_requests
from hcp.controlplane.components import COMPONENTS
from hcp.controlplane.components.sizing import REQUESTS
from hcp.controlplane.components.kube_apiserver.adapter import fnv1_32
from hcp.controlplane.labels import HOSTED_CONTROL_PLANE_LABEL, MANAGED_BY_LABEL
from hcp.controlplane.pki import fingerprints
from tests.unit.controlplane.conftest import (
    ACTIVE_KEY,
    BACKUP_KEY,
    HIGHLY_AVAILABLE,
    NAMESPACE,
    SINGLE_REPLICA,
    make_context,
    make_hcp,
)

WORKLOAD_KINDS = ("Deployment", "StatefulSet")


def by_key(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {f"{obj['kind']}/{obj['metadata']['name']}": obj for obj in objects}


def workloads(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [obj for obj in objects if obj["kind"] in WORKLOAD_KINDS]


def pod_spec(objects: list[dict[str, Any]], key: str) -> dict[str, Any]:
    return by_key(objects)[key]["spec"]["template"]["spec"]


def main_container(objects: list[dict[str, Any]], key: str, name: str) -> dict[str, Any]:
    return next(c for c in pod_spec(objects, key)["containers"] if c["name"] == name)


def args(objects: list[dict[str, Any]], key: str, name: str) -> list[str]:
    return main_container(objects, key, name)["args"]


def flag(arguments: list[str], name: str) -> str | None:
    values = [arg.split("=", 1)[1] for arg in arguments if arg.startswith(f"--{name}=")]
    assert len(values) <= 1, f"--{name} given {len(values)} times"
    return values[0] if values else None


def files(pod: dict[str, Any], container_name: str, rendered: list[dict[str, Any]] = ()) -> dict[str, tuple[str, str]]:
    """The files a container sees from Secret volumes, and ConfigMap volumes of `rendered`: path -> (name, key).

    Secrets are the PKI's and those in `rendered`; volumes that are not in the pod
    spec (a StatefulSet's claim templates) are skipped.
    """
    secrets = {s["metadata"]["name"]: secret_data(s) for s in [*PKI, *rendered] if s["kind"] == "Secret"}
    secrets |= {c["metadata"]["name"]: c.get("data") or {} for c in rendered if c["kind"] == "ConfigMap"}
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    container = next(c for c in [*pod.get("initContainers", []), *pod["containers"]] if c["name"] == container_name)
    seen = {}
    for mount in container["volumeMounts"]:
        volume = volumes.get(mount["name"], {})
        source = volume.get("secret") or ({"secretName": volume["configMap"]["name"], **volume["configMap"]}
                                          if "configMap" in volume else None)
        if source is None:
            continue
        name = source["secretName"]
        items = source.get("items") or [{"key": key, "path": key} for key in secrets.get(name, {})]
        for item in items:
            seen[f"{mount['mountPath']}/{item['path']}"] = (name, item["key"])
    return seen


PKI = pki_secrets(NAMESPACE, make_hcp(HIGHLY_AVAILABLE), "api.example.com", {}, endpoint_port=6443)


# The whole rendering.


def test_render_is_components_in_order_each_object_in_the_namespace_and_labelled(ha_ctx):
    objects = render(ha_ctx)
    assert [obj["kind"] + "/" + obj["metadata"]["name"] for obj in workloads(objects)] == [
        "StatefulSet/etcd",
        "Deployment/kube-apiserver",
        "Deployment/kube-controller-manager",
        "Deployment/kube-scheduler",
        "Deployment/ignition-server",
    ]
    for obj in objects:
        assert obj["metadata"]["namespace"] == NAMESPACE
        assert obj["metadata"]["labels"][MANAGED_BY_LABEL] == "hcp"
        assert obj["metadata"]["labels"][HOSTED_CONTROL_PLANE_LABEL] == NAMESPACE
    assert len(by_key(objects)) == len(objects), "object names are unique per kind"


def test_render_is_deterministic(ha_ctx, single_ctx):
    for ctx in (ha_ctx, single_ctx):
        first = render(ctx)
        again = render(dataclasses.replace(ctx, hcp=ctx.hcp.model_copy(deep=True)))
        assert yaml.safe_dump_all(first) == yaml.safe_dump_all(again)


def test_rendering_does_not_change_its_inputs_or_share_templates(ha_ctx):
    before = ha_ctx.hcp.model_dump()
    first = render(ha_ctx)
    workload = next(obj for obj in first if obj["kind"] in ("Deployment", "StatefulSet"))
    workload["spec"]["template"]["metadata"]["labels"]["tampered"] = "yes"
    assert "tampered" not in yaml.safe_dump_all(render(ha_ctx))
    assert ha_ctx.hcp.model_dump() == before


def test_every_component_has_a_name_and_render_function():
    assert [component.name for component in COMPONENTS] == [
        "network-policy", "etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok", "ignition-server",
        "hosted-cluster-config",
    ]
    assert all(callable(component.render) for component in COMPONENTS)


@pytest.mark.parametrize("document", [SINGLE_REPLICA, HIGHLY_AVAILABLE], ids=["single", "ha"])
def test_every_secret_a_pod_mounts_is_rendered_with_the_keys_it_needs(document):
    hcp = make_hcp(document)
    objects = render(make_context(hcp))
    available = {s["metadata"]["name"]: secret_data(s) for s in pki_secrets(NAMESPACE, hcp, "h.example.com", {},
                                                                            endpoint_port=6443)}
    available.update({o["metadata"]["name"]: secret_data(o) for o in objects if o["kind"] == "Secret"})
    for workload in workloads(objects):
        for volume in workload["spec"]["template"]["spec"]["volumes"]:
            if "secret" not in volume:
                continue
            name = volume["secret"]["secretName"]
            assert name in available, f"{workload['metadata']['name']} mounts missing Secret {name}"
            for item in volume["secret"].get("items", []):
                assert item["key"] in available[name]


def test_a_missing_image_is_a_render_error(single_ctx):
    ctx = dataclasses.replace(single_ctx, images={"etcd": "etcd:1"})
    with pytest.raises(RenderError, match="kube-apiserver"):
        render(ctx)


# Pods: restart date, security, placement, resources.


def test_restart_date_annotates_every_pod_template_and_changing_it_changes_nothing_else(single_ctx):
    plain = render(single_ctx)
    for workload in workloads(plain):
        assert "hypershift.openshift.io/restart-date" not in workload["spec"]["template"]["metadata"].get(
            "annotations", {}
        )
    restarted = render(dataclasses.replace(single_ctx, restart_date="2025-06-01T00:00:00Z"))
    assert len(workloads(restarted)) == 5
    for before, after in zip(workloads(plain), workloads(restarted), strict=True):
        annotations = after["spec"]["template"]["metadata"]["annotations"]
        assert annotations["hypershift.openshift.io/restart-date"] == "2025-06-01T00:00:00Z"
        del annotations["hypershift.openshift.io/restart-date"]
        if not annotations:
            del after["spec"]["template"]["metadata"]["annotations"]
        assert after == before


def test_restart_date_is_read_from_the_hosted_control_plane_annotation(ha_ctx):
    assert ha_ctx.restart_date == "2025-01-02T03:04:05Z"
    for workload in workloads(render(ha_ctx)):
        annotations = workload["spec"]["template"]["metadata"]["annotations"]
        assert annotations["hypershift.openshift.io/restart-date"] == "2025-01-02T03:04:05Z"


@pytest.mark.parametrize("fixture", ["single_ctx", "ha_ctx"])
def test_pods_run_unprivileged(fixture, request):
    for workload in workloads(render(request.getfixturevalue(fixture))):
        spec = workload["spec"]["template"]["spec"]
        assert spec["automountServiceAccountToken"] is False
        assert "priorityClassName" not in spec
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["runAsUser"] == 65532
        assert spec["securityContext"]["fsGroup"] == 65532
        for container in [*spec.get("initContainers", []), *spec["containers"]]:
            assert container["securityContext"] == {
                "allowPrivilegeEscalation": False,
                "readOnlyRootFilesystem": True,
                "capabilities": {"drop": ["ALL"]},
            }
            assert set(container["resources"]["requests"]) == {"cpu", "memory"}


def test_thirty_single_replica_control_planes_fit_a_two_core_node_by_requests(single_ctx):
    """Requests are sized from measured idle usage (hcp.controlplane.components.sizing), so that the
    scheduler, not a guess, bounds density: 30 SingleReplica control planes beside the management
    cluster's own pods (operator, Prometheus, CoreDNS, the provisioner: 160m) on a 2-core, 24 GiB node."""
    cpu, memory, pods = workload_requests(render(single_ctx))
    assert 30 * cpu + Fraction(160, 1000) <= 2
    assert 30 * memory <= 20 * 2**30
    assert pods == 5


def test_node_selector_tolerations_and_labels_come_from_the_spec(ha_ctx, single_ctx):
    for workload in workloads(render(ha_ctx)):
        template = workload["spec"]["template"]
        assert template["spec"]["nodeSelector"] == {"node-role.kubernetes.io/infra": ""}
        assert {"key": "dedicated", "operator": "Equal", "value": "control-plane", "effect": "NoSchedule"} in (
            template["spec"]["tolerations"]
        )
        assert template["metadata"]["labels"]["team"] == "platform"
        # The selector labels are the template's own.
        assert workload["spec"]["selector"]["matchLabels"].items() <= template["metadata"]["labels"].items()
    for workload in workloads(render(single_ctx)):
        assert "nodeSelector" not in workload["spec"]["template"]["spec"]


def test_spec_labels_cannot_break_the_selector():
    hcp = make_hcp(SINGLE_REPLICA, labels={"app": "something-else"})
    for workload in workloads(render(make_context(hcp))):
        template_labels = workload["spec"]["template"]["metadata"]["labels"]
        assert workload["spec"]["selector"]["matchLabels"].items() <= template_labels.items()


def test_highly_available_replicas_prefer_distinct_nodes(ha_ctx, single_ctx):
    for workload in workloads(render(ha_ctx)):
        if workload["spec"]["replicas"] == 1:  # kwok: one replica whatever the policy
            continue
        anti = workload["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"]
        terms = anti["preferredDuringSchedulingIgnoredDuringExecution"]
        assert {"kubernetes.io/hostname", "topology.kubernetes.io/zone"} == {
            term["podAffinityTerm"]["topologyKey"] for term in terms
        }
        assert "requiredDuringSchedulingIgnoredDuringExecution" not in anti
    for workload in workloads(render(single_ctx)):
        assert "podAntiAffinity" not in workload["spec"]["template"]["spec"]["affinity"]


@pytest.mark.parametrize(
    ("fixture", "replicas"),
    [
        ("single_ctx", {"etcd": 1, "kube-apiserver": 1, "kube-controller-manager": 1, "kube-scheduler": 1,
                        "kwok": 1}),
        ("ha_ctx", {"etcd": 3, "kube-apiserver": 3, "kube-controller-manager": 2, "kube-scheduler": 2,
                    "ignition-server": 1}),
    ],
)
def test_replicas_follow_the_availability_policy(fixture, replicas, request):
    objects = render(request.getfixturevalue(fixture))
    assert {w["metadata"]["name"]: w["spec"]["replicas"] for w in workloads(objects)} == replicas


def test_disruption_budgets_only_when_highly_available(ha_ctx, single_ctx):
    budgets = {o["metadata"]["name"]: o["spec"] for o in render(ha_ctx) if o["kind"] == "PodDisruptionBudget"}
    assert budgets == {
        "etcd": {"maxUnavailable": 1, "unhealthyPodEvictionPolicy": "AlwaysAllow",
                 "selector": {"matchLabels": {"app": "etcd"}}},
        "kube-apiserver": {"maxUnavailable": 1, "unhealthyPodEvictionPolicy": "AlwaysAllow",
                           "selector": {"matchLabels": {"app": "kube-apiserver"}}},
    }
    assert not [o for o in render(single_ctx) if o["kind"] == "PodDisruptionBudget"]


# etcd.


@pytest.mark.parametrize(("fixture", "members"), [("single_ctx", 1), ("ha_ctx", 3)])
def test_etcd_members_and_their_claims_are_named_as_in_the_docs(fixture, members, request):
    objects = render(request.getfixturevalue(fixture))
    statefulset = by_key(objects)["StatefulSet/etcd"]
    # Pods etcd-0..N-1; PVCs <claim template>-<pod> = data-etcd-N.
    assert statefulset["metadata"]["name"] == "etcd"
    assert statefulset["spec"]["replicas"] == members
    assert statefulset["spec"]["serviceName"] == "etcd-discovery"
    assert statefulset["spec"]["podManagementPolicy"] == "Parallel"
    assert [claim["metadata"]["name"] for claim in statefulset["spec"]["volumeClaimTemplates"]] == ["data"]
    assert statefulset["spec"]["template"]["metadata"]["labels"]["app"] == "etcd"
    etcd = main_container(objects, "StatefulSet/etcd", "etcd")
    assert {"name": "data", "mountPath": "/var/lib"} in etcd["volumeMounts"]
    assert flag(etcd["args"], "data-dir") == "/var/lib/data"
    ns = NAMESPACE
    assert flag(etcd["args"], "initial-cluster") == ",".join(
        f"etcd-{n}=https://etcd-{n}.etcd-discovery.{ns}.svc:2380" for n in range(members)
    )
    assert flag(etcd["args"], "initial-cluster-token") == "etcd-cluster"
    assert flag(etcd["args"], "advertise-client-urls") == f"https://$(POD_NAME).etcd-discovery.{ns}.svc:2379"
    assert flag(etcd["args"], "initial-advertise-peer-urls") == f"https://$(POD_NAME).etcd-discovery.{ns}.svc:2380"
    assert flag(etcd["args"], "name") == "$(POD_NAME)"
    assert {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}} in etcd["env"]


def test_etcd_certificates_are_where_the_docs_commands_look(ha_ctx):
    pod = pod_spec(render(ha_ctx), "StatefulSet/etcd")
    seen = files(pod, "etcd")
    # 7.3: etcdctl --cacert /etc/etcd/tls/etcd-ca/ca.crt --cert .../client/etcd-client.crt --key ...
    assert seen["/etc/etcd/tls/etcd-ca/ca.crt"] == ("etcd-signer", "ca.crt")
    assert seen["/etc/etcd/tls/client/etcd-client.crt"] == ("etcd-client-tls", "etcd-client.crt")
    assert seen["/etc/etcd/tls/client/etcd-client.key"] == ("etcd-client-tls", "etcd-client.key")
    # 7.5 (AWS variant) uses the CA copy in the client Secret.
    assert seen["/etc/etcd/tls/client/etcd-client-ca.crt"] == ("etcd-client-tls", "etcd-client-ca.crt")
    assert "/etc/etcd/tls/etcd-ca/ca.key" not in seen, "the signer's key stays out of the pod"
    etcd_args = main_container(render(ha_ctx), "StatefulSet/etcd", "etcd")["args"]
    for name in ("cert-file", "key-file", "trusted-ca-file", "peer-cert-file", "peer-key-file",
                 "peer-trusted-ca-file"):
        assert flag(etcd_args, name) in seen, f"--{name} points at a file the pod does not have"
    assert flag(etcd_args, "cert-file").startswith("/etc/etcd/tls/server/")
    assert flag(etcd_args, "peer-cert-file").startswith("/etc/etcd/tls/peer/")
    assert flag(etcd_args, "client-cert-auth") == "true"
    assert flag(etcd_args, "peer-client-cert-auth") == "true"
    assert flag(etcd_args, "listen-client-urls").startswith("https://")
    assert flag(etcd_args, "listen-peer-urls").startswith("https://")


def test_etcd_pod_has_etcdctl_api_3_and_no_tls_env_that_would_clash_with_flags(single_ctx):
    etcd = main_container(render(single_ctx), "StatefulSet/etcd", "etcd")
    env = {e["name"]: e.get("value") for e in etcd["env"]}
    assert env["ETCDCTL_API"] == "3"
    assert not {"ETCDCTL_CACERT", "ETCDCTL_CERT", "ETCDCTL_KEY", "ETCDCTL_ENDPOINTS"} & env.keys()


def test_etcd_is_probed_on_its_plain_http_metrics_listener(single_ctx):
    etcd = main_container(render(single_ctx), "StatefulSet/etcd", "etcd")
    assert flag(etcd["args"], "listen-metrics-urls") == "http://0.0.0.0:2382"
    ports = {port["name"]: port["containerPort"] for port in etcd["ports"]}
    assert ports == {"client": 2379, "peer": 2380, "metrics": 2382}
    assert etcd["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "metrics", "scheme": "HTTP"}
    assert etcd["livenessProbe"]["httpGet"]["path"] == "/livez"


def test_etcd_services(single_ctx):
    objects = by_key(render(single_ctx))
    client = objects["Service/etcd-client"]["spec"]
    assert client["type"] == "ClusterIP"
    assert client["ports"] == [{"name": "etcd-client", "port": 2379, "protocol": "TCP", "targetPort": "client"}]
    discovery = objects["Service/etcd-discovery"]["spec"]
    assert discovery["clusterIP"] == "None"
    assert discovery["publishNotReadyAddresses"] is True
    assert {(p["name"], p["port"]) for p in discovery["ports"]} == {("peer", 2380), ("etcd-client", 2379)}
    assert client["selector"] == discovery["selector"] == {"app": "etcd"}


def test_etcd_rejoin_script_starts_members_with_the_state_it_decided(ha_ctx):
    pod = pod_spec(render(ha_ctx), "StatefulSet/etcd")
    reset = pod["initContainers"][0]
    assert reset["name"] == "reset-member"
    assert reset["image"] == ha_ctx.images["etcd"]
    assert "etcdctl member add" in reset["command"][-1]
    assert "/etc/etcd/clusterstate/state" in reset["command"][-1]
    etcd = pod["containers"][0]
    assert etcd["command"][:2] == ["/bin/sh", "-c"]
    assert "/etc/etcd/clusterstate/state" in etcd["command"][2]
    assert 'exec /usr/local/bin/etcd --initial-cluster-state="$state" "$@"' in etcd["command"][2]
    assert "initial-cluster-state" not in " ".join(etcd["args"])


@pytest.mark.parametrize(
    ("persistent_volume", "size", "storage_class"),
    [
        ({"size": "8Gi"}, "8Gi", None),
        ({"size": "20Gi", "storageClassName": "local-path"}, "20Gi", "local-path"),
        ({}, "8Gi", None),
        (None, "8Gi", None),
    ],
)
def test_etcd_volume_size_and_storage_class(persistent_volume, size, storage_class):
    storage: dict[str, Any] = {"type": "PersistentVolume"}
    if persistent_volume is not None:
        storage["persistentVolume"] = persistent_volume
    hcp = make_hcp(SINGLE_REPLICA, etcd={"managementType": "Managed", "managed": {"storage": storage}})
    claim = by_key(render(make_context(hcp)))["StatefulSet/etcd"]["spec"]["volumeClaimTemplates"][0]
    assert claim["spec"]["resources"] == {"requests": {"storage": size}}
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
    if storage_class is None:
        assert "storageClassName" not in claim["spec"]
    else:
        assert claim["spec"]["storageClassName"] == storage_class


def test_unmanaged_etcd_renders_no_etcd_and_points_the_api_server_at_it():
    hcp = make_hcp(
        SINGLE_REPLICA,
        etcd={
            "managementType": "Unmanaged",
            "unmanaged": {"endpoint": "https://etcd.example.com:2379", "tls": {"clientSecret": {"name": "my-etcd"}}},
        },
    )
    objects = render(make_context(hcp))
    assert not [o for o in objects if o["metadata"]["name"].startswith("etcd")]
    assert flag(args(objects, "Deployment/kube-apiserver", "kube-apiserver"), "etcd-servers") == (
        "https://etcd.example.com:2379"
    )
    volumes = {v["name"]: v for v in pod_spec(objects, "Deployment/kube-apiserver")["volumes"]}
    assert volumes["etcd-client-crt"]["secret"]["secretName"] == "my-etcd"


# kube-apiserver.


def test_api_server_flags_for_the_defaults(single_ctx):
    arguments = args(render(single_ctx), "Deployment/kube-apiserver", "kube-apiserver")
    assert flag(arguments, "etcd-servers") == f"https://etcd-client.{NAMESPACE}.svc:2379"
    assert flag(arguments, "service-cluster-ip-range") == "172.31.0.0/16"
    assert flag(arguments, "service-account-issuer") == "https://kubernetes.default.svc"
    assert flag(arguments, "advertise-address") == "192.168.126.10"
    assert flag(arguments, "endpoint-reconciler-type") == "none"
    assert flag(arguments, "secure-port") == "6443"
    assert flag(arguments, "authorization-mode") == "Node,RBAC"
    assert flag(arguments, "enable-admission-plugins") == "NodeRestriction"
    assert flag(arguments, "enable-bootstrap-token-auth") == "true"
    assert flag(arguments, "kubelet-insecure-tls") is None
    assert flag(arguments, "feature-gates") is None
    assert flag(arguments, "encryption-provider-config") is None


def test_api_server_flags_from_the_spec(ha_ctx):
    arguments = args(render(ha_ctx), "Deployment/kube-apiserver", "kube-apiserver")
    assert flag(arguments, "service-cluster-ip-range") == "172.30.0.0/16"
    assert flag(arguments, "service-account-issuer") == "https://oidc.example.com/example-abcde"
    assert flag(arguments, "advertise-address") is None, "the endpoint is a DNS name"
    assert flag(arguments, "feature-gates") == "DRAPartitionableDevices=true,KubeletPodResourcesGet=false"


def test_api_server_files_exist_in_the_pod(ha_ctx):
    objects = render(ha_ctx)
    seen = files(pod_spec(objects, "Deployment/kube-apiserver"), "kube-apiserver", objects)
    arguments = args(objects, "Deployment/kube-apiserver", "kube-apiserver")
    for name in ("client-ca-file", "tls-cert-file", "tls-private-key-file", "etcd-cafile", "etcd-certfile",
                 "etcd-keyfile", "kubelet-client-certificate", "kubelet-client-key", "kubelet-certificate-authority",
                 "service-account-key-file", "service-account-signing-key-file", "encryption-provider-config"):
        path = flag(arguments, name)
        assert path in seen, f"--{name}={path} is not mounted"
    assert seen["/etc/kubernetes/certs/client-ca/ca.crt"] == ("root-ca", "ca.crt")
    # Clients: the bundle of the root CA and the break-glass signers, a ConfigMap the API server reloads.
    assert seen[flag(arguments, "client-ca-file")] == ("total-client-ca", "ca-bundle.crt")
    assert seen[flag(arguments, "kubelet-client-certificate")] == ("kas-kubelet-client-crt", "tls.crt")
    assert seen[flag(arguments, "kubelet-client-key")] == ("kas-kubelet-client-crt", "tls.key")
    # Kubelet serving certificates come from kube-controller-manager's signer, the root CA.
    assert seen[flag(arguments, "kubelet-certificate-authority")] == ("root-ca", "ca.crt")
    assert not [path for path, (secret, key) in seen.items() if key == "ca.key"], "no CA key in the API server"


@pytest.mark.parametrize(
    ("feature_gate", "expected"),
    [
        (None, None),
        ({"featureSet": ""}, None),
        ({"featureSet": "OKD"}, None),
        ({"featureSet": "TechPreviewNoUpgrade"}, "DRAFractionalCapacityRange=true,SchedulerAsyncAPICalls=true"),
        ({"featureSet": "CustomNoUpgrade", "customNoUpgrade": {"enabled": ["A", "B"]}}, "A=true,B=true"),
        ({"featureSet": "CustomNoUpgrade", "customNoUpgrade": {"disabled": ["C"]}}, "C=false"),
        ({"featureSet": "CustomNoUpgrade", "customNoUpgrade": {}}, None),
    ],
)
def test_feature_gates_go_to_every_kubernetes_component(feature_gate, expected):
    configuration = {"featureGate": feature_gate} if feature_gate is not None else {}
    objects = render(make_context(make_hcp(SINGLE_REPLICA, configuration=configuration)))
    for key, name in (("Deployment/kube-apiserver", "kube-apiserver"),
                      ("Deployment/kube-controller-manager", "kube-controller-manager"),
                      ("Deployment/kube-scheduler", "kube-scheduler")):
        assert flag(args(objects, key, name), "feature-gates") == expected


def test_api_server_probes_use_https(single_ctx):
    kas = main_container(render(single_ctx), "Deployment/kube-apiserver", "kube-apiserver")
    assert kas["ports"] == [{"name": "client", "containerPort": 6443, "protocol": "TCP"}]
    assert kas["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "client", "scheme": "HTTPS"}
    assert kas["livenessProbe"]["httpGet"]["path"].startswith("/livez")
    assert kas["livenessProbe"]["httpGet"]["scheme"] == "HTTPS"


def test_node_port_publishing_with_a_fixed_port(single_ctx):
    service = by_key(render(single_ctx))["Service/kube-apiserver"]["spec"]
    assert service["type"] == "NodePort"
    assert service["ports"] == [
        {"name": "client", "port": 6443, "protocol": "TCP", "targetPort": "client", "nodePort": 30443}
    ]
    assert service["selector"] == {"app": "kube-apiserver"}


def test_node_port_publishing_with_an_assigned_port():
    hcp = make_hcp(SINGLE_REPLICA)
    hcp.spec.services[0].service_publishing_strategy.node_port.port = None
    service = by_key(render(make_context(hcp)))["Service/kube-apiserver"]["spec"]
    assert service["type"] == "NodePort"
    assert "nodePort" not in service["ports"][0]


def test_load_balancer_publishing(ha_ctx):
    service = by_key(render(ha_ctx))["Service/kube-apiserver"]["spec"]
    assert service["type"] == "LoadBalancer"
    assert service["ports"] == [{"name": "client", "port": 6443, "protocol": "TCP", "targetPort": "client"}]


def test_service_node_port_range_is_the_api_servers(single_ctx):
    hcp = make_hcp(SINGLE_REPLICA, configuration={"network": {"serviceNodePortRange": "31000-31999"}})
    rendered = args(render(make_context(hcp)), "Deployment/kube-apiserver", "kube-apiserver")
    assert flag(rendered, "service-node-port-range") == "31000-31999"
    default = args(render(single_ctx), "Deployment/kube-apiserver", "kube-apiserver")
    assert flag(default, "service-node-port-range") is None  # the API server's 30000-32767, HyperShift's default


def test_unsupported_publishing_is_a_render_error():
    hcp = make_hcp(SINGLE_REPLICA)
    hcp.spec.services[0].service_publishing_strategy.type = "Route"
    hcp.spec.services[0].service_publishing_strategy.node_port = None
    with pytest.raises(RenderError, match="Route"):
        render(make_context(hcp))
    hcp = make_hcp(SINGLE_REPLICA)
    hcp.spec.services = hcp.spec.services[1:]
    with pytest.raises(RenderError, match="APIServer"):
        render(make_context(hcp))


def test_aescbc_encryption_configuration(ha_ctx):
    objects = render(ha_ctx)
    secret = by_key(objects)["Secret/kas-secret-encryption-config"]
    config = yaml.safe_load(secret_data(secret)["config.yaml"])
    assert config["apiVersion"] == "apiserver.config.k8s.io/v1"
    assert config["kind"] == "EncryptionConfiguration"
    (resource,) = config["resources"]
    assert resource["resources"] == ["secrets"]
    aescbc, identity = resource["providers"]
    assert identity == {"identity": {}}
    keys = aescbc["aescbc"]["keys"]
    assert [base64.b64decode(key["secret"]) for key in keys] == [ACTIVE_KEY, BACKUP_KEY]
    assert [key["name"] for key in keys] == [f"key-{fnv1_32(ACTIVE_KEY)}", f"key-{fnv1_32(BACKUP_KEY)}"]
    arguments = args(objects, "Deployment/kube-apiserver", "kube-apiserver")
    assert flag(arguments, "encryption-provider-config") == "/etc/kubernetes/secret-encryption/config.yaml"
    template = by_key(objects)["Deployment/kube-apiserver"]["spec"]["template"]
    assert "component.hypershift.openshift.io/config-hash" in template["metadata"]["annotations"]


def test_a_new_encryption_key_rolls_the_api_server(ha_ctx):
    def template(ctx):
        return by_key(render(ctx))["Deployment/kube-apiserver"]["spec"]["template"]["metadata"]["annotations"]

    rotated = dataclasses.replace(
        ha_ctx, encryption_keys={"etcd-encryption-key": bytes(32), "etcd-encryption-key-old": ACTIVE_KEY}
    )
    assert template(rotated) != template(ha_ctx)


def test_fnv1_32_is_gos_hash_fnv_new32():
    assert fnv1_32(b"") == 0x811C9DC5
    assert fnv1_32(b"a") == 0x050C5D7E
    assert fnv1_32(b"foobar") == 0x31F0B262


@pytest.mark.parametrize(
    ("encryption", "keys", "message"),
    [
        ({"type": "aescbc", "aescbc": {"activeKey": {"name": "k"}}}, {}, "Secret k"),
        ({"type": "aescbc", "aescbc": {"activeKey": {"name": "k"}}}, {"k": b"short"}, "16, 24 or 32"),
        ({"type": "aescbc"}, {}, "activeKey"),
        ({"type": "kms"}, {}, "kms"),
    ],
)
def test_unusable_encryption_settings_are_render_errors(encryption, keys, message):
    hcp = make_hcp(SINGLE_REPLICA, secretEncryption=encryption)
    with pytest.raises(RenderError, match=message):
        render(dataclasses.replace(make_context(hcp), encryption_keys=keys))


def test_an_ipv6_endpoint_is_advertised():
    ctx = make_context(make_hcp(SINGLE_REPLICA), Endpoint("fd00::10", 30443))
    assert flag(args(render(ctx), "Deployment/kube-apiserver", "kube-apiserver"), "advertise-address") == "fd00::10"
    assert ctx.api_endpoint.url == "https://[fd00::10]:30443"


# konnectivity and the aggregation layer.


def mount_of(pod: dict[str, Any], container_name: str, volume: str) -> str:
    container = next(c for c in pod["containers"] if c["name"] == container_name)
    return next(m["mountPath"] for m in container["volumeMounts"] if m["name"] == volume)


@pytest.mark.parametrize(("fixture", "replicas"), [("single_ctx", 1), ("ha_ctx", 3)])
def test_konnectivity_server_runs_beside_each_api_server(fixture, replicas, request):
    ctx = request.getfixturevalue(fixture)
    objects = render(ctx)
    pod = pod_spec(objects, "Deployment/kube-apiserver")
    server = main_container(objects, "Deployment/kube-apiserver", "konnectivity-server")
    assert server["image"] == ctx.images["konnectivity-server"]
    assert server["command"] == ["/usr/local/bin/proxy-server"]
    arguments = server["args"]
    # Agents keep dialling through the Service until they hold a tunnel to every server.
    assert flag(arguments, "server-count") == str(replicas)
    assert flag(arguments, "mode") == "grpc"
    assert flag(arguments, "server-port") == "0", "the API server connects over the socket only"
    assert flag(arguments, "agent-port") == "8091"
    assert flag(arguments, "proxy-strategies") == "destHost,default"
    assert flag(arguments, "keepalive-time") == "30s"
    ports = {p["name"]: p["containerPort"] for p in server["ports"]}
    assert ports == {"konnectivity": 8091, "proxy-health": 8092}
    assert flag(arguments, "health-port") == str(ports["proxy-health"])
    # Not /readyz, which waits for an agent: the pod must be ready before any agent can reach it.
    for probe in (server["readinessProbe"], server["livenessProbe"]):
        assert probe["httpGet"] == {"path": "/healthz", "port": "proxy-health", "scheme": "HTTP"}
    assert server["resources"] == {"requests": dict(zip(("cpu", "memory"), REQUESTS[("kube-apiserver", "konnectivity-server")]))}
    # The socket is in an emptyDir both containers mount at the same place.
    socket = flag(arguments, "uds-name")
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["konnectivity-uds"] == {"name": "konnectivity-uds", "emptyDir": {}}
    for name in ("kube-apiserver", "konnectivity-server"):
        assert socket.startswith(mount_of(pod, name, "konnectivity-uds") + "/")


def test_the_api_server_reaches_nodes_and_pods_only_through_konnectivity(single_ctx):
    objects = render(single_ctx)
    pod = pod_spec(objects, "Deployment/kube-apiserver")
    arguments = args(objects, "Deployment/kube-apiserver", "kube-apiserver")
    path = flag(arguments, "egress-selector-config-file")
    configmap = by_key(objects)["ConfigMap/kas-egress-selector-config"]
    volume = next(v for v in pod["volumes"] if v["name"] == "egress-selector-config")
    assert volume["configMap"]["name"] == configmap["metadata"]["name"]
    directory, key = path.rsplit("/", 1)
    assert directory == mount_of(pod, "kube-apiserver", "egress-selector-config")
    config = yaml.safe_load(configmap["data"][key])
    assert (config["apiVersion"], config["kind"]) == ("apiserver.k8s.io/v1beta1", "EgressSelectorConfiguration")
    selections = {s["name"]: s["connection"] for s in config["egressSelections"]}
    socket = flag(main_container(objects, "Deployment/kube-apiserver", "konnectivity-server")["args"], "uds-name")
    assert selections == {
        "cluster": {"proxyProtocol": "GRPC", "transport": {"uds": {"udsName": socket}}},
        "controlplane": {"proxyProtocol": "Direct"},
        "etcd": {"proxyProtocol": "Direct"},
    }
    # A changed configuration rolls the API servers.
    template = by_key(objects)["Deployment/kube-apiserver"]["spec"]["template"]
    assert "component.hypershift.openshift.io/config-hash" in template["metadata"]["annotations"]


def test_konnectivity_server_certificates_exist_in_the_pod(ha_ctx):
    objects = render(ha_ctx)
    pod = pod_spec(objects, "Deployment/kube-apiserver")
    seen = files(pod, "konnectivity-server", objects)
    arguments = main_container(objects, "Deployment/kube-apiserver", "konnectivity-server")["args"]
    assert seen[flag(arguments, "cluster-cert")] == ("konnectivity-cluster", "tls.crt")
    assert seen[flag(arguments, "cluster-key")] == ("konnectivity-cluster", "tls.key")
    # Agents' client certificates are verified against konnectivity's own signer.
    assert seen[flag(arguments, "cluster-ca-cert")] == ("konnectivity-cluster", "ca.crt")
    pki = {s["metadata"]["name"]: secret_data(s) for s in PKI}
    assert pki["konnectivity-cluster"]["ca.crt"] == pki["konnectivity-signer"]["ca.crt"]
    assert "konnectivity-cluster" not in {secret for secret, _ in files(pod, "kube-apiserver", objects).values()}


def test_aggregation_layer_flags_and_files(ha_ctx):
    objects = render(ha_ctx)
    seen = files(pod_spec(objects, "Deployment/kube-apiserver"), "kube-apiserver", objects)
    arguments = args(objects, "Deployment/kube-apiserver", "kube-apiserver")
    assert seen[flag(arguments, "requestheader-client-ca-file")] == ("kas-aggregator-client-signer", "ca.crt")
    assert seen[flag(arguments, "proxy-client-cert-file")] == ("kas-aggregator-crt", "tls.crt")
    assert seen[flag(arguments, "proxy-client-key-file")] == ("kas-aggregator-crt", "tls.key")
    assert ("kas-aggregator-client-signer", "ca.key") not in seen.values()
    assert flag(arguments, "requestheader-allowed-names") == "front-proxy-client"
    assert flag(arguments, "requestheader-username-headers") == "X-Remote-User"
    assert flag(arguments, "requestheader-group-headers") == "X-Remote-Group"
    assert flag(arguments, "requestheader-extra-headers-prefix") == "X-Remote-Extra-"
    assert flag(arguments, "enable-aggregator-routing") == "true"


def konnectivity_published(publishing: dict[str, Any]) -> Any:
    services = [e for e in SINGLE_REPLICA["spec"]["services"] if e["service"] != "Konnectivity"]
    return make_hcp(SINGLE_REPLICA, services=[*services, {"service": "Konnectivity",
                                                          "servicePublishingStrategy": publishing}])


def test_konnectivity_service_is_published_as_spec_services_says(single_ctx):
    service = by_key(render(single_ctx))["Service/konnectivity-server"]["spec"]
    assert service["type"] == "NodePort"
    assert service["selector"] == {"app": "kube-apiserver"}
    assert service["ports"] == [{"name": "konnectivity", "port": 8091, "protocol": "TCP",
                                 "targetPort": "konnectivity"}]
    fixed = konnectivity_published({"type": "NodePort", "nodePort": {"address": "192.168.126.10", "port": 30091}})
    assert by_key(render(make_context(fixed)))["Service/konnectivity-server"]["spec"]["ports"][0]["nodePort"] == 30091
    balanced = konnectivity_published({"type": "LoadBalancer"})
    assert by_key(render(make_context(balanced)))["Service/konnectivity-server"]["spec"]["type"] == "LoadBalancer"
    with pytest.raises(RenderError, match="Konnectivity publishing strategy Route"):
        render(make_context(konnectivity_published({"type": "Route"})))


# kube-controller-manager and kube-scheduler.


def test_controller_manager_flags(single_ctx, ha_ctx):
    single = args(render(single_ctx), "Deployment/kube-controller-manager", "kube-controller-manager")
    assert flag(single, "cluster-cidr") == "10.132.0.0/14"
    assert flag(single, "service-cluster-ip-range") == "172.31.0.0/16"
    assert flag(single, "allocate-node-cidrs") == "false"
    assert flag(single, "node-cidr-mask-size") is None
    assert flag(single, "leader-elect") == "false"
    ha = args(render(ha_ctx), "Deployment/kube-controller-manager", "kube-controller-manager")
    assert flag(ha, "cluster-cidr") == "10.128.0.0/14"
    assert flag(ha, "service-cluster-ip-range") == "172.30.0.0/16"
    assert flag(ha, "allocate-node-cidrs") == "true"
    assert flag(ha, "node-cidr-mask-size") == "23"
    assert flag(ha, "leader-elect") == "true"


def test_controller_manager_signs_with_the_root_ca(ha_ctx):
    objects = render(ha_ctx)
    arguments = args(objects, "Deployment/kube-controller-manager", "kube-controller-manager")
    seen = files(pod_spec(objects, "Deployment/kube-controller-manager"), "kube-controller-manager")
    assert seen[flag(arguments, "cluster-signing-cert-file")] == ("root-ca", "ca.crt")
    assert seen[flag(arguments, "cluster-signing-key-file")] == ("root-ca", "ca.key")
    assert seen[flag(arguments, "root-ca-file")] == ("root-ca", "ca.crt")
    assert seen[flag(arguments, "service-account-private-key-file")] == ("sa-signing-key", "service-account.key")
    assert seen[flag(arguments, "kubeconfig")] == ("kube-controller-manager-kubeconfig", "kubeconfig")


def test_controller_manager_runs_the_bootstrap_token_controllers(single_ctx, ha_ctx):
    for ctx in (single_ctx, ha_ctx):
        arguments = args(render(ctx), "Deployment/kube-controller-manager", "kube-controller-manager")
        assert flag(arguments, "controllers") == "*,bootstrapsigner,tokencleaner"


def test_scheduler_flags(single_ctx, ha_ctx):
    objects = render(single_ctx)
    single = args(objects, "Deployment/kube-scheduler", "kube-scheduler")
    assert flag(single, "leader-elect") == "false"
    seen = files(pod_spec(objects, "Deployment/kube-scheduler"), "kube-scheduler")
    assert seen[flag(single, "kubeconfig")] == ("kube-scheduler-kubeconfig", "kubeconfig")
    assert flag(args(render(ha_ctx), "Deployment/kube-scheduler", "kube-scheduler"), "leader-elect") == "true"


@pytest.mark.parametrize(
    ("key", "name", "port"),
    [("Deployment/kube-controller-manager", "kube-controller-manager", 10257),
     ("Deployment/kube-scheduler", "kube-scheduler", 10259)],
)
def test_controllers_are_probed_on_healthz_over_https(single_ctx, key, name, port):
    container = main_container(render(single_ctx), key, name)
    assert container["ports"] == [{"name": "client", "containerPort": port, "protocol": "TCP"}]
    assert flag(container["args"], "secure-port") == str(port)
    assert flag(container["args"], "bind-address") == "0.0.0.0"
    for probe in ("livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"] == {"path": "/healthz", "port": "client", "scheme": "HTTPS"}


@pytest.mark.parametrize("name", ["kube-controller-manager", "kube-scheduler"])
def test_a_single_controller_is_replaced_not_doubled(single_ctx, ha_ctx, name):
    single = by_key(render(single_ctx))[f"Deployment/{name}"]["spec"]["strategy"]["rollingUpdate"]
    assert single["maxSurge"] == 0, "two instances without leader election would fight"
    ha = by_key(render(ha_ctx))[f"Deployment/{name}"]["spec"]["strategy"]["rollingUpdate"]
    assert ha["maxSurge"] == 1


# The ignition server.


def test_the_ignition_server_reads_tokens_and_pool_registrations_from_separate_volumes(ha_ctx):
    from hcp.dataplane.registration import CONFIGMAP
    from hcp.dataplane.tokens import MANAGEMENT_SECRET

    objects = render(ha_ctx)
    pod = pod_spec(objects, "Deployment/ignition-server")
    command = main_container(objects, "Deployment/ignition-server", "ignition-server")["command"]
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    sources = {}
    for name in ("tokens", "pools"):
        mounted = mount_of(pod, "ignition-server", name)
        sources[mounted] = volumes[name]
    tokens_dir, pools_dir = flag(command, "tokens-dir"), flag(command, "pools-dir")
    assert tokens_dir != pools_dir, "the server takes every file of the tokens' directory for a token"
    assert sources[tokens_dir]["secret"]["secretName"] == MANAGEMENT_SECRET
    assert sources[pools_dir]["configMap"] == {"name": CONFIGMAP, "optional": True}, \
        "whole, so that a pool's key added later appears; optional, so the server starts before any pool"
    assert "items" not in sources[tokens_dir]["secret"] and sources[tokens_dir]["secret"]["optional"] is True


# Renewed certificates roll the pods that read them only at start.


CONFIG_HASH = "component.hypershift.openshift.io/config-hash"


def config_hashes(ctx) -> dict[str, str | None]:
    return {key: (obj["spec"]["template"]["metadata"].get("annotations") or {}).get(CONFIG_HASH)
            for key, obj in by_key(render(ctx)).items() if obj["kind"] in WORKLOAD_KINDS}


def with_certificates(ctx, secrets):
    return dataclasses.replace(ctx, certificates=fingerprints(secrets))


def renewed(secret_name: str) -> list[dict[str, Any]]:
    """The PKI with `secret_name` re-issued (the others kept)."""
    existing = {s["metadata"]["name"]: secret_data(s) for s in PKI if s["metadata"]["name"] != secret_name}
    return pki_secrets(NAMESPACE, make_hcp(HIGHLY_AVAILABLE), "api.example.com", existing, endpoint_port=6443)


@pytest.mark.parametrize(("secret", "rolled"), [
    ("etcd-client-tls", {"Deployment/kube-apiserver"}),  # the API server's etcd client certificate
    ("kas-kubelet-client-crt", {"Deployment/kube-apiserver"}),
    ("kas-aggregator-crt", {"Deployment/kube-apiserver"}),
    ("konnectivity-cluster", {"Deployment/kube-apiserver"}),  # the konnectivity server beside it
    ("kas-server-crt", {"Deployment/kube-apiserver"}),  # ignition reads only its ca.crt, which stays
    ("kube-controller-manager-kubeconfig", {"Deployment/kube-controller-manager"}),
    ("kube-scheduler-kubeconfig", {"Deployment/kube-scheduler"}),
    ("ignition-server-tls", {"Deployment/ignition-server"}),
    ("etcd-server-tls", set()),  # etcd reads its certificates on every handshake
    ("etcd-peer-tls", set()),
])
def test_a_renewed_certificate_changes_the_config_hash_of_exactly_the_pods_that_read_it_at_start(
        ha_ctx, secret, rolled):
    before = config_hashes(with_certificates(ha_ctx, PKI))
    after = config_hashes(with_certificates(ha_ctx, renewed(secret)))
    assert {key for key in after if after[key] != before[key]} == rolled


def test_kwok_rolls_when_its_kubeconfig_is_renewed(single_ctx):
    pki = pki_secrets(NAMESPACE, make_hcp(SINGLE_REPLICA), "192.168.126.10", {}, endpoint_port=30443)
    existing = {s["metadata"]["name"]: secret_data(s) for s in pki if s["metadata"]["name"] != "kwok-kubeconfig"}
    again = pki_secrets(NAMESPACE, make_hcp(SINGLE_REPLICA), "192.168.126.10", existing, endpoint_port=30443)
    before = config_hashes(with_certificates(single_ctx, pki))
    after = config_hashes(with_certificates(single_ctx, again))
    assert {key for key in after if after[key] != before[key]} == {"Deployment/kwok"}


def test_certificates_hash_only_where_known_so_renders_without_them_are_unchanged(ha_ctx):
    """Without fingerprints (the golden files' contexts) the hash is that of the configuration alone."""
    plain = config_hashes(ha_ctx)
    assert plain["Deployment/kube-controller-manager"] is None and plain["StatefulSet/etcd"] is None
    hashed = config_hashes(with_certificates(ha_ctx, PKI))
    assert hashed["Deployment/kube-controller-manager"] is not None
    assert hashed["StatefulSet/etcd"] is None
    assert hashed["Deployment/kube-apiserver"] != plain["Deployment/kube-apiserver"]
