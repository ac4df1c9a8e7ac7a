"""The generated CRDs: structural, named and printed as HyperShift's, with its defaults and CEL rules."""

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from hcp.api import crds
from hcp.api.crd import render_yaml

GOLDEN = Path(__file__).parent / "golden" / "crds.yaml"
KINDS = ("HostedCluster", "NodePool", "HostedControlPlane", "HCPEtcdBackup", "CertificateRevocationRequest")


def walk(node: dict, path: str = "") -> Iterator[tuple[str, dict]]:
    """Every schema node with its path (`.field`, `[]` for list items, `{}` for map values)."""
    yield path, node
    for name, child in node.get("properties", {}).items():
        yield from walk(child, f"{path}.{name}")
    if isinstance(node.get("additionalProperties"), dict):
        yield from walk(node["additionalProperties"], f"{path}{{}}")
    if "items" in node:
        yield from walk(node["items"], f"{path}[]")


def structural_problems(schema: dict) -> list[str]:
    problems = []
    for path, node in walk(schema):
        for keyword in ("$ref", "$defs", "title", "const", "oneOf", "allOf", "not", "uniqueItems"):
            if keyword in node:
                problems.append(f"{path}: has {keyword}")
        int_or_string = node.get("x-kubernetes-int-or-string") is True
        preserve_unknown = node.get("x-kubernetes-preserve-unknown-fields") is True
        if "type" not in node and not (int_or_string or preserve_unknown):
            problems.append(f"{path}: no type")
        if "anyOf" in node:
            branch_types = [branch.get("type") for branch in node["anyOf"]]
            if not int_or_string or sorted(branch_types) != ["integer", "string"]:
                problems.append(f"{path}: anyOf {branch_types} outside int-or-string")
        if node.get("additionalProperties") is True:
            problems.append(f"{path}: additionalProperties: true")
        if "properties" in node and "additionalProperties" in node:
            problems.append(f"{path}: both properties and additionalProperties")
        if "default" in node and node["default"] is None:
            problems.append(f"{path}: default null")
        for required in node.get("required", []):
            if required not in node.get("properties", {}):
                problems.append(f"{path}: required {required} is not a property")
        for key in node.get("x-kubernetes-list-map-keys", []):
            if key not in node["items"].get("required", []):
                problems.append(f"{path}: list map key {key} is not required in the items")
    return problems


def node_at(schema: dict, path: str) -> dict:
    node = schema
    for part in re.findall(r"\.(\w+)|(\[\])", path):
        node = node["items"] if part[1] else node["properties"][part[0]]
    return node


def messages(node: dict) -> list[str]:
    return [validation["message"] for validation in node.get("x-kubernetes-validations", [])]


# `self.a.b` and `oldSelf.a.b` field selections, up to a method call such as `.all(` or `.matches(`.
_SELECTION = re.compile(r"\b(?:self|oldSelf)((?:\.\w+)+)(\()?")


def selected_fields(rule: str) -> Iterator[list[str]]:
    for match in _SELECTION.finditer(rule):
        fields = match.group(1).split(".")[1:]
        yield fields[:-1] if match.group(2) else fields


@pytest.mark.parametrize("kind", KINDS)
def test_schema_is_structural(schema_by_kind, kind):
    assert structural_problems(schema_by_kind[kind]) == []


@pytest.mark.parametrize("kind", KINDS)
def test_root_has_type_meta_metadata_spec_and_status(schema_by_kind, kind):
    schema = schema_by_kind[kind]
    assert set(schema["properties"]) == {"apiVersion", "kind", "metadata", "spec", "status"}
    assert schema["properties"]["apiVersion"]["type"] == "string"
    assert schema["properties"]["kind"]["type"] == "string"
    assert "default" not in schema["properties"]["apiVersion"]
    assert "default" not in schema["properties"]["kind"]
    # The API server rejects a CRD that says anything about metadata beyond its type.
    assert schema["properties"]["metadata"] == {"type": "object"}


