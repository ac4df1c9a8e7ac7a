"""`up` waits for the host processes, and acts on one as soon as it is healthy (kube-router's rights)."""

from pathlib import Path

import httpx2
import pytest

from hcp.management import cluster
from hcp.management.cluster import ComponentStatus
from hcp.management.layout import ClusterConfig, Layout

CONFIG = ClusterConfig(name="t", subnet_index=1)
LAYOUT = Layout(Path("/state"))


def _status(name: str, healthy: bool) -> ComponentStatus:
    return ComponentStatus(name=name, running=True, healthy=healthy, restarts=0, last_exit=None, log="")


@pytest.fixture
def passes(monkeypatch):
    """The supervisor's reports, one list per pass of the wait; the wait sleeps not at all."""
    reports: list[list[ComponentStatus]] = []
    monkeypatch.setattr(cluster, "supervisor_pid", lambda layout, config: 1)
    monkeypatch.setattr(cluster, "component_status", lambda layout, config: reports.pop(0))
    monkeypatch.setattr(cluster.time, "sleep", lambda seconds: None)
    return reports


def test_an_action_runs_once_when_its_process_is_first_healthy_while_the_others_start(passes):
    passes += [
        [_status("kube-apiserver", False), _status("kube-router", False)],
        [_status("kube-apiserver", True), _status("kube-router", False)],
        [_status("kube-apiserver", True), _status("kube-router", False)],
        [_status("kube-apiserver", True), _status("kube-router", True)],
    ]
    done = []
    cluster._wait_components(LAYOUT, CONFIG, lambda line: None,
                             when_healthy={"kube-apiserver": lambda: done.append(len(passes))})
    assert done == [2] and passes == []  # on the second pass, and only then


def test_an_action_the_api_server_does_not_answer_yet_is_tried_again(passes):
    passes += [[_status("kube-apiserver", True), _status("kube-router", False)],
               [_status("kube-apiserver", True), _status("kube-router", True)]]
    tries = []

    def grant():
        tries.append(1)
        if len(tries) == 1:
            raise httpx2.ConnectError("connection refused")

    cluster._wait_components(LAYOUT, CONFIG, lambda line: None, when_healthy={"kube-apiserver": grant})
    assert len(tries) == 2
