"""The phases of a create, read from hand-written objects of one (create.json: a SingleReplica KWOK cluster
whose etcd image was pulled, whose kube-apiserver pod was replaced once and restarted once)."""

import copy
import json
from pathlib import Path

import pytest

from hcp.hostedcluster.phases import (PHASES, create_phases, durations, go_duration, median_phases, pulled_images,
                                      split_by_kind)

FIXTURE = json.loads((Path(__file__).parent / "create.json").read_text())


def report(fixture=FIXTURE, **overrides):
    kinds = split_by_kind(fixture["items"])
    arguments = dict(namespace=fixture["namespace"], hosted_control_plane=fixture["hostedControlPlane"],
                     secrets=kinds.get("Secret", []), services=kinds.get("Service", []), pods=kinds.get("Pod", []),
                     events=kinds.get("Event", []), published_kubeconfig=fixture["publishedKubeconfig"])
    arguments.update(overrides)
    return create_phases(fixture["hostedCluster"], **arguments)


def by_name(result):
    return {phase["name"]: phase for phase in result["phases"]}


def test_every_phase_in_order_with_offsets_from_the_hosted_clusters_creation():
    result = report()
    assert [phase["name"] for phase in result["phases"]] == list(PHASES)
    assert result["origin"] == "2026-01-01T10:00:00Z"
    assert result["resolution_s"] == 1
    ends = {name: (phase["start_s"], phase["end_s"]) for name, phase in by_name(result).items()}
    assert ends == {
        "namespace": (0.0, 1.0),
        "service_endpoint": (1.0, 2.0),
        "pki": (2.0, 4.0),
        "image_pulls": (5.0, 9.0),
        "etcd": (4.0, 14.0),
        "kube_apiserver": (5.1, 21.0),  # from the first pod the scheduler placed, not the current one
        "controllers": (22.0, 27.0),
        "available": (27.0, 31.0),
    }


def test_conditions_give_when_the_operator_observed_each_step():
    phases = by_name(report())
    assert phases["service_endpoint"]["observed_s"] == 6.0  # the admin kubeconfig published from the status
    assert phases["etcd"]["observed_s"] == 15.0
    assert phases["kube_apiserver"]["observed_s"] == 22.0
    assert phases["available"]["observed_s"] == 30.0
    assert phases["available"]["duration_s"] == 4.0
    assert phases["pki"]["secrets"] == 3


def test_image_pulls_use_kubelets_own_durations_and_count_already_present_as_zero():
    result = report()
    pulls = result["image_pulls"]
    assert pulls["pulled"] == 1 and pulls["already_present"] == 1
    assert pulls["pull_s"] == 3.512  # not the 4 s between the events
    assert pulls["by_image"] == {"10.88.0.1:5000/hcp/etcd:v3.5.17": 3.512,
                                 "10.88.0.1:5000/hcp/kube-apiserver:v1.37.0": 0.0}
    etcd = next(p for p in pulls["pulls"] if p["container"] == "etcd")
    assert etcd == {"pod": "etcd-0", "container": "etcd", "image": "10.88.0.1:5000/hcp/etcd:v3.5.17",
                    "pulling_s": 5.0, "pulled_s": 9.0, "pull_s": 3.512, "already_present": False,
                    "including_waiting_s": 3.6}
    assert by_name(result)["image_pulls"]["pull_s"] == 3.512
    assert pulled_images(result)


def test_a_run_whose_images_were_all_present_is_not_a_first_pull():
    events = [e for e in split_by_kind(FIXTURE["items"])["Event"] if "Successfully pulled" not in e.get("message", "")]
    result = report(events=events)
    assert not pulled_images(result)
    phase = by_name(result)["image_pulls"]
    assert (phase["start_s"], phase["end_s"], phase["pull_s"]) == (None, None, 0.0)


def test_per_component_detail_counts_replaced_pods_and_restarts():
    components = report()["components"]
    assert components["kube-apiserver"] == {"created_s": 5.1, "scheduled_s": 15.0, "started_s": 18.0,
                                            "ready_s": 21.0, "pods": 1, "pods_seen": 2, "restarts": 1,
                                            "control_plane": True}
    assert components["etcd"]["created_s"] == 4.0  # the pod's own creation, a quarter second before its event
    assert set(components) == {"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"}