@pytest.mark.parametrize("kind", KINDS)
def test_every_cel_rule_selects_fields_that_exist(schema_by_kind, kind):
    """An API server rejects a CRD whose CEL rule names a field missing from the schema."""
    for path, node in walk(schema_by_kind[kind]):
        for validation in node.get("x-kubernetes-validations", []):
            assert validation["message"], f"{path}: rule without message"
            for fields in selected_fields(validation["rule"]):
                if path == "" and fields[:2] in (["metadata", "name"], ["metadata", "generateName"]):
                    continue  # the API server shows rules at the root these two fields of metadata
                target = node
                for field in fields:
                    assert field in target.get("properties", {}), f"{path}: {validation['rule']!r} selects {field}"
                    target = target["properties"][field]


def test_crd_names_and_scope(crd_by_kind):
    expected = {
        "HostedCluster": ("hostedclusters", "hostedcluster", ["hc", "hcs"], None),
        "NodePool": ("nodepools", "nodepool", ["np", "nps"], None),
        "HostedControlPlane": ("hostedcontrolplanes", "hostedcontrolplane", ["hcp", "hcps"], ["cluster-api"]),
        "HCPEtcdBackup": ("hcpetcdbackups", "hcpetcdbackup", ["hcpetcdbk"], None),
        "CertificateRevocationRequest": ("certificaterevocationrequests", "certificaterevocationrequest",
                                         ["crr", "crrs"], None),
    }
    groups = {"CertificateRevocationRequest": ("certificates.hypershift.openshift.io", "v1alpha1")}
    assert set(crd_by_kind) == set(expected)
    for kind, (plural, singular, short_names, categories) in expected.items():
        crd = crd_by_kind[kind]
        assert crd["apiVersion"] == "apiextensions.k8s.io/v1"
        assert crd["kind"] == "CustomResourceDefinition"
        group, version_name = groups.get(kind, ("hypershift.openshift.io", "v1beta1"))
        assert crd["metadata"]["name"] == f"{plural}.{group}"
        assert crd["spec"]["group"] == group
        assert crd["spec"]["scope"] == "Namespaced"
        names = crd["spec"]["names"]
        assert names["plural"] == plural
        assert names["singular"] == singular
        assert names["kind"] == kind
        assert names["listKind"] == f"{kind}List"
        assert names["shortNames"] == short_names
        assert names.get("categories") == categories
        [version] = crd["spec"]["versions"]
        assert (version["name"], version["served"], version["storage"]) == (version_name, True, True)


def test_subresources(crd_by_kind):
    assert crd_by_kind["HostedCluster"]["spec"]["versions"][0]["subresources"] == {"status": {}}
    assert crd_by_kind["HostedControlPlane"]["spec"]["versions"][0]["subresources"] == {"status": {}}
    assert crd_by_kind["HCPEtcdBackup"]["spec"]["versions"][0]["subresources"] == {"status": {}}
    assert crd_by_kind["CertificateRevocationRequest"]["spec"]["versions"][0]["subresources"] == {"status": {}}
    assert crd_by_kind["NodePool"]["spec"]["versions"][0]["subresources"] == {
        "status": {},
        "scale": {"specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.replicas"},
    }


def printer_columns(crd: dict) -> list[tuple[str, str, str]]:
    return [(c["name"], c["type"], c["jsonPath"]) for c in crd["spec"]["versions"][0].get("additionalPrinterColumns", [])]


def kubectl_columns(crd: dict) -> list[str]:
    """The headers `kubectl get` prints: NAME, then each column name upper-cased."""
    return ["NAME", *(name.upper() for name, _, _ in printer_columns(crd))]


def docs_columns(header: str) -> list[str]:
    """Column headers of example output in the reference docs (columns are 2+ spaces apart)."""
    return re.split(r"\s{2,}", header.strip())


def test_hostedcluster_printer_columns(crd_by_kind):
    crd = crd_by_kind["HostedCluster"]
    assert printer_columns(crd) == [
        ("Version", "string", '.status.version.history[?(@.state=="Completed")].version'),
        ("KubeConfig", "string", ".status.kubeconfig.name"),
        ("Progress", "string", '.status.version.history[?(@.state!="")].state'),
        ("Available", "string", '.status.conditions[?(@.type=="Available")].status'),
        ("Progressing", "string", '.status.conditions[?(@.type=="Progressing")].status'),
        ("Message", "string", '.status.conditions[?(@.type=="Available")].message'),
    ]
    assert kubectl_columns(crd) == docs_columns(
        "NAME            VERSION   KUBECONFIG                       PROGRESS    AVAILABLE   PROGRESSING   MESSAGE"
    )


