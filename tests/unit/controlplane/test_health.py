"""The health probe between full passes: which control planes it probes, and that one that stops answering
gets a full pass (which decides Available), while one that answers costs nothing but the probe."""

from __future__ import annotations

import asyncio
import base64
from datetime import UTC, datetime, timedelta

from hcp.controlplane.context import Endpoint
from hcp.controlplane.controller import PROGRESS_RECHECK, RESYNC
from hcp.controlplane.health import HEALTH_PROBE, HealthProbe, probe_target

NOW = datetime(2030, 1, 1, tzinfo=UTC)
CA = b"-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----\n"


def control_plane(available: str | None = "True", *, endpoint: dict | None = None, paused: str | None = None,
                  deleting: bool = False) -> dict:
    metadata = {"name": "demo", "namespace": "clusters-demo"}
    if deleting:
        metadata["deletionTimestamp"] = "2030-01-01T00:00:00Z"
    status = {"controlPlaneEndpoint": {"host": "10.0.0.1", "port": 31234} if endpoint is None else endpoint}
    if available is not None:
        status["conditions"] = [{"type": "Available", "status": available, "reason": "AsExpected", "message": ""}]
    spec = {"pausedUntil": paused} if paused else {}
    return {"apiVersion": "hypershift.openshift.io/v1beta1", "kind": "HostedControlPlane", "metadata": metadata,
            "spec": spec, "status": status}


def test_an_available_control_plane_is_probed_at_its_published_endpoint():
    assert probe_target(control_plane(), CA, NOW) == Endpoint("10.0.0.1", 31234)


def test_one_not_yet_or_no_longer_available_is_left_to_its_own_passes():
    assert probe_target(control_plane("False"), CA, NOW) is None
    assert probe_target(control_plane(None), CA, NOW) is None


def test_paused_deleting_unpublished_or_without_a_ca_is_not_probed():
    assert probe_target(control_plane(paused="true"), CA, NOW) is None
    assert probe_target(control_plane(paused=(NOW + timedelta(hours=1)).isoformat()), CA, NOW) is None
    assert probe_target(control_plane(deleting=True), CA, NOW) is None
    assert probe_target(control_plane(endpoint={}), CA, NOW) is None
    assert probe_target(control_plane(), None, NOW) is None


def test_a_pause_that_is_over_is_probed_again():
    assert probe_target(control_plane(paused=(NOW - timedelta(hours=1)).isoformat()), CA, NOW) is not None


def test_the_probe_is_much_more_frequent_than_the_full_resync_and_slower_than_progress():
    assert PROGRESS_RECHECK < HEALTH_PROBE < RESYNC


class Cache:
    """An informer's cache of dicts (namespace, name) -> object."""

    def __init__(self, *objects: dict) -> None:
        self.objects = {(o["metadata"]["namespace"], o["metadata"]["name"]): o for o in objects}

    def get(self, namespace, name):
        return self.objects.get((namespace, name))


def root_ca() -> dict:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "root-ca", "namespace": "clusters-demo"},
            "data": {"ca.crt": base64.b64encode(CA).decode()}}


def probe_with(answer: tuple[bool, str], *objects: dict):
    probed: list[tuple[Endpoint, bytes]] = []
    passes: list[str] = []

    async def probe(endpoint: Endpoint, ca: bytes) -> tuple[bool, str]:
        probed.append((endpoint, ca))
        return answer

    health = HealthProbe(control_planes=Cache(*objects), secrets=Cache(root_ca()), full_pass=passes.append,
                         probe=probe)
    result = asyncio.run(health.reconcile("clusters-demo/demo"))
    return result, probed, passes


def test_an_answering_control_plane_gets_no_pass_and_is_probed_again_later():
    result, probed, passes = probe_with((True, ""), control_plane())
    assert probed == [(Endpoint("10.0.0.1", 31234), CA)]
    assert passes == []
    assert result.requeue_after == HEALTH_PROBE


def test_one_that_stops_answering_gets_a_full_pass_which_decides_available():
    result, probed, passes = probe_with((False, "connection refused"), control_plane())
    assert passes == ["clusters-demo/demo"]
    assert result.requeue_after == HEALTH_PROBE


def test_one_not_available_is_not_probed_and_not_requeued_a_change_brings_it_back():
    result, probed, passes = probe_with((False, "refused"), control_plane("False"))
    assert (result, probed, passes) == (None, [], [])


def test_a_deleted_control_plane_is_forgotten():
    result, probed, passes = probe_with((True, ""))
    assert (result, probed, passes) == (None, [], [])
