"""Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection does it.

Only one operator replica may reconcile at a time, or two would fight over
the same objects. The leader renews the Lease every few seconds; a candidate
takes it over only once the holder has stopped renewing for a whole lease
duration, measured on the candidate's own monotonic clock from when it last saw
the Lease change, so clock skew between machines does not matter. Updates use
the Lease's resourceVersion, so of two candidates racing for it exactly one wins.
A leader that shuts down clears the holder, and a standby takes over at once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable
from datetime import UTC, datetime

from lightkube import ApiError, AsyncClient
from lightkube.models.coordination_v1 import LeaseSpec
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.coordination_v1 import Lease

log = logging.getLogger(__name__)

LEASE_DURATION = 15
RENEW_INTERVAL = 5.0
RENEW_DEADLINE = 10.0
RETRY_INTERVAL = 2.0


class LeaderLost(Exception):
    """The lease could not be renewed, or another candidate holds it now."""


def _now() -> datetime:
    """Now, for a MicroTime field, never on a whole second.

    msgspec (lightkube's encoder) writes a datetime without microseconds with no
    fraction at all, and the API server parses MicroTime only with six
    fractional digits, so a whole second would fail once in a million writes.
    """
    now = datetime.now(UTC)
    return now if now.microsecond else now.replace(microsecond=1)


class LeaderElector:
    def __init__(
        self,
        client: AsyncClient,
        *,
        namespace: str,
        name: str,
        identity: str,
        lease_duration: int = LEASE_DURATION,
        renew_interval: float = RENEW_INTERVAL,
        renew_deadline: float = RENEW_DEADLINE,
        retry_interval: float = RETRY_INTERVAL,
    ) -> None:
        self.namespace = namespace
        self.name = name
        self.identity = identity
        self.lease_duration = lease_duration
        self.renew_interval = renew_interval
        self.renew_deadline = renew_deadline
        self.retry_interval = retry_interval
        self.holder: str | None = None
        """The holder seen at the last look at the Lease."""
        self._client = client
        self._observed: tuple | None = None
        self._observed_at = 0.0
        self._renewed_at = 0.0

    @property
    def is_leader(self) -> bool:
        return self.holder == self.identity

    async def acquire(self) -> None:
        """Return once this candidate holds the lease, trying every retry_interval."""
        while True:
            try:
                if await self._try_acquire_or_renew():
                    log.info("acquired leadership", extra={"lease": self._lease_key, "identity": self.identity})
                    return
            except Exception:
                log.warning("cannot reach the lease", exc_info=True, extra={"lease": self._lease_key})
            await asyncio.sleep(self.retry_interval)

    async def hold(self) -> None:
        """Renew the lease until cancelled; raise LeaderLost once it is gone."""
        interval = self.renew_interval
        while True:
            await asyncio.sleep(interval)
            try:
                renewed = await self._try_acquire_or_renew()
            except Exception:
                log.warning("lease renewal failed", exc_info=True, extra={"lease": self._lease_key})
                renewed = False
            if renewed:
                interval = self.renew_interval
                continue
            if self.holder not in (None, self.identity):
                raise LeaderLost(f"lease {self._lease_key} is now held by {self.holder}")
            if time.monotonic() - self._renewed_at > self.renew_deadline:
                raise LeaderLost(f"lease {self._lease_key} not renewed for {self.renew_deadline}s")
            interval = self.retry_interval

    async def release(self) -> None:
        """Clear the holder if it is still us, so that a standby need not wait for the lease to expire."""
        if not self.is_leader:
            return
        self.holder = None
        try:
            lease = await self._client.get(Lease, self.name, namespace=self.namespace)
            if lease.spec is None or lease.spec.holderIdentity != self.identity:
                return
            lease.spec.holderIdentity = None
            lease.spec.renewTime = _now()
            await self._client.replace(lease)
            log.info("released leadership", extra={"lease": self._lease_key, "identity": self.identity})
        except Exception:
            log.warning("cannot release the lease; it will expire", exc_info=True, extra={"lease": self._lease_key})

    @property
    def _lease_key(self) -> str:
        return f"{self.namespace}/{self.name}"

    async def _try_acquire_or_renew(self) -> bool:
        now = _now()
        try:
            lease = await self._client.get(Lease, self.name, namespace=self.namespace)
        except ApiError as error:
            if error.status.code != 404:
                raise
            spec = LeaseSpec(holderIdentity=self.identity, leaseDurationSeconds=self.lease_duration,
                             acquireTime=now, renewTime=now, leaseTransitions=0)
            lease = Lease(metadata=ObjectMeta(name=self.name, namespace=self.namespace), spec=spec)
            return await self._write(self._client.create(lease))

        spec = lease.spec or LeaseSpec()
        self.holder = spec.holderIdentity
        if spec.holderIdentity != self.identity:
            if not self._expired(spec):
                return False
            spec.holderIdentity = self.identity
            spec.acquireTime = now
            spec.leaseTransitions = (spec.leaseTransitions or 0) + 1
        spec.renewTime = now
        spec.leaseDurationSeconds = self.lease_duration
        lease.spec = spec
        return await self._write(self._client.replace(lease))

    async def _write(self, request: Awaitable[object]) -> bool:
        """Create or update the lease; False if another candidate changed it first."""
        try:
            await request
        except ApiError as error:
            if error.status.code == 409:
                return False
            raise
        self.holder = self.identity
        self._renewed_at = time.monotonic()
        return True

    def _expired(self, spec: LeaseSpec) -> bool:
        """Whether the holder has not renewed for a lease duration since we first saw its last renewal."""
        if not spec.holderIdentity:
            return True
        record = (spec.holderIdentity, spec.renewTime, spec.leaseTransitions)
        now = time.monotonic()
        if record != self._observed:
            self._observed, self._observed_at = record, now
        return now - self._observed_at > (spec.leaseDurationSeconds or self.lease_duration)
