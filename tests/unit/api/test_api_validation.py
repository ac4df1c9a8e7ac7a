"""The models refuse what the CRDs refuse at admission, with the same messages, and accept the rest.

tests/integration/test_admission.py sends the same kinds of values to a real API
server; here each rule's Python side is checked on its own, plus that the CRD
carries the matching CEL rule where the API server needs one.
"""

import copy
import re
from datetime import timedelta

import pytest
from pydantic import ValidationError

from hcp.api import HostedCluster, NodePool
from hcp.api.formats import is_label_value, is_qualified_name
from hcp.api.meta import Toleration
from hcp.api.types import parse_duration, quantity_sign
from hcp.api.v1beta1.hostedcluster import MAX_NAME_LENGTH
from hcp.api.v1beta1.networking import is_cidr
from hcp.api.v1beta1.nodepool import MAX_NODE_POOL_REPLICAS

def node_at(schema: dict, path: str) -> dict:
    """The schema node at `.a.b[]` (list items) or `.a.b{}` (map values)."""
    node = schema
    for part in re.findall(r"\.\w+|\[\]|\{\}", path):
        node = {"[]": lambda: node["items"], "{}": lambda: node["additionalProperties"]}.get(
            part, lambda: node["properties"][part[1:]])()
    return node


def messages(node: dict) -> list[str]:
    return [validation["message"] for validation in node.get("x-kubernetes-validations", [])]


NODE_POOL = {
    "apiVersion": "hypershift.openshift.io/v1beta1",
    "kind": "NodePool",
    "metadata": {"name": "demo", "namespace": "clusters"},
    "spec": {
        "clusterName": "demo",
        "release": {"image": "registry.hcp.internal:5000/hcp/release:v1.37.1"},
        "platform": {"type": "KWOK"},
        "replicas": 2,
        "management": {"upgradeType": "Replace", "autoRepair": False},
    },
}
HOSTED_CLUSTER = {
    "apiVersion": "hypershift.openshift.io/v1beta1",
    "kind": "HostedCluster",
    "metadata": {"name": "demo", "namespace": "clusters"},
    "spec": {
        "release": {"image": "registry.hcp.internal:5000/hcp/release:v1.37.1"},
        "platform": {"type": "KWOK"},
        "pullSecret": {"name": "demo-pull-secret"},
        "networking": {
            "clusterNetwork": [{"cidr": "10.132.0.0/14"}],
            "serviceNetwork": [{"cidr": "172.31.0.0/16"}],
            "networkType": "Other",
        },
        "services": [
            {"service": s, "servicePublishingStrategy": {"type": "NodePort", "nodePort": {"address": "10.0.0.1"}}}
            for s in ("APIServer", "OAuthServer", "Konnectivity", "Ignition")
        ],
    },
}


def pool(**spec) -> dict:
    body = copy.deepcopy(NODE_POOL)
    body["spec"].update(spec)
    return body


def cluster(metadata: dict | None = None, **spec) -> dict:
    body = copy.deepcopy(HOSTED_CLUSTER)
    body["spec"].update(spec)
    body["metadata"].update(metadata or {})
    return body


def refusal(model, body: dict) -> str:
    with pytest.raises(ValidationError) as error:
        model.model_validate(body)
    return str(error.value)


def test_the_base_documents_are_valid():
    NodePool.model_validate(NODE_POOL)
    HostedCluster.model_validate(HOSTED_CLUSTER)


# 1. Durations


