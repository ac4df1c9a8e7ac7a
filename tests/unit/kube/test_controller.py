"""Controllers and the manager, without an API server: keys are queued directly."""

from __future__ import annotations

import asyncio
import logging
import os
import signal

from hcp.kube.controller import Controller, Manager, Result


async def until(predicate, timeout: float = 10) -> None:
    async def poll() -> None:
        while not predicate():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), timeout)


def test_a_failing_reconcile_is_logged_with_its_key_and_retried_with_backoff(caplog):
    calls: list[str] = []

    async def reconcile(key: str) -> None:
        calls.append(key)
        if len(calls) == 1:
            raise RuntimeError("etcd not ready")

    async def scenario() -> None:
        controller = Controller("hostedcluster", reconcile)
        controller.queue.add("clusters/demo")
        runner = asyncio.create_task(controller.run())
        await until(lambda: len(calls) == 1)
        await asyncio.sleep(0.05)
        assert controller.queue.failures("clusters/demo") == 1
        await until(lambda: len(calls) == 2)  # after the 0.5 s backoff
        await until(lambda: controller.queue.failures("clusters/demo") == 0)
        runner.cancel()

    with caplog.at_level(logging.ERROR, logger="hcp.kube.controller"):
        asyncio.run(scenario())
    [failure] = caplog.records
    assert (failure.controller, failure.key, failure.retry_in) == ("hostedcluster", "clusters/demo", 0.5)
    assert "etcd not ready" in str(failure.exc_info[1])
    assert calls == ["clusters/demo", "clusters/demo"]


def test_requeue_after_calls_reconcile_again():
    calls: list[str] = []

    async def reconcile(key: str) -> Result:
        calls.append(key)
        return Result(requeue_after=0.01)

    async def scenario() -> None:
        controller = Controller("nodepool", reconcile)
        controller.queue.add("clusters/pool")
        runner = asyncio.create_task(controller.run())
        await until(lambda: len(calls) >= 3)
        runner.cancel()

    asyncio.run(scenario())


def test_workers_share_keys_but_never_reconcile_one_key_concurrently():
    running: set[str] = set()
    overlaps: list[str] = []
    done: list[str] = []

    async def reconcile(key: str) -> None:
        if key in running:
            overlaps.append(key)
        running.add(key)
        await asyncio.sleep(0.02)
        running.discard(key)
        done.append(key)

    async def scenario() -> None:
        controller = Controller("hostedcontrolplane", reconcile, workers=4)
        for key in ("ns/a", "ns/b", "ns/c"):
            controller.queue.add(key)
        runner = asyncio.create_task(controller.run())
        await until(lambda: len(running) == 3)
        for key in ("ns/a", "ns/b", "ns/c"):
            controller.queue.add(key)  # changed while being reconciled: once more, afterwards
        await until(lambda: len(done) == 6)
        await asyncio.sleep(0.05)
        runner.cancel()

    asyncio.run(scenario())
    assert overlaps == []
    assert sorted(done) == ["ns/a", "ns/a", "ns/b", "ns/b", "ns/c", "ns/c"]


def test_the_manager_runs_controllers_until_stopped():
    calls: list[str] = []

    async def reconcile(key: str) -> None:
        calls.append(key)

    async def scenario() -> None:
        manager = Manager()
        controller = Controller("hostedcluster", reconcile)
        manager.add(controller)
        controller.queue.add("clusters/demo")
        runner = asyncio.create_task(manager.run(handle_signals=False))
        await until(lambda: calls == ["clusters/demo"])
        manager.stop()
        await asyncio.wait_for(runner, 5)
        controller.queue.add("clusters/other")
        assert len(controller.queue) == 0, "queues are shut down with the manager"

    asyncio.run(scenario())


def test_the_manager_stops_on_sigterm():
    async def reconcile(key: str) -> None:
        os.kill(os.getpid(), signal.SIGTERM)

    async def scenario() -> None:
        manager = Manager()
        controller = Controller("hostedcluster", reconcile)
        manager.add(controller)
        controller.queue.add("clusters/demo")
        await asyncio.wait_for(manager.run(), 5)

    previous = signal.getsignal(signal.SIGTERM)
    asyncio.run(scenario())
    assert signal.getsignal(signal.SIGTERM) == previous, "the manager's handler is removed again"
