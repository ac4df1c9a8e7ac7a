"""The controller runtime against a real kube-apiserver (with its etcd) on 127.0.0.1.

The server is bare: no controller-manager, scheduler or nodes, which is all the
runtime needs (watches, server-side apply, Leases, Events, CRDs). Certificates
come from hcp.pki; both processes run in their own process groups and are
killed, and their directory removed, when the module's tests are done.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import ssl
import subprocess
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from lightkube import AsyncClient, KubeConfig, LoadResourceError
from lightkube.resources.apiextensions_v1 import CustomResourceDefinition
from lightkube.resources.coordination_v1 import Lease
from lightkube.resources.core_v1 import ConfigMap, Event

from hcp.api import HostedCluster, crds, to_dict
from hcp.api.meta import LocalObjectReference
from hcp.api.v1beta1.hostedcluster import HostedClusterSpec
from hcp.api.v1beta1.networking import PublishingStrategyType, ServiceType
from hcp.api.v1beta1.platform import PlatformType
from hcp.kube.apply import apply, apply_status, delete_if_exists, owner_reference, resource_for, resource_of
from hcp.kube.client import FIELD_MANAGER
from hcp.kube.conditions import set_condition
from hcp.kube.controller import Controller, Manager
from hcp.kube.events import WARNING, EventRecorder
from hcp.kube.informer import ADDED, DELETED, MODIFIED, Informer, owner_keys
from hcp.kube.leader import LeaderElector, LeaderLost
from hcp.upstream import binaries
from hcp.pki import issue, kubeconfig, new_ca, new_service_account_key
from tests.integration.ports import free_port

pytestmark = pytest.mark.integration

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class ApiServer:
    kubeconfig: Path

    def client(self) -> AsyncClient:
        return AsyncClient(config=KubeConfig.from_file(self.kubeconfig), field_manager=FIELD_MANAGER)

    def run(self, scenario: Callable[[AsyncClient], Awaitable[None]]) -> None:
        """Run an async scenario with a client of its own (httpx clients belong to one event loop)."""

        async def main() -> None:
            async with self.client() as client:
                await scenario(client)

        asyncio.run(main())


def _write(directory: Path, name: str, data: bytes) -> str:
    path = directory / name
    path.write_bytes(data)
    path.chmod(0o600)
    return str(path)


def _start(command: list[str], log: Path) -> subprocess.Popen:
    with log.open("wb") as out:
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def _stop(process: subprocess.Popen) -> None:
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 10)):
        if process.poll() is not None:
            return
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(wait)
        except subprocess.TimeoutExpired:
            continue


def _wait_ready(url: str, context: ssl.SSLContext, processes: dict[str, tuple[subprocess.Popen, Path]]) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        for name, (process, log) in processes.items():
            if process.poll() is not None:
                raise AssertionError(f"{name} exited ({process.returncode}):\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url, verify=context, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"kube-apiserver not ready after 90s:\n{processes['kube-apiserver'][1].read_text()[-3000:]}")


@pytest.fixture(scope="module")
def api_server(tmp_path_factory) -> ApiServer:
    kube, etcd = binaries.ensure("kubernetes"), binaries.ensure("etcd")
    directory = tmp_path_factory.mktemp("kube-runtime")
    pki = directory / "pki"
    pki.mkdir()
    ca = new_ca("hcp-kube-runtime-test-ca")
    ca_file = _write(pki, "ca.crt", ca.cert_pem)
    etcd_server = issue(ca, "etcd", ip_addresses=(LOOPBACK,), server=True, client=True)
    etcd_client = issue(ca, "kube-apiserver-etcd-client", client=True)
    serving = issue(ca, "kube-apiserver", dns_names=("localhost",), ip_addresses=(LOOPBACK,), server=True)
    admin = issue(ca, "hcp-admin", organizations=("system:masters",), client=True)
    service_accounts = new_service_account_key()
    etcd_port, peer_port, api_port = free_port(), free_port(), free_port()
    etcd_url = f"https://{LOOPBACK}:{etcd_port}"

    processes: dict[str, tuple[subprocess.Popen, Path]] = {}
    try:
        processes["etcd"] = (_start([
            str(etcd / "etcd"),
            "--name", "test",
            "--data-dir", str(directory / "etcd"),
            "--listen-client-urls", etcd_url,
            "--advertise-client-urls", etcd_url,
            "--listen-peer-urls", f"http://{LOOPBACK}:{peer_port}",
            "--initial-advertise-peer-urls", f"http://{LOOPBACK}:{peer_port}",
            "--initial-cluster", f"test=http://{LOOPBACK}:{peer_port}",
            "--cert-file", _write(pki, "etcd.crt", etcd_server.cert_pem),
            "--key-file", _write(pki, "etcd.key", etcd_server.key_pem),
            "--trusted-ca-file", ca_file,
            "--client-cert-auth",
        ], directory / "etcd.log"), directory / "etcd.log")
        processes["kube-apiserver"] = (_start([
            str(kube / "kube-apiserver"),
            "--bind-address", LOOPBACK,
            "--advertise-address", LOOPBACK,
            "--endpoint-reconciler-type=none",  # the `kubernetes` Service cannot point at loopback
            "--secure-port", str(api_port),
            "--etcd-servers", etcd_url,
            "--etcd-cafile", ca_file,
            "--etcd-certfile", _write(pki, "etcd-client.crt", etcd_client.cert_pem),
            "--etcd-keyfile", _write(pki, "etcd-client.key", etcd_client.key_pem),
            "--tls-cert-file", _write(pki, "apiserver.crt", serving.cert_pem),
            "--tls-private-key-file", _write(pki, "apiserver.key", serving.key_pem),
            "--client-ca-file", ca_file,
            "--service-account-key-file", _write(pki, "sa.pub", service_accounts.cert_pem),
            "--service-account-signing-key-file", _write(pki, "sa.key", service_accounts.key_pem),
            "--service-account-issuer", "https://kubernetes.default.svc",
            "--service-cluster-ip-range", "10.250.0.0/24",
            "--authorization-mode", "RBAC",
            "--profiling=false",
        ], directory / "kube-apiserver.log"), directory / "kube-apiserver.log")

        context = ssl.create_default_context(cafile=ca_file)
        context.load_cert_chain(_write(pki, "admin.crt", admin.cert_pem), _write(pki, "admin.key", admin.key_pem))
        server = f"https://{LOOPBACK}:{api_port}"
        _wait_ready(f"{server}/readyz", context, processes)
        path = directory / "admin.kubeconfig"
        path.write_text(kubeconfig.render(cluster="kube-runtime-test", server=server, ca_pem=ca.cert_pem,
                                          user="hcp-admin", credentials=admin))
        yield ApiServer(path)
    finally:
        for process, _ in reversed(processes.values()):
            _stop(process)
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def namespace(api_server, request) -> str:
    name = f"{request.node.name.replace('_', '-')[:40].strip('-')}-{uuid.uuid4().hex[:5]}"
    api_server.run(lambda client: apply(client, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}))
    return name


async def eventually(predicate: Callable[[], object], timeout: float = 20, message: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting: {message or predicate}")
        await asyncio.sleep(0.05)


def config_map(namespace: str, name: str, data: dict[str, str], labels: dict[str, str] | None = None) -> dict:
    metadata = {"name": name, "namespace": namespace, **({"labels": labels} if labels else {})}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": data}


def test_informer_sees_create_update_and_delete(api_server, namespace):
    async def scenario(client: AsyncClient) -> None:
        await apply(client, config_map(namespace, "before", {"a": "1"}, {"app": "demo"}))
        informer = Informer(client, ConfigMap, namespace=namespace, labels={"app": "demo"})
        events: list[tuple[str, str, dict | None]] = []
        informer.add_handler(lambda event, obj: events.append((event, obj.metadata.name, obj.data)))
        runner = asyncio.create_task(informer.run())
        try:
            await asyncio.wait_for(informer.wait_synced(), 20)
            assert events == [(ADDED, "before", {"a": "1"})], "the initial list is delivered as ADDED"

            await apply(client, config_map(namespace, "demo", {"a": "1"}, {"app": "demo"}))
            await apply(client, config_map(namespace, "unlabelled", {"a": "1"}))
            await eventually(lambda: informer.get(namespace, "demo") is not None)
            assert events[-1] == (ADDED, "demo", {"a": "1"})

            await apply(client, config_map(namespace, "demo", {"a": "2"}, {"app": "demo"}))
            await eventually(lambda: informer.get(namespace, "demo").data == {"a": "2"})
            assert events[-1] == (MODIFIED, "demo", {"a": "2"})

            assert await delete_if_exists(client, ConfigMap, "demo", namespace)
            assert not await delete_if_exists(client, ConfigMap, "demo", namespace)
            await eventually(lambda: informer.get(namespace, "demo") is None)
            assert events[-1] == (DELETED, "demo", {"a": "2"})

            assert sorted(o.metadata.name for o in informer.list()) == ["before"]
            assert all(name != "unlabelled" for _, name, _ in events), "the label selector filters"
        finally:
            runner.cancel()

    api_server.run(scenario)


def test_apply_is_idempotent_and_takes_field_ownership(api_server, namespace):
    async def scenario(client: AsyncClient) -> None:
        first = await apply(client, config_map(namespace, "owned", {"a": "1", "b": "2"}))
        again = await apply(client, config_map(namespace, "owned", {"a": "1", "b": "2"}))
        assert again.metadata.resourceVersion == first.metadata.resourceVersion, "no change, no write"

        # Another manager sets a field hcp also sets, and one of its own.
        other = {**config_map(namespace, "owned", {"a": "theirs", "c": "3"})}
        await client.apply(ConfigMap.from_dict(other), field_manager="someone-else", force=True)

        # hcp applies again: it takes `a` back, keeps out of `c`, and drops `b`, which it no longer sets.
        result = await apply(client, config_map(namespace, "owned", {"a": "1"}))
        assert result.data == {"a": "1", "c": "3"}
        owners = {entry.manager: entry for entry in result.metadata.managedFields}
        assert owners[FIELD_MANAGER].operation == "Apply"
        assert "f:a" in owners[FIELD_MANAGER].fieldsV1["f:data"]
        assert "f:a" not in owners["someone-else"].fieldsV1["f:data"]

    api_server.run(scenario)


def test_owner_references_and_secondary_keys(api_server, namespace):
    """A dependent's owner reference maps it back to its owner's key, as a controller's watch would."""

    async def scenario(client: AsyncClient) -> None:
        owner = await apply(client, config_map(namespace, "owner", {}))
        dependent = config_map(namespace, "dependent", {})
        dependent["metadata"]["ownerReferences"] = [owner_reference(owner)]
        created = await apply(client, dependent)
        assert created.metadata.ownerReferences[0].uid == owner.metadata.uid
        assert owner_keys("ConfigMap")(created) == [f"{namespace}/owner"]

    api_server.run(scenario)


