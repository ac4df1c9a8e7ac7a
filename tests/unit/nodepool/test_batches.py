"""Machines are created in bounded batches with names that never collide; refusals become conditions."""

from __future__ import annotations

import asyncio

from lightkube import ApiError
from lightkube.models.meta_v1 import Status

from hcp.operator.nodepool.controller import MACHINE_BATCH, _create_machines, new_names


def test_new_names_avoid_each_other_and_every_taken_name():
    taken = {f"pool-{i:05d}" for i in range(1000)}
    names = new_names("pool", MACHINE_BATCH, taken)
    assert len(names) == len(set(names)) == MACHINE_BATCH
    assert not taken & set(names)
    assert all(name.startswith("pool-") and len(name) == len("pool-") + 5 for name in names)


def api_error(code: int, message: str) -> ApiError:
    class Response:
        status_code = code

        def json(self):
            return {"code": code, "message": message, "status": "Failure"}

    return ApiError(response=Response(), status=Status(code=code, message=message))


class Provider:
    def __init__(self, fail: dict[str, ApiError]):
        self.fail = fail
        self.created: list[str] = []

    async def create(self, name, template):
        if name in self.fail:
            raise self.fail[name]
        self.created.append(name)


def test_a_name_taken_meanwhile_is_left_for_the_next_batch():
    provider = Provider({"pool-b": api_error(409, "already exists")})
    refused = asyncio.run(_create_machines(provider, None, ["pool-a", "pool-b", "pool-c"]))
    assert refused == ""
    assert sorted(provider.created) == ["pool-a", "pool-c"]


def test_a_machine_the_hosted_api_refuses_is_reported_not_retried():
    provider = Provider({"pool-b": api_error(422, 'Node "pool-b" is invalid: metadata.labels: Invalid value')})
    refused = asyncio.run(_create_machines(provider, None, ["pool-a", "pool-b"]))
    assert "is invalid" in refused
