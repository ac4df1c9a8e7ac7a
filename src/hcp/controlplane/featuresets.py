"""The upstream feature gates of featureSet TechPreviewNoUpgrade and DevPreviewNoUpgrade, per Kubernetes minor.

HyperShift's feature sets name OpenShift's gates; hcp's hosted clusters are
upstream Kubernetes, so each set is a list of upstream alpha and
beta-but-off gates that the kube-apiserver, kube-controller-manager and
kube-scheduler of that minor all know (each refuses to start on a gate it does
not know, or on one whose dependencies are off). This is the one place the
sets are defined; docs/configuration.md lists them for users.

- TechPreviewNoUpgrade: a conservative set, beta gates that are off by default
  and work on the control plane alone: no API group to enable with
  --runtime-config (ClusterTrustBundle, PodCertificateRequest,
  CoordinatedLeaderElection, GenericWorkload, StorageVersionMigrator... are
  left out), no node-only gate (hcp passes the set to the control plane, not
  to kubelets).
- DevPreviewNoUpgrade: TechPreviewNoUpgrade plus alpha gates chosen on the
  same terms.

Every gate is checked against the binaries of its minor (tests/unit/controlplane/
test_featuresets.py runs their --help where they are built). A gate that
graduates to on-by-default leaves the set of the next minor.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from hcp.api.v1beta1.clusterconfig import FeatureSet

_TECH_PREVIEW: dict[str, tuple[str, ...]] = {
    "1.36": (
        "ConcurrentWatchObjectDecode",  # kube-apiserver decodes watch events concurrently
        "MaxUnavailableStatefulSet",  # StatefulSet rollingUpdate.maxUnavailable honoured
        "SchedulerAsyncAPICalls",  # the scheduler's API calls leave the scheduling cycle
    ),
    "1.37": (
        "DRAFractionalCapacityRange",  # fractional DRA consumable-capacity ranges
        "SchedulerAsyncAPICalls",
    ),
}
_DEV_PREVIEW_EXTRA: dict[str, tuple[str, ...]] = {
    "1.36": (
        "APIServingWithRoutine",
        "HPAScaleToZero",  # HorizontalPodAutoscaler minReplicas 0
        "MutablePVNodeAffinity",
        "PodLogsQuerySplitStreams",  # pods/log ?stream=Stdout|Stderr
        "StorageCapacityScoring",
        "TaintTolerationComparisonOperators",  # toleration operators Lt/Gt
    ),
    "1.37": (
        "APIServingWithRoutine",
        "InterPodAffinityHostnameFastPath",
        "MutablePVNodeAffinity",
        "PodLogsQuerySplitStreams",
        "SchedulerPreQueueingHints",
        "StatefulSetRecreateStrategy",
        "TaintTolerationComparisonOperators",
    ),
}

FEATURE_SETS: Mapping[str, Mapping[FeatureSet, tuple[str, ...]]] = MappingProxyType({
    minor: MappingProxyType({
        FeatureSet.TECH_PREVIEW_NO_UPGRADE: gates,
        FeatureSet.DEV_PREVIEW_NO_UPGRADE: gates + _DEV_PREVIEW_EXTRA[minor],
    })
    for minor, gates in _TECH_PREVIEW.items()
})
"""Kubernetes minor ("1.37") -> featureSet -> the upstream gates it turns on, in the order rendered."""


class UnknownFeatureSetVersion(LookupError):
    """A preview featureSet for a Kubernetes minor hcp defines no gate list for."""


def preview_gates(feature_set: FeatureSet, kubernetes_version: str) -> tuple[str, ...]:
    """The gates `feature_set` turns on in `kubernetes_version` ("1.37.1"); () for sets without a list here
    (Default, OKD, CustomNoUpgrade, which lists its own)."""
    if feature_set not in (FeatureSet.TECH_PREVIEW_NO_UPGRADE, FeatureSet.DEV_PREVIEW_NO_UPGRADE):
        return ()
    minor = ".".join(kubernetes_version.split(".")[:2])
    sets = FEATURE_SETS.get(minor)
    if sets is None:
        raise UnknownFeatureSetVersion(
            f"featureSet {feature_set.value} has no feature-gate list for Kubernetes {minor} "
            f"(hcp defines it for {', '.join(sorted(FEATURE_SETS))})")
    return sets[feature_set]