@pytest.mark.parametrize("value", ["0", "0s", "5m", "1h30m", "1.5h", ".5h", "250ms", "1µs", "2562047h47m16.854775807s"])
def test_durations_admitted(value):
    assert NodePool.model_validate(pool(nodeDrainTimeout=value, nodeVolumeDetachTimeout=value))


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("garbage", "is not a non-negative duration"),
        ("-5m", "is not a non-negative duration"),
        ("+5m", "is not a non-negative duration"),
        ("5", "is not a non-negative duration"),
        ("5m\n", "is not a non-negative duration"),
        ("1d", "is not a non-negative duration"),
        ("٣s", "is not a non-negative duration"),  # a digit, but not one Go reads
        ("2562047h47m16.854775808s", "longer than the longest duration"),
        ("99999999999999999999h", "longer than the longest duration"),
        ("1" * 64 + "s", "at most 64 characters"),
    ],
)
def test_durations_refused(value, message):
    assert message in refusal(NodePool, pool(nodeDrainTimeout=value))
    assert message in refusal(NodePool, pool(nodeVolumeDetachTimeout=value))


def test_parse_duration_keeps_signed_durations_for_flags_and_refuses_overflow():
    assert parse_duration("-1h30m") == -timedelta(minutes=90)
    assert parse_duration("1.000000001s") == timedelta(seconds=1)
    with pytest.raises(ValueError, match="longest duration"):
        parse_duration("3000000h")


def test_duration_schema(schema_by_kind):
    node = node_at(schema_by_kind["NodePool"], ".spec.nodeDrainTimeout")
    assert node["pattern"].startswith("^(0|")
    assert node["maxLength"] == 64
    assert messages(node) == ["must be at most 2562047h47m16.854775807s, the longest duration Go represents"]


# 2. Quantities


@pytest.mark.parametrize(
    "capacity",
    [{"cpu": "4", "memory": "16Gi", "pods": "110"}, {"cpu": 4, "pods": 110}, {"cpu": "0", "memory": "0", "pods": 0},
     {"cpu": "500m", "memory": "1e9"}, {"cpu": "+1"}],
)
def test_kwok_capacity_admitted(capacity):
    np = NodePool.model_validate(pool(platform={"type": "KWOK", "kwok": {"capacity": capacity}}))
    assert {k: str(v) for k, v in capacity.items()} == {
        k: v for k, v in np.spec.platform.kwok.capacity.model_dump(by_alias=True).items() if v is not None
    }


@pytest.mark.parametrize(
    ("capacity", "message"),
    [
        ({"cpu": "-4"}, "must be a non-negative quantity"),
        ({"cpu": -4}, "must be a non-negative quantity"),
        ({"memory": "-1Gi"}, "must be a non-negative quantity"),
        ({"memory": "1e1.5"}, "must be a non-negative quantity"),
        ({"memory": "lots"}, "is not a Kubernetes quantity"),
        ({"pods": "1.5"}, "must be a whole number"),
        ({"pods": "1k"}, "must be a whole number"),
        ({"pods": "-1"}, "must be a non-negative quantity"),
        ({"pods": "9" * 19}, "must be a whole number"),
    ],
)
def test_kwok_capacity_refused(capacity, message):
    assert message in refusal(NodePool, pool(platform={"type": "KWOK", "kwok": {"capacity": capacity}}))


@pytest.mark.parametrize(("size", "admitted"), [("8Gi", True), ("1", True), ("0", False), ("-1Gi", False)])
def test_etcd_volume_is_not_empty(size, admitted):
    body = cluster(etcd={"managementType": "Managed", "managed": {"storage": {
        "type": "PersistentVolume", "persistentVolume": {"size": size}}}})
    if admitted:
        HostedCluster.model_validate(body)
    else:
        assert "must be a positive quantity" in refusal(HostedCluster, body)


@pytest.mark.parametrize(("text", "sign"), [("0", 0), ("0.0k", 0), ("-0", 0), ("1", 1), ("-1m", -1), ("+.5", 1),
                                            ("1e-99999999", 1), ("-2Ei", -1)])
def test_quantity_sign(text, sign):
    assert quantity_sign(text) == sign


