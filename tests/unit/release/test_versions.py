"""Supported versions, the Release record, and the supported-versions ConfigMap."""

import pytest

from hcp.upstream.binaries import TOOLSETS
from hcp.release import (
    Release,
    ReleaseError,
    check_supported,
    newest_release_image,
    supported_versions,
    supported_versions_configmap,
)
from hcp.release import versions

MINORS = [".".join(TOOLSETS[t].version[1:].split(".")[:2]) for t in ("kubernetes", "kubernetes-1.36")]


def _release(version="1.37.1", **components):
    return Release("registry.hcp.internal:5000/hcp/release:v" + version, version, components)


def test_supported_versions_are_the_toolset_minors_newest_first():
    assert supported_versions() == MINORS
    assert supported_versions() == sorted(MINORS, key=lambda m: tuple(map(int, m.split("."))), reverse=True)


def test_supported_versions_order_does_not_depend_on_toolset_order(monkeypatch):
    monkeypatch.setattr(versions, "KUBERNETES_TOOLSETS", ("kubernetes-1.36", "kubernetes"))
    assert supported_versions() == MINORS
    assert newest_release_image("r:5000") == f"r:5000/hcp/release:{TOOLSETS['kubernetes'].version}"


def test_versions_order_numerically(monkeypatch):
    monkeypatch.setattr(versions, "release_version", {"a": "1.9.3", "b": "1.10.0-rc.1", "c": "1.10.2"}.get)
    monkeypatch.setattr(versions, "KUBERNETES_TOOLSETS", ("a", "b", "c"))
    assert supported_versions() == ["1.10", "1.9"]


def test_newest_release_image_is_on_the_given_registry():
    assert newest_release_image("registry.hcp.internal:5000") == (
        f"registry.hcp.internal:5000/hcp/release:{TOOLSETS['kubernetes'].version}"
    )


def test_check_supported():
    for minor in supported_versions():
        check_supported(_release(minor + ".0"))
    with pytest.raises(ReleaseError) as raised:
        check_supported(_release("1.35.2"))
    assert str(raised.value) == (
        "release image registry.hcp.internal:5000/hcp/release:v1.35.2: Kubernetes 1.35 is not supported; "
        f"supported versions: {', '.join(supported_versions())}"
    )


def test_release_component():
    release = _release(etcd="r/hcp/etcd:v3")
    assert release.minor == "1.37"
    assert release.component("etcd") == "r/hcp/etcd:v3"
    with pytest.raises(ReleaseError) as raised:
        release.component("kube-apiserver")
    assert str(raised.value) == (
        "release image registry.hcp.internal:5000/hcp/release:v1.37.1 (Kubernetes 1.37.1) has no kube-apiserver "
        "image; it lists etcd"
    )


def test_release_is_immutable_and_hashable():
    components = {"etcd": "r/hcp/etcd:v3"}
    release = _release(**components)
    components["etcd"] = "changed"
    assert release.component("etcd") == "r/hcp/etcd:v3"
    with pytest.raises(TypeError):
        release.components["etcd"] = "changed"
    assert release == _release(etcd="r/hcp/etcd:v3")
    assert len({release, _release(etcd="r/hcp/etcd:v3")}) == 1


def test_supported_versions_configmap_matches_hypershift():
    assert supported_versions_configmap("2f6cfe21a0861dea3130f3bed0d3ae5553b8c28b") == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "supported-versions",
            "namespace": "hypershift",
            "labels": {"hypershift.openshift.io/supported-versions": "true"},
        },
        "data": {
            "supported-versions": '{"versions":[' + ",".join(f'"{m}"' for m in MINORS) + "]}",
            "server-version": "2f6cfe21a0861dea3130f3bed0d3ae5553b8c28b",
        },
    }
