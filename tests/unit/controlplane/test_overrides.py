"""HyperShift's resource-request override annotations on the rendered workloads (hcp.controlplane.overrides)."""

from __future__ import annotations

import copy

import pytest

from hcp.controlplane import RenderError, render
from hcp.controlplane.components.sizing import REQUESTS
from hcp.controlplane.overrides import apply_overrides, resource_overrides
from tests.unit.controlplane.conftest import SINGLE_REPLICA, make_context, make_hcp

PREFIX = "resource-request-override.hypershift.openshift.io"


def rendered_with(annotations: dict[str, str]) -> dict[str, dict]:
    document = copy.deepcopy(SINGLE_REPLICA)
    document["metadata"]["annotations"] = annotations
    objects = render(make_context(make_hcp(document)))
    return {f"{o['kind']}/{o['metadata']['name']}": o for o in objects}


def requests(objects: dict[str, dict], key: str, container: str) -> dict[str, str]:
    spec = objects[key]["spec"]["template"]["spec"]
    found = next(c for c in [*spec.get("initContainers", ()), *spec["containers"]] if c["name"] == container)
    return found["resources"]["requests"]


def default(workload: str, container: str) -> tuple[str, str]:
    return REQUESTS[(workload, container)]


def test_the_annotation_sets_the_requests_of_that_container_and_keeps_the_others():
    objects = rendered_with({f"{PREFIX}/kube-apiserver.kube-apiserver": "memory=3Gi,cpu=2000m",
                             f"{PREFIX}/etcd.etcd": "cpu=500m"})
    assert requests(objects, "Deployment/kube-apiserver", "kube-apiserver") == {"cpu": "2000m", "memory": "3Gi"}
    assert requests(objects, "StatefulSet/etcd", "etcd") == {"cpu": "500m", "memory": default("etcd", "etcd")[1]}
    assert requests(objects, "Deployment/kube-scheduler", "kube-scheduler") == dict(
        zip(("cpu", "memory"), default("kube-scheduler", "kube-scheduler")))


def test_without_annotations_the_render_is_unchanged():
    plain = rendered_with({})
    assert rendered_with({"unrelated": "x", f"{PREFIX}/no-such-workload.c": "cpu=1"}) == plain
    assert rendered_with({f"{PREFIX}/kube-apiserver.no-such-container": "cpu=1"}) == plain


def test_only_the_named_container_of_a_pod_changes():
    objects = rendered_with({f"{PREFIX}/kube-apiserver.konnectivity-server": "memory=64Mi"})
    assert requests(objects, "Deployment/kube-apiserver", "konnectivity-server")["memory"] == "64Mi"
    assert requests(objects, "Deployment/kube-apiserver", "kube-apiserver") == dict(
        zip(("cpu", "memory"), default("kube-apiserver", "kube-apiserver")))


def test_values_are_read_as_hypershift_writes_them():
    assert resource_overrides({f"{PREFIX}/kube-apiserver.kube-apiserver": "memory=3Gi, cpu=2",
                               f"{PREFIX}/my.dotted.name.main": "ephemeral-storage=1G,hugepages-2Mi=0.5e3"}) == {
        ("kube-apiserver", "kube-apiserver"): {"memory": "3Gi", "cpu": "2"},
        ("my.dotted.name", "main"): {"ephemeral-storage": "1G", "hugepages-2Mi": "0.5e3"},
    }
    assert resource_overrides(None) == {} == resource_overrides({"hypershift.openshift.io/restart-date": "x"})


@pytest.mark.parametrize(("key", "value", "problem"), [
    ("kube-apiserver.kube-apiserver", "memory", "is not a list of resource=quantity"),
    ("kube-apiserver.kube-apiserver", "memory=lots", "is not a list of resource=quantity"),
    ("kube-apiserver.kube-apiserver", "cpu=-1", "is not a list of resource=quantity"),
    ("kube-apiserver.kube-apiserver", "", "is not a list of resource=quantity"),
    ("kube-apiserver.kube-apiserver", "cpu=1,,", "is not a list of resource=quantity"),
    ("kube-apiserver", "cpu=1", "must be <deployment>.<container>"),
    ("kube-apiserver.", "cpu=1", "must be <deployment>.<container>"),
])
def test_an_annotation_that_cannot_be_read_is_a_render_error_naming_it(key, value, problem):
    with pytest.raises(RenderError, match=problem) as raised:
        resource_overrides({f"{PREFIX}/{key}": value})
    assert f"annotation {PREFIX}/{key}:" in str(raised.value)
    with pytest.raises(RenderError, match=problem):
        rendered_with({f"{PREFIX}/{key}": value})


def test_only_workloads_are_changed_and_requests_are_added_where_there_were_none():
    deployment = {"kind": "Deployment", "metadata": {"name": "d"},
                  "spec": {"template": {"spec": {"initContainers": [{"name": "c"}], "containers": [{"name": "m"}]}}}}
    config = {"kind": "ConfigMap", "metadata": {"name": "d"}, "data": {}}
    apply_overrides([deployment, config], {("d", "c"): {"cpu": "1"}})
    assert deployment["spec"]["template"]["spec"]["initContainers"] == [{"name": "c", "resources": {"requests": {"cpu": "1"}}}]
    assert deployment["spec"]["template"]["spec"]["containers"] == [{"name": "m"}]
    assert config == {"kind": "ConfigMap", "metadata": {"name": "d"}, "data": {}}


def test_every_rendered_container_takes_its_requests_from_the_sizing_table():
    """One table sizes every control-plane container (hcp.controlplane.components.sizing), so that the
    documented sizes are the rendered ones; a container missing from it would fail the render (KeyError)."""
    objects = rendered_with({})
    for key, obj in objects.items():
        if obj["kind"] not in ("Deployment", "StatefulSet"):
            continue
        spec = obj["spec"]["template"]["spec"]
        for each in [*spec.get("initContainers", ()), *spec["containers"]]:
            assert requests(objects, key, each["name"]) == dict(
                zip(("cpu", "memory"), REQUESTS[(obj["metadata"]["name"], each["name"])])), (key, each["name"])
