"""Options and values shared by the `hcp` commands, and the one way they reach the management cluster."""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from lightkube.utils.quantity import parse_quantity

from hcp.api.types import QUANTITY_PATTERN, parse_duration
from hcp.hostedcluster.kube import Kube
from hcp.management.cluster import ClusterError
from hcp.management.layout import Layout, default_state_dir

DEFAULT_NAMESPACE = "clusters"


def management_kubeconfig(kubeconfig: Path | None, state_dir: Path) -> Path:
    """--kubeconfig, else $KUBECONFIG (its first file), else the embedded management cluster's admin kubeconfig."""
    if kubeconfig is None:
        env = next((p for p in os.environ.get("KUBECONFIG", "").split(os.pathsep) if p), None)
        kubeconfig = Path(env) if env else Layout(state_dir).admin_kubeconfig
    if not kubeconfig.exists():
        raise ClusterError(f"no kubeconfig at {kubeconfig}; run `hcp management-cluster up` or pass --kubeconfig")
    return kubeconfig


def connect(kubeconfig: Path | None, state_dir: Path) -> Kube:
    """The management cluster's API (tests replace this to put a fake API server behind the commands)."""
    return Kube.from_file(management_kubeconfig(kubeconfig, state_dir))


def management_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--kubeconfig and --state-dir: which management cluster a command talks to."""
    command = click.option(
        "--state-dir", type=click.Path(path_type=Path), default=default_state_dir,
        show_default="$HCP_STATE_DIR or ~/.local/state/hcp/management",
        help="The embedded management cluster, used when neither --kubeconfig nor $KUBECONFIG is given.",
    )(command)
    return click.option(
        "--kubeconfig", type=click.Path(path_type=Path, exists=True, dir_okay=False),
        help="Kubeconfig of the management cluster. Default: $KUBECONFIG, else the embedded cluster's.",
    )(command)


def name_options(command: Callable[..., Any], what: str = "hosted cluster") -> Callable[..., Any]:
    """--name (required) and --namespace (default "clusters") of a HostedCluster."""
    command = click.option("--namespace", default=DEFAULT_NAMESPACE, show_default=True,
                           help=f"Namespace of the {what}'s HostedCluster.")(command)
    return click.option("--name", required=True, help=f"Name of the {what}.")(command)


class Duration(click.ParamType):
    """A Go duration ("90s", "10m", "1h30m"), as HyperShift's flags take; converted to seconds.

    Every duration hcp's flags take is a length of time to wait or allow, so a
    negative one is refused here rather than meaning something surprising later.
    """

    name = "duration"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        if isinstance(value, int | float):
            seconds = float(value)
        else:
            try:
                seconds = parse_duration(value).total_seconds()
            except ValueError as error:
                self.fail(str(error), param, ctx)
        if seconds < 0:
            self.fail(f"{value!r} is negative; give a length of time such as 30s, 5m or 1h30m", param, ctx)
        return seconds


class GoDuration(Duration):
    """A Go duration kept as text, for API fields of type metav1.Duration (nodeDrainTimeout); never negative."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        super().convert(value, param, ctx)
        return value


class CIDR(click.ParamType):
    name = "cidr"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        try:
            return str(ipaddress.ip_network(value, strict=True))
        except ValueError as error:
            self.fail(f"{value!r} is not a network in CIDR notation ({error})", param, ctx)


def key_values(values: tuple[str, ...], flag: str, *, commas: bool = False) -> dict[str, str]:
    """key=value pairs from a repeatable flag; with `commas`, one value may also hold several (a=1,b=2)."""
    pairs: dict[str, str] = {}
    for value in values:
        for item in filter(None, value.split(",") if commas else [value]):
            key, sep, val = item.partition("=")
            if not sep or not key:
                raise click.BadParameter(f"{item!r} is not key=value", param_hint=flag)
            pairs[key] = val
    return pairs


class Quantity(click.ParamType):
    """A Kubernetes quantity such as 8Gi, 500m or 4; never negative (every one hcp takes is a size)."""

    name = "quantity"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value)
        if not re.match(QUANTITY_PATTERN, text):
            self.fail(f"{value!r} is not a Kubernetes quantity (for example 500m, 8Gi, 4)", param, ctx)
        if parse_quantity(text) < 0:
            self.fail(f"{value!r} is negative; give a size such as 500m, 8Gi or 4", param, ctx)
        return text


def management_flags(kubeconfig: Path | None, state_dir: Path) -> str:
    """The flags that make a follow-up command talk to the same management cluster as this one."""
    if kubeconfig is not None:
        return f" --kubeconfig {kubeconfig}"
    return f" --state-dir {state_dir}" if state_dir != default_state_dir() else ""
