"""Each component's status, and the HostedControlPlane's Degraded, from what is observed (hcp.controlplane.status)."""

from __future__ import annotations

from types import SimpleNamespace

from hcp.controlplane.status import (
    CRASH_LOOP_RESTARTS, ComponentStatus, NotReady, component_status, degraded_condition, pod_problems,
    why_not_ready, workload_available, workload_degraded, workload_rolled_out,
)

KAS = ("Deployment", "kube-apiserver")
ETCD = ("StatefulSet", "etcd")


def workload(kind: str = "Deployment", *, replicas: int = 3, generation: int = 2, observed: int = 2,
             updated: int = 3, available: int = 3, total: int = 3, max_unavailable: int = 0,
             conditions: list | None = None) -> SimpleNamespace:
    status = SimpleNamespace(observedGeneration=observed, updatedReplicas=updated, availableReplicas=available,
                             readyReplicas=available, replicas=total, conditions=conditions or [])
    strategy = SimpleNamespace(rollingUpdate=SimpleNamespace(maxUnavailable=max_unavailable))
    return SimpleNamespace(kind=kind, spec=SimpleNamespace(replicas=replicas, strategy=strategy),
                           metadata=SimpleNamespace(generation=generation), status=status)


def condition(type_: str, status: str, reason: str, message: str = "") -> SimpleNamespace:
    return SimpleNamespace(type=type_, status=status, reason=reason, message=message)


def pod(name: str, *containers: dict, init: tuple[dict, ...] = ()) -> dict:
    return {"metadata": {"name": name},
            "status": {"initContainerStatuses": list(init), "containerStatuses": list(containers)}}


def waiting(name: str, reason: str, restarts: int = 0, message: str = "") -> dict:
    state = {"reason": reason, **({"message": message} if message else {})}
    return {"name": name, "restartCount": restarts, "state": {"waiting": state}}


def running(name: str) -> dict:
    return {"name": name, "restartCount": 0, "state": {"running": {}}}


# Workloads: available (serving on whichever spec) and rolled out (every replica on the current spec).

def test_a_rolling_workload_still_serving_is_available_but_not_rolled_out():
    rolling = workload(generation=3, observed=3, updated=1, available=3, total=4)
    assert workload_available(rolling) and not workload_rolled_out(rolling)


def test_a_workload_whose_new_spec_is_not_observed_is_not_rolled_out():
    assert not workload_rolled_out(workload(generation=3, observed=2))
    assert workload_rolled_out(workload())


def test_a_deployment_short_of_its_minimum_availability_or_an_etcd_without_quorum_is_not_available():
    assert not workload_available(workload(available=2))
    assert workload_available(workload(available=2, max_unavailable=1))  # 2 of 3 with maxUnavailable 1
    assert not workload_available(workload(replicas=1, available=0, max_unavailable=1))  # never none at all
    assert not workload_available(workload("StatefulSet", available=1))
    assert workload_available(workload("StatefulSet", available=2))  # 2 of 3 etcd members: a quorum
    assert not workload_available(None)


# A component's status.

def test_a_component_whose_workloads_run_their_spec_is_available_and_rolled_out():
    status = component_status("kube-apiserver", {KAS: workload()})
    assert status == ComponentStatus("kube-apiserver", available=True, rolled_out=True)


def test_a_rolling_component_is_available_not_rolled_out_and_says_where_it_is():
    status = component_status("kube-apiserver", {KAS: workload(generation=3, observed=3, updated=1, total=4)})
    assert status.available and not status.rolled_out and status.degraded is None
    assert status.message == "Deployment kube-apiserver: 3 of 3 available, 1 updated"


def test_a_component_not_created_yet_is_neither_available_nor_rolled_out():
    status = component_status("etcd", {ETCD: None})
    assert not status.available and not status.rolled_out
    assert status.message == "StatefulSet etcd not created yet"