def test_events_are_recorded_and_repeats_counted(api_server, namespace):
    async def scenario(client: AsyncClient) -> None:
        subject = await apply(client, config_map(namespace, "subject", {}))
        recorder = EventRecorder(client, component="hcp-test")
        for _ in range(3):
            await recorder.record(subject, WARNING, "ReconciliationError", "etcd is not reachable")
        await recorder.record(subject, WARNING, "ReconciliationError", "another message")
        events = [e async for e in client.list(Event, namespace=namespace)]
        counts = {e.message: e.count for e in events if e.involvedObject.name == "subject"}
        assert counts == {"etcd is not reachable": 3, "another message": 1}
        # Recording never raises, even for an object the API refuses events about.
        await recorder.record({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": "no-such-ns"}},
                              WARNING, "Test", "dropped")

    api_server.run(scenario)


def hosted_cluster(namespace: str) -> HostedCluster:
    return HostedCluster(
        metadata={"name": "demo", "namespace": namespace},
        spec=HostedClusterSpec(
            release={"image": "registry.hcp.internal:5000/hcp/release:1.37.1"},
            platform={"type": PlatformType.KWOK, "kwok": {}},
            pull_secret=LocalObjectReference(name="pull-secret"),
            services=[
                {"service": service, "service_publishing_strategy": {"type": PublishingStrategyType.LOAD_BALANCER}}
                for service in (ServiceType.API_SERVER, ServiceType.OAUTH_SERVER, ServiceType.KONNECTIVITY,
                                ServiceType.IGNITION)
            ],
        ),
    )


def test_status_is_applied_on_the_status_subresource_of_a_crd(api_server, namespace):
    async def scenario(client: AsyncClient) -> None:
        for crd in crds():
            await apply(client, crd)
        for crd in crds():
            await client.wait(CustomResourceDefinition, crd["metadata"]["name"], for_conditions=["Established"])

        created = await apply(client, hosted_cluster(namespace))
        assert created["metadata"]["generation"] == 1
        conditions = set_condition([], "Available", "False", "WaitingForEtcd", "etcd is starting", 1)
        status = {"conditions": [to_dict(c) for c in conditions]}
        updated = await apply_status(client, HostedCluster, "demo", namespace, status)
        assert updated["status"]["conditions"][0]["reason"] == "WaitingForEtcd"
        assert updated["metadata"]["generation"] == 1, "status writes do not bump the generation"

        # Status sent to the main resource is ignored; spec survives a status apply.
        live = await client.get(resource_of(HostedCluster), "demo", namespace=namespace)
        assert live["spec"]["pullSecret"] == {"name": "pull-secret"}
        assert HostedCluster.model_validate(live).status.conditions[0].type == "Available"

    api_server.run(scenario)


def test_unknown_custom_kinds_are_resolved_from_their_crd(api_server, namespace):
    group = f"t{uuid.uuid4().hex[:6]}.hcp.test"
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"widgets.{group}"},
        "spec": {
            "group": group,
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
            "scope": "Namespaced",
            "versions": [{
                "name": "v1", "served": True, "storage": True, "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                    "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                }}},
            }],
        },
    }

    async def scenario(client: AsyncClient) -> None:
        await apply(client, crd)
        await client.wait(CustomResourceDefinition, crd["metadata"]["name"], for_conditions=["Established"])
        widget = {"apiVersion": f"{group}/v1", "kind": "Widget",
                  "metadata": {"name": "w", "namespace": namespace}, "spec": {"size": 3}}
        created = await apply(client, widget)
        assert created["spec"] == {"size": 3}
        resource = await resource_for(client, f"{group}/v1", "Widget")
        status = await apply_status(client, resource, "w", namespace, {"phase": "Ready"})
        assert status["status"] == {"phase": "Ready"}
        with pytest.raises(LoadResourceError, match="unknown kind Gadget"):
            await resource_for(client, f"{group}/v1", "Gadget")

    api_server.run(scenario)


