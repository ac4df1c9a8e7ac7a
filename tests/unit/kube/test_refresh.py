"""The digest of what a pod mounts and the patch that makes the kubelet rewrite its files (hcp.kube.refresh)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from hcp.kube.refresh import MOUNTED_CONTENT_ANNOTATION, MountRefresh, content_digest, mounted_keys, patch_for

NAMESPACE = "clusters-a"


def pod_with(*volumes, annotations=None, deleting=False) -> dict:
    metadata = {"name": "kube-apiserver-1", "namespace": NAMESPACE, "annotations": annotations or {}}
    if deleting:
        metadata["deletionTimestamp"] = "2026-12-07T00:00:00Z"
    return {"metadata": metadata, "spec": {"volumes": list(volumes)}}


def secret_volume(name, *keys):
    source = {"secretName": name}
    if keys:
        source["items"] = [{"key": key, "path": key} for key in keys]
    return {"name": name, "secret": source}


def config_map_volume(name):
    return {"name": name, "configMap": {"name": name}}


def lookup_of(objects: dict) -> callable:
    return lambda kind, namespace, name: objects.get((kind, namespace, name))


WORLD = {("Secret", NAMESPACE, "client-ca"): {"ca.crt": "b2xk", "tls.key": "a2V5"},
         ("ConfigMap", NAMESPACE, "auth-config"): {"auth.yaml": "providers: []"}}


def test_every_secret_and_config_map_source_is_found_with_the_keys_it_mounts():
    spec = {"volumes": [
        secret_volume("client-ca", "ca.crt"),
        config_map_volume("auth-config"),
        {"name": "token", "projected": {"sources": [
            {"serviceAccountToken": {"path": "token"}},
            {"secret": {"name": "kubeconfig", "items": [{"key": "value", "path": "kubeconfig"}]}},
            {"configMap": {"name": "kube-root-ca.crt"}}]}},
        {"name": "data", "emptyDir": {}},
    ]}
    assert mounted_keys(spec) == [("ConfigMap", "auth-config", None), ("ConfigMap", "kube-root-ca.crt", None),
                                  ("Secret", "client-ca", ("ca.crt",)), ("Secret", "kubeconfig", ("value",))]


def test_the_digest_follows_only_the_mounted_keys():
    mounts = mounted_keys({"volumes": [secret_volume("client-ca", "ca.crt")]})
    before = content_digest(NAMESPACE, mounts, lookup_of(WORLD))
    leaf_renewed = {**WORLD, ("Secret", NAMESPACE, "client-ca"): {"ca.crt": "b2xk", "tls.key": "bmV3"}}
    assert content_digest(NAMESPACE, mounts, lookup_of(leaf_renewed)) == before
    bundle_changed = {**WORLD, ("Secret", NAMESPACE, "client-ca"): {"ca.crt": "bmV3", "tls.key": "a2V5"}}
    assert content_digest(NAMESPACE, mounts, lookup_of(bundle_changed)) != before


def test_an_object_the_caches_do_not_hold_never_changes_the_digest():
    mounts = mounted_keys({"volumes": [config_map_volume("kube-root-ca.crt")]})
    assert content_digest(NAMESPACE, mounts, lookup_of({})) == content_digest(NAMESPACE, mounts, lookup_of({}))
    appeared = {("ConfigMap", NAMESPACE, "kube-root-ca.crt"): {"ca.crt": "x"}}
    assert content_digest(NAMESPACE, mounts, lookup_of(appeared)) != content_digest(NAMESPACE, mounts, lookup_of({}))


def test_a_pod_is_patched_once_to_the_digest_and_again_only_after_a_change():
    pod = pod_with(config_map_volume("auth-config"))
    patch = patch_for(pod, lookup_of(WORLD))
    digest = patch["metadata"]["annotations"][MOUNTED_CONTENT_ANNOTATION]
    assert patch == {"metadata": {"annotations": {MOUNTED_CONTENT_ANNOTATION: digest}}}
    patched = pod_with(config_map_volume("auth-config"), annotations={MOUNTED_CONTENT_ANNOTATION: digest})
    assert patch_for(patched, lookup_of(WORLD)) is None
    changed = {**WORLD, ("ConfigMap", NAMESPACE, "auth-config"): {"auth.yaml": "providers: [oidc]"}}
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


def test_the_controller_reads_the_caches_and_patches_the_pod_with_a_merge_patch():
    from lightkube.resources.core_v1 import ConfigMap, Pod

    pod = Pod.from_dict({"metadata": {"name": "kas", "namespace": NAMESPACE},
                         "spec": {"containers": [{"name": "c"}], "volumes": [config_map_volume("auth-config")]}})
    config_map = ConfigMap.from_dict({"metadata": {"name": "auth-config", "namespace": NAMESPACE},
                                      "data": {"auth.yaml": "providers: []"}})
    client = RecordingClient()
    refresh = MountRefresh(client, pods=[FakeInformer(), FakeInformer(pod)], secrets=[],
                           config_maps=[FakeInformer(config_map)])
    asyncio.run(refresh.reconcile(f"{NAMESPACE}/kas"))
    asyncio.run(refresh.reconcile(f"{NAMESPACE}/gone"))
    expected = patch_for({"metadata": {"namespace": NAMESPACE}, "spec": {"volumes": [config_map_volume("auth-config")]}},
                         lookup_of({("ConfigMap", NAMESPACE, "auth-config"): {"auth.yaml": "providers: []"}}))
    assert client.patches == [("Pod", NAMESPACE, "kas", expected, "application/merge-patch+json")]