def test_an_unready_component_leaves_its_phase_and_available_open():
    fixture = copy.deepcopy(FIXTURE)
    for item in fixture["items"]:
        if item["metadata"]["name"].startswith("kube-scheduler"):
            item["status"]["conditions"] = [{"type": "Ready", "status": "False", "reason": "ContainersNotReady",
                                             "lastTransitionTime": "2026-01-01T10:00:22Z"}]
    fixture["hostedCluster"]["status"]["conditions"][0].update(status="False", reason="ComponentsNotAvailable")
    phases = by_name(report(fixture))
    assert phases["controllers"]["start_s"] == 22.0 and phases["controllers"]["end_s"] is None
    assert phases["controllers"]["duration_s"] is None
    assert phases["available"]["start_s"] is None and phases["available"]["end_s"] is None


def test_pods_of_machines_do_not_hold_available_back():
    machine = {"kind": "Pod", "metadata": {"name": "workers-abc12-x9z8y", "creationTimestamp": "2026-01-01T10:00:40Z"},
               "status": {"phase": "Pending"}}
    pods = split_by_kind(FIXTURE["items"])["Pod"] + [machine]
    result = report(pods=pods)
    assert by_name(result)["available"]["start_s"] == 27.0
    assert result["components"]["workers"]["control_plane"] is False


def test_a_hosted_cluster_alone_gives_empty_phases_without_failing():
    result = create_phases(FIXTURE["hostedCluster"])
    phases = by_name(result)
    assert phases["namespace"] == {"name": "namespace", "start_s": None, "end_s": None, "duration_s": None}
    assert phases["available"]["end_s"] == 31.0
    assert result["components"] == {} and result["image_pulls"]["pulled"] == 0


def test_objects_of_an_earlier_namesake_are_left_out():
    stale = {"kind": "Secret", "metadata": {"name": "old", "creationTimestamp": "2026-01-01T09:59:00Z"}}
    secrets = split_by_kind(FIXTURE["items"])["Secret"] + [stale]
    assert by_name(report(secrets=secrets))["pki"]["start_s"] == 2.0


def test_a_hosted_cluster_without_creation_time_is_refused():
    with pytest.raises(ValueError, match="creationTimestamp"):
        create_phases({"metadata": {"name": "x"}})


@pytest.mark.parametrize(("text", "seconds"), [
    ("1.5s", 1.5), ("850ms", 0.85), ("1m2.5s", 62.5), ("2h0m0s", 7200.0), ("0s", 0.0), ("0", 0.0),
    ("120.5µs", 0.0001205), ("3us", 0.000003), ("10ns", 1e-8), ("", None), ("fast", None), ("1.5", None),
    ("s", None),
])
def test_go_durations(text, seconds):
    assert go_duration(text) == pytest.approx(seconds) if seconds is not None else go_duration(text) is None


def test_medians_per_phase_over_runs():
    fast = report()
    slow = copy.deepcopy(fast)
    for phase in slow["phases"]:
        for key in ("start_s", "end_s", "duration_s"):
            if phase[key] is not None:
                phase[key] += 2
    third = copy.deepcopy(slow)
    medians = median_phases([fast, slow, third])
    assert list(medians) == list(PHASES)
    assert medians["namespace"] == {"start_s": 2.0, "end_s": 3.0, "duration_s": 3.0}
    assert medians["etcd"]["observed_s"] == 15.0
    assert medians["image_pulls"]["pull_s"] == 3.512


def test_durations_name_each_phase():
    assert durations(report())["etcd"] == 10.0


def test_older_kubelets_pull_message_without_waiting_time():
    event = {"kind": "Event", "metadata": {"creationTimestamp": "2026-01-01T10:00:03Z"}, "reason": "Pulled",
             "involvedObject": {"kind": "Pod", "name": "etcd-0", "fieldPath": "spec.containers{etcd}"},
             "message": 'Successfully pulled image "r/etcd:v3" in 1m2.25s', "firstTimestamp": "2026-01-01T10:00:03Z"}
    pulls = create_phases(FIXTURE["hostedCluster"], events=[event])["image_pulls"]
    assert pulls["pull_s"] == 62.25 and "including_waiting_s" not in pulls["pulls"][0]
