"""Work-queue keys."""

from __future__ import annotations

from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import ConfigMap, Namespace

from hcp.kube.objects import make_key, object_key, split_key


def test_namespaced_keys_round_trip():
    assert make_key("clusters", "demo") == "clusters/demo"
    assert split_key("clusters/demo") == ("clusters", "demo")


def test_cluster_scoped_keys_have_no_namespace():
    assert make_key(None, "clusters-demo") == "clusters-demo"
    assert split_key("clusters-demo") == (None, "clusters-demo")


def test_object_key_reads_the_metadata():
    assert object_key(ConfigMap(metadata=ObjectMeta(name="a", namespace="ns"))) == "ns/a"
    assert object_key(Namespace(metadata=ObjectMeta(name="ns"))) == "ns"