def test_leader_election_one_leads_and_the_other_takes_over_on_release(api_server, namespace):
    """Two managers: only the leader reconciles; when it stops, the standby takes over at once."""

    async def scenario(client: AsyncClient) -> None:
        await apply(client, config_map(namespace, "work", {}))
        reconciled: list[str] = []

        def manager(identity: str) -> Manager:
            async def reconcile(key: str) -> None:
                reconciled.append(identity)

            elector = LeaderElector(client, namespace=namespace, name="hcp-operator", identity=identity,
                                    lease_duration=15, renew_interval=0.5, retry_interval=0.2)
            controller = Controller(f"test-{identity}", reconcile)
            controller.watch(Informer(client, ConfigMap, namespace=namespace))
            result = Manager(elector=elector)
            result.add(controller)
            return result

        first, second = manager("first"), manager("second")
        first_run = asyncio.create_task(first.run(handle_signals=False))
        await eventually(lambda: "first" in reconciled, message="first leads and reconciles")
        second_run = asyncio.create_task(second.run(handle_signals=False))
        await asyncio.sleep(2)  # several acquire attempts by the standby
        assert set(reconciled) == {"first"}
        lease = await client.get(Lease, "hcp-operator", namespace=namespace)
        assert lease.spec.holderIdentity == "first"
        assert lease.spec.leaseDurationSeconds == 15

        first.stop()
        await asyncio.wait_for(first_run, 10)
        started = time.monotonic()
        await eventually(lambda: "second" in reconciled, message="second takes over")
        assert time.monotonic() - started < 15, "a released lease is taken without waiting for it to expire"
        lease = await client.get(Lease, "hcp-operator", namespace=namespace)
        assert lease.spec.holderIdentity == "second"
        assert lease.spec.leaseTransitions == 1
        second.stop()
        await asyncio.wait_for(second_run, 10)
        lease = await client.get(Lease, "hcp-operator", namespace=namespace)
        assert lease.spec.holderIdentity is None

    api_server.run(scenario)


