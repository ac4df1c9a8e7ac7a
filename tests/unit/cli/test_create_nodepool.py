"""`hcp create nodepool kwok`: rendering, creating, and refusing a release newer than the control plane."""

from __future__ import annotations

import pytest

from hcp.hostedcluster.objects import release_version
from tests.unit.cli import world
from tests.unit.cli.conftest import assert_golden

NEWER = "registry.hcp.internal:5000/hcp/release:v1.38.0"
OLDER = "registry.hcp.internal:5000/hcp/release:v1.36.4"


@pytest.fixture
def cluster(api):
    api.add(world.namespace("clusters"))
    return api.add(world.hosted_cluster(available=True))


def test_render(hcp, cluster):
    result = hcp("create", "nodepool", "kwok", "--cluster-name", "demo", "--name", "big", "--node-count", "3",
                 "--cpu", "16", "--memory", "64Gi", "--max-pods", "250", "--auto-repair", "--node-drain-timeout",
                 "90s", "--render")
    assert result.code == 0, result.err
    assert_golden("create-nodepool-render.yaml", result.out)


def test_create_defaults_to_the_clusters_release(hcp, api, cluster):
    result = hcp("create", "nodepool", "kwok", "--cluster-name", "demo", "--name", "big")
    assert result.code == 0, result.err
    assert result.out == "NodePool clusters/big created; watch it with `kubectl -n clusters get nodepool big`\n"
    pool = api.get("NodePool", "big", "clusters")
    assert pool["spec"]["release"] == {"image": world.RELEASE}
    assert pool["spec"]["replicas"] == 2


def test_an_older_release_is_allowed(hcp, api, cluster):
    result = hcp("create", "nodepool", "kwok", "--cluster-name", "demo", "--name", "old", "--release-image", OLDER)
    assert result.code == 0, result.err


@pytest.mark.parametrize("render", [[], ["--render"]])
def test_a_newer_release_is_refused(hcp, api, cluster, render):
    result = hcp("create", "nodepool", "kwok", "--cluster-name", "demo", "--name", "new", "--release-image", NEWER,
                 *render)
    assert result.code == 1
    assert result.err == (f"error: release image {NEWER} (Kubernetes 1.38.0) is newer than the control plane of "
                          "HostedCluster clusters/demo (Kubernetes 1.37.1); update the HostedCluster's release "
                          "first or pass an older --release-image\n")
    assert api.get("NodePool", "new", "clusters") is None


def test_the_control_plane_version_comes_from_the_tag_before_it_reports_one(hcp, api):
    api.add(world.hosted_cluster(release=OLDER))
    result = hcp("create", "nodepool", "kwok", "--cluster-name", "demo", "--name", "new",
                 "--release-image", world.RELEASE)
    assert result.code == 1
    assert "(Kubernetes 1.37.1) is newer than the control plane" in result.err


def test_existing_nodepool(hcp, api, cluster):
    hcp("create", "nodepool", "kwok", "--cluster-name", "demo", "--name", "big")
    result = hcp("create", "nodepool", "kwok", "--cluster-name", "demo", "--name", "big")
    assert result.code == 1
    assert result.err == ("error: NodePool clusters/big already exists; scale it with "
                          "`kubectl -n clusters scale nodepool/big --replicas=N` or pick another --name\n")


def test_missing_cluster(hcp, api):
    result = hcp("create", "nodepool", "kwok", "--cluster-name", "nope", "--name", "big")
    assert result.code == 1
    assert result.error == ("error: HostedCluster clusters/nope not found; "
                            "list them with `kubectl get hostedclusters -A`")


@pytest.mark.parametrize(("image", "version"), [
    ("registry.hcp.internal:5000/hcp/release:v1.37.1", (1, 37, 1)),
    ("registry.hcp.internal:5000/hcp/release:1.36.4-rc.1", (1, 36, 4)),
    ("registry.hcp.internal:5000/hcp/release", None),
    ("registry.hcp.internal:5000/hcp/release@sha256:" + "0" * 64, None),
    ("registry.hcp.internal:5000/hcp/release:latest", None),
])
def test_release_versions_come_from_tags(image, version):
    assert release_version(image) == version
