"""A whole-cluster bundle: what is saved of live objects, and how a restore renames them (pure)."""

from __future__ import annotations

import base64
import json

import pytest

from hcp.api.names import AUTO_CREATED_LABEL, HOSTED_CLUSTER_UID_LABEL, HOSTED_CONTROL_PLANE_LABEL
from hcp.backup.bundle import (
    PKI_SECRETS,
    RESTORED_FROM_ANNOTATION,
    Bundle,
    BundleError,
    referenced_secrets,
    renamer,
    restore_objects,
)


def _secret(name: str, namespace: str, **extra) -> dict:
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": name, "namespace": namespace, "uid": "u-" + name, "resourceVersion": "7",
                         "managedFields": [{"manager": "x"}], "creationTimestamp": "2026-01-01T00:00:00Z",
                         "ownerReferences": [{"kind": "HostedControlPlane", "name": "demo", "uid": "o"}], **extra},
            "data": {"k": base64.b64encode(name.encode()).decode()}}


def _cluster() -> dict:
    return {"apiVersion": "hypershift.openshift.io/v1beta1", "kind": "HostedCluster",
            "metadata": {"name": "demo", "namespace": "clusters", "uid": "hc-uid", "generation": 3,
                         "labels": {AUTO_CREATED_LABEL: "demo", "team": "a"},
                         "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}", "keep": "me"},
                         "finalizers": ["hypershift.openshift.io/finalizer"]},
            "spec": {"pullSecret": {"name": "demo-pull-secret"}, "sshKey": {"name": "shared-ssh"},
                     "secretEncryption": {"type": "aescbc", "aescbc": {"activeKey": {"name": "demo-etcd-key"}}},
                     "etcd": {"managementType": "Managed", "managed": {"storage": {"type": "PersistentVolume"}}},
                     "release": {"image": "registry/release:1.37"}},
            "status": {"conditions": [{"type": "Available", "status": "True"}]}}


def _pool(name: str, paused: str | None = None) -> dict:
    spec = {"clusterName": "demo", "replicas": 2, "platform": {"type": "KWOK"}}
    if paused:
        spec["pausedUntil"] = paused
    return {"apiVersion": "hypershift.openshift.io/v1beta1", "kind": "NodePool",
            "metadata": {"name": name, "namespace": "clusters", "uid": "np"}, "spec": spec,
            "status": {"replicas": 2}}


def _bundle() -> Bundle:
    user = {role: _secret(name, "clusters") for role, name in referenced_secrets(_cluster()).items()}
    cp = {name: _secret(name, "clusters-demo", labels={HOSTED_CONTROL_PLANE_LABEL: "clusters-demo"})
          for name in (*PKI_SECRETS, "kas-server-crt", "admin-kubeconfig")}
    return Bundle.collect(_cluster(), [_pool("demo"), _pool("gpu", paused="2030-01-01T00:00:00Z")], user, cp)


def test_saved_objects_keep_what_a_user_set_and_nothing_the_server_keeps():
    bundle = _bundle()
    assert set(bundle.cluster) == {"apiVersion", "kind", "metadata", "spec"}
    assert bundle.cluster["metadata"] == {"name": "demo", "namespace": "clusters",
                                          "labels": {AUTO_CREATED_LABEL: "demo", "team": "a"},
                                          "annotations": {"keep": "me"}}
    assert all("status" not in pool for pool in bundle.node_pools)
    pull = bundle.secrets["pull-secret"]
    assert pull["metadata"] == {"name": "demo-pull-secret", "namespace": "clusters"}
    assert pull["data"] == _secret("demo-pull-secret", "clusters")["data"]


def test_only_the_signers_and_the_service_account_key_of_the_control_plane_are_saved():
    saved = {role.split("/", 1)[1] for role in _bundle().secrets if role.startswith("control-plane/")}
    assert saved == set(PKI_SECRETS)
    assert "kas-server-crt" not in saved and "admin-kubeconfig" not in saved


def test_a_control_plane_without_its_signers_yet_cannot_be_backed_up():
    with pytest.raises(BundleError, match="no Secret root-ca"):
        Bundle.collect(_cluster(), [], {}, {})


def test_a_cluster_with_unmanaged_etcd_is_refused():
    cluster = _cluster()
    cluster["spec"]["etcd"] = {"managementType": "Unmanaged"}
    with pytest.raises(BundleError, match="unmanaged etcd"):
        Bundle.collect(cluster, [], {}, {})


def test_a_bundle_reads_back_as_it_was_written():
    bundle = _bundle()
    bundle.make_manifest(created_at="t", source_server="https://m", release_image="r", kubernetes_version="1.37.1",
                         etcd={"key": "1.db"}, files={}, hcp_version="0")
    back = Bundle.parse(json.dumps(bundle.manifest).encode(), bundle.cluster_document(), bundle.secrets_document(),
                        "here")
    assert back.cluster == bundle.cluster and back.node_pools == bundle.node_pools
    assert back.secrets == bundle.secrets
    kinds = [o["kind"] for o in back.manifest["objects"]]
    assert kinds.count("HostedCluster") == 1 and kinds.count("NodePool") == 2 and kinds.count("Secret") == 9


def test_a_file_that_is_not_a_bundle_is_one_clear_error():
    with pytest.raises(BundleError, match="not a ClusterBackup"):
        Bundle.parse(b'{"kind": "Other"}', b"", b"", "s3://b/x")
    with pytest.raises(BundleError, match="here: not a cluster backup"):
        Bundle.parse(b"{not json", b"", b"", "here")


