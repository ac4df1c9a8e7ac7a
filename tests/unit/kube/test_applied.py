"""Which applies a pass may skip (hcp.kube.applied): only those that would change nothing on either side."""

from __future__ import annotations

from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import ConfigMap

from hcp.kube.applied import AppliedObjects


def body(value: str = "a", name: str = "settings", namespace: str = "cp") -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": namespace},
            "data": {"key": value}}


def live(version: str, name: str = "settings", namespace: str = "cp") -> ConfigMap:
    return ConfigMap(metadata=ObjectMeta(name=name, namespace=namespace, resourceVersion=version), data={"key": "a"})


def test_an_object_never_applied_here_is_applied():
    assert not AppliedObjects().unchanged(body(), live("7"))


def test_an_object_unchanged_since_applied_is_skipped():
    applied = AppliedObjects()
    applied.remember(body(), live("7"))
    assert applied.unchanged(body(), live("7"))
    assert applied.unchanged({**body(), "metadata": {"namespace": "cp", "name": "settings"}}, live("7"))  # key order


def test_a_new_render_is_applied():
    applied = AppliedObjects()
    applied.remember(body("a"), live("7"))
    assert not applied.unchanged(body("b"), live("7"))


def test_an_object_someone_else_changed_or_deleted_is_applied():
    applied = AppliedObjects()
    applied.remember(body(), live("7"))
    assert not applied.unchanged(body(), live("8"))  # edited: the server gave it another version
    assert not applied.unchanged(body(), None)  # deleted: not in the cache


def test_an_answer_without_a_version_is_not_remembered():
    applied = AppliedObjects()
    applied.remember(body(), live("7"))
    applied.remember(body(), {"metadata": {}})
    assert not applied.unchanged(body(), live("7"))


def test_a_gone_control_plane_is_forgotten_and_only_its_namespace():
    applied = AppliedObjects()
    applied.remember(body(namespace="cp"), live("7", namespace="cp"))
    applied.remember(body(namespace="other"), live("3", namespace="other"))
    applied.forget("cp")
    assert len(applied) == 1
    assert not applied.unchanged(body(namespace="cp"), live("7", namespace="cp"))
    assert applied.unchanged(body(namespace="other"), live("3", namespace="other"))
