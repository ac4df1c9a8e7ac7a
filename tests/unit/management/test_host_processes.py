import base64
import tomllib
from pathlib import Path

import yaml
from cryptography import x509

from hcp.backup.objectstore import Credentials
from hcp.management import host_processes, pki
from hcp.management.host_processes import Binaries
from hcp.management.layout import ClusterConfig, Layout

CONFIG = ClusterConfig(name="t", subnet_index=1)
LAYOUT = Layout(Path("/state"))
BINARIES = Binaries(kubernetes=Path("/k"), etcd=Path("/e"), registry=Path("/r"),
                    containerd=Path("/usr/bin/containerd"), pause_image="registry.hcp.internal:5000/hcp/pause:v1",
                    versitygw=Path("/v"), kube_router=Path("/kr"))
STORE_KEYS = Credentials("hcp-0123456789abcdef", "s3cr3t-root-key")


def _processes():
    return host_processes.processes(LAYOUT, CONFIG, BINARIES, STORE_KEYS)


def _process(name):
    return next(p for p in _processes() if p.name == name)


def _argv(name):
    return _process(name).argv


def test_processes_start_in_dependency_order():
    names = [p.name for p in _processes()]
    assert names == ["containerd", "etcd", "registry", "object-store", "kube-apiserver", "kube-controller-manager",
                     "kube-scheduler", "kubelet", "kube-proxy", "kube-router"]


def test_the_object_store_serves_tls_on_the_node_with_its_keys_in_the_environment_only():
    store = _process("object-store")
    assert store.argv == [
        "/v/versitygw", "--port", "0.0.0.0:7070", "--cert", "/state/pki/object-store.crt",
        "--key", "/state/pki/object-store.key", "--region", "us-east-1", "--health", "/health", "--quiet",
        "--keep-alive", "posix", "--sidecar", "/state/object-store/meta", "/state/object-store/buckets",
    ]
    assert store.env == {"ROOT_ACCESS_KEY_ID": "hcp-0123456789abcdef", "ROOT_SECRET_ACCESS_KEY": "s3cr3t-root-key"}
    assert not any("s3cr3t" in arg for process in _processes() for arg in process.argv)
    assert store.health.url == "https://127.0.0.1:7070/health"
    assert store.health.ca_file == Path("/state/pki/ca.crt") and not store.health.insecure
    assert CONFIG.object_store_url == "https://172.30.1.2:7070"
    assert LAYOUT.object_store_credentials == Path("/state/pki/object-store-credentials.json")


def test_kube_router_runs_its_firewall_only_as_its_own_user_on_the_nodes_loopback():
    kube_router = _process("kube-router")
    assert kube_router.argv == [
        "/kr/kube-router", "--run-firewall=true", "--run-router=false", "--run-service-proxy=false",
        "--kubeconfig", "/state/config/kube-router.kubeconfig", "--hostname-override", CONFIG.node_name,
        "--service-cluster-ip-range", "10.96.0.0/16", "--health-addr", "127.0.0.1", "--health-port", "20244",
    ]
    assert kube_router.health.url == "http://127.0.0.1:20244/healthz"
    assert kube_router.env == {}
    # The Service range it lets pods reach is the API server's.
    apiserver = _argv("kube-apiserver")
    assert apiserver[apiserver.index("--service-cluster-ip-range") + 1] == "10.96.0.0/16"


def test_kube_router_may_only_read_what_its_firewall_watches():
    role, binding = host_processes.kube_router_rbac()
    assert role["kind"] == "ClusterRole" and role["metadata"]["name"] == "hcp:kube-router"
    granted = {(group, resource, verb) for rule in role["rules"] for group in rule["apiGroups"]
               for resource in rule["resources"] for verb in rule["verbs"]}
    watched = {("", "pods"), ("", "namespaces"), ("", "nodes"), ("", "services"),
               ("networking.k8s.io", "networkpolicies"), ("discovery.k8s.io", "endpointslices")}
    assert granted == {(group, resource, verb) for group, resource in watched for verb in ("list", "watch")} | {
        ("", "nodes", "get")}
    assert binding["kind"] == "ClusterRoleBinding"
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                  "name": "hcp:kube-router"}
    assert binding["subjects"] == [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User",
                                    "name": "hcp:kube-router"}]