def test_quantity_rules_in_schema(schema_by_kind):
    capacity = ".spec.platform.kwok.capacity"
    assert messages(node_at(schema_by_kind["NodePool"], f"{capacity}.cpu")) == [
        "must be a non-negative quantity such as 0, 4, 500m or 16Gi"]
    assert messages(node_at(schema_by_kind["NodePool"], f"{capacity}.pods")) == [
        "must be a non-negative quantity such as 0, 4, 500m or 16Gi", "must be a whole number such as 110"]
    size = node_at(schema_by_kind["HostedCluster"], ".spec.etcd.managed.storage.persistentVolume.size")
    assert messages(size) == ["must be a positive quantity such as 1Gi or 8Gi", "Etcd PV storage size is immutable"]


# 3. Labels


@pytest.mark.parametrize("key", ["a", "kubernetes.io/os", "example.com/Role_1.x", "a" * 63, "a" * 253 + "/b",
                                 "node-role.kubernetes.io/worker"])
def test_qualified_names(key):
    assert is_qualified_name(key)


@pytest.mark.parametrize("key", ["", "bad key", "-a", "a_", "a" * 64, "a" * 254 + "/b", "a/b/c", "/a", "a/",
                                 "A.com/b", "a..b/c", "a\n", "ä"])
def test_not_qualified_names(key):
    assert not is_qualified_name(key)


@pytest.mark.parametrize(("value", "valid"), [("", True), ("a", True), ("a.b_c-d", True), ("a" * 63, True),
                                              ("a" * 64, False), ("-a", False), ("a b", False), ("a/b", False),
                                              ("a\n", False)])
def test_label_values(value, valid):
    assert is_label_value(value) is valid


@pytest.mark.parametrize(
    ("model", "body"),
    [
        (NodePool, pool(nodeLabels={"example.com/role": "worker", "empty": ""})),
        (HostedCluster, cluster(nodeSelector={"kubernetes.io/os": "linux"}, labels={"team": "a"})),
    ],
)
def test_label_maps_admitted(model, body):
    model.model_validate(body)


@pytest.mark.parametrize(
    ("model", "body", "message"),
    [
        (NodePool, pool(nodeLabels={"bad key": "x"}), "label key must have two segments"),
        (NodePool, pool(nodeLabels={"role": "-worker"}), "label value must be 63 characters or less"),
        (NodePool, pool(nodeLabels={"role": "a" * 64}), "at most 63 characters"),
        (NodePool, pool(nodeLabels={f"k{i}": "v" for i in range(101)}), "at most 100 items"),
        (HostedCluster, cluster(nodeSelector={"a/b/c": "x"}), "label key must have two segments"),
        (HostedCluster, cluster(nodeSelector={f"k{i}": "v" for i in range(21)}), "at most 20 items"),
        (HostedCluster, cluster(labels={"team": "a/b"}), "label value must be 63 characters or less"),
    ],
)
def test_label_maps_refused(model, body, message):
    assert message in refusal(model, body)


@pytest.mark.parametrize(("kind", "path", "entries"), [("NodePool", ".spec.nodeLabels", 100),
                                                       ("HostedCluster", ".spec.nodeSelector", 20),
                                                       ("HostedCluster", ".spec.labels", 20),
                                                       ("HostedControlPlane", ".spec.labels", 20)])
def test_label_map_schema_bounds_the_rule_cost(schema_by_kind, kind, path, entries):
    node = node_at(schema_by_kind[kind], path)
    assert node["maxProperties"] == entries
    assert messages(node)[0].startswith("label key must have two segments")
    assert node["additionalProperties"]["maxLength"] == 63
    assert messages(node["additionalProperties"])[0].startswith("label value must be 63 characters or less")


# 4. Tolerations and taints


