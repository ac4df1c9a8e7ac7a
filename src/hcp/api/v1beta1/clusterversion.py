"""Version and update status of a hosted cluster (the shapes of OpenShift's config/v1 ClusterVersion)."""

from enum import StrEnum

from pydantic import Field

from hcp.api.base import KubeModel
from hcp.api.markers import kube_schema
from hcp.api.meta import Condition
from hcp.api.types import Int64, Time


class UpdateState(StrEnum):
    """Values of UpdateHistory.state."""

    COMPLETED = "Completed"
    PARTIAL = "Partial"


class Release(KubeModel):
    """A release a cluster runs or can update to."""

    version: str
    """Semantic version of the release (the Kubernetes version for hcp)."""
    image: str
    """Pull spec of the release payload image."""
    url: str | None = None
    """Page describing the release."""
    channels: list[str] | None = Field(default=None, json_schema_extra=kube_schema(list_type="set"))
    """Update channels that contain this release."""


class UpdateHistory(KubeModel):
    """One rollout of a release to the cluster."""

    state: str
    """Completed when the rollout finished, Partial while in progress or if it never completed (see UpdateState)."""
    started_time: Time
    """When the rollout started."""
    completion_time: Time | None
    """When the rollout completed; null while it is in progress."""
    version: str | None = None
    """Semantic version of the release, when known."""
    image: str
    """Pull spec of the release payload image."""
    verified: bool
    """Whether the release payload was verified before it was applied."""
    accepted_risks: str | None = None
    """Known risks of the update that were accepted to start it."""


class PromQLClusterCondition(KubeModel):
    """A PromQL query deciding whether a risk applies."""

    promql: str
    """Query that yields 1 when the risk applies and 0 when it does not."""


class ClusterConditionType(StrEnum):
    """How a conditional update risk is evaluated."""

    ALWAYS = "Always"
    PROMQL = "PromQL"


class ClusterCondition(KubeModel):
    """A test of whether a conditional update risk applies to this cluster."""

    type: ClusterConditionType
    """Always applies, or applies when a PromQL query says so."""
    promql: PromQLClusterCondition | None = None
    """The query for type PromQL."""


class ConditionalUpdateRisk(KubeModel):
    """A reason an update may not be recommended."""

    url: str = Field(min_length=1, json_schema_extra={"format": "uri"})
    """Page describing the risk."""
    name: str = Field(min_length=1)
    """CamelCase name of the risk."""
    message: str = Field(min_length=1)
    """Human readable description of the risk."""
    matching_rules: list[ClusterCondition] = Field(min_length=1, json_schema_extra=kube_schema(list_type="atomic"))
    """Conditions deciding whether the risk applies; the first that can be evaluated wins."""


class ConditionalUpdate(KubeModel):
    """An update that is recommended only if its risks do not apply."""

    release: Release
    """The release the update goes to."""
    risks: list[ConditionalUpdateRisk] = Field(
        min_length=1, max_length=200, json_schema_extra=kube_schema(list_type="map", list_map_keys=["name"])
    )
    """Risks of the update."""
    conditions: list[Condition] | None = Field(
        default=None, json_schema_extra=kube_schema(list_type="map", list_map_keys=["type"])
    )
    """Evaluation of the risks (condition type Recommended)."""


class ClusterVersionStatus(KubeModel):
    """Which release the cluster is reconciling to, and the history of releases applied."""

    desired: Release
    """The release the cluster is reconciling towards."""
    history: list[UpdateHistory] | None = None
    """Most recent rollouts first; the first entry is the current one."""
    observed_generation: Int64
    """The metadata.generation this status was computed for."""
    available_updates: list[Release] | None = Field(max_length=100)
    """Releases recommended as updates; null when not known (no update service)."""
    conditional_updates: list[ConditionalUpdate] | None = Field(
        default=None, max_length=100, json_schema_extra=kube_schema(list_type="atomic")
    )
    """Releases recommended only if their risks do not apply to this cluster."""
