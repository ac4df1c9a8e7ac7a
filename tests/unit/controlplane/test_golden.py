"""Each component's manifests for a SingleReplica and a HighlyAvailable control plane, against golden files.

Regenerate with UPDATE_GOLDEN=1 after an intended change, and review the diff.
PKI Secrets are not here: their keys are random (see test_pki.py).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from hcp.controlplane.components import COMPONENTS
from hcp.controlplane.render import render_component

GOLDEN = Path(__file__).parent / "golden"


class _Dumper(yaml.SafeDumper):
    """Block style for multi-line strings (scripts), so goldens read like the templates."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def dump(objects: list[dict]) -> str:
    return yaml.dump_all(objects, Dumper=_Dumper, sort_keys=False, width=1000)


@pytest.mark.parametrize("case", ["single-replica", "highly-available"])
@pytest.mark.parametrize("component", COMPONENTS, ids=lambda component: component.name)
def test_component_matches_golden_file(component, case, single_ctx, ha_ctx):
    ctx = single_ctx if case == "single-replica" else ha_ctx
    rendered = dump(render_component(ctx, component))
    path = GOLDEN / f"{component.name}-{case}.yaml"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(rendered)
    assert path.exists(), f"{path} is missing; generate it with UPDATE_GOLDEN=1"
    assert rendered == path.read_text(), f"{component.name} changed; review the diff and rerun with UPDATE_GOLDEN=1"


def test_golden_files_parse_back_to_the_rendered_objects(ha_ctx):
    for component in COMPONENTS:
        objects = render_component(ha_ctx, component)
        assert list(yaml.safe_load_all(dump(objects))) == objects


@pytest.mark.parametrize("case", ["single-replica", "highly-available"])
def test_etcd_restoring_a_snapshot_matches_golden_file(case, single_ctx, ha_ctx):
    import dataclasses

    from hcp.controlplane.components.etcd import adapter as etcd

    ctx = single_ctx if case == "single-replica" else ha_ctx
    hcp = ctx.hcp.model_copy(deep=True)
    hcp.spec.etcd.managed.storage.restore_snapshot_url = ["s3://hcp-backups/clusters-example/1765000000.db"]
    ctx = dataclasses.replace(ctx, hcp=hcp, operator_image="registry.hcp.local:5000/hcp/operator:0.1.0")
    rendered = dump(render_component(ctx, etcd.COMPONENT))
    path = GOLDEN / f"etcd-restore-{case}.yaml"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(rendered)
    assert path.exists(), f"{path} is missing; generate it with UPDATE_GOLDEN=1"
    assert rendered == path.read_text(), "etcd with a restore changed; review the diff and rerun with UPDATE_GOLDEN=1"
