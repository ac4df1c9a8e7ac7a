"""`hcp capacity`: how many hosted control planes the management cluster holds, by the docs' formulas (2.2).

Reads the nodes and the HostedControlPlanes, and the baseline override ConfigMap
hypershift/hcp-sizing-baseline when there is one; computes nothing on the server.
"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path
from typing import Any

import click
import yaml
from lightkube.resources.core_v1 import ConfigMap, Node

from hcp.capacity.baseline import (
    BASELINE_CONFIGMAP,
    BASELINE_NAMESPACE,
    default_baseline,
    overrides_from_mapping,
    parse_value,
    with_overrides,
)
from hcp.capacity.formulas import HIGHLY_AVAILABLE, POLICIES
from hcp.api import HostedControlPlane
from hcp.capacity.report import report, table
from hcp.cli.options import connect, management_options
from hcp.kube.apply import resource_of
from hcp.kube.objects import as_dict

CONTROL_PLANES = resource_of(HostedControlPlane)


FLAGS = {  # flag -> Baseline field
    "cpu_request": "cpu_request", "memory_request": "memory_request", "pods_per_hcp": "pods",
    "idle_cpu": "idle_cpu", "idle_memory": "idle_memory", "cpu_per_1k_qps": "cpu_per_1k_qps",
    "memory_per_1k_qps": "memory_per_1k_qps",
}


def _selector(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict[str, str]:
    selector = {}
    for value in values:
        key, sep, label = value.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{value!r} is not key=value", ctx, param)
        selector[key] = label
    return selector


def _read_baseline_file(path: Path) -> dict[str, Any]:
    """A file of KEYS: a plain mapping, or a ConfigMap manifest (its data), YAML or JSON."""
    try:
        document = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise ValueError(f"--baseline {path}: cannot read it ({str(error).splitlines()[0]})") from None
    if isinstance(document, dict) and document.get("kind") == "ConfigMap":
        document = document.get("data") or {}
    if not isinstance(document, dict):
        raise ValueError(f"--baseline {path}: expected a mapping of baseline keys or a ConfigMap")
    return document


@click.command("capacity")
@click.option("--availability-policy", type=click.Choice(POLICIES), default=HIGHLY_AVAILABLE, show_default=True,
              help="Of the control planes to fit (the docs' guidance assumes HighlyAvailable).")
@click.option("--output", "-o", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--qps", type=float, help="Expected API rate of each control plane for the `minimum` estimate. "
                                        "Default: the baseline's medium (1000), as in the docs' example.")
@click.option("--node-selector", multiple=True, callback=_selector, metavar="KEY=VALUE",
              help="Count only these nodes (repeatable). Default: nodes labelled hypershift.openshift.io/"
                   "control-plane=true if any, else every schedulable, untainted node.")
@click.option("--baseline", "baseline_file", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="YAML/JSON file of baseline keys (as in ConfigMap hypershift/hcp-sizing-baseline), or such a "
                   "ConfigMap; overrides the cluster's ConfigMap.")
@click.option("--no-cluster-baseline", is_flag=True,
              help="Ignore ConfigMap hypershift/hcp-sizing-baseline on the management cluster.")
@click.option("--cpu-request", help="vCPU requests per control plane (cores or a quantity, e.g. 500m).")
@click.option("--memory-request", help="Memory requests per control plane (GiB or a quantity, e.g. 640Mi).")
@click.option("--pods-per-hcp", help="Pods per control plane.")
@click.option("--idle-cpu", help="Idle vCPU usage per control plane.")
@click.option("--idle-memory", help="Idle memory usage per control plane (GiB or a quantity).")
@click.option("--cpu-per-1k-qps", help="vCPU usage added per 1000 QPS.")
@click.option("--memory-per-1k-qps", help="Memory usage added per 1000 QPS (GiB or a quantity).")
@management_options
def capacity(availability_policy: str, output: str, qps: float | None, node_selector: dict[str, str],
             baseline_file: Path | None, no_cluster_baseline: bool, kubeconfig: Path | None, state_dir: Path,
             **flags: str | None) -> None:
    """How many hosted control planes fit on the management cluster, and how many more fit now.

    \b
    Estimates (docs 2.2; docs/capacity.md):
      request    allocatable vCPU and memory / requests per control plane
      pod-limit  allocatable pods (maxPods) / pods per control plane
      low, medium, high
                 allocatable vCPU and memory / usage at 50, 1000, 2000 QPS
                 (idle + QPS/1000 x increment per 1000 QPS)
      minimum    the smallest of request, pod-limit and usage at --qps
    The baseline is hcp's own (requests from its manifests, idle usage
    measured by bench/); override it with ConfigMap
    hypershift/hcp-sizing-baseline, --baseline FILE or the flags below.
    """
    if qps is not None and qps < 0:
        raise click.BadParameter("must not be negative", param_hint="--qps")
    file_data = _read_baseline_file(baseline_file) if baseline_file else None
    flag_overrides = {}
    for flag, field in FLAGS.items():
        if flags.get(flag) is not None:
            try:
                flag_overrides[field] = parse_value(field, flags[flag])
            except ValueError as error:
                raise ValueError(f"--{flag.replace('_', '-')}: {str(error).split(': ', 1)[1]}") from None
    with connect(kubeconfig, state_dir) as kube:
        config_map = None if no_cluster_baseline else kube.get_or_none(ConfigMap, BASELINE_CONFIGMAP,
                                                                        BASELINE_NAMESPACE)
        nodes = [as_dict(n) for n in kube.list(Node)]
        control_planes = [as_dict(p) for p in kube.list(CONTROL_PLANES)]
    baselines = {policy: default_baseline(policy) for policy in POLICIES}
    layers = []
    if config_map is not None:
        origin = f"ConfigMap {BASELINE_NAMESPACE}/{BASELINE_CONFIGMAP}"
        layers.append((overrides_from_mapping(config_map.data or {}, origin), origin))
    if file_data is not None:
        origin = f"--baseline {baseline_file}"
        layers.append((overrides_from_mapping(file_data, origin), origin))
    if flag_overrides:
        layers.append(({availability_policy: flag_overrides}, "flags"))
    for overrides, origin in layers:
        for policy, values in overrides.items():
            baselines[policy] = with_overrides(baselines[policy], values, origin)
    data = report(nodes, control_planes, baselines, availability_policy,
                  qps=None if qps is None else Fraction(str(qps)), node_selector=node_selector)
    if not data["nodes"]:
        raise ValueError("no node of the management cluster can host control planes (all cordoned, NotReady, "
                         "tainted or not matching --node-selector)")
    click.echo(json.dumps(data, indent=2) if output == "json" else table(data))
