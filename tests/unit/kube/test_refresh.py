"""What a pod mounts, the digest of their versions and the patch that makes the kubelet rewrite its files
(hcp.kube.refresh)."""

from __future__ import annotations

import asyncio

from lightkube.resources.core_v1 import ConfigMap, Pod

from hcp.kube.refresh import MOUNTED_CONTENT_ANNOTATION, MountRefresh, mounted_objects, patch_for, versions_digest

NAMESPACE = "clusters-a"


def pod_with(*volumes, annotations=None, deleting=False) -> dict:
    metadata = {"name": "kube-apiserver-1", "namespace": NAMESPACE, "annotations": annotations or {}}
    if deleting:
        metadata["deletionTimestamp"] = "2026-12-07T00:00:00Z"
    return {"metadata": metadata, "spec": {"volumes": list(volumes)}}


def config_map_volume(name):
    return {"name": name, "configMap": {"name": name}}


def lookup_of(versions: dict) -> callable:
    return lambda kind, namespace, name: versions.get((kind, namespace, name))


WORLD = {("Secret", NAMESPACE, "client-ca"): "uid-1/100", ("ConfigMap", NAMESPACE, "auth-config"): "uid-2/200"}


def test_every_secret_and_config_map_source_is_found_once():
    spec = {"volumes": [
        {"name": "ca", "secret": {"secretName": "client-ca", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
        {"name": "ca-again", "secret": {"secretName": "client-ca"}},
        config_map_volume("auth-config"),
        {"name": "token", "projected": {"sources": [
            {"serviceAccountToken": {"path": "token"}},
            {"secret": {"name": "kubeconfig", "items": [{"key": "value", "path": "kubeconfig"}]}},
            {"configMap": {"name": "kube-root-ca.crt"}}]}},
        {"name": "data", "emptyDir": {}},
    ]}
    assert mounted_objects(spec) == [("ConfigMap", "auth-config"), ("ConfigMap", "kube-root-ca.crt"),
                                     ("Secret", "client-ca"), ("Secret", "kubeconfig")]


def test_the_digest_follows_the_versions_and_is_stable_for_objects_the_caches_do_not_hold():
    mounts = [("ConfigMap", "auth-config"), ("ConfigMap", "kube-root-ca.crt")]
    before = versions_digest(NAMESPACE, mounts, lookup_of(WORLD))
    assert versions_digest(NAMESPACE, mounts, lookup_of(WORLD)) == before
    changed = {**WORLD, ("ConfigMap", NAMESPACE, "auth-config"): "uid-2/201"}
    assert versions_digest(NAMESPACE, mounts, lookup_of(changed)) != before
    recreated = {**WORLD, ("ConfigMap", NAMESPACE, "auth-config"): "uid-3/200"}
    assert versions_digest(NAMESPACE, mounts, lookup_of(recreated)) != before


def test_a_pod_is_patched_once_to_the_digest_and_again_only_after_a_change():
    pod = pod_with(config_map_volume("auth-config"))
    patch = patch_for(pod, lookup_of(WORLD))
    digest = patch["metadata"]["annotations"][MOUNTED_CONTENT_ANNOTATION]
    assert patch == {"metadata": {"annotations": {MOUNTED_CONTENT_ANNOTATION: digest}}}
    patched = pod_with(config_map_volume("auth-config"), annotations={MOUNTED_CONTENT_ANNOTATION: digest})
    assert patch_for(patched, lookup_of(WORLD)) is None
    changed = {**WORLD, ("ConfigMap", NAMESPACE, "auth-config"): "uid-2/201"}
    assert patch_for(patched, lookup_of(changed))["metadata"]["annotations"][MOUNTED_CONTENT_ANNOTATION] != digest


def test_pods_going_away_or_mounting_nothing_are_left_alone():
    assert patch_for(pod_with(config_map_volume("auth-config"), deleting=True), lookup_of(WORLD)) is None
    assert patch_for(pod_with({"name": "data", "emptyDir": {}}), lookup_of(WORLD)) is None


class FakeInformer:
    """A cache holding fixed objects (the informer's read side only)."""

    def __init__(self, *objects):
        self.objects = {(obj.metadata.namespace, obj.metadata.name): obj for obj in objects}

    def get(self, namespace, name):
        return self.objects.get((namespace, name))


class RecordingClient:
    def __init__(self):
        self.patches = []

    async def patch(self, resource, name, patch, *, namespace, patch_type):
        self.patches.append((resource.__name__, namespace, name, patch, patch_type.value))


def test_the_controller_reads_versions_from_the_caches_and_patches_the_pod_with_a_merge_patch():
    pod = Pod.from_dict({"metadata": {"name": "kas", "namespace": NAMESPACE},
                         "spec": {"containers": [{"name": "c"}], "volumes": [config_map_volume("auth-config")]}})
    config_map = ConfigMap.from_dict({"metadata": {"name": "auth-config", "namespace": NAMESPACE, "uid": "uid-2",
                                                   "resourceVersion": "200"},
                                      "data": {"auth.yaml": "providers: []"}})
    client = RecordingClient()
    refresh = MountRefresh(client, pods=[FakeInformer(), FakeInformer(pod)], secrets=[],
                           config_maps=[FakeInformer(config_map)])
    asyncio.run(refresh.reconcile(f"{NAMESPACE}/kas"))
    asyncio.run(refresh.reconcile(f"{NAMESPACE}/gone"))
    expected = patch_for(pod_with(config_map_volume("auth-config")), lookup_of(WORLD))
    assert client.patches == [("Pod", NAMESPACE, "kas", expected, "application/merge-patch+json")]
    # Versions, never content: the same version with other data gives the same digest.
    config_map.data = {"auth.yaml": "providers: [other]"}
    assert refresh.lookup("ConfigMap", NAMESPACE, "auth-config") == "uid-2/200"