def test_a_held_component_is_not_rolled_out_even_when_its_old_spec_runs_everywhere():
    status = component_status("kube-scheduler", {("Deployment", "kube-scheduler"): workload()},
                              waiting_for=("kube-apiserver",))
    assert status.available and not status.rolled_out
    assert status.waiting_for == ("kube-apiserver",) and status.message == "held until kube-apiserver rolled out"


def test_a_component_without_workloads_has_nothing_to_wait_for():
    assert component_status("hosted-cluster-config", {}) == ComponentStatus("hosted-cluster-config", True, True)


# Degraded: what waiting does not fix.

def test_a_deployment_past_its_progress_deadline_is_degraded_with_the_controllers_message():
    stuck = workload(available=1, updated=1, conditions=[
        condition("Available", "False", "MinimumReplicasUnavailable"),
        condition("Progressing", "False", "ProgressDeadlineExceeded",
                  'ReplicaSet "kube-apiserver-5d9" has timed out progressing.')])
    assert workload_degraded(*KAS, stuck) == 'Deployment kube-apiserver: ReplicaSet "kube-apiserver-5d9" has timed ' \
                                             'out progressing.'
    progressing = workload(conditions=[condition("Progressing", "True", "NewReplicaSetAvailable")])
    assert workload_degraded(*KAS, progressing) is None and workload_degraded(*KAS, None) is None


def test_image_pull_and_configuration_errors_degrade_at_once_naming_the_pod_container_and_restarts_if_any():
    pods = [pod("kube-apiserver-abc", waiting("kube-apiserver", "ImagePullBackOff", 0,
                                              'Back-off pulling image "registry/kube-apiserver:v9"'), running("proxy")),
            pod("kube-apiserver-def", running("kube-apiserver"),
                waiting("konnectivity-server", "CreateContainerConfigError", 1, 'secret "x" not found'))]
    assert pod_problems(pods) == [
        'pod kube-apiserver-abc container kube-apiserver ImagePullBackOff: Back-off pulling image '
        '"registry/kube-apiserver:v9"',
        'pod kube-apiserver-def container konnectivity-server CreateContainerConfigError: secret "x" not found '
        '(restarted 1 time)',
    ]
    assert pod_problems([pod("p", waiting("c", "ErrImagePull"))]) == ["pod p container c ErrImagePull"]


def test_a_crash_loop_degrades_once_it_has_restarted_a_few_times_init_containers_included():
    starting = pod("kube-scheduler-1", waiting("kube-scheduler", "CrashLoopBackOff", CRASH_LOOP_RESTARTS - 1))
    assert pod_problems([starting]) == []  # a controller waiting for its API server at start
    looping = pod("etcd-0", init=(waiting("restore-snapshot", "CrashLoopBackOff", 7, "back-off 5m0s"),))
    assert pod_problems([looping]) == [
        "pod etcd-0 container restore-snapshot CrashLoopBackOff: back-off 5m0s (restarted 7 times)"]
    assert pod_problems([pod("p", waiting("c", "ContainerCreating")), {"metadata": {"name": "q"}}]) == []


def test_a_degraded_component_can_still_be_available():
    pods = [pod("etcd-2", waiting("etcd", "CrashLoopBackOff", 5))]
    status = component_status("etcd", {ETCD: workload("StatefulSet", available=2)}, pods)  # a quorum of 3
    assert status.available and not status.rolled_out
    assert status.degraded == "pod etcd-2 container etcd CrashLoopBackOff (restarted 5 times)"


def test_degraded_names_each_degraded_component_and_why():
    statuses = [ComponentStatus("etcd", True, True),
                ComponentStatus("kube-apiserver", True, False, degraded="pod a container b ErrImagePull"),
                ComponentStatus("kwok", False, False, degraded="Deployment kwok: timed out")]
    assert degraded_condition(statuses) == (
        True, "ComponentsDegraded",
        "kube-apiserver: pod a container b ErrImagePull; kwok: Deployment kwok: timed out")
    assert degraded_condition(statuses[:1]) == (False, "AsExpected", "All components are as expected")


# The HostedControlPlane's conditions from the components' statuses (hcp.controlplane.controller).

