"""HyperShift API fidelity against a real API server (issue 11, req 6): a HostedCluster and a NodePool
written for HyperShift are stored unchanged (nothing pruned), the removal rules refuse with HyperShift's
messages, and a platform hcp does not have is refused naming those it has.

Needs only the bare API server with hcp's CRDs (tests/integration/apiserver.py), no management cluster:

    PYTHONPATH=src .venv/bin/pytest tests/integration/test_api_fidelity.py -q
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from lightkube.core.exceptions import ApiError
from lightkube.resources.core_v1 import Namespace

from hcp.api import HostedCluster, NodePool
from hcp.kube.apply import resource_of
from tests.hypershift_manifests import HOSTED_CLUSTER, NODE_POOL, hosted_cluster_with_hypershift_only_fields
from tests.integration.apiserver import BareAPIServer

MODELS = {"HostedCluster": HostedCluster, "NodePool": NodePool}
FIELD_MANAGER = "fidelity-test"
PLATFORMS_HCP_HAS = "hcp has the platforms KWOK, None and Container"


@pytest.fixture(scope="module")
def namespace(bare_apiserver: BareAPIServer) -> Iterator[str]:
    name = f"fidelity-{uuid.uuid4().hex[:6]}"
    bare_apiserver.client.create(Namespace(metadata={"name": name}))
    yield name
    bare_apiserver.client.delete(Namespace, name)


def in_namespace(document: dict[str, Any], namespace: str, name: str | None = None) -> dict[str, Any]:
    document = copy.deepcopy(document)
    document["metadata"]["namespace"] = namespace
    if name:
        document["metadata"]["name"] = name
    return document


def apply(server: BareAPIServer, document: dict[str, Any]) -> dict[str, Any]:
    resource = resource_of(MODELS[document["kind"]])
    server.client.apply(resource(copy.deepcopy(document)), namespace=document["metadata"]["namespace"],
                        field_manager=FIELD_MANAGER, force=True)
    stored = server.client.get(resource, document["metadata"]["name"], namespace=document["metadata"]["namespace"])
    return stored.to_dict() if hasattr(stored, "to_dict") else dict(stored)


def missing_or_changed(sent: Any, stored: Any, path: str = "") -> list[str]:
    """Paths of `sent` that `stored` lacks or holds differently (fields the server added, e.g. defaults, are fine)."""
    if isinstance(sent, dict):
        if not isinstance(stored, dict):
            return [path]
        return [p for key, value in sent.items()
                for p in ([f"{path}.{key}"] if key not in stored else missing_or_changed(value, stored[key], f"{path}.{key}"))]
    if isinstance(sent, list):
        if not isinstance(stored, list) or len(stored) != len(sent):
            return [path]
        return [p for i, (a, b) in enumerate(zip(sent, stored)) for p in missing_or_changed(a, b, f"{path}[{i}]")]
    return [] if sent == stored else [path]


def refusal(server: BareAPIServer, document: dict[str, Any], *, update: bool = False) -> str:
    resource = resource_of(MODELS[document["kind"]])
    try:
        if update:
            server.client.replace(resource(copy.deepcopy(document)), namespace=document["metadata"]["namespace"])
        else:
            server.client.create(resource(copy.deepcopy(document)), namespace=document["metadata"]["namespace"],
                                 dry_run=True)
    except ApiError as error:
        assert error.status.code == 422, error.status
        return error.status.message
    pytest.fail(f"the API server admitted {document['kind']} {document['metadata']['name']}")


@pytest.mark.parametrize("document", [HOSTED_CLUSTER, hosted_cluster_with_hypershift_only_fields(), NODE_POOL],
                         ids=["rendered", "hypershift-only", "nodepool"])
def test_a_manifest_written_for_hypershift_is_stored_unchanged(bare_apiserver, namespace, document):
    document = in_namespace(document, namespace)
    stored = apply(bare_apiserver, document)
    assert missing_or_changed(document["spec"], stored["spec"], ".spec") == []


@pytest.mark.parametrize(("path", "message"), [
    (("spec", "clusterID"), "clusterID cannot be removed once set"),
    (("spec", "infraID"), "infraID cannot be removed once set"),
    (("spec", "secretEncryption"), "secretEncryption cannot be removed once configured"),
])
def test_set_once_fields_cannot_be_removed(bare_apiserver, namespace, path, message):
    name = f"removal-{path[-1].lower()}"
    stored = apply(bare_apiserver, in_namespace(HOSTED_CLUSTER, namespace, name))
    changed = copy.deepcopy(stored)
    changed["spec"].pop(path[-1])
    assert message in refusal(bare_apiserver, changed, update=True)


def test_restore_snapshot_url_cannot_be_removed(bare_apiserver, namespace):
    document = in_namespace(HOSTED_CLUSTER, namespace, "removal-restore")
    document["spec"]["etcd"]["managed"]["storage"]["restoreSnapshotURL"] = ["s3://backups/etcd/snapshot.db"]
    stored = apply(bare_apiserver, document)
    changed = copy.deepcopy(stored)
    changed["spec"]["etcd"]["managed"]["storage"].pop("restoreSnapshotURL")
    assert "restoreSnapshotURL cannot be added or removed after creation" in refusal(
        bare_apiserver, changed, update=True)


def test_capabilities_cannot_change(bare_apiserver, namespace):
    stored = apply(bare_apiserver, in_namespace(HOSTED_CLUSTER, namespace, "capabilities"))
    changed = copy.deepcopy(stored)
    changed["spec"]["capabilities"] = {"disabled": ["ImageRegistry"]}
    assert "Capabilities is immutable. Changes might result in unpredictable and disruptive behavior." in refusal(
        bare_apiserver, changed, update=True)


@pytest.mark.parametrize("platform", ["AWS", "Azure", "KubeVirt", "OpenStack"])
@pytest.mark.parametrize("document", [HOSTED_CLUSTER, NODE_POOL], ids=["hostedcluster", "nodepool"])
def test_a_platform_hcp_does_not_have_is_refused_naming_those_it_has(bare_apiserver, namespace, document, platform):
    document = in_namespace(document, namespace, f"platform-{platform.lower()}")
    document["spec"]["platform"]["type"] = platform
    assert "platform type must be KWOK, None or Container, the platforms hcp has" in refusal(bare_apiserver, document)


@pytest.mark.parametrize("field", ["aws", "kubevirt", "agent"])
def test_settings_of_a_platform_hcp_does_not_have_are_refused_not_pruned(bare_apiserver, namespace, field):
    document = in_namespace(HOSTED_CLUSTER, namespace, f"settings-{field}")
    document["spec"]["platform"][field] = {"region": "us-east-1"}
    message = refusal(bare_apiserver, document)
    assert f"{field} is the setting of platform" in message and PLATFORMS_HCP_HAS in message
