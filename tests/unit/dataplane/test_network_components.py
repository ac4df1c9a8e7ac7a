"""The hosted cluster's network components (flannel, kube-proxy, CoreDNS) and metrics-server, as rendered."""

from __future__ import annotations

import base64
import dataclasses
import json

import pytest
import yaml

from hcp.api.v1beta1.networking import NetworkType
from hcp.controlplane.context import Endpoint
from hcp.dataplane.components import COMPONENTS, coredns, flannel, kube_proxy, metrics_server
from hcp.dataplane.components.context import COMPONENT_LABEL, HostedContext

IMAGES = {
    "flannel": "registry.hcp.internal:5000/hcp/flannel:v0.28.10",
    "kube-proxy": "registry.hcp.internal:5000/hcp/kube-proxy:v1.37.1",
    "coredns": "registry.hcp.internal:5000/hcp/coredns:v1.15.0",
    "metrics-server": "registry.hcp.internal:5000/hcp/metrics-server:v0.8.0",
}
SERVING = {"tls.crt": b"SERVING CERT", "tls.key": b"SERVING KEY", "ca.crt": b"ROOT CA"}
KUBELET_CA = b"-----BEGIN CERTIFICATE-----\nKUBELET SIGNER\n-----END CERTIFICATE-----\n"


def context(**changes) -> HostedContext:
    ctx = HostedContext(
        images=IMAGES, kubernetes_version="1.37.1", cluster_cidrs=("10.132.0.0/14",),
        service_cidrs=("172.31.0.0/16",), network_type=NetworkType.FLANNEL,
        api_server=Endpoint("192.168.126.10", 30443), secrets={"metrics-server": SERVING},
        kubelet_serving_ca=KUBELET_CA,
    )
    return dataclasses.replace(ctx, **changes)


def by_key(objects):
    return {f"{o['kind']}/{o['metadata']['name']}": o for o in objects}


def pod(objects, key):
    return by_key(objects)[key]["spec"]["template"]


def container(objects, key, name):
    (found,) = [c for c in pod(objects, key)["spec"]["containers"] if c["name"] == name]
    return found


def env(c):
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in c.get("env", [])}


def mounts(c):
    return {v["mountPath"]: v["name"] for v in c["volumeMounts"]}


def test_components_are_applied_network_first():
    names = [c.NAME for c in COMPONENTS]
    mine = ["flannel", "kube-proxy", "coredns", "metrics-server"]
    assert [n for n in names if n in mine] == mine


@pytest.mark.parametrize("module", [flannel, kube_proxy, coredns, metrics_server])
def test_every_object_and_pod_template_is_labelled_with_its_component(module):
    objects = module.render(context())
    assert objects
    for obj in objects:
        assert obj["metadata"]["labels"][COMPONENT_LABEL] == module.NAME, obj["metadata"]["name"]
        if "template" in obj.get("spec", {}):
            assert obj["spec"]["template"]["metadata"]["labels"][COMPONENT_LABEL] == module.NAME
            selector = obj["spec"]["selector"]["matchLabels"]
            assert selector.items() <= obj["spec"]["template"]["metadata"]["labels"].items()


@pytest.mark.parametrize("module", [flannel, kube_proxy, coredns, metrics_server])
def test_rendering_is_deterministic(module):
    assert module.render(context()) == module.render(context())


# flannel


@pytest.mark.parametrize("network_type", [t for t in NetworkType if t != NetworkType.FLANNEL])
def test_flannel_only_for_network_type_flannel(network_type):
    assert flannel.render(context(network_type=network_type)) == []


def test_flannel_needs_an_ipv4_pod_network():
    assert flannel.render(context(cluster_cidrs=("fd01::/48",))) == []
    dual = by_key(flannel.render(context(cluster_cidrs=("fd01::/48", "10.244.0.0/16"))))
    net_conf = json.loads(dual["ConfigMap/kube-flannel-cfg"]["data"]["net-conf.json"])
    assert net_conf["Network"] == "10.244.0.0/16"