def observed(*statuses: ComponentStatus, api_ready: bool = True, restore_error: str | None = None):
    from hcp.controlplane.context import Endpoint
    from hcp.controlplane.controller import Observed
    return Observed({s.name: s for s in statuses}, Endpoint("api.example.com", 6443), api_ready,
                    "" if api_ready else "connection refused", restore_error)


def conditions(*statuses: ComponentStatus, **kwargs) -> dict:
    from hcp.controlplane.controller import derived_conditions
    return derived_conditions(observed(*statuses, **kwargs))


def ok(name: str) -> ComponentStatus:
    return ComponentStatus(name, True, True)


def test_without_etcd_enabled_the_control_plane_becomes_available_and_says_etcd_is_unmanaged():
    derived = conditions(ok("kube-apiserver"), ok("kube-controller-manager"), ok("kube-scheduler"))
    assert derived["EtcdAvailable"] == (True, "EtcdUnmanaged", "etcd is unmanaged: it is run outside hcp")
    assert derived["Available"] == (True, "AsExpected", "The hosted control plane is available")
    assert derived["Degraded"] == (False, "AsExpected", "All components are as expected")


def test_a_component_that_does_not_serve_holds_available_back_and_is_named_with_where_it_is():
    waiting = ComponentStatus("kwok", False, False, message="Deployment kwok: 0 of 1 available, 1 updated")
    derived = conditions(ok("etcd"), ok("kube-apiserver"), waiting)
    assert derived["Available"] == (False, "ComponentsNotAvailable",
                                    "Waiting for kwok to roll out (Deployment kwok: 0 of 1 available, 1 updated)")
    assert derived["KubeAPIServerAvailable"][0] and derived["EtcdAvailable"][1] == "QuorumAvailable"
    assert conditions(ok("etcd"), ok("kube-apiserver"), api_ready=False)["Available"][2] == \
        "The API server at https://api.example.com:6443 is not ready: connection refused"


def test_held_components_are_said_while_the_control_plane_stays_available():
    held = ComponentStatus("kube-scheduler", True, False, message="held until kube-apiserver rolled out",
                           waiting_for=("kube-apiserver",))
    rolling = ComponentStatus("kube-apiserver", True, False, message="Deployment kube-apiserver: 3 of 3 available")
    assert conditions(ok("etcd"), rolling, held)["Available"] == (
        True, "AsExpected",
        "The hosted control plane is available; updating in dependency order: kube-scheduler waits for kube-apiserver")


def test_a_degraded_component_makes_the_control_plane_degraded_not_unavailable():
    broken = ComponentStatus("ignition-server", True, False, degraded="pod i container kubelet ImagePullBackOff")
    derived = conditions(ok("etcd"), ok("kube-apiserver"), broken)
    assert derived["Available"][0]
    assert derived["Degraded"] == (True, "ComponentsDegraded", "ignition-server: pod i container kubelet ImagePullBackOff")


# Why a component is not ready, from its pods (why_not_ready), and how it reaches the conditions.

INSUFFICIENT_CPU = ("0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: "
                    "1 No preemption victims found for incoming pod.")


def pending(name: str, message: str = INSUFFICIENT_CPU, **status) -> dict:
    scheduled = {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": message}
    return {"metadata": {"name": name}, "status": {"phase": "Pending", "conditions": [scheduled], **status}}


def crashing(name: str, restarts: int, exit_code: int | None = 1, message: str = "") -> dict:
    last = {"terminated": {"reason": "Error", **({"exitCode": exit_code} if exit_code is not None else {}),
                           **({"message": message} if message else {})}}
    return {"name": name, "restartCount": restarts, "lastState": last,
            "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 40s restarting failed"}}}


def test_a_pod_no_node_fits_is_named_with_the_schedulers_reason_without_its_preemption_postscript():
    why = why_not_ready([pending("kube-scheduler-5d8f-x2")])
    assert why == NotReady("Unschedulable", "pod kube-scheduler-5d8f-x2 cannot be scheduled: "
                                            "0/1 nodes are available: 1 Insufficient cpu.")