@pytest.mark.parametrize(
    "toleration",
    [
        {"operator": "Exists"},
        {"key": "dedicated", "operator": "Equal", "value": "cp", "effect": "NoSchedule"},
        {"key": "dedicated", "value": "cp"},
        {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
        {"key": "k", "operator": "", "value": "v", "effect": ""},
    ],
)
def test_tolerations_admitted(toleration):
    HostedCluster.model_validate(cluster(tolerations=[toleration]))


@pytest.mark.parametrize(
    ("toleration", "message"),
    [
        ({"key": "k", "operator": "Exists", "effect": "Sometimes"}, "effect"),
        ({"key": "k", "operator": "Maybe"}, "operator"),
        ({"key": "bad key", "operator": "Exists"}, "key must be a qualified name"),
        ({"operator": "Equal", "value": "v"}, "operator must be Exists when `key` is empty"),
        ({"key": "", "value": "v"}, "operator must be Exists when `key` is empty"),
        ({"key": "k", "operator": "Exists", "value": "v"}, "value must be empty when `operator` is 'Exists'"),
        ({"key": "k", "operator": "Exists", "effect": "NoSchedule", "tolerationSeconds": 30},
         "effect must be 'NoExecute' when `tolerationSeconds` is set"),
        ({"key": "k", "tolerationSeconds": 30}, "effect must be 'NoExecute' when `tolerationSeconds` is set"),
        ({"key": "k", "value": "a" * 64}, "at most 63 characters"),
        ({"key": "k", "value": "a b"}, "label value must be 63 characters or less"),
    ],
)
def test_tolerations_refused(toleration, message):
    assert message in refusal(HostedCluster, cluster(tolerations=[toleration]))


def test_toleration_built_step_by_step_is_checked_as_a_whole():
    """The CLI builds a toleration and then sets its value; the rules hold after every assignment."""
    toleration = Toleration(key="dedicated", operator="Equal")
    toleration.value = "cp"
    toleration.effect = "NoSchedule"
    with pytest.raises(ValidationError, match="value must be empty"):
        Toleration(key="dedicated", operator="Exists").value = "cp"


def test_toleration_schema(schema_by_kind):
    toleration = node_at(schema_by_kind["HostedCluster"], ".spec.tolerations[]")
    assert toleration["properties"]["effect"]["enum"] == ["NoSchedule", "PreferNoSchedule", "NoExecute", ""]
    assert toleration["properties"]["operator"]["enum"] == ["Exists", "Equal", ""]
    assert len(messages(toleration)) == 3


@pytest.mark.parametrize(
    ("taint", "message"),
    [
        ({"key": "-k", "effect": "NoSchedule"}, "key must be a qualified name"),
        ({"key": "k", "value": "a" * 64, "effect": "NoSchedule"}, "value must be at most 63 characters"),
        ({"key": "k", "value": "a b", "effect": "NoSchedule"}, "Value must start and end with alphanumeric"),
    ],
)
def test_taints_refused(taint, message):
    assert message in refusal(NodePool, pool(taints=[taint]))


def test_taints_admitted():
    NodePool.model_validate(pool(taints=[{"key": "example.com/k", "value": "a" * 63, "effect": "NoExecute"}]))


# 5. HostedCluster names


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("my.cluster", "HostedCluster name failed RFC1123 validation"),
        ("MyCluster", "HostedCluster name failed RFC1123 validation"),
        ("-demo", "HostedCluster name failed RFC1123 validation"),
        ("a" * (MAX_NAME_LENGTH + 1), f"HostedCluster name must be at most {MAX_NAME_LENGTH} characters"),
    ],
)
def test_hosted_cluster_names_refused(name, message):
    assert message in refusal(HostedCluster, cluster({"name": name}))


def test_hosted_cluster_names_admitted():
    assert MAX_NAME_LENGTH == 61  # "x-" + 61 characters: the longest namespace name, 63
    HostedCluster.model_validate(cluster({"name": "a" * MAX_NAME_LENGTH}))
    HostedCluster.model_validate(cluster({"name": "123-abc"}))
    body = cluster()
    del body["metadata"]["name"]
    HostedCluster.model_validate(body)  # not named yet: checked when it is


