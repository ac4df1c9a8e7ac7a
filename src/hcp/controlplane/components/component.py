"""What every control-plane component shares: loading its manifest templates, and the pod settings all get.

A component is a folder with YAML templates (the static parts of its objects)
and one adapter module with `NAME` and `render(ctx) -> list[dict]`. The adapter
loads its templates with `load`, fills in what depends on the HostedControlPlane
and calls `adapt_pod` on every pod template, which applies what HyperShift's
control-plane-operator applies to all components (support/controlplane-component/
defaults.go): labels, the restart-date annotation, placement, security context.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
from importlib import resources
from typing import Any

import yaml

from hcp.images import NON_ROOT_ID  # uid, gid and fsGroup of every control-plane container
from hcp.api import to_dict
from hcp.api.v1beta1.clusterconfig import FeatureSet
from hcp.api.names import RESTART_DATE_ANNOTATION
from hcp.controlplane.context import RenderContext, RenderError
from hcp.controlplane.featuresets import UnknownFeatureSetVersion, preview_gates
from hcp.controlplane.components.sizing import default_requests
from hcp.controlplane.labels import HOSTED_CONTROL_PLANE_LABEL

COMPONENT_LABEL = "hypershift.openshift.io/control-plane-component"
CONTROL_PLANE_NODE_LABEL = "hypershift.openshift.io/control-plane"
"""Nodes labelled (and optionally tainted) for control-plane pods; preferred, tolerated."""
CLUSTER_NODE_LABEL = "hypershift.openshift.io/cluster"
"""Nodes dedicated to one hosted cluster (value: the control-plane namespace); preferred, tolerated."""
CONFIG_HASH_ANNOTATION = "component.hypershift.openshift.io/config-hash"
"""Hash of configuration a pod reads from files, so that a change rolls the pods."""

SECRET_MODE = 0o640
"""Mode of files from Secret volumes: readable by the fsGroup, which the containers run in."""

HOSTNAME_TOPOLOGY = "kubernetes.io/hostname"
ZONE_TOPOLOGY = "topology.kubernetes.io/zone"


@functools.cache
def _parse(package: str, filename: str) -> tuple[dict[str, Any], ...]:
    text = resources.files(package).joinpath(filename).read_text()
    return tuple(document for document in yaml.safe_load_all(text) if document)


def load(package: str, filename: str) -> dict[str, dict[str, Any]]:
    """The objects of a component's template file, keyed "Kind/name", as fresh copies the adapter may change."""
    objects = {}
    for document in _parse(package, filename):
        key = f"{document['kind']}/{document['metadata']['name']}"
        if key in objects:
            raise ValueError(f"{package}/{filename} defines {key} twice")
        objects[key] = copy.deepcopy(document)
    return objects