def test_nodepool_printer_columns(crd_by_kind):
    crd = crd_by_kind["NodePool"]
    assert printer_columns(crd) == [
        ("Cluster", "string", ".spec.clusterName"),
        ("Desired Nodes", "integer", ".spec.replicas"),
        ("Current Nodes", "integer", ".status.replicas"),
        ("Autoscaling", "string", '.status.conditions[?(@.type=="AutoscalingEnabled")].status'),
        ("Autorepair", "string", '.status.conditions[?(@.type=="AutorepairEnabled")].status'),
        ("Version", "string", ".status.version"),
        ("UpdatingVersion", "string", '.status.conditions[?(@.type=="UpdatingVersion")].status'),
        ("UpdatingConfig", "string", '.status.conditions[?(@.type=="UpdatingConfig")].status'),
        ("Message", "string", '.status.conditions[?(@.type=="Ready")].message'),
    ]
    assert kubectl_columns(crd) == docs_columns(
        "NAME                      CLUSTER         DESIRED NODES   CURRENT NODES   AUTOSCALING   AUTOREPAIR   "
        "VERSION   UPDATINGVERSION   UPDATINGCONFIG   MESSAGE"
    )


def test_hostedcontrolplane_has_no_printer_columns(crd_by_kind):
    assert printer_columns(crd_by_kind["HostedControlPlane"]) == []


def test_hcpetcdbackup_printer_columns_as_hypershift(crd_by_kind):
    crd = crd_by_kind["HCPEtcdBackup"]
    assert printer_columns(crd) == [
        ("Completed", "string", '.status.conditions[?(@.type=="BackupCompleted")].status'),
        ("URL", "string", ".status.snapshotURL"),
        ("Age", "date", ".metadata.creationTimestamp"),
    ]
    # HyperShift's Age column has no description; the others have HyperShift's.
    columns = crd["spec"]["versions"][0]["additionalPrinterColumns"]
    assert [c.get("description") for c in columns] == ["Backup completion status", "Snapshot URL", None]