def test_an_unschedulable_pod_without_a_message_is_still_said():
    assert why_not_ready([pending("etcd-0", message="")]).message == "pod etcd-0 cannot be scheduled: no node fits it"


def test_a_pod_not_scheduled_yet_for_another_reason_is_no_reason():
    waiting_gate = pending("a")
    waiting_gate["status"]["conditions"][0]["reason"] = "SchedulingGated"
    assert why_not_ready([waiting_gate]) is None
    assert why_not_ready([]) is None
    assert why_not_ready([pod("kas-1", running("kube-apiserver"))]) is None


def test_image_pull_failures_name_the_container_and_the_kubelets_message():
    why = why_not_ready([pod("kas-1", waiting("kube-apiserver", "ImagePullBackOff",
                                              message="Back-off pulling image \"registry:5000/kas:v1\""))])
    assert why == NotReady("ImagePullBackOff", 'pod kas-1 container kube-apiserver cannot pull its image '
                                               '(ImagePullBackOff): Back-off pulling image "registry:5000/kas:v1"')
    assert why_not_ready([pod("kas-1", init=(waiting("init", "ErrImagePull"),))]).message == \
        "pod kas-1 container init cannot pull its image (ErrImagePull)"


def test_a_missing_configuration_is_said():
    why = why_not_ready([pod("kcm-1", waiting("kcm", "CreateContainerConfigError", message='secret "x" not found'))])
    assert why == NotReady("CreateContainerConfigError",
                           'pod kcm-1 container kcm cannot be created (CreateContainerConfigError): secret "x" not found')


def test_a_crash_loop_is_said_from_the_first_restart_with_the_last_exit_code_and_the_end_of_its_log():
    why = why_not_ready([pod("kas-1", crashing("kube-apiserver", 1, message="E0101 dial etcd: connection refused"))])
    assert why == NotReady("CrashLoopBackOff", "pod kas-1 container kube-apiserver keeps crashing (restarted 1 time, "
                                               "last exit code 1): E0101 dial etcd: connection refused")
    assert why_not_ready([pod("kas-1", crashing("k", 4, exit_code=None))]).message == \
        "pod kas-1 container k keeps crashing (restarted 4 times): Error"


def test_the_most_actionable_reason_wins_whatever_the_order_of_pods_and_containers():
    crash = pod("a-1", crashing("c", 2))
    image = pod("b-1", running("x"), waiting("y", "ErrImagePull"))
    unschedulable = pending("c-1")
    for pods in ([crash, image, unschedulable], [unschedulable, image, crash]):
        assert why_not_ready(pods).reason == "Unschedulable"
    assert why_not_ready([crash, image]).reason == "ErrImagePull"
    both = pod("d-1", crashing("first", 5), waiting("second", "ImagePullBackOff"))
    assert why_not_ready([both]).message.startswith("pod d-1 container second cannot pull its image")


def test_several_pods_held_alike_name_the_first_by_name_and_count_the_others():
    assert why_not_ready([pending("etcd-2"), pending("etcd-0"), pending("etcd-1")]).message == \
        "pod etcd-0 cannot be scheduled: 0/1 nodes are available: 1 Insufficient cpu. (and 2 other pods)"
    assert why_not_ready([pending("etcd-1"), pending("etcd-0")]).message.endswith("(and 1 other pod)")
    assert "other" not in why_not_ready([pending("etcd-0"), pod("etcd-1", crashing("etcd", 1))]).message


def test_pods_going_away_or_finished_are_no_reason():
    leaving = pending("old")
    leaving["metadata"]["deletionTimestamp"] = "2025-01-01T00:00:00Z"
    failed = pod("evicted", waiting("c", "ErrImagePull"))
    failed["status"]["phase"] = "Failed"
    assert why_not_ready([leaving, failed]) is None


def test_a_long_scheduler_message_is_shortened():
    why = why_not_ready([pending("p", message="0/100 nodes are available: " + "x" * 500)])
    assert len(why.message) < 260 and why.message.endswith("…")