def test_flannel_net_conf_is_the_pod_network_over_vxlan():
    objects = by_key(flannel.render(context()))
    assert json.loads(objects["ConfigMap/kube-flannel-cfg"]["data"]["net-conf.json"]) == {
        "Network": "10.132.0.0/14", "Backend": {"Type": "vxlan"}}
    assert objects["Namespace/kube-flannel"]["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == \
        "privileged"


def test_flannel_cni_config_uses_debians_plugins_with_the_node_subnet_left_to_the_node():
    conflist = json.loads(by_key(flannel.render(context()))["ConfigMap/kube-flannel-cfg"]["data"]["cni-conf.json"])
    bridge, portmap = conflist["plugins"]
    assert (bridge["type"], bridge["ipam"]["type"], portmap["type"]) == ("bridge", "host-local", "portmap")
    assert bridge["ipam"]["ranges"] == [[{"subnet": flannel.SUBNET_PLACEHOLDER}]]
    assert bridge["mtu"] == flannel.MTU_PLACEHOLDER
    assert bridge["isDefaultGateway"] is True and bridge["ipMasq"] is False  # flanneld --ip-masq masquerades


def test_flannel_daemon_set():
    objects = flannel.render(context())
    template = pod(objects, "DaemonSet/kube-flannel-ds")
    spec = template["spec"]
    assert spec["hostNetwork"] is True
    assert spec["priorityClassName"] == "system-node-critical"
    assert spec["tolerations"] == [{"operator": "Exists"}]
    assert spec["serviceAccountName"] == "flannel"
    flanneld = container(objects, "DaemonSet/kube-flannel-ds", "kube-flannel")
    assert flanneld["image"] == IMAGES["flannel"]
    assert flanneld["args"] == ["--kube-subnet-mgr", "--ip-masq"]
    assert flanneld["securityContext"]["capabilities"]["add"] == ["NET_ADMIN", "NET_RAW"]
    variables = env(flanneld)
    assert (variables["KUBERNETES_SERVICE_HOST"], variables["KUBERNETES_SERVICE_PORT"]) == ("192.168.126.10", "30443")
    assert variables["NODE_NAME"] == {"fieldRef": {"fieldPath": "spec.nodeName"}}
    assert {"/run/flannel", "/etc/kube-flannel", "/run/xtables.lock", "/lib/modules"} <= mounts(flanneld).keys()
    install = container(objects, "DaemonSet/kube-flannel-ds", "install-cni")
    assert install["image"] == IMAGES["flannel"]
    assert mounts(install)["/etc/cni/net.d"] == "cni"
    host_paths = {v["name"]: v["hostPath"]["path"] for v in spec["volumes"] if "hostPath" in v}
    assert host_paths["cni"] == "/etc/cni/net.d" and host_paths["run"] == "/run/flannel"
    assert template["metadata"]["annotations"]


def test_flannel_rbac():
    role = by_key(flannel.render(context()))["ClusterRole/flannel"]
    assert {(r["resources"][0], tuple(r["verbs"])) for r in role["rules"]} == {
        ("pods", ("get",)), ("nodes", ("get", "list", "watch")), ("nodes/status", ("patch",))}


# kube-proxy


@pytest.mark.parametrize("network_type", list(NetworkType))
def test_kube_proxy_for_every_network_type(network_type):
    assert kube_proxy.render(context(network_type=network_type))


def test_kube_proxy_configuration_and_kubeconfig():
    objects = by_key(kube_proxy.render(context(cluster_cidrs=("10.132.0.0/14", "fd01::/48"))))
    data = objects["ConfigMap/kube-proxy"]["data"]
    config = yaml.safe_load(data["config.conf"])
    assert config["kind"] == "KubeProxyConfiguration"
    assert config["mode"] == "iptables"
    assert config["clusterCIDR"] == "10.132.0.0/14,fd01::/48"
    assert config["clientConnection"]["kubeconfig"] == "/var/lib/kube-proxy/kubeconfig.conf"
    kubeconfig = yaml.safe_load(data["kubeconfig.conf"])
    (cluster,) = kubeconfig["clusters"]
    assert cluster["cluster"] == {"server": "https://192.168.126.10:30443",
                                  "certificate-authority": "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"}
    (user,) = kubeconfig["users"]
    assert user["user"] == {"tokenFile": "/var/run/secrets/kubernetes.io/serviceaccount/token"}
    binding = objects["ClusterRoleBinding/hcp:node-proxier"]
    assert binding["roleRef"]["name"] == "system:node-proxier"
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "kube-proxy", "namespace": "kube-system"}]


def test_kube_proxy_ipv6_api_server_url():
    data = by_key(kube_proxy.render(context(api_server=Endpoint("fd00::10", 6443))))["ConfigMap/kube-proxy"]["data"]
    assert yaml.safe_load(data["kubeconfig.conf"])["clusters"][0]["cluster"]["server"] == "https://[fd00::10]:6443"


def test_kube_proxy_daemon_set():
    objects = kube_proxy.render(context())
    spec = pod(objects, "DaemonSet/kube-proxy")["spec"]
    assert spec["hostNetwork"] is True
    assert spec["priorityClassName"] == "system-node-critical"
    assert spec["tolerations"] == [{"operator": "Exists"}]
    main = container(objects, "DaemonSet/kube-proxy", "kube-proxy")
    assert main["image"] == IMAGES["kube-proxy"]
    assert main["securityContext"] == {"privileged": True}
    assert "--hostname-override=$(NODE_NAME)" in main["command"]
    assert env(main)["NODE_NAME"] == {"fieldRef": {"fieldPath": "spec.nodeName"}}
    assert {"/var/lib/kube-proxy", "/run/xtables.lock", "/lib/modules"} <= mounts(main).keys()


def test_kube_proxy_pods_roll_when_the_configuration_changes():
    def digest(ctx):
        return pod(kube_proxy.render(ctx), "DaemonSet/kube-proxy")["metadata"]["annotations"]
    assert digest(context()) != digest(context(api_server=Endpoint("192.168.126.11", 30443)))


