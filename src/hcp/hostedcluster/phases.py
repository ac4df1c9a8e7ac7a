"""Where the time of a hosted cluster's create goes, read from the objects' own timestamps and events.

A benchmark that only times `apply` → Available says how long, not why; every
change to create time has to be judged by the phase it moves. The objects
already carry the answer: each was created at a recorded time, pods record when
they were scheduled, started and became Ready, conditions record when they
turned, and kubelet's events record each image pull and how long it took. This
module turns that record into ordered phases, with offsets in seconds from the
HostedCluster's creationTimestamp. It is pure (JSON in, JSON out) so that a
benchmark, a test or later `hcp` itself can use it on objects fetched any way.

Resolution: creationTimestamps and lastTransitionTimes are metav1.Time, whole
seconds; only events' eventTime (microseconds) and the durations kubelet writes
into "Successfully pulled image ... in 1.2s" are finer. An offset of 0 or a
1-second phase therefore means "under about a second"; the report says so
(`resolution_s`), and differences of a second between runs are noise.

The phases, in the order the operator works (PHASES holds the same text, which
the benchmarks print once with their results):

- `namespace`: HostedCluster created → control-plane Namespace created (the
  HostedCluster controller's first pass: release, validation, namespace).
- `service_endpoint`: Namespace created → the kube-apiserver Service created.
  The HostedControlPlane controller publishes the Services before anything
  else and reads the endpoint off the Service it applied (a NodePort or Route
  is known on creation), so its creation is when `controlPlaneEndpoint` became
  known; the operator only writes it to the HostedControlPlane's status at the
  end of that pass, and no condition records the moment. `observed_s` is when
  the HostedCluster controller saw it there: the creation of the
  `<name>-admin-kubeconfig` Secret it publishes from it, when given.
- `pki`: first → last Secret created in the control-plane namespace (the PKI,
  the kubeconfigs, service-account keys, the pull secret), which the
  controller issues once the endpoint is known.
- `image_pulls`: first `Pulling` event → last `Pulled` event in the
  namespace. `pull_s` sums the durations kubelet measured (an image "already
  present on machine" counts 0); `pulled` says whether any image was pulled
  at all, which is what makes a run a first-pull run.
- `etcd`: the first etcd pod created → the etcd pod Ready
  (its Ready condition's lastTransitionTime); `observed_s`: the
  HostedControlPlane's EtcdAvailable turned True.
- `kube_apiserver`: likewise for kube-apiserver; `observed_s`:
  KubeAPIServerAvailable turned True.
- `controllers`: the first kube-controller-manager or kube-scheduler pod
  created → the last of them Ready.
- `available`: the last control-plane pod Ready (any component) → the
  HostedCluster's Available turned True (what a user waits for);
  `observed_s` is the HostedControlPlane's Available, which the HostedCluster
  controller mirrors.

A pod's "first created" comes from the scheduler's `Scheduled` events too, so a
pod replaced during the create (a rollout while the endpoint or a certificate
changed) still counts from its first; `pods_seen` in the per-component detail
counts such replacements.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from hcp.controlplane.components.component import COMPONENT_LABEL

RESOLUTION_S = 1
"""Resolution of creationTimestamp and lastTransitionTime (metav1.Time): whole seconds."""

PHASES: dict[str, str] = {
    "namespace": "HostedCluster creationTimestamp -> control-plane Namespace creationTimestamp",
    "service_endpoint": "Namespace creationTimestamp -> Service kube-apiserver creationTimestamp (the endpoint is "
                        "read off it); observed: Secret <name>-admin-kubeconfig created in the HostedCluster's "
                        "namespace (HostedControlPlane status.controlPlaneEndpoint/kubeConfig seen)",
    "pki": "first -> last Secret creationTimestamp in the control-plane namespace",
    "image_pulls": "first Pulling event -> last Pulled event; pull_s: sum of kubelet's measured pull durations "
                   "(already present = 0)",
    "etcd": "first etcd pod created -> etcd pod Ready lastTransitionTime; observed: HostedControlPlane EtcdAvailable",
    "kube_apiserver": "first kube-apiserver pod created -> its Ready lastTransitionTime; observed: "
                      "HostedControlPlane KubeAPIServerAvailable",
    "controllers": "first kube-controller-manager/kube-scheduler pod created -> the last of them Ready",
    "available": "last control-plane pod Ready -> HostedCluster Available lastTransitionTime; observed: "
                 "HostedControlPlane Available",
}

CONTROLLERS = ("kube-controller-manager", "kube-scheduler")

_PULLING = re.compile(r'^Pulling image "(?P<image>[^"]+)"')
_DURATION = r"(?:[0-9.]+[a-zµμ]+)+"
_PULLED = re.compile(rf'^Successfully pulled image "(?P<image>[^"]+)" in (?P<pull>{_DURATION})'
                     rf'(?: \((?P<waiting>{_DURATION}) including waiting\))?')
_PRESENT = re.compile(r'^Container image "(?P<image>[^"]+)" already present on machine')
_GO_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_GO_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def go_duration(text: str) -> float | None:
    """Seconds of a Go time.Duration string ("1.5s", "850ms", "1m2.5s", "0s"); None if it is not one.

    kubelet formats pull durations with Go's Duration.String, so this is the one format to read.
    """
    text = text.strip()
    if not text:
        return None
    sign = -1.0 if text.startswith("-") else 1.0
    body = text.lstrip("+-")
    if body == "0":
        return 0.0
    position, total = 0, 0.0
    for match in _GO_DURATION_PART.finditer(body):
        if match.start() != position:
            return None
        total += float(match.group(1)) * _GO_UNITS[match.group(2)]
        position = match.end()
    return sign * total if position == len(body) and position else None


def parse_time(value: str | None) -> datetime | None:
    """A metav1.Time or MicroTime (RFC 3339, `Z` or an offset); None for a missing one."""
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _created(obj: dict[str, Any]) -> datetime | None:
    return parse_time((obj.get("metadata") or {}).get("creationTimestamp"))


def _condition(obj: dict[str, Any] | None, type_: str) -> dict[str, Any] | None:
    for condition in ((obj or {}).get("status") or {}).get("conditions") or ():
        if condition.get("type") == type_:
            return condition
    return None


def _true_since(obj: dict[str, Any] | None, type_: str) -> datetime | None:
    """When condition `type_` last turned True; None while it is not True."""
    condition = _condition(obj, type_)
    if condition is None or condition.get("status") != "True":
        return None
    return parse_time(condition.get("lastTransitionTime"))


def event_time(event: dict[str, Any]) -> datetime | None:
    """When an event first happened: firstTimestamp (core/v1 recorders), else eventTime (events.k8s.io
    recorders, e.g. the scheduler's), else the Event object's own creation."""
    return (parse_time(event.get("firstTimestamp")) or parse_time(event.get("eventTime"))
            or _created(event))


def _component(pod: dict[str, Any]) -> str:
    """The control-plane component a pod belongs to: its component label, else its owner's name."""
    metadata = pod.get("metadata") or {}
    label = (metadata.get("labels") or {}).get(COMPONENT_LABEL)
    if label:
        return label
    return _component_of_name(metadata.get("name", ""))


def _component_of_name(pod_name: str) -> str:
    """A pod's workload from its name: `etcd-0` → etcd, `kube-apiserver-5d8f7-x2k4q` → kube-apiserver."""
    parts = pod_name.split("-")
    if len(parts) >= 3 and parts[-2].isalnum() and len(parts[-1]) == 5:  # Deployment: <name>-<hash>-<suffix>
        return "-".join(parts[:-2])
    if len(parts) >= 2 and parts[-1].isdigit():  # StatefulSet: <name>-<ordinal>
        return "-".join(parts[:-1])
    return pod_name


class _Clock:
    """Offsets in seconds from the HostedCluster's creation; events from before it (an earlier namesake) are
    not this create's."""

    def __init__(self, origin: datetime) -> None:
        self.origin = origin

    def offset(self, when: datetime | None) -> float | None:
        if when is None:
            return None
        return round((when - self.origin).total_seconds(), 3)

    def current(self, when: datetime | None) -> bool:
        return when is not None and when >= self.origin


def _phase(name: str, start: float | None, end: float | None, **extra: Any) -> dict[str, Any]:
    duration = round(end - start, 3) if start is not None and end is not None else None
    return {"name": name, "start_s": start, "end_s": end, "duration_s": duration, **extra}


def _max(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return max(present) if present else None


def _min(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return min(present) if present else None


def pod_detail(pods: list[dict[str, Any]], events: list[dict[str, Any]], clock: _Clock) -> dict[str, dict[str, Any]]:
    """Per component: when its first pod was created (the current pods, or an earlier one the scheduler placed),
    and when its current pods were scheduled, had every container running and were Ready (the latest over its
    pods; None while one is not), with their restarts and how many pods it had in all."""
    current = [pod for pod in pods if clock.current(_created(pod)) and (pod.get("status") or {}).get("phase") not in
               ("Succeeded", "Failed")]
    labelled = {_component_of_name((pod.get("metadata") or {}).get("name", "")): _component(pod) for pod in current}
    first: dict[str, float] = {}
    seen: dict[str, set[str]] = {}

    def saw(component: str, name: str, offset: float | None) -> None:
        seen.setdefault(component, set()).add(name)
        if offset is not None:
            first[component] = min(first.get(component, offset), offset)

    for event in events:
        involved = event.get("involvedObject") or {}
        when = event_time(event)
        if event.get("reason") == "Scheduled" and involved.get("kind") == "Pod" and clock.current(when):
            by_name = _component_of_name(involved.get("name", ""))
            saw(labelled.get(by_name, by_name), involved.get("name", ""), clock.offset(when))
    grouped: dict[str, list[dict[str, Any]]] = {}
    for pod in current:
        component = _component(pod)
        grouped.setdefault(component, []).append(pod)
        saw(component, (pod.get("metadata") or {}).get("name", ""), clock.offset(_created(pod)))

    def latest(values: list[float | None]) -> float | None:
        return None if not values or None in values else max(values)

    detail: dict[str, dict[str, Any]] = {}
    for component in sorted(seen):
        members = grouped.get(component, [])
        statuses = [(pod.get("status") or {}).get("containerStatuses") or [] for pod in members]
        running = []
        for containers in statuses:
            started = [parse_time(((c.get("state") or {}).get("running") or {}).get("startedAt")) for c in containers]
            running.append(None if not started or None in started else clock.offset(max(started)))
        detail[component] = {
            "created_s": first.get(component),
            "scheduled_s": latest([clock.offset(_true_since(pod, "PodScheduled")) for pod in members]),
            "started_s": latest(running),
            "ready_s": latest([clock.offset(_true_since(pod, "Ready")) for pod in members]),
            "pods": len(members),
            "pods_seen": len(seen[component]),
            "restarts": sum(c.get("restartCount", 0) for containers in statuses for c in containers),
            "control_plane": any(COMPONENT_LABEL in ((pod.get("metadata") or {}).get("labels") or {})
                                 for pod in members),
        }
    return detail


def image_pulls(events: list[dict[str, Any]], clock: _Clock) -> dict[str, Any]:
    """Every image a container of the namespace asked for: when kubelet began pulling it, when it had it, how
    long the pull itself took by kubelet's own measure (0 when it was already present)."""
    pulling: dict[tuple[str, str], float | None] = {}
    entries: list[dict[str, Any]] = []
    ordered = sorted((e for e in events if clock.current(event_time(e))), key=lambda e: event_time(e))
    for event in ordered:
        involved = event.get("involvedObject") or {}
        key = (involved.get("name", ""), involved.get("fieldPath", ""))
        message = event.get("message") or ""
        when = clock.offset(event_time(event))
        if event.get("reason") == "Pulling" and _PULLING.match(message):
            pulling.setdefault(key, when)
        elif event.get("reason") == "Pulled":
            if match := _PRESENT.match(message):
                entries.append({"pod": key[0], "container": _container(key[1]), "image": match["image"],
                                "pulling_s": None, "pulled_s": when, "pull_s": 0.0, "already_present": True})
            elif match := _PULLED.match(message):
                entry = {"pod": key[0], "container": _container(key[1]), "image": match["image"],
                         "pulling_s": pulling.get(key), "pulled_s": when, "pull_s": go_duration(match["pull"]),
                         "already_present": False}
                if match["waiting"]:
                    entry["including_waiting_s"] = go_duration(match["waiting"])
                entries.append(entry)
    by_image: dict[str, float] = {}
    for entry in entries:
        by_image[entry["image"]] = round(by_image.get(entry["image"], 0.0) + (entry["pull_s"] or 0.0), 3)
    pulled = [e for e in entries if not e["already_present"]]
    return {
        "start_s": _min(e["pulling_s"] for e in pulled) if pulled else None,
        "end_s": _max(e["pulled_s"] for e in pulled) if pulled else None,
        "pull_s": round(float(sum(e["pull_s"] or 0.0 for e in pulled)), 3),
        "pulled": len(pulled),
        "already_present": len(entries) - len(pulled),
        "by_image": by_image,
        "pulls": entries,
    }


def _container(field_path: str) -> str:
    """`spec.containers{etcd}` → etcd."""
    match = re.search(r"\{(.*)\}", field_path)
    return match.group(1) if match else field_path


def create_phases(hosted_cluster: dict[str, Any], *, namespace: dict[str, Any] | None = None,
                  hosted_control_plane: dict[str, Any] | None = None, secrets: list[dict[str, Any]] = (),
                  services: list[dict[str, Any]] = (), pods: list[dict[str, Any]] = (),
                  events: list[dict[str, Any]] = (),
                  published_kubeconfig: dict[str, Any] | None = None) -> dict[str, Any]:
    """The phases of one create, from the JSON of its objects (see the module's doc for each phase's marks).

    `hosted_cluster` is the HostedCluster; the others are the control-plane namespace's Namespace,
    HostedControlPlane, Secrets, Services, Pods and Events, and the `<name>-admin-kubeconfig` Secret in the
    HostedCluster's namespace, each as `kubectl get -o json` gives them. A part not given, or not there yet,
    leaves the marks it gives None. Objects created before the HostedCluster (a namesake's) are left out.
    """
    origin = _created(hosted_cluster)
    if origin is None:
        raise ValueError("the HostedCluster has no creationTimestamp")
    clock = _Clock(origin)
    secrets = [s for s in secrets if clock.current(_created(s))]
    services = [s for s in services if clock.current(_created(s))]
    events = list(events)
    pods = list(pods)

    namespace_s = clock.offset(_created(namespace)) if namespace else None
    service = next((s for s in services if (s.get("metadata") or {}).get("name") == "kube-apiserver"), None)
    service_s = clock.offset(_created(service)) if service else None
    published_s = clock.offset(_created(published_kubeconfig)) \
        if published_kubeconfig and clock.current(_created(published_kubeconfig)) else None
    secret_times = sorted(clock.offset(_created(s)) for s in secrets)
    pulls = image_pulls(events, clock)
    components = pod_detail(pods, events, clock)

    def component_phase(name: str, members: tuple[str, ...], condition: str | None = None) -> dict[str, Any]:
        parts = [components.get(member) for member in members]
        start = _min(p.get("created_s") for p in parts if p)
        end = None if any(p is None or p.get("ready_s") is None for p in parts) \
            else _max(p["ready_s"] for p in parts)
        extra = {"observed_s": clock.offset(_true_since(hosted_control_plane, condition))} if condition else {}
        return _phase(name, start, end, **extra)

    # Only control-plane components (labelled pods) hold Available back; machines' pods in the namespace do not.
    serving = [entry for entry in components.values() if entry["control_plane"]]
    last_ready = _max(entry["ready_s"] for entry in serving) \
        if serving and all(entry["ready_s"] is not None for entry in serving) else None
    phases = [
        _phase("namespace", 0.0 if namespace_s is not None else None, namespace_s),
        _phase("service_endpoint", namespace_s, service_s, observed_s=published_s),
        _phase("pki", secret_times[0] if secret_times else None, secret_times[-1] if secret_times else None,
               secrets=len(secret_times)),
        _phase("image_pulls", pulls["start_s"], pulls["end_s"], pull_s=pulls["pull_s"], pulled=pulls["pulled"],
               already_present=pulls["already_present"]),
        component_phase("etcd", ("etcd",), "EtcdAvailable"),
        component_phase("kube_apiserver", ("kube-apiserver",), "KubeAPIServerAvailable"),
        component_phase("controllers", CONTROLLERS),
        _phase("available", last_ready, clock.offset(_true_since(hosted_cluster, "Available")),
               observed_s=clock.offset(_true_since(hosted_control_plane, "Available"))),
    ]
    return {
        "origin": (hosted_cluster.get("metadata") or {}).get("creationTimestamp"),
        "resolution_s": RESOLUTION_S,
        "phases": phases,
        "components": components,
        "image_pulls": {k: v for k, v in pulls.items() if k not in ("start_s", "end_s")},
    }


def split_by_kind(items: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The items of a `kubectl get a,b,c -o json` List, by kind."""
    kinds: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        kinds.setdefault(item.get("kind", ""), []).append(item)
    return kinds


PHASE_NUMBERS = ("start_s", "end_s", "duration_s", "observed_s", "pull_s")


def median_phases(reports: list[dict[str, Any]]) -> dict[str, dict[str, float | None]]:
    """Per phase, the median of each of its numbers over several creates' reports (those that have it)."""
    medians: dict[str, dict[str, float | None]] = {}
    for name in PHASES:
        entries = [phase for report in reports for phase in report["phases"] if phase["name"] == name]
        summary: dict[str, float | None] = {}
        for key in PHASE_NUMBERS:
            values = [entry[key] for entry in entries if entry.get(key) is not None]
            if any(key in entry for entry in entries):
                summary[key] = round(statistics.median(values), 3) if values else None
        medians[name] = summary
    return medians


def pulled_images(report: dict[str, Any]) -> bool:
    """Whether this create pulled any image (a first pull on this node) rather than finding them all present."""
    return report["image_pulls"]["pulled"] > 0


def durations(report: dict[str, Any]) -> dict[str, float | None]:
    """Phase name → duration, the short form for a list of many creates."""
    return {phase["name"]: phase["duration_s"] for phase in report["phases"]}