def test_kube_router_gets_a_kubeconfig_of_its_own_user_with_no_groups(tmp_path):
    layout = Layout(tmp_path)
    pki.ensure(layout, CONFIG)
    document = yaml.safe_load(layout.kubeconfig("kube-router").read_text())
    assert document["clusters"][0]["cluster"]["server"] == CONFIG.api_server_url
    user = document["users"][0]["user"]
    certificate = x509.load_pem_x509_certificate(base64.b64decode(user["client-certificate-data"]))
    subject = certificate.subject
    assert subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == "hcp:kube-router"
    assert subject.get_attributes_for_oid(x509.NameOID.ORGANIZATION_NAME) == []
    assert layout.kubeconfig("kube-router").stat().st_mode & 0o777 == 0o600


def test_etcd_and_api_server_speak_tls_only():
    etcd = _argv("etcd")
    assert "--client-cert-auth" in etcd and "--peer-client-cert-auth" in etcd
    assert all(u.startswith("https://") for u in etcd[etcd.index("--listen-client-urls") + 1].split(","))
    apiserver = _argv("kube-apiserver")
    assert apiserver[apiserver.index("--etcd-servers") + 1].startswith("https://")
    assert apiserver[apiserver.index("--authorization-mode") + 1] == "Node,RBAC"
    assert apiserver[apiserver.index("--advertise-address") + 1] == CONFIG.node_ip


def test_kubelet_uses_containerd_with_cgroupfs_under_its_own_root():
    kubelet = host_processes.kubelet_config(LAYOUT, CONFIG)
    assert kubelet["containerRuntimeEndpoint"] == "unix:///run/hcp/t/containerd.sock"
    assert kubelet["cgroupDriver"] == "cgroupfs" and kubelet["cgroupRoot"] == "/hcp-t"
    assert kubelet["authentication"]["anonymous"]["enabled"] is False
    containerd = host_processes.containerd_config(LAYOUT, CONFIG, BINARIES.pause_image)
    runc = containerd["plugins"]["io.containerd.grpc.v1.cri"]["containerd"]["runtimes"]["runc"]["options"]
    assert runc["SystemdCgroup"] is False
    assert containerd["plugins"]["io.containerd.grpc.v1.cri"]["sandbox_image"] == BINARIES.pause_image


def test_registry_name_resolves_to_the_node_with_hcp_ca():
    hosts = tomllib.loads(host_processes.registry_hosts(LAYOUT, CONFIG))
    assert hosts["server"] == "https://registry.hcp.internal:5000"
    assert hosts["host"]["https://172.30.1.2:5000"]["ca"] == "/state/pki/ca.crt"


def test_cni_bridge_gives_pods_addresses_from_the_node_range():
    bridge = host_processes.cni_config(LAYOUT, CONFIG)["plugins"][0]
    assert bridge["type"] == "bridge" and bridge["isGateway"]
    assert bridge["ipam"]["ranges"] == [[{"subnet": "10.244.0.0/24"}]]


def test_write_configs_renders_every_file(tmp_path):
    layout = Layout(tmp_path)
    host_processes.write_configs(layout, CONFIG, BINARIES.pause_image)
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert written == [
        "config/cni/10-hcp.conflist", "config/containerd.toml", "config/kube-proxy.yaml", "config/kubelet.yaml",
        "config/registry-hosts/registry.hcp.internal:5000/hosts.toml", "config/registry.yaml",
    ]
    assert yaml.safe_load((tmp_path / "config/kube-proxy.yaml").read_text())["mode"] == "nftables"