def test_hosted_cluster_name_rules_at_the_root(schema_by_kind):
    rules = [v["rule"] for v in schema_by_kind["HostedCluster"]["x-kubernetes-validations"]]
    assert "self.metadata.name.size() <= 61" in rules
    assert any(rule.startswith("self.metadata.name.matches(") for rule in rules)


# 6. Node ports


def node_port(port: int) -> dict:
    body = cluster()
    body["spec"]["services"][0]["servicePublishingStrategy"]["nodePort"]["port"] = port
    return body


@pytest.mark.parametrize("port", [0, -1, 65536, 99999])
def test_node_ports_refused(port):
    assert "nodePort.port" in refusal(HostedCluster, node_port(port))


@pytest.mark.parametrize("port", [1, 30000, 65535])
def test_node_ports_admitted(port):
    HostedCluster.model_validate(node_port(port))


def test_node_port_schema(schema_by_kind):
    port = node_at(schema_by_kind["HostedCluster"], ".spec.services[].servicePublishingStrategy.nodePort.port")
    assert (port["minimum"], port["maximum"]) == (1, 65535)


# 7. Networks


@pytest.mark.parametrize("cidr", ["10.0.0.0/8", "192.168.1.7/24", "fd01::/48", "::/0", "::1.2.3.4/128", "0.0.0.0/0"])
def test_cidrs(cidr):
    assert is_cidr(cidr)


@pytest.mark.parametrize("cidr", ["999.1.1.1/99", "10.0.0.0", "10.0.0.0/33", "10.0.0.0/024", "10.0.0.0/255.0.0.0",
                                  "010.0.0.0/8", "fe80::1%eth0/64", "::ffff:10.0.0.0/104", "::ffff:10.0.0.0/64",
                                  "fd01::/129", "10.0.0.0/8\n", ""])
def test_not_cidrs(cidr):
    assert not is_cidr(cidr)


def networking(**networks) -> dict:
    body = cluster()
    body["spec"]["networking"].update({name: [{"cidr": c} for c in cidrs] for name, cidrs in networks.items()})
    return body


@pytest.mark.parametrize(
    "networks",
    [
        {"serviceNetwork": ["10.132.0.0/16"]},
        {"clusterNetwork": ["172.31.128.0/20"]},
        {"serviceNetwork": ["10.132.0.0/14"]},
        {"machineNetwork": ["10.0.0.0/8"]},
        {"machineNetwork": ["172.31.5.0/24"]},
        {"clusterNetwork": ["10.132.0.0/14", "fd01::/48"], "serviceNetwork": ["172.31.0.0/16", "fd01::/112"]},
    ],
)
def test_overlapping_networks_refused(networks):
    assert "must be unique and non-overlapping" in refusal(HostedCluster, networking(**networks))


@pytest.mark.parametrize(
    "networks",
    [
        {"machineNetwork": ["10.0.0.0/16"]},
        {"clusterNetwork": ["10.132.0.0/14", "fd01::/48"], "serviceNetwork": ["172.31.0.0/16", "fd02::/112"]},
        {"clusterNetwork": ["10.132.0.0/14", "fd01::/48"], "machineNetwork": ["10.0.0.0/16", "fd00::/64"]},
    ],
)
def test_disjoint_networks_admitted(networks):
    HostedCluster.model_validate(networking(**networks))


def test_invalid_cidr_refused_with_hypershift_message():
    assert "cidr must be a valid IPv4 or IPv6 CIDR notation" in refusal(
        HostedCluster, networking(clusterNetwork=["999.1.1.1/99"]))


