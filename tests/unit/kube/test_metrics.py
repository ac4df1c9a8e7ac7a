"""Controller metrics and the metrics/health server, driven through the real Controller, Manager and sockets."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from prometheus_client import CollectorRegistry

from hcp.kube.controller import Controller, Manager, Result
from hcp.kube.metrics import ControllerMetrics, MetricsServer
from hcp.kube.queue import WorkQueue


async def until(predicate, timeout: float = 10) -> None:
    async def poll() -> None:
        while not predicate():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), timeout)


def value(registry: CollectorRegistry, metric: str, /, **labels: str) -> float | None:
    return registry.get_sample_value(metric, labels)


def test_reconciles_are_counted_by_controller_and_result_with_their_durations():
    registry = CollectorRegistry()
    calls: list[str] = []

    async def reconcile(key: str) -> Result | None:
        calls.append(key)
        if key == "ns/broken" and calls.count(key) == 1:
            raise RuntimeError("etcd not ready")
        if key == "ns/paused":
            return Result(requeue_after=3600)
        return None

    async def scenario() -> None:
        controller = Controller("hostedcluster", reconcile, workers=2)
        controller.instrument(ControllerMetrics(registry))
        for key in ("ns/a", "ns/b", "ns/broken", "ns/paused"):
            controller.queue.add(key)
        runner = asyncio.create_task(controller.run())
        await until(lambda: calls.count("ns/broken") == 2)  # failed once, retried after its backoff
        await asyncio.sleep(0.05)
        runner.cancel()

    asyncio.run(scenario())
    assert value(registry, "controller_runtime_reconcile_total", controller="hostedcluster", result="success") == 3
    assert value(registry, "controller_runtime_reconcile_total", controller="hostedcluster", result="error") == 1
    assert value(registry, "controller_runtime_reconcile_total", controller="hostedcluster",
                 result="requeue_after") == 1
    assert value(registry, "controller_runtime_reconcile_errors_total", controller="hostedcluster") == 1
    assert value(registry, "controller_runtime_reconcile_time_seconds_count", controller="hostedcluster") == 5
    assert value(registry, "controller_runtime_reconcile_time_seconds_sum", controller="hostedcluster") >= 0
    assert value(registry, "controller_runtime_active_workers", controller="hostedcluster") == 0
    assert value(registry, "controller_runtime_max_concurrent_reconciles", controller="hostedcluster") == 2


def test_a_controller_publishes_zero_counts_before_its_first_reconcile():
    registry = CollectorRegistry()

    async def reconcile(key: str) -> None:
        pass

    Controller("nodepool", reconcile).instrument(ControllerMetrics(registry))
    for result in ("success", "error", "requeue_after"):
        assert value(registry, "controller_runtime_reconcile_total", controller="nodepool", result=result) == 0
    assert value(registry, "controller_runtime_reconcile_errors_total", controller="nodepool") == 0
    assert value(registry, "workqueue_depth", name="nodepool", controller="nodepool") == 0


def test_queue_depth_counts_keys_waiting_for_a_worker_and_a_scrape_moves_nothing():
    now = [100.0]
    registry = CollectorRegistry()

    async def scenario() -> None:
        async def reconcile(key: str) -> None:
            pass

        controller = Controller("hostedcontrolplane", reconcile)
        controller.queue = WorkQueue(clock=lambda: now[0])
        controller.instrument(ControllerMetrics(registry))
        queue = controller.queue
        queue.add("ns/a")
        queue.add("ns/b")
        queue.add("ns/a")  # de-duplicated
        queue.add_after("ns/c", 30)
        depth = lambda: value(registry, "workqueue_depth", name="hostedcontrolplane",  # noqa: E731
                              controller="hostedcontrolplane")
        assert depth() == 2
        now[0] += 31
        assert depth() == 3  # ns/c's time has come
        assert depth() == 3 and len(queue._ready) == 2, "the scrape itself promoted nothing"
        assert await queue.get() == "ns/a"
        assert depth() == 2

    asyncio.run(scenario())


class FakeElector:
    name = "hypershift-operator"

    def __init__(self) -> None:
        self.granted = asyncio.Event()
        self.released = False

    async def acquire(self) -> None:
        await self.granted.wait()

    async def hold(self) -> None:
        await asyncio.Event().wait()

    async def release(self) -> None:
        self.released = True


class FakeInformer:
    def __init__(self) -> None:
        self.listed = asyncio.Event()

    def add_handler(self, handler) -> None:
        pass

    async def run(self) -> None:
        await asyncio.Event().wait()

    async def wait_synced(self) -> None:
        await self.listed.wait()


def test_readiness_follows_the_manager_a_standby_is_ready_a_leader_once_its_caches_are_loaded():
    registry = CollectorRegistry()
    seen: list[tuple[bool, str]] = []

    async def reconcile(key: str) -> None:
        pass

    async def scenario() -> None:
        elector, informer = FakeElector(), FakeInformer()
        manager = Manager(elector=elector, metrics=ControllerMetrics(registry))
        controller = Controller("hostedcluster", reconcile)
        controller.watch(informer)
        manager.add(controller)
        seen.append(manager.readiness())
        runner = asyncio.create_task(manager.run(handle_signals=False))
        await asyncio.sleep(0.02)
        seen.append(manager.readiness())
        leading = value(registry, "leader_election_master_status", name="hypershift-operator")
        elector.granted.set()
        await asyncio.sleep(0.02)
        seen.append(manager.readiness())
        assert value(registry, "leader_election_master_status", name="hypershift-operator") == 1
        informer.listed.set()
        await until(lambda: manager.readiness()[0])
        seen.append(manager.readiness())
        manager.stop()
        await asyncio.wait_for(runner, 5)
        seen.append(manager.readiness())
        assert leading == 0
        assert value(registry, "leader_election_master_status", name="hypershift-operator") == 0
        assert elector.released

    asyncio.run(scenario())
    assert seen == [(False, "starting"), (True, "waiting for the leader lease"), (False, "loading informer caches"),
                    (True, "running"), (False, "stopped")]


def test_controllers_added_to_a_manager_count_into_its_registry():
    registry = CollectorRegistry()
    calls: list[str] = []

    async def reconcile(key: str) -> None:
        calls.append(key)

    async def scenario() -> None:
        manager = Manager(metrics=ControllerMetrics(registry))
        controller = Controller("dataplane", reconcile)
        manager.add(controller)
        controller.queue.add("clusters-demo/demo")
        runner = asyncio.create_task(manager.run(handle_signals=False))
        await until(lambda: calls == ["clusters-demo/demo"])
        await until(lambda: value(registry, "controller_runtime_reconcile_total",
                                  controller="dataplane", result="success") == 1)
        manager.stop()
        await asyncio.wait_for(runner, 5)

    asyncio.run(scenario())


class Readiness:
    def __init__(self) -> None:
        self.answer = (False, "loading informer caches")

    def __call__(self) -> tuple[bool, str]:
        return self.answer


async def serving(registry: CollectorRegistry, readiness) -> tuple[MetricsServer, str]:
    server = MetricsServer(registry, readiness)
    await server.start(0, host="127.0.0.1")
    return server, f"http://127.0.0.1:{server.port}"


def test_the_server_answers_metrics_health_and_readiness():
    registry = CollectorRegistry()
    metrics = ControllerMetrics(registry)
    metrics.observe("hostedcluster", "success", 0.2)
    readiness = Readiness()

    async def scenario() -> None:
        server, url = await serving(registry, readiness)
        try:
            async with httpx.AsyncClient(base_url=url, timeout=5) as http:
                scraped = await http.get("/metrics")
                assert scraped.status_code == 200
                assert scraped.headers["content-type"].startswith("text/plain; version=0.0.4")
                assert 'controller_runtime_reconcile_total{controller="hostedcluster",result="success"} 1.0' \
                    in scraped.text
                assert "# TYPE workqueue_depth gauge" in scraped.text
                openmetrics = await http.get("/metrics", headers={"Accept": "application/openmetrics-text"})
                assert openmetrics.headers["content-type"].startswith("application/openmetrics-text")
                assert openmetrics.text.endswith("# EOF\n")
                health = await http.get("/healthz")
                assert (health.status_code, health.text) == (200, "ok\n")
                not_ready = await http.get("/readyz")
                assert (not_ready.status_code, not_ready.text) == (503, "not ready: loading informer caches\n")
                readiness.answer = (True, "running")
                ready = await http.get("/readyz?verbose")
                assert (ready.status_code, ready.text) == (200, "ok\n")
                assert (await http.get("/nothing")).status_code == 404
                assert (await http.post("/metrics")).status_code == 405
                head = await http.head("/healthz")
                assert head.status_code == 200 and head.content == b""
        finally:
            await server.stop()

    asyncio.run(scenario())


def test_the_server_survives_garbage_and_a_failing_collector(caplog):
    registry = CollectorRegistry()

    class Broken:
        def collect(self):
            raise RuntimeError("cache gone")

    registry.register(Broken())

    async def scenario() -> None:
        server, url = await serving(registry, lambda: (True, "running"))
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(b"NONSENSE\r\n\r\n")
            await writer.drain()
            answer = await reader.read()
            writer.close()
            assert answer.startswith(b"HTTP/1.1 400 Bad Request\r\n")
            async with httpx.AsyncClient(base_url=url, timeout=5) as http:
                failed = await http.get("/metrics")
                assert failed.status_code == 500
                assert (await http.get("/healthz")).status_code == 200
        finally:
            await server.stop()

    asyncio.run(scenario())
    assert any("collecting metrics failed" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("path", ["/healthz", "/livez"])
def test_liveness_needs_nothing_but_a_running_loop(path):
    async def scenario() -> None:
        server, url = await serving(CollectorRegistry(), lambda: (False, "stopped"))
        try:
            async with httpx.AsyncClient(base_url=url, timeout=5) as http:
                assert (await http.get(path)).status_code == 200
        finally:
            await server.stop()

    asyncio.run(scenario())
