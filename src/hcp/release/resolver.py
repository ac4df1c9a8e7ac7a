"""Release payloads as the operator sees them: resolved from the registry, off the event loop.

The registry client is synchronous; resolution runs in a worker thread so a
slow registry never stalls other reconciles. Results are cached briefly,
since every pass of every controller asks again.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from hcp.images import Credentials, RegistryClient, RegistryLocation
from hcp.release import Release, ReleaseError, resolve

CACHE_SECONDS = 30.0


@dataclass
class _Cached:
    at: float
    release: Release | None
    error: ReleaseError | None


class Releases:
    """The operator's one registry, as install configured it (nothing here knows the embedded registry's name).

    `registry_url` is where the operator reaches the registry; `name` is how release pull
    specs spell it (`host[:port][/prefix]`; default: the URL's host), which differs when the
    operator reaches the registry by another address than the one images are named by.
    """

    def __init__(self, registry_url: str, ca_file: Path | None = None, *, name: str | None = None,
                 credentials: Credentials | None = None):
        host = urlsplit(registry_url).netloc
        location = RegistryLocation.parse(name) if name else RegistryLocation(host)
        self.name = location.name
        self._client = RegistryClient(registry_url, ca_file=ca_file if ca_file and ca_file.exists() else None,
                                      credentials=credentials, prefix=location.prefix)
        self._aliases = {location.host: host}
        self._cache: dict[str, _Cached] = {}
        self._lock = asyncio.Lock()

    async def resolve(self, image: str) -> Release:
        """The release `image` names; ReleaseError if it is unknown, unreadable or unsupported."""
        cached = self._cache.get(image)
        if cached is None or time.monotonic() - cached.at > CACHE_SECONDS:
            async with self._lock:
                try:
                    release = await asyncio.to_thread(resolve, self._client, image, self._aliases)
                    cached = _Cached(time.monotonic(), release, None)
                except ReleaseError as error:
                    cached = _Cached(time.monotonic(), None, error)
                self._cache[image] = cached
        if cached.error is not None:
            raise cached.error
        return cached.release

    def close(self) -> None:
        self._client.close()