def test_network_rules_use_the_cidr_library(schema_by_kind):
    networks = node_at(schema_by_kind["HostedCluster"], ".spec.networking")
    [overlap] = [v["rule"] for v in networks["x-kubernetes-validations"] if "containsCIDR" in v["rule"]]
    assert overlap.count("containsCIDR") == 6
    cidr = node_at(schema_by_kind["HostedCluster"], ".spec.networking.clusterNetwork[].cidr")
    assert [v["rule"] for v in cidr["x-kubernetes-validations"]] == ["isCIDR(self)"]


# 8. Each service once


def test_a_service_twice_is_refused():
    body = cluster()
    body["spec"]["services"].append(copy.deepcopy(body["spec"]["services"][0]))
    assert "each service may appear in services only once" in refusal(HostedCluster, body)


def test_services_stay_an_atomic_list(schema_by_kind):
    services = node_at(schema_by_kind["HostedCluster"], ".spec.services")
    assert services["x-kubernetes-list-type"] == "atomic"
    assert "each service may appear in services only once" in messages(services)
    assert "each service may appear in services only once" in messages(
        node_at(schema_by_kind["HostedControlPlane"], ".spec.services"))


# 9. Platforms


@pytest.mark.parametrize("platform", ["AWS", "KubeVirt", "Agent"])
def test_platforms_hcp_does_not_have_are_refused(platform):
    message = "platform type must be KWOK, None or Container, the platforms hcp has"
    assert message in refusal(HostedCluster, cluster(platform={"type": platform}))
    assert message in refusal(NodePool, pool(platform={"type": platform}))


@pytest.mark.parametrize("platform", ["None", "Container"])
def test_platforms_with_real_machines_are_admitted(platform):
    HostedCluster.model_validate(cluster(platform={"type": platform}))
    NodePool.model_validate(pool(platform={"type": platform}))


def test_platform_enum_stays_hypershifts(schema_by_kind):
    for kind in ("HostedCluster", "NodePool"):
        node = node_at(schema_by_kind[kind], ".spec.platform.type")
        assert set(node["enum"]) == {"AWS", "Azure", "IBMCloud", "KubeVirt", "Agent", "PowerVS", "None",
                                     "OpenStack", "GCP", "KWOK", "Container"}
        assert messages(node) == ["platform type must be KWOK, None or Container, the platforms hcp has; AWS, "
                                  "Azure, IBMCloud, KubeVirt, Agent, PowerVS, OpenStack and GCP are HyperShift "
                                  "platforms that hcp does not have",
                                  "Type is immutable"]


# 10. NodePool size


@pytest.mark.parametrize(("spec", "message"), [
    ({"replicas": MAX_NODE_POOL_REPLICAS + 1}, f"less than or equal to {MAX_NODE_POOL_REPLICAS}"),
    ({"replicas": -1}, "greater than or equal to 0"),
    ({"replicas": None, "autoScaling": {"min": 1, "max": MAX_NODE_POOL_REPLICAS + 1}},
     f"less than or equal to {MAX_NODE_POOL_REPLICAS}"),
    ({"replicas": None, "autoScaling": {"min": 3, "max": 2}}, "max must be equal or greater than min"),
])
def test_node_pool_sizes_refused(spec, message):
    body = pool(**spec)
    body["spec"] = {k: v for k, v in body["spec"].items() if v is not None}
    assert message in refusal(NodePool, body)


def test_node_pool_sizes_admitted(schema_by_kind):
    NodePool.model_validate(pool(replicas=MAX_NODE_POOL_REPLICAS))
    NodePool.model_validate(pool(replicas=0))
    body = pool(autoScaling={"min": 0, "max": MAX_NODE_POOL_REPLICAS})
    del body["spec"]["replicas"]
    NodePool.model_validate(body)
    replicas = node_at(schema_by_kind["NodePool"], ".spec.replicas")
    assert (replicas["minimum"], replicas["maximum"]) == (0, MAX_NODE_POOL_REPLICAS)
    assert node_at(schema_by_kind["NodePool"], ".spec.autoScaling.max")["maximum"] == MAX_NODE_POOL_REPLICAS