def test_a_component_that_is_not_ready_leads_its_message_with_what_its_pods_say():
    status = component_status("kube-scheduler", {("Deployment", "kube-scheduler"): workload(replicas=1, available=0,
                                                                                             updated=1, total=1)},
                              [pending("kube-scheduler-5d8f-x2")])
    assert status.why.reason == "Unschedulable"
    assert status.message == ("pod kube-scheduler-5d8f-x2 cannot be scheduled: 0/1 nodes are available: "
                              "1 Insufficient cpu.; Deployment kube-scheduler: 0 of 1 available, 1 updated")
    assert status.degraded is None  # capacity may come: not for Degraded


def test_a_ready_component_has_no_why_whatever_its_pods_say():
    assert component_status("kube-scheduler", {("Deployment", "kube-scheduler"): workload()},
                            [pending("leftover")]).why is None


def test_an_unschedulable_component_makes_available_false_with_reason_unschedulable_and_says_why():
    stuck = component_status("kube-scheduler", {("Deployment", "kube-scheduler"): workload(replicas=1, available=0,
                                                                                            updated=1, total=1)},
                             [pending("kube-scheduler-5d8f-x2")])
    slow = ComponentStatus("kube-controller-manager", False, False,
                           message="Deployment kube-controller-manager: 0 of 1 available, 1 updated")
    derived = conditions(ok("etcd"), ok("kube-apiserver"), slow, stuck)
    assert derived["Available"] == (
        False, "Unschedulable",
        "Waiting for kube-scheduler, kube-controller-manager to roll out: kube-scheduler: pod kube-scheduler-5d8f-x2 "
        "cannot be scheduled: 0/1 nodes are available: 1 Insufficient cpu.; kube-controller-manager: "
        "Deployment kube-controller-manager: 0 of 1 available, 1 updated")


def test_a_crash_loop_says_why_but_keeps_the_usual_reason():
    why = NotReady("CrashLoopBackOff", "pod k-1 container k keeps crashing (restarted 2 times)")
    derived = conditions(ok("etcd"), ok("kube-apiserver"), ComponentStatus("kwok", False, False, message="m", why=why))
    assert derived["Available"] == (False, "ComponentsNotAvailable", "Waiting for kwok to roll out: kwok: "
                                    "pod k-1 container k keeps crashing (restarted 2 times)")


def test_etcd_and_kube_apiserver_conditions_say_what_holds_them():
    why = NotReady("Unschedulable", "pod etcd-0 cannot be scheduled: 0/1 nodes are available: 1 Insufficient memory.")
    etcd = ComponentStatus("etcd", False, False, message=why.message, why=why)
    kas = ComponentStatus("kube-apiserver", False, False, why=NotReady("ErrImagePull", "pod kas-1 container c cannot "
                                                                                       "pull its image (ErrImagePull)"))
    derived = conditions(etcd, kas)
    assert derived["EtcdAvailable"] == (False, "EtcdWaitingForQuorum", "Waiting for etcd to be ready: pod etcd-0 "
                                        "cannot be scheduled: 0/1 nodes are available: 1 Insufficient memory.")
    assert derived["KubeAPIServerAvailable"] == (False, "NotAvailable", "Waiting for the kube-apiserver deployment: "
                                                 "pod kas-1 container c cannot pull its image (ErrImagePull)")
    assert derived["Available"][1] == "Unschedulable"


def test_a_serving_component_whose_new_pods_do_not_come_keeps_available_and_says_why():
    why = NotReady("Unschedulable", "pod kube-apiserver-new cannot be scheduled: 0/1 nodes are available: "
                                    "1 Insufficient cpu.")
    rolling = ComponentStatus("kube-apiserver", True, False, message=why.message, why=why)
    assert conditions(ok("etcd"), rolling)["Available"] == (
        True, "AsExpected", "The hosted control plane is available; kube-apiserver cannot finish its rollout: "
                            "pod kube-apiserver-new cannot be scheduled: 0/1 nodes are available: 1 Insufficient cpu.")