def test_an_expired_lease_is_taken_over_only_after_its_duration(api_server, namespace):
    async def scenario(client: AsyncClient) -> None:
        def elector(identity: str) -> LeaderElector:
            return LeaderElector(client, namespace=namespace, name="lease", identity=identity,
                                 lease_duration=3, renew_interval=1, retry_interval=0.2)

        crashed, standby = elector("crashed"), elector("standby")
        await crashed.acquire()  # and then never renews nor releases, like a killed process
        started = time.monotonic()
        await asyncio.wait_for(standby.acquire(), 20)
        waited = time.monotonic() - started
        assert waited >= 3, f"took over a live lease after {waited:.1f}s"
        assert standby.is_leader

        # The old holder notices on its next renewal attempt.
        with pytest.raises(LeaderLost, match="held by standby"):
            await asyncio.wait_for(crashed.hold(), 10)

    api_server.run(scenario)


def test_an_informer_restarted_after_missing_changes_catches_up_by_relisting(api_server, namespace):
    """What the informer does after 410 Gone or a broken watch: the fresh list is diffed against the cache."""

    async def scenario(client: AsyncClient) -> None:
        for name in ("kept", "changed", "removed"):
            await apply(client, config_map(namespace, name, {"v": "1"}))
        informer = Informer(client, ConfigMap, namespace=namespace)
        events: list[tuple[str, str]] = []
        informer.add_handler(lambda event, obj: events.append((event, obj.metadata.name)))
        runner = asyncio.create_task(informer.run())
        await asyncio.wait_for(informer.wait_synced(), 20)
        runner.cancel()
        await asyncio.wait([runner])
        events.clear()

        await apply(client, config_map(namespace, "changed", {"v": "2"}))
        await delete_if_exists(client, ConfigMap, "removed", namespace)
        await apply(client, config_map(namespace, "new", {"v": "1"}))

        runner = asyncio.create_task(informer.run())
        try:
            await eventually(lambda: len(events) >= 3)
            assert sorted(events) == [(ADDED, "new"), (DELETED, "removed"), (MODIFIED, "changed")]
            assert informer.get(namespace, "changed").data == {"v": "2"}
            assert informer.get(namespace, "removed") is None
        finally:
            runner.cancel()

    api_server.run(scenario)