# Every top-level field of kubelet.config.k8s.io/v1beta1 KubeletConfiguration in Kubernetes v1.37
# (k8s.io/kubelet v0.37.1, config/v1beta1/types.go). kubelet only logs an unknown field and ignores it,
# so a misspelled key silently falls back to the default: this list is what catches it.
KUBELET_V1BETA1_FIELDS = frozenset({
    "apiVersion", "kind",
    "enableServer", "staticPodPath", "podLogsDir", "syncFrequency", "fileCheckFrequency", "httpCheckFrequency",
    "staticPodURL", "staticPodURLHeader", "address", "port", "readOnlyPort", "tlsCertFile",
    "tlsPrivateKeyFile", "tlsCipherSuites", "tlsCurvePreferences", "tlsMinVersion", "rotateCertificates",
    "serverTLSBootstrap", "authentication", "authorization", "registryPullQPS", "registryBurst",
    "imagePullCredentialsVerificationPolicy", "preloadedImagesVerificationAllowlist", "eventRecordQPS",
    "eventBurst", "enableDebuggingHandlers", "enableContentionProfiling", "healthzPort", "healthzBindAddress",
    "oomScoreAdj", "clusterDomain", "clusterDNS", "streamingConnectionIdleTimeout",
    "nodeStatusUpdateFrequency", "nodeStatusReportFrequency", "nodeLeaseDurationSeconds", "imageMinimumGCAge",
    "imageMaximumGCAge", "imageGCHighThresholdPercent", "imageGCLowThresholdPercent", "volumeStatsAggPeriod",
    "kubeletCgroups", "systemCgroups", "cgroupRoot", "cgroupsPerQOS", "cgroupDriver", "cpuManagerPolicy",
    "singleProcessOOMKill", "cpuManagerPolicyOptions", "cpuManagerReconcilePeriod", "memoryManagerPolicy",
    "topologyManagerPolicy", "topologyManagerScope", "topologyManagerPolicyOptions", "qosReserved",
    "runtimeRequestTimeout", "hairpinMode", "maxPods", "podCIDR", "podPidsLimit", "resolvConf", "runOnce",
    "cpuCFSQuota", "cpuCFSQuotaPeriod", "nodeStatusMaxImages", "maxOpenFiles", "contentType", "kubeAPIQPS",
    "kubeAPIBurst", "serializeImagePulls", "maxParallelImagePulls", "evictionHard", "evictionSoft",
    "evictionSoftGracePeriod", "evictionPressureTransitionPeriod", "evictionMaxPodGracePeriod",
    "evictionMinimumReclaim", "mergeDefaultEvictionSettings", "podsPerCore", "enableControllerAttachDetach",
    "protectKernelDefaults", "makeIPTablesUtilChains", "iptablesMasqueradeBit", "iptablesDropBit",
    "featureGates", "failSwapOn", "memorySwap", "containerLogMaxSize", "containerLogMaxFiles",
    "containerLogMaxWorkers", "containerLogMonitorInterval", "configMapAndSecretChangeDetectionStrategy",
    "systemReserved", "kubeReserved", "reservedSystemCPUs", "showHiddenMetricsForVersion",
    "systemReservedCgroup", "kubeReservedCgroup", "enforceNodeAllocatable", "allowedUnsafeSysctls",
    "defaultPodSysctls", "volumePluginDir", "providerID", "kernelMemcgNotification", "logging",
    "enableSystemLogHandler", "enableSystemLogQuery", "shutdownGracePeriod", "shutdownGracePeriodCriticalPods",
    "shutdownGracePeriodByPodPriority", "crashLoopBackOff", "reservedMemory", "enableProfilingHandler",
    "enableDebugFlagsHandler", "seccompDefault", "memoryThrottlingFactor", "memoryReservationPolicy",
    "registerWithTaints", "registerNode", "tracing", "localStorageCapacityIsolation",
    "containerRuntimeEndpoint", "imageServiceEndpoint", "failCgroupV1", "userNamespaces",
})


def test_kubelet_keeps_pod_logs_in_the_state_dir_under_the_v1beta1_field_name():
    rendered = yaml.safe_load(yaml.safe_dump(host_processes.kubelet_config(LAYOUT, CONFIG)))
    assert rendered["podLogsDir"] == "/state/pod-logs"
    assert "podLogsDirectory" not in rendered


def test_kubelet_config_uses_only_fields_kubelet_1_37_knows():
    rendered = host_processes.kubelet_config(LAYOUT, CONFIG)
    assert set(rendered) - KUBELET_V1BETA1_FIELDS == set()
    assert set(rendered["authentication"]) <= {"x509", "webhook", "anonymous"}
    assert set(rendered["authentication"]["x509"]) <= {"clientCAFile"}
    assert set(rendered["authentication"]["webhook"]) <= {"enabled", "cacheTTL"}
    assert set(rendered["authentication"]["anonymous"]) <= {"enabled"}
    assert set(rendered["authorization"]) <= {"mode", "webhook"}
