"""The work queue: de-duplication, processing while re-added, backoff, requeue-after, shutdown."""

from __future__ import annotations

import asyncio

import pytest

from hcp.kube.queue import ShutDown, WorkQueue


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def drain(queue: WorkQueue) -> list[str]:
    """Every key ready now, each marked done right away."""

    async def take() -> list[str]:
        keys = []
        while len(queue):
            key = await queue.get()
            queue.done(key)
            keys.append(key)
        return keys

    return asyncio.run(take())


def test_a_key_added_twice_while_waiting_is_processed_once():
    queue = WorkQueue()
    queue.add("ns/a")
    queue.add("ns/b")
    queue.add("ns/a")
    assert drain(queue) == ["ns/a", "ns/b"]


def test_a_key_readded_while_processing_is_processed_again_after_done_and_not_concurrently():
    async def scenario() -> None:
        queue = WorkQueue()
        queue.add("ns/a")
        key = await queue.get()
        queue.add("ns/a")
        queue.add("ns/a")
        assert len(queue) == 0, "a second worker must not get a key that is being processed"
        queue.done(key)
        assert await queue.get() == "ns/a"
        queue.done("ns/a")
        assert len(queue) == 0

    asyncio.run(scenario())


def test_get_waits_for_a_key():
    async def scenario() -> None:
        queue = WorkQueue()
        waiter = asyncio.create_task(queue.get())
        await asyncio.sleep(0)
        assert not waiter.done()
        queue.add("ns/a")
        assert await asyncio.wait_for(waiter, 5) == "ns/a"

    asyncio.run(scenario())


def test_backoff_doubles_from_half_a_second_up_to_a_minute_and_resets_on_forget():
    queue = WorkQueue()
    delays = [queue.add_rate_limited("ns/a") for _ in range(10)]
    assert delays == [0.5, 1, 2, 4, 8, 16, 32, 60, 60, 60]
    assert queue.failures("ns/a") == 10
    assert queue.add_rate_limited("ns/b") == 0.5, "backoff is per key"
    queue.forget("ns/a")
    assert queue.failures("ns/a") == 0
    assert queue.add_rate_limited("ns/a") == 0.5


def test_backoff_stays_capped_after_very_many_failures():
    queue = WorkQueue()
    for _ in range(5000):
        delay = queue.add_rate_limited("ns/a")
    assert delay == 60


def test_a_rate_limited_key_comes_back_after_its_delay():
    clock = FakeClock()
    queue = WorkQueue(clock=clock)
    queue.add_rate_limited("ns/a")
    queue.add_rate_limited("ns/a")  # second failure: 1 s
    clock.now += 0.6
    assert drain(queue) == ["ns/a"], "the earlier pending time (0.5 s) wins"
    clock.now += 1
    assert drain(queue) == []


def test_add_after_hands_keys_out_in_due_order_and_not_before():
    clock = FakeClock()
    queue = WorkQueue(clock=clock)
    queue.add_after("ns/a", 3)
    queue.add_after("ns/b", 1)
    queue.add_after("ns/c", 2)
    assert drain(queue) == []
    clock.now += 1.5
    assert drain(queue) == ["ns/b"]
    clock.now += 5
    assert drain(queue) == ["ns/c", "ns/a"]


def test_add_after_keeps_the_earliest_time_and_fires_once():
    clock = FakeClock()
    queue = WorkQueue(clock=clock)
    queue.add_after("ns/a", 10)
    queue.add_after("ns/a", 1)
    queue.add_after("ns/a", 5)
    clock.now += 1
    assert drain(queue) == ["ns/a"]
    clock.now += 20
    assert drain(queue) == []


def test_add_after_zero_is_immediate():
    queue = WorkQueue()
    queue.add_after("ns/a", 0)
    assert drain(queue) == ["ns/a"]


def test_a_sleeping_get_wakes_up_for_a_delayed_key():
    async def scenario() -> None:
        queue = WorkQueue()
        waiter = asyncio.create_task(queue.get())
        await asyncio.sleep(0)
        queue.add_after("ns/a", 0.01)
        assert await asyncio.wait_for(waiter, 5) == "ns/a"

    asyncio.run(scenario())


def test_shut_down_wakes_waiting_getters_and_stops_accepting_keys():
    async def scenario() -> None:
        queue = WorkQueue()
        waiters = [asyncio.create_task(queue.get()) for _ in range(2)]
        await asyncio.sleep(0)
        queue.shut_down()
        for waiter in waiters:
            with pytest.raises(ShutDown):
                await asyncio.wait_for(waiter, 5)
        queue.add("ns/a")
        assert len(queue) == 0
        with pytest.raises(ShutDown):
            await queue.get()

    asyncio.run(scenario())