def test_renaming_follows_the_cluster_name():
    rename = renamer("demo", "copy")
    assert rename("demo") == "copy"
    assert rename("demo-pull-secret") == "copy-pull-secret"
    assert rename("shared-ssh") == "copy-shared-ssh"
    assert renamer("demo", "demo")("shared-ssh") == "shared-ssh"


def test_a_restore_under_a_new_name_renames_the_cluster_its_secrets_and_pools_and_starts_paused():
    plan = restore_objects(_bundle(), namespace="dr", name="copy", snapshot_url="s3://b/k/1.db",
                           restored_from="s3://b/k", control_plane_namespace="dr-copy")
    kinds = [o["kind"] for o in plan.create]
    assert kinds[0] == "Namespace" and kinds[-1] == "HostedCluster"  # the commit point last
    cluster = plan.cluster
    assert cluster["metadata"]["name"] == "copy" and cluster["metadata"]["namespace"] == "dr"
    assert cluster["metadata"]["labels"][AUTO_CREATED_LABEL] == "copy"
    assert cluster["metadata"]["annotations"][RESTORED_FROM_ANNOTATION] == "s3://b/k"
    spec = cluster["spec"]
    assert spec["pullSecret"]["name"] == "copy-pull-secret"
    assert spec["sshKey"]["name"] == "copy-shared-ssh"
    assert spec["secretEncryption"]["aescbc"]["activeKey"]["name"] == "copy-etcd-key"
    assert spec["etcd"]["managed"]["storage"]["restoreSnapshotURL"] == ["s3://b/k/1.db"]
    assert spec["pausedUntil"] == "true"
    secrets = {o["metadata"]["name"] for o in plan.create if o["kind"] == "Secret"}
    assert secrets == {"copy-pull-secret", "copy-shared-ssh", "copy-etcd-key"}
    assert all(o["metadata"]["namespace"] == "dr" for o in plan.create[1:])
    pools = {p["metadata"]["name"]: p for p in plan.node_pools}
    assert set(pools) == {"copy", "copy-gpu"}
    assert all(p["spec"]["clusterName"] == "copy" and p["spec"]["pausedUntil"] == "true" for p in pools.values())
    assert plan.renamed_pools == {"demo": "copy", "gpu": "copy-gpu"}
    assert plan.paused_until == {"HostedCluster/copy": None, "NodePool/copy": None,
                                 "NodePool/copy-gpu": "2030-01-01T00:00:00Z"}


def test_the_control_plane_secrets_go_to_the_new_namespace_without_owner_or_old_marks():
    plan = restore_objects(_bundle(), namespace="dr", name="copy", snapshot_url="s3://b/k/1.db",
                           restored_from="x", control_plane_namespace="dr-copy")
    assert {s["metadata"]["name"] for s in plan.control_plane_secrets} == set(PKI_SECRETS)
    for secret in plan.control_plane_secrets:
        assert secret["metadata"]["namespace"] == "dr-copy"
        assert secret["metadata"]["labels"][HOSTED_CONTROL_PLANE_LABEL] == "dr-copy"
        assert HOSTED_CLUSTER_UID_LABEL not in secret["metadata"]["labels"]
        assert "ownerReferences" not in secret["metadata"]


def test_a_restore_under_the_same_name_keeps_every_name():
    plan = restore_objects(_bundle(), namespace="clusters", name="demo", snapshot_url="s3://b/k/1.db",
                           restored_from="x", control_plane_namespace="clusters-demo")
    assert plan.renamed_pools == {}
    assert plan.cluster["spec"]["pullSecret"]["name"] == "demo-pull-secret"
    assert plan.cluster["spec"]["sshKey"]["name"] == "shared-ssh"


def test_a_migration_saves_the_pause_the_objects_had_before_it_paused_them():
    cluster = _cluster()
    cluster["spec"]["pausedUntil"] = "true"
    bundle = Bundle.collect(cluster, [_pool("demo", paused="true")], {}, {name: _secret(name, "c") for name in PKI_SECRETS},
                            paused_until={"HostedCluster/demo": None, "NodePool/demo": "2030-01-01T00:00:00Z"})
    assert "pausedUntil" not in bundle.cluster["spec"]
    assert bundle.node_pools[0]["spec"]["pausedUntil"] == "2030-01-01T00:00:00Z"


def test_a_restore_on_another_management_cluster_publishes_node_ports_on_its_address():
    bundle = _bundle()
    bundle.cluster["spec"]["services"] = [
        {"service": "APIServer", "servicePublishingStrategy": {"type": "NodePort",
                                                               "nodePort": {"address": "10.0.0.1", "port": 30001}}},
        {"service": "OAuthServer", "servicePublishingStrategy": {"type": "Route"}},
    ]
    plan = restore_objects(bundle, namespace="clusters", name="demo", snapshot_url="s3://b/k/1.db",
                           restored_from="x", control_plane_namespace="clusters-demo", node_port_address="10.0.0.2")
    services = plan.cluster["spec"]["services"]
    assert services[0]["servicePublishingStrategy"] == {"type": "NodePort", "nodePort": {"address": "10.0.0.2"}}
    assert services[1]["servicePublishingStrategy"] == {"type": "Route"}
    same = restore_objects(bundle, namespace="clusters", name="demo", snapshot_url="s3://b/k/1.db",
                           restored_from="x", control_plane_namespace="clusters-demo")
    assert same.cluster["spec"]["services"][0]["servicePublishingStrategy"]["nodePort"]["port"] == 30001