def containers(pod_spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Init containers and containers of a pod spec."""
    return [*pod_spec.get("initContainers", []), *pod_spec.get("containers", [])]


def container(pod_spec: dict[str, Any], name: str) -> dict[str, Any]:
    for candidate in containers(pod_spec):
        if candidate["name"] == name:
            return candidate
    raise KeyError(f"the pod template has no container {name}")


def adapt_pod(
    ctx: RenderContext,
    template: dict[str, Any],
    *,
    component: str,
    replicas: int,
    fs_group_change_policy: str | None = None,
) -> None:
    """Apply the settings every control-plane pod gets (in place).

    The pod template's own labels (its selector, `app: <component>`) win over
    spec.labels; spec.nodeSelector and spec.tolerations are added; pods of a
    component with several replicas prefer different nodes and zones.
    """
    metadata = template.setdefault("metadata", {})
    own_labels = metadata.get("labels", {})
    metadata["labels"] = {
        **(ctx.hcp.spec.labels or {}),
        **own_labels,
        COMPONENT_LABEL: component,
        HOSTED_CONTROL_PLANE_LABEL: ctx.namespace,
    }
    if ctx.restart_date:
        metadata.setdefault("annotations", {})[RESTART_DATE_ANNOTATION] = ctx.restart_date

    spec = template["spec"]
    spec["automountServiceAccountToken"] = False
    spec["enableServiceLinks"] = False
    security_context: dict[str, Any] = {
        "runAsNonRoot": True,
        "runAsUser": NON_ROOT_ID,
        "runAsGroup": NON_ROOT_ID,
        "fsGroup": NON_ROOT_ID,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    if fs_group_change_policy:
        security_context["fsGroupChangePolicy"] = fs_group_change_policy
    spec["securityContext"] = security_context
    if ctx.hcp.spec.node_selector:
        spec["nodeSelector"] = dict(ctx.hcp.spec.node_selector)
    spec["tolerations"] = [
        {"key": CONTROL_PLANE_NODE_LABEL, "operator": "Equal", "value": "true", "effect": "NoSchedule"},
        {"key": CLUSTER_NODE_LABEL, "operator": "Equal", "value": ctx.namespace, "effect": "NoSchedule"},
        *(to_dict(toleration) for toleration in ctx.hcp.spec.tolerations or ()),
    ]
    spec["affinity"] = _affinity(ctx, own_labels, replicas)
    if ctx.image_pull_secret:  # a registry that wants a login: the install's credentials, copied here
        spec["imagePullSecrets"] = [{"name": ctx.image_pull_secret}]

    for each in containers(spec):
        each["imagePullPolicy"] = "IfNotPresent"
        each["terminationMessagePolicy"] = "FallbackToLogsOnError"
        each["securityContext"] = {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        }
    for volume in spec.get("volumes", []):
        if "secret" in volume:
            volume["secret"]["defaultMode"] = SECRET_MODE


def _affinity(ctx: RenderContext, selector: dict[str, str], replicas: int) -> dict[str, Any]:
    def prefer_node(weight: int, key: str, value: str) -> dict[str, Any]:
        expression = {"key": key, "operator": "In", "values": [value]}
        return {"weight": weight, "preference": {"matchExpressions": [expression]}}

    def pod_term(weight: int, labels: dict[str, str], topology: str) -> dict[str, Any]:
        term = {"labelSelector": {"matchLabels": dict(labels)}, "topologyKey": topology}
        return {"weight": weight, "podAffinityTerm": term}

    affinity: dict[str, Any] = {
        "nodeAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [
                prefer_node(50, CONTROL_PLANE_NODE_LABEL, "true"),
                prefer_node(100, CLUSTER_NODE_LABEL, ctx.namespace),
            ]
        },
        # Keep a hosted control plane's pods together.
        "podAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [
                pod_term(100, {HOSTED_CONTROL_PLANE_LABEL: ctx.namespace}, HOSTNAME_TOPOLOGY)
            ]
        },
    }
    if replicas > 1:
        # Spread the replicas of one component. Preferred rather than required (as HyperShift
        # has it) so that a highly available control plane still runs on a one-node cluster.
        affinity["podAntiAffinity"] = {
            "preferredDuringSchedulingIgnoredDuringExecution": [
                pod_term(100, selector, HOSTNAME_TOPOLOGY),
                pod_term(50, selector, ZONE_TOPOLOGY),
            ]
        }
    return affinity


def feature_gates(ctx: RenderContext) -> list[str]:
    """`--feature-gates` for the featureSet: CustomNoUpgrade's own lists, or the upstream gates
    TechPreviewNoUpgrade and DevPreviewNoUpgrade stand for in the release's Kubernetes minor
    (hcp.controlplane.featuresets); nothing for the default set (or OKD)."""
    configuration = ctx.hcp.spec.configuration
    gate = configuration.feature_gate if configuration else None
    if gate is None or gate.feature_set is None:
        return []
    if gate.feature_set == FeatureSet.CUSTOM_NO_UPGRADE:
        custom = gate.custom_no_upgrade
        enabled, disabled = (custom.enabled or (), custom.disabled or ()) if custom else ((), ())
        settings = [f"{name}=true" for name in enabled] + [f"{name}=false" for name in disabled]
    else:
        try:
            settings = [f"{name}=true" for name in preview_gates(gate.feature_set, ctx.kubernetes_version)]
        except UnknownFeatureSetVersion as error:
            raise RenderError(str(error)) from None
    return [f"--feature-gates={','.join(settings)}"] if settings else []


def leader_election(replicas: int) -> list[str]:
    """Leader election when several replicas run (HyperShift's timings)."""
    if replicas == 1:
        return ["--leader-elect=false"]
    return ["--leader-elect=true", "--leader-elect-renew-deadline=12s", "--leader-elect-retry-period=3s"]


def config_hash(*objects: Any) -> str:
    """A short stable hash of rendered configuration."""
    digest = hashlib.sha256(json.dumps(objects, sort_keys=True, default=str).encode())
    return digest.hexdigest()[:16]


def mounted_certificates(ctx: RenderContext, pod_spec: dict[str, Any]) -> list[list[str]]:
    """[Secret, key, digest] of each entry of a PKI Secret (ctx.certificates) that the pod's volumes mount.

    A volume with `items` mounts only those keys, so a pod that reads only a CA
    certificate is not rolled when the leaf beside it in the same Secret is renewed.
    """
    mounted = []
    for volume in pod_spec.get("volumes", []):
        secret = volume.get("secret")
        if not secret or secret.get("secretName") not in ctx.certificates:
            continue
        digests = ctx.certificates[secret["secretName"]]
        keys = [item["key"] for item in secret["items"]] if secret.get("items") else sorted(digests)
        mounted += [[secret["secretName"], key, digests[key]] for key in keys if key in digests]
    return sorted(mounted)


def set_config_hash(ctx: RenderContext, pod: dict[str, Any], *config: Any) -> None:
    """Put the hash of `config` and of the certificates the pod mounts on the pod template (in place).

    For a component that reads its configuration or certificates only at start:
    a change, such as a renewed certificate, rolls its pods. Nothing to hash, no
    annotation.
    """
    mounted = mounted_certificates(ctx, pod["spec"])
    hashed = [*config, mounted] if mounted else list(config)
    if hashed:
        pod["metadata"].setdefault("annotations", {})[CONFIG_HASH_ANNOTATION] = config_hash(*hashed)


def leader_elected_deployment(ctx: RenderContext, package: str, name: str, *, ha_replicas: int = 2) -> tuple[dict[str, Any], dict[str, Any]]:
    """The Deployment of a controller that elects a leader when it has replicas, and its main container.

    Without leader election (one replica) two copies must never overlap, so
    such a Deployment rolls without surge.
    """
    deployment = load(package, f"{name}.yaml")[f"Deployment/{name}"]
    replicas = ctx.replicas(ha_replicas)
    deployment["spec"]["replicas"] = replicas
    surge = 1 if replicas > 1 else 0
    deployment["spec"]["strategy"] = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": surge, "maxUnavailable": 1}}
    pod = deployment["spec"]["template"]
    # No priorityClassName: HyperShift's hypershift-control-plane PriorityClass does not exist on
    # a generic management cluster.
    adapt_pod(ctx, pod, component=name, replicas=replicas)
    main = container(pod["spec"], name)
    main["image"] = ctx.image(name)
    main["resources"] = default_requests(name, name)
    main["args"] += [*leader_election(replicas), *feature_gates(ctx)]
    # Client certificates embedded in kubeconfigs are read at start: a renewal rolls the pods.
    set_config_hash(ctx, pod)
    return deployment, main