# CoreDNS


@pytest.mark.parametrize("network_type", list(NetworkType))
def test_coredns_for_every_network_type(network_type):
    assert coredns.render(context(network_type=network_type))


def test_coredns_service_is_at_the_cluster_dns_address():
    service = by_key(coredns.render(context(service_cidrs=("10.96.0.0/12",))))["Service/kube-dns"]
    assert service["spec"]["clusterIP"] == "10.96.0.10"
    assert {(p["port"], p["protocol"]) for p in service["spec"]["ports"]} == {(53, "UDP"), (53, "TCP"), (9153, "TCP")}


def test_corefile_serves_the_cluster_domain_and_forwards_the_rest():
    corefile = by_key(coredns.render(context(cluster_domain="hosted.example")))["ConfigMap/coredns"]["data"]["Corefile"]
    assert "kubernetes hosted.example in-addr.arpa ip6.arpa {" in corefile
    assert "forward . /etc/resolv.conf" in corefile
    for plugin in ("cache 30", "health {", "ready", "loop", "reload"):
        assert plugin in corefile


def test_coredns_deployment():
    objects = coredns.render(context())
    deployment = by_key(objects)["Deployment/coredns"]
    assert deployment["spec"]["replicas"] == 2
    spec = deployment["spec"]["template"]["spec"]
    (preferred,) = spec["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
    assert preferred["podAffinityTerm"]["topologyKey"] == "kubernetes.io/hostname"
    main = container(objects, "Deployment/coredns", "coredns")
    assert main["image"] == IMAGES["coredns"]
    assert main["readinessProbe"]["httpGet"] == {"path": "/ready", "port": 8181}
    assert main["livenessProbe"]["httpGet"] == {"path": "/health", "port": 8080}
    role = by_key(objects)["ClusterRole/system:coredns"]
    resources = {res for r in role["rules"] for res in r["resources"]}
    assert {"endpointslices", "services", "namespaces", "pods"} <= resources


# metrics-server


@pytest.mark.parametrize("changes", [
    {"secrets": {}},
    {"secrets": {"metrics-server": {"tls.crt": b"c", "tls.key": b"k"}}},
    {"kubelet_serving_ca": None},
])
def test_no_metrics_server_without_its_certificate_or_the_kubelet_ca(changes):
    assert metrics_server.render(context(**changes)) == []


def test_metrics_server_verifies_kubelets_with_the_kubelet_serving_ca():
    objects = metrics_server.render(context())
    main = container(objects, "Deployment/metrics-server", "metrics-server")
    args = dict(a.removeprefix("--").partition("=")[::2] for a in main["args"])
    assert "kubelet-insecure-tls" not in args
    assert args["kubelet-preferred-address-types"] == "InternalIP"
    assert args["kubelet-use-node-status-port"] == ""
    assert args["metric-resolution"] == "15s"
    assert args["secure-port"] == "10250"
    ca_path = args["kubelet-certificate-authority"]
    ca_dir, _, ca_file = ca_path.rpartition("/")
    volume = {v["name"]: v for v in pod(objects, "Deployment/metrics-server")["spec"]["volumes"]}[mounts(main)[ca_dir]]
    config_map = by_key(objects)[f"ConfigMap/{volume['configMap']['name']}"]
    assert config_map["data"][ca_file] == KUBELET_CA.decode()
    assert main["image"] == IMAGES["metrics-server"]


def test_metrics_server_serves_the_certificate_it_is_given_and_the_api_service_trusts_its_ca():
    objects = by_key(metrics_server.render(context()))
    secret = objects["Secret/metrics-server-tls"]
    assert {k: base64.b64decode(v) for k, v in secret["data"].items()} == {
        "tls.crt": b"SERVING CERT", "tls.key": b"SERVING KEY"}
    api_service = objects["APIService/v1beta1.metrics.k8s.io"]["spec"]
    assert base64.b64decode(api_service["caBundle"]) == b"ROOT CA"
    assert api_service["service"] == {"name": "metrics-server", "namespace": "kube-system", "port": 443}
    assert "insecureSkipTLSVerify" not in api_service
    assert objects["Service/metrics-server"]["spec"]["ports"][0]["port"] == 443


def test_metrics_server_rbac():
    objects = by_key(metrics_server.render(context()))
    reader = objects["ClusterRole/system:aggregated-metrics-reader"]
    assert reader["metadata"]["labels"]["rbac.authorization.k8s.io/aggregate-to-view"] == "true"
    assert objects["RoleBinding/metrics-server-auth-reader"]["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "extension-apiserver-authentication-reader"}
    assert objects["RoleBinding/metrics-server-auth-reader"]["metadata"]["namespace"] == "kube-system"
    assert objects["ClusterRoleBinding/metrics-server:system:auth-delegator"]["roleRef"]["name"] == \
        "system:auth-delegator"
    assert objects["ClusterRoleBinding/system:metrics-server"]["roleRef"]["name"] == "system:metrics-server"
