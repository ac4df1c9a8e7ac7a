"""Mapping secondary objects to the keys of the primary objects they affect."""

from __future__ import annotations

from lightkube.models.meta_v1 import ObjectMeta, OwnerReference
from lightkube.resources.core_v1 import ConfigMap, Pod

from hcp.api import HostedControlPlane
from hcp.kube.apply import resource_of
from hcp.kube.informer import annotation_keys, namespace_label_keys, owner_keys


def test_owner_keys_follow_owner_references_of_one_kind_in_the_same_namespace():
    owned = ConfigMap(metadata=ObjectMeta(name="etcd-config", namespace="clusters-demo", ownerReferences=[
        OwnerReference(apiVersion="hypershift.openshift.io/v1beta1", kind="HostedControlPlane", name="demo", uid="1"),
        OwnerReference(apiVersion="apps/v1", kind="StatefulSet", name="etcd", uid="2"),
    ]))
    assert owner_keys("HostedControlPlane")(owned) == ["clusters-demo/demo"]
    assert owner_keys("NodePool")(owned) == []
    assert owner_keys("HostedControlPlane")(ConfigMap(metadata=ObjectMeta(name="x", namespace="ns"))) == []


def test_annotation_keys_point_across_namespaces():
    hcp = resource_of(HostedControlPlane)({
        "metadata": {"name": "demo", "namespace": "clusters-demo",
                     "annotations": {"hypershift.openshift.io/cluster": "clusters/demo"}},
    })
    assert annotation_keys("hypershift.openshift.io/cluster")(hcp) == ["clusters/demo"]
    assert annotation_keys("hypershift.openshift.io/other")(hcp) == []


def test_namespace_label_keys_find_the_primary_objects_of_the_labelled_namespace():
    class Primaries:
        """Stands in for the primary kind's informer cache."""

        def list(self, namespace=None):
            objects = [resource_of(HostedControlPlane)({"metadata": {"name": n, "namespace": ns}})
                       for ns, n in (("clusters-demo", "demo"), ("clusters-other", "other"))]
            return [o for o in objects if namespace is None or o.metadata.namespace == namespace]

    mapper = namespace_label_keys("hypershift.openshift.io/hosted-control-plane", Primaries())
    pod = Pod(metadata=ObjectMeta(name="kube-apiserver-0", namespace="clusters-demo",
                                  labels={"hypershift.openshift.io/hosted-control-plane": "clusters-demo"}))
    assert mapper(pod) == ["clusters-demo/demo"]
    assert mapper(Pod(metadata=ObjectMeta(name="unrelated", namespace="clusters-demo"))) == []