# HyperShift's own rules on strings: the models check them too, from the same patterns.


def snapshot(url: str) -> dict:
    return cluster(etcd={"managementType": "Managed", "managed": {"storage": {
        "type": "PersistentVolume", "persistentVolume": {"size": "8Gi"}, "restoreSnapshotURL": [url]}}})


def load_balancer(hostname: str) -> dict:
    body = cluster()
    body["spec"]["services"][0]["servicePublishingStrategy"] = {"type": "LoadBalancer",
                                                                "loadBalancer": {"hostname": hostname}}
    return body


def address(value: str) -> dict:
    body = cluster()
    body["spec"]["services"][0]["servicePublishingStrategy"]["nodePort"]["address"] = value
    return body


@pytest.mark.parametrize(
    ("model", "body", "message"),
    [
        (HostedCluster, cluster(release={"image": " registry/x"}), "Image must start with a word character"),
        (HostedCluster, cluster(release={"image": "r"}), "Image must start with a word character"),
        (NodePool, pool(release={"image": "registry/x y"}), "Image must start with a word character"),
        (HostedCluster, cluster(dns={"baseDomain": "a_b.com"}), "baseDomain must be a valid domain name"),
        (HostedCluster, cluster(dns={"baseDomain": "example.com", "baseDomainPrefix": "a.b."}),
         "baseDomainPrefix must be a valid domain name"),
        (HostedCluster, cluster(clusterID="z" * 36), "clusterID must be an RFC4122 UUID value"),
        (HostedCluster, cluster(infraID="Infra"), "infraID must consist of lowercase alphanumeric characters"),
        (NodePool, pool(clusterName="demo."), "clusterName must consist of lowercase alphanumeric characters"),
        (HostedCluster, cluster(pausedUntil="tomorrow"), "PausedUntil must be a date in RFC3339 format"),
        (NodePool, pool(pausedUntil="2030-01-01T00:00:00\n"), "PausedUntil must be a date in RFC3339 format"),
        (HostedCluster, snapshot("http://bucket/snap.db"), "restoreSnapshotURL must be a valid URL with scheme"),
        (HostedCluster, load_balancer("api"), "hostname must be a valid domain name"),
        (HostedCluster, address("not an address"), "address must be a valid hostname, IPv4, or IPv6 address"),
    ],
)
def test_hypershift_string_rules_refused(model, body, message):
    assert message in refusal(model, body)


@pytest.mark.parametrize(
    ("model", "body"),
    [
        (HostedCluster, cluster(release={"image": "registry.example.com:5000/hcp/release:v1.37.1"})),
        (HostedCluster, cluster(dns={"baseDomain": ""})),
        (HostedCluster, cluster(dns={"baseDomain": "example.com", "baseDomainPrefix": ""})),
        (HostedCluster, cluster(clusterID="8a7f3cd4-1e2b-4c5d-9e0f-123456789abc", infraID="infra-1")),
        (HostedCluster, cluster(pausedUntil="true")),
        (HostedCluster, cluster(pausedUntil="")),  # the docs' way to resume (7.3)
        (NodePool, pool(pausedUntil="2030-01-01T00:00:00Z")),
        (HostedCluster, snapshot("s3://bucket/snap.db")),
        (HostedCluster, load_balancer("api.example.com")),
        (HostedCluster, address("localhost")),
        (HostedCluster, address("fd00::1")),
        (HostedCluster, address("node-1.example.com")),
    ],
)
def test_hypershift_string_rules_admitted(model, body):
    model.model_validate(body)


def test_size_descriptions_name_the_limit(schema_by_kind):
    """The CRD's descriptions (kubectl explain) state the limit; they cannot read the constant."""
    for path in (".spec.replicas", ".spec.autoScaling.max"):
        assert f"at most {MAX_NODE_POOL_REPLICAS}" in node_at(schema_by_kind["NodePool"], path)["description"]