def test_a_controller_reconciles_the_owner_when_a_dependent_changes(api_server, namespace):
    async def scenario(client: AsyncClient) -> None:
        owner = await apply(client, config_map(namespace, "owner", {}, {"role": "owner"}))
        reconciled: list[str] = []

        async def reconcile(key: str) -> None:
            reconciled.append(key)

        controller = Controller("owners", reconcile)
        controller.watch(Informer(client, ConfigMap, namespace=namespace, labels={"role": "owner"}))
        controller.watch(Informer(client, ConfigMap, namespace=namespace, labels={"role": "dependent"}),
                         owner_keys("ConfigMap"))
        manager = Manager()
        manager.add(controller)
        runner = asyncio.create_task(manager.run(handle_signals=False))
        try:
            await eventually(lambda: reconciled == [f"{namespace}/owner"], message="initial reconcile")
            dependent = config_map(namespace, "dependent", {"v": "1"}, {"role": "dependent"})
            dependent["metadata"]["ownerReferences"] = [owner_reference(owner)]
            await apply(client, dependent)
            await eventually(lambda: len(reconciled) == 2, message="reconcile for the dependent")
            assert reconciled == [f"{namespace}/owner"] * 2
        finally:
            manager.stop()
            await asyncio.wait_for(runner, 10)

    api_server.run(scenario)


def test_a_manager_that_loses_its_lease_stops_its_controllers(api_server, namespace):
    async def scenario(client: AsyncClient) -> None:
        reconciled: list[str] = []

        async def reconcile(key: str) -> None:
            reconciled.append(key)

        elector = LeaderElector(client, namespace=namespace, name="hcp-operator", identity="victim",
                                renew_interval=0.3, retry_interval=0.1)
        controller = Controller("victim", reconcile)
        controller.watch(Informer(client, ConfigMap, namespace=namespace))
        manager = Manager(elector=elector)
        manager.add(controller)
        runner = asyncio.create_task(manager.run(handle_signals=False))
        await eventually(lambda: elector.is_leader)

        lease = await client.get(Lease, "hcp-operator", namespace=namespace)
        lease.spec.holderIdentity = "intruder"
        await client.replace(lease)
        with pytest.raises(LeaderLost, match="held by intruder"):
            await asyncio.wait_for(runner, 10)
        await apply(client, config_map(namespace, "after", {}))
        await asyncio.sleep(0.5)
        assert f"{namespace}/after" not in reconciled
        lease = await client.get(Lease, "hcp-operator", namespace=namespace)
        assert lease.spec.holderIdentity == "intruder", "a deposed leader does not clear the new holder"

    api_server.run(scenario)