@pytest.mark.parametrize(
    ("kind", "path", "default"),
    [
        ("HostedCluster", ".spec.controllerAvailabilityPolicy", "HighlyAvailable"),
        ("HostedCluster", ".spec.infrastructureAvailabilityPolicy", "SingleReplica"),
        ("HostedCluster", ".spec.issuerURL", "https://kubernetes.default.svc"),
        (
            "HostedCluster",
            ".spec.networking",
            {
                "networkType": "OVNKubernetes",
                "clusterNetwork": [{"cidr": "10.132.0.0/14"}],
                "serviceNetwork": [{"cidr": "172.31.0.0/16"}],
            },
        ),
        ("HostedCluster", ".spec.networking.networkType", "OVNKubernetes"),
        ("HostedCluster", ".spec.networking.clusterNetwork", [{"cidr": "10.132.0.0/14"}]),
        ("HostedCluster", ".spec.networking.serviceNetwork", [{"cidr": "172.31.0.0/16"}]),
        (
            "HostedCluster",
            ".spec.etcd",
            {
                "managementType": "Managed",
                "managed": {"storage": {"type": "PersistentVolume", "persistentVolume": {"size": "8Gi"}}},
            },
        ),
        ("HostedCluster", ".spec.etcd.managed.storage.persistentVolume.size", "8Gi"),
        ("HostedCluster", ".spec.pullSecret.name", ""),
        ("NodePool", ".spec.arch", "amd64"),
        (
            "NodePool",
            ".spec.management.replace",
            {"strategy": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
        ),
        ("NodePool", ".spec.management.autoRepair", False),
        ("HostedControlPlane", ".spec.controllerAvailabilityPolicy", "HighlyAvailable"),
        ("HostedControlPlane", ".spec.infrastructureAvailabilityPolicy", "SingleReplica"),
        ("HostedControlPlane", ".status.ready", False),
        ("HostedControlPlane", ".status.initialized", False),
        ("HostedControlPlane", ".status.externalManagedControlPlane", True),
    ],
)
def test_defaults_as_hypershift(schema_by_kind, kind, path, default):
    assert node_at(schema_by_kind[kind], path)["default"] == default


def test_hostedcontrolplane_etcd_and_networking_have_no_object_default(schema_by_kind):
    spec = node_at(schema_by_kind["HostedControlPlane"], ".spec")
    assert "default" not in spec["properties"]["etcd"]
    assert "default" not in spec["properties"]["networking"]
    assert {"etcd", "releaseImage", "issuerURL", "infraID", "dns", "sshKey"} <= set(spec["required"])


@pytest.mark.parametrize(
    ("kind", "path", "message"),
    [
        ("NodePool", ".spec", "Both replicas or autoScaling should not be set"),
        ("NodePool", ".spec.clusterName", "ClusterName is immutable"),
        ("NodePool", ".spec.management.upgradeType", "UpgradeType is immutable"),
        ("NodePool", ".spec.management", "The 'inPlace' field can only be set when 'upgradeType' is 'InPlace'"),
        ("NodePool", ".spec.management.replace", "The 'rollingUpdate' field can only be set when 'strategy' is 'RollingUpdate'"),
        ("NodePool", ".spec.autoScaling", "max must be equal or greater than min"),
        ("NodePool", ".spec.arch", "Arch is immutable"),
        ("NodePool", ".spec.platform.type", "Type is immutable"),
        ("NodePool", ".spec.platform", "kwok can only be set when type is KWOK"),
        ("HostedCluster", "", "infraID cannot be removed once set"),
        ("HostedCluster", "", "clusterID cannot be removed once set"),
        ("HostedCluster", ".spec", "secretEncryption cannot be removed once configured"),
        ("HostedCluster", ".spec.clusterID", "clusterID is immutable"),
        ("HostedCluster", ".spec.controllerAvailabilityPolicy", "ControllerAvailabilityPolicy is immutable"),
        ("HostedCluster", ".spec.issuerURL", "issuerURL is immutable"),
        ("HostedCluster", ".spec.etcd", "Only managed configuration must be set when managementType is Managed"),
        ("HostedCluster", ".spec.etcd.managementType", "managementType is immutable"),
        (
            "HostedCluster",
            ".spec.etcd.managed.storage",
            "restoreSnapshotURL cannot be added or removed after creation",
        ),
        ("HostedCluster", ".spec.networking.clusterNetwork", "clusterNetwork is immutable and cannot be modified once set."),
        (
            "HostedCluster",
            ".spec.services[].servicePublishingStrategy",
            "nodePort is required when type is NodePort, and forbidden otherwise",
        ),
        ("HostedControlPlane", ".spec", "secretEncryption cannot be removed once configured"),
        ("HostedControlPlane", ".spec.controllerAvailabilityPolicy", "ControllerAvailabilityPolicy is immutable"),
    ],
)
def test_cel_rule_on_node(schema_by_kind, kind, path, message):
    assert message in messages(node_at(schema_by_kind[kind], path))


def test_replicas_and_autoscaling_rule(schema_by_kind):
    rules = node_at(schema_by_kind["NodePool"], ".spec")["x-kubernetes-validations"]
    assert {"rule": "!has(self.replicas) || !has(self.autoScaling)",
            "message": "Both replicas or autoScaling should not be set"} in rules


def test_field_rule_and_type_rule_both_apply(schema_by_kind):
    """A field's own rules are added to the rules of its type, not substituted for them."""
    address = node_at(schema_by_kind["HostedCluster"], ".spec.services[].servicePublishingStrategy")
    assert len(address["x-kubernetes-validations"]) == 5
    storage = node_at(schema_by_kind["HostedCluster"], ".spec.etcd.managed.storage")
    assert messages(storage) == ["restoreSnapshotURL cannot be added or removed after creation"]


def test_int_or_string_fields(schema_by_kind):
    for path in (
        ".spec.management.replace.rollingUpdate.maxSurge",
        ".spec.management.replace.rollingUpdate.maxUnavailable",
        ".spec.management.inPlace.maxUnavailable",
    ):
        node = node_at(schema_by_kind["NodePool"], path)
        assert node["x-kubernetes-int-or-string"] is True
        assert "type" not in node


def test_optional_fields_are_not_nullable_but_nullable_required_ones_are(schema_by_kind):
    version = node_at(schema_by_kind["HostedCluster"], ".status.version")
    assert version["properties"]["availableUpdates"]["nullable"] is True
    assert "availableUpdates" in version["required"]
    assert version["properties"]["history"]["items"]["properties"]["completionTime"]["nullable"] is True
    assert "nullable" not in node_at(schema_by_kind["NodePool"], ".spec.replicas")
    assert "nullable" not in node_at(schema_by_kind["HostedCluster"], ".spec.secretEncryption")


def test_conditions_are_a_list_map_keyed_by_type(schema_by_kind):
    conditions = node_at(schema_by_kind["HostedCluster"], ".status.conditions")
    assert conditions["x-kubernetes-list-type"] == "map"
    assert conditions["x-kubernetes-list-map-keys"] == ["type"]
    assert node_at(schema_by_kind["HostedCluster"], ".status.conditions[].lastTransitionTime")["format"] == "date-time"
    assert node_at(schema_by_kind["HostedCluster"], ".status.conditions[].status")["enum"] == ["True", "False", "Unknown"]


def test_enums_as_hypershift(schema_by_kind):
    hc = schema_by_kind["HostedCluster"]
    # HyperShift's four, then hcp's own Flannel
    assert node_at(hc, ".spec.networking.networkType")["enum"] == [
        "OpenShiftSDN", "Calico", "OVNKubernetes", "Other", "Flannel"
    ]
    assert node_at(hc, ".spec.services[].service")["enum"] == [
        "APIServer", "OAuthServer", "OIDC", "Konnectivity", "Ignition", "OVNSbDb"
    ]
    assert node_at(hc, ".spec.services[].servicePublishingStrategy.type")["enum"] == [
        "LoadBalancer", "NodePort", "Route", "None", "S3"
    ]
    assert node_at(hc, ".spec.secretEncryption.type")["enum"] == ["kms", "aescbc"]
    assert node_at(hc, ".spec.etcd.managementType")["enum"] == ["Managed", "Unmanaged"]
    assert node_at(hc, ".spec.platform.type")["enum"] == [
        "AWS", "Azure", "IBMCloud", "KubeVirt", "Agent", "PowerVS", "None", "OpenStack", "GCP", "KWOK", "Container"
    ]
    np = schema_by_kind["NodePool"]
    assert node_at(np, ".spec.management.upgradeType")["enum"] == ["Replace", "InPlace"]
    assert node_at(np, ".spec.management.replace.strategy")["enum"] == ["RollingUpdate", "OnDelete"]


def test_yaml_has_no_anchors_and_parses_back():
    rendered = render_yaml(crds())
    assert "&id" not in rendered and "*id" not in rendered
    assert list(yaml.safe_load_all(rendered)) == crds()


def test_module_entry_point_prints_all_crds():
    result = subprocess.run(
        [sys.executable, "-W", "error", "-m", "hcp.api.crd"], capture_output=True, text=True, check=True
    )
    assert result.stdout == render_yaml(crds())
    assert [doc["metadata"]["name"] for doc in yaml.safe_load_all(result.stdout)] == [
        "hostedclusters.hypershift.openshift.io",
        "nodepools.hypershift.openshift.io",
        "hostedcontrolplanes.hypershift.openshift.io",
        "hcpetcdbackups.hypershift.openshift.io",
        "certificaterevocationrequests.certificates.hypershift.openshift.io",
    ]


def test_generated_crds_match_golden_file():
    rendered = render_yaml(crds())
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(rendered)
    assert GOLDEN.exists(), f"{GOLDEN} is missing; generate it with UPDATE_GOLDEN=1"
    assert rendered == GOLDEN.read_text(), "the generated CRDs changed; review the diff and rerun with UPDATE_GOLDEN=1"
