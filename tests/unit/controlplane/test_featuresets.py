"""featureSet TechPreviewNoUpgrade and DevPreviewNoUpgrade: the upstream gates of each supported Kubernetes minor."""

from __future__ import annotations

import re
import subprocess

import pytest

from hcp.api.v1beta1.clusterconfig import FeatureSet
from hcp.controlplane import RenderError, render
from hcp.controlplane.featuresets import FEATURE_SETS, UnknownFeatureSetVersion, preview_gates
from hcp.upstream import binaries
from hcp.upstream.images import KUBERNETES_TOOLSETS
from hcp.release import supported_versions
from hcp.release.versions import release_version
from tests.unit.controlplane.conftest import SINGLE_REPLICA, make_context, make_hcp

TECH, DEV = FeatureSet.TECH_PREVIEW_NO_UPGRADE, FeatureSet.DEV_PREVIEW_NO_UPGRADE
COMPONENTS_WITH_GATES = ("kube-apiserver", "kube-controller-manager", "kube-scheduler")
GATE_HELP = re.compile(r"(?:kube:)?(\w+)=true\|false \((ALPHA|BETA) - default=(true|false)\)")


def test_every_supported_minor_has_both_sets_and_nothing_else():
    assert sorted(FEATURE_SETS) == sorted(supported_versions())
    for minor, sets in FEATURE_SETS.items():
        assert set(sets) == {TECH, DEV}, minor


@pytest.mark.parametrize("minor", sorted(FEATURE_SETS))
def test_dev_preview_is_a_superset_of_tech_preview_and_neither_repeats_a_gate(minor):
    tech, dev = FEATURE_SETS[minor][TECH], FEATURE_SETS[minor][DEV]
    assert tech and set(tech) < set(dev)
    assert len(set(dev)) == len(dev)
    assert dev[:len(tech)] == tech


@pytest.mark.parametrize("feature_set", [FeatureSet.DEFAULT, FeatureSet.OKD, FeatureSet.CUSTOM_NO_UPGRADE])
def test_other_sets_have_no_list(feature_set):
    assert preview_gates(feature_set, "1.37.1") == ()


def test_a_minor_without_a_list_is_said_as_such():
    with pytest.raises(UnknownFeatureSetVersion, match=r"TechPreviewNoUpgrade has no feature-gate list for "
                                                       r"Kubernetes 1\.99 \(hcp defines it for 1\.36, 1\.37\)"):
        preview_gates(TECH, "1.99.0")


def _rendered_gates(feature_set: str, version: str) -> dict[str, str | None]:
    hcp = make_hcp(SINGLE_REPLICA, configuration={"featureGate": {"featureSet": feature_set}})
    objects = render(make_context(hcp, kubernetes_version=version))
    found = {}
    for obj in objects:
        if obj["kind"] != "Deployment" or obj["metadata"]["name"] not in COMPONENTS_WITH_GATES:
            continue
        container = next(c for c in obj["spec"]["template"]["spec"]["containers"] if c["name"] == obj["metadata"]["name"])
        found[obj["metadata"]["name"]] = next((a.split("=", 1)[1] for a in container["args"]
                                               if a.startswith("--feature-gates=")), None)
    return found


@pytest.mark.parametrize("feature_set", [TECH, DEV])
@pytest.mark.parametrize("version", ["1.36.4", "1.37.1"])
def test_the_set_of_the_release_minor_goes_to_every_kubernetes_component(feature_set, version):
    expected = ",".join(f"{gate}=true" for gate in FEATURE_SETS[version[:4]][feature_set])
    assert _rendered_gates(feature_set.value, version) == {name: expected for name in COMPONENTS_WITH_GATES}


def test_a_preview_set_on_a_minor_without_a_list_is_a_render_error():
    hcp = make_hcp(SINGLE_REPLICA, configuration={"featureGate": {"featureSet": "DevPreviewNoUpgrade"}})
    with pytest.raises(RenderError, match="DevPreviewNoUpgrade has no feature-gate list for Kubernetes 1.99"):
        render(make_context(hcp, kubernetes_version="1.99.0"))


def _toolset_of(minor: str) -> str:
    return next(t for t in KUBERNETES_TOOLSETS if release_version(t).startswith(minor + "."))


@pytest.mark.parametrize("minor", sorted(FEATURE_SETS))
@pytest.mark.parametrize("command", COMPONENTS_WITH_GATES)
def test_every_gate_is_an_alpha_or_beta_gate_off_by_default_in_that_minors_binary(minor, command):
    """Against `<command> --help` of the minor's build, where it is built (skipped elsewhere)."""
    directory = binaries.cached(_toolset_of(minor))
    if directory is None or not (directory / command).is_file():
        pytest.skip(f"{command} of Kubernetes {minor} is not built on this machine")
    help_text = subprocess.run([str(directory / command), "--help"], capture_output=True, text=True,
                               timeout=60).stdout
    gates: dict[str, str] = {}
    for name, _, default in GATE_HELP.findall(help_text):
        # The first default is today's; another may follow for a raised --min-compatibility-version.
        gates.setdefault(name, default)
    for gate in FEATURE_SETS[minor][DEV]:
        assert gates.get(gate) == "false", f"{gate} is not an off-by-default gate of {command} {minor}"
