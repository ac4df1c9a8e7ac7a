"""Control-plane pods pull with the install's pull secret when the registry wants a login, and only then."""

from __future__ import annotations

import dataclasses

from hcp.controlplane.controller import PULL_SECRET
from hcp.controlplane.render import render


def pods(ctx):
    return [obj["spec"]["template"]["spec"] for obj in render(ctx) if obj["kind"] in ("Deployment", "StatefulSet")]


def test_every_control_plane_pod_pulls_with_the_pull_secret(single_ctx, ha_ctx):
    for ctx in (single_ctx, ha_ctx):
        specs = pods(dataclasses.replace(ctx, image_pull_secret=PULL_SECRET))
        assert specs and all(spec["imagePullSecrets"] == [{"name": PULL_SECRET}] for spec in specs)


def test_without_a_login_no_pod_names_a_pull_secret(single_ctx):
    assert all("imagePullSecrets" not in spec for spec in pods(single_ctx))
