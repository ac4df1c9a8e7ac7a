"""Removing a setting removes what it rendered: the control plane's leftovers (hcp.controlplane.render)."""

from __future__ import annotations

import base64
import dataclasses

import pytest
import yaml

from hcp.controlplane import render
from hcp.controlplane.components import COMPONENTS
from hcp.controlplane.labels import RENDERED_BY_LABEL
from hcp.controlplane.render import KINDS, leftovers, render_component
from hcp.kube.leftovers import LiveObject, object_key
from tests.unit.controlplane.conftest import NAMESPACE

ENCRYPTION_CONFIG = ("Secret", NAMESPACE, "kas-secret-encryption-config")


def live(objects: list[dict]) -> list[LiveObject]:
    """The objects as the controller lists them back: key and RENDERED_BY_LABEL."""
    return [LiveObject(object_key(obj), obj["metadata"]["labels"][RENDERED_BY_LABEL]) for obj in objects]


def keys(objects: list[dict]) -> set:
    return {object_key(obj) for obj in objects}


def args(objects: list[dict], deployment: str) -> list[str]:
    found = next(o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"] == deployment)
    return next(c for c in found["spec"]["template"]["spec"]["containers"] if c["name"] == deployment)["args"]


@pytest.mark.parametrize("fixture", ["single_ctx", "ha_ctx"])
def test_every_object_is_labelled_with_its_component_and_of_a_kind_listed_for_leftovers(fixture, request):
    ctx = request.getfixturevalue(fixture)
    listed = set(KINDS)
    for component in COMPONENTS:
        for obj in render_component(ctx, component):
            assert obj["metadata"]["labels"][RENDERED_BY_LABEL] == component.name
            assert (obj["apiVersion"], obj["kind"]) in listed, f"{obj['kind']} is not in render.KINDS"


def test_an_unchanged_render_leaves_nothing_to_remove(ha_ctx):
    objects = render(ha_ctx)
    assert leftovers(keys(objects), live(objects)) == []


def test_removing_secret_encryption_removes_the_encryption_configuration_and_the_api_server_stops_reading_it(ha_ctx):
    before = render(ha_ctx)
    assert ENCRYPTION_CONFIG in keys(before)
    hcp = ha_ctx.hcp.model_copy(deep=True)
    hcp.spec.secret_encryption = None
    after = render(dataclasses.replace(ha_ctx, hcp=hcp))
    assert [obj.key for obj in leftovers(keys(after), live(before))] == [ENCRYPTION_CONFIG]
    assert not [a for a in args(after, "kube-apiserver") if a.startswith("--encryption-provider-config")]


def test_dropping_the_backup_key_after_a_rotation_keeps_the_configuration_with_the_active_key_only(ha_ctx):
    hcp = ha_ctx.hcp.model_copy(deep=True)
    hcp.spec.secret_encryption.aescbc.backup_key = None
    after = render(dataclasses.replace(ha_ctx, hcp=hcp))
    assert leftovers(keys(after), live(render(ha_ctx))) == []
    secret = next(o for o in after if object_key(o) == ENCRYPTION_CONFIG)
    config = yaml.safe_load(base64.b64decode(secret["data"]["config.yaml"]))
    providers = config["resources"][0]["providers"]
    assert len(providers[0]["aescbc"]["keys"]) == 1 and providers[1] == {"identity": {}}


def test_a_single_replica_control_plane_leaves_no_disruption_budgets(ha_ctx, single_ctx):
    before, after = render(ha_ctx), render(single_ctx)
    removed = [obj.key for obj in leftovers(keys(after), live(before))]
    assert ("PodDisruptionBudget", NAMESPACE, "kube-apiserver") in removed
    assert ("PodDisruptionBudget", NAMESPACE, "etcd") in removed
    # Workloads and disruption budgets go before the configuration they use.
    kinds = [key[0] for key in removed]
    assert kinds.index("PodDisruptionBudget") < min(kinds.index(k) for k in ("Secret", "ConfigMap") if k in kinds)
