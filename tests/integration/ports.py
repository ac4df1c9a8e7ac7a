"""Free loopback ports for the processes tests start on the host, apart for each pytest-xdist worker.

Binding port 0 and closing the socket hands out an ephemeral port that any
outgoing connection (kubectl's, another worker's) may take before the test's
server binds it. These come from below the kernel's ephemeral range
(/proc/sys/net/ipv4/ip_local_port_range starts at 32768), from a block of
their own per worker, and are checked free when handed out.
"""

from __future__ import annotations

import itertools
import os
import socket

BASE = 20000
BLOCK = 1000
"""Worker gwN takes ports BASE + N*BLOCK .. BASE + (N+1)*BLOCK - 1 (a run without workers, gw0's)."""

_next = itertools.count()


def worker_index() -> int:
    """N of pytest-xdist's worker gwN; 0 when the tests run in one process."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return int(worker.removeprefix("gw")) if worker.removeprefix("gw").isdigit() else 0


def free_port(address: str = "127.0.0.1") -> int:
    """A port of this worker's block that nothing listens on at `address` now, never handed out before in
    this process."""
    start = BASE + worker_index() * BLOCK
    for _ in range(BLOCK):
        port = start + next(_next) % BLOCK
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((address, port))
            except OSError:
                continue
        return port
    raise RuntimeError(f"no free port in {start}-{start + BLOCK - 1}")
