"""Prometheus metrics of the generic controller machinery, and the small HTTP server that serves them.

The metric names are controller-runtime's (`controller_runtime_reconcile_total`,
`workqueue_depth`, ...), which HyperShift's operator exports, so dashboards and
alerts written for it read hcp's operator too. Every metric lives in a registry
the caller passes (never prometheus_client's global one): two operators in one
test process, or two tests, never see each other's counts.

The server runs on the operator's own event loop rather than in a thread:
collectors read informer caches and work queues that only the loop mutates, so a
scrape sees a consistent view without locks, and an answer to /healthz at all
shows that the loop is not blocked — the liveness the probe is for.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import GaugeMetricFamily, Metric

if TYPE_CHECKING:
    from hcp.kube.queue import WorkQueue

log = logging.getLogger(__name__)

SUCCESS, ERROR, REQUEUE_AFTER = "success", "error", "requeue_after"
"""Values of the `result` label of controller_runtime_reconcile_total (controller-runtime's)."""

RECONCILE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
"""Seconds: reconciles here range from a cache-only pass (milliseconds) to a pass that waits on API calls."""

Readiness = Callable[[], tuple[bool, str]]
"""Whether the process should receive traffic now, and a short reason that /readyz shows."""


class ControllerMetrics:
    """Reconcile counts, errors, durations, concurrency and queue depth, per controller."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self.reconciles = Counter(
            "controller_runtime_reconcile_total", "Total number of reconciliations per controller.",
            ["controller", "result"], registry=self.registry)
        self.errors = Counter(
            "controller_runtime_reconcile_errors_total", "Total number of reconciliation errors per controller.",
            ["controller"], registry=self.registry)
        self.durations = Histogram(
            "controller_runtime_reconcile_time_seconds", "Length of time per reconciliation per controller.",
            ["controller"], buckets=RECONCILE_BUCKETS, registry=self.registry)
        self.active_workers = Gauge(
            "controller_runtime_active_workers", "Number of currently used workers per controller.",
            ["controller"], registry=self.registry)
        self.max_workers = Gauge(
            "controller_runtime_max_concurrent_reconciles", "Maximum number of concurrent reconciles per controller.",
            ["controller"], registry=self.registry)
        self.leader = Gauge(
            "leader_election_master_status",
            "1 while this process holds the leader Lease (and runs the controllers), 0 otherwise.",
            ["name"], registry=self.registry)
        self._queues: dict[str, WorkQueue] = {}
        self.registry.register(_QueueDepth(self._queues))

    def add_controller(self, name: str, queue: WorkQueue, workers: int) -> None:
        """Publish a controller's series from the start (zero counts, not absent ones) and watch its queue."""
        self._queues[name] = queue
        self.max_workers.labels(name).set(workers)
        self.active_workers.labels(name)
        self.errors.labels(name)
        self.durations.labels(name)
        for result in (SUCCESS, ERROR, REQUEUE_AFTER):
            self.reconciles.labels(name, result)

    def observe(self, controller: str, result: str, seconds: float) -> None:
        """Count one finished reconcile and its duration."""
        self.reconciles.labels(controller, result).inc()
        if result == ERROR:
            self.errors.labels(controller).inc()
        self.durations.labels(controller).observe(seconds)


class _QueueDepth:
    """workqueue_depth, read from the queues at scrape time (a gauge kept in step would be one more thing to forget)."""

    def __init__(self, queues: dict[str, WorkQueue]) -> None:
        self._queues = queues

    def describe(self) -> Iterable[Metric]:
        return [self._family()]

    def collect(self) -> Iterable[Metric]:
        family = self._family()
        for name, queue in sorted(self._queues.items()):
            family.add_metric([name, name], queue.depth())
        return [family]

    @staticmethod
    def _family() -> GaugeMetricFamily:
        return GaugeMetricFamily("workqueue_depth", "Current depth of workqueue (keys waiting for a worker).",
                                 labels=["name", "controller"])


MAX_REQUEST_LINE = 8192
MAX_HEADERS = 100
READ_TIMEOUT = 10.0
"""Seconds a client may take to send its request: a stalled connection must not be held open for ever."""


class MetricsServer:
    """HTTP/1.1 on one port: /metrics (Prometheus text, or OpenMetrics if asked), /healthz, /readyz.

    One request per connection (Connection: close): probes and scrapers open a connection per
    request anyway, and it keeps the server a page of code.
    """

    def __init__(self, registry: CollectorRegistry, readiness: Readiness) -> None:
        self.registry = registry
        self.readiness = readiness
        self._server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        """The port bound (useful when started on port 0)."""
        assert self._server is not None, "not started"
        return self._server.sockets[0].getsockname()[1]

    async def start(self, port: int, host: str | None = None, tls: ssl.SSLContext | None = None) -> None:
        """Listen on `port` on all interfaces (host None), as a probe from the kubelet and a scrape need; over
        TLS with `tls` (a server context), plain HTTP without."""
        self._server = await asyncio.start_server(self._handle, host=host, port=port, limit=MAX_REQUEST_LINE,
                                                  ssl=tls)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(_read_request(reader), READ_TIMEOUT)
            if request is None:
                status, content_type, body = 400, "text/plain; charset=utf-8", b"bad request\n"
                method = "GET"
            else:
                method, path, headers = request
                status, content_type, body = self._respond(method, path, headers)
            head = (f"HTTP/1.1 {status} {_REASONS[status]}\r\nContent-Type: {content_type}\r\n"
                    f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode("latin-1")
            writer.write(head if method == "HEAD" else head + body)
            await writer.drain()
        except (TimeoutError, ConnectionError, asyncio.IncompleteReadError):
            pass  # the client went away or stalled; nothing to answer
        except Exception:
            log.exception("metrics server failed to answer a request")
        finally:
            writer.close()

    def _respond(self, method: str, path: str, headers: dict[str, str]) -> tuple[int, str, bytes]:
        text = "text/plain; charset=utf-8"
        if method not in ("GET", "HEAD"):
            return 405, text, b"method not allowed\n"
        if path == "/metrics":
            encoder, content_type = choose_encoder(headers.get("accept"))
            try:
                return 200, content_type, encoder(self.registry)
            except Exception:  # a collector failed: say so, rather than drop the connection
                log.exception("collecting metrics failed")
                return 500, text, b"collecting metrics failed; see the operator's log\n"
        if path in ("/healthz", "/livez"):
            return 200, text, b"ok\n"
        if path == "/readyz":
            ready, reason = self.readiness()
            return (200, text, b"ok\n") if ready else (503, text, f"not ready: {reason}\n".encode())
        return 404, text, b"not found\n"


_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
            500: "Internal Server Error", 503: "Service Unavailable"}


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, str, dict[str, str]] | None:
    """Method, path and lower-cased headers of one request; None if it is not HTTP/1.x."""
    try:
        line = (await reader.readline()).decode("latin-1")
        parts = line.split()
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            return None
        headers: dict[str, str] = {}
        for _ in range(MAX_HEADERS):
            header = (await reader.readline()).decode("latin-1")
            if header in ("\r\n", "\n", ""):
                return parts[0], urlsplit(parts[1]).path, headers
            name, colon, value = header.partition(":")
            if colon:
                headers[name.strip().lower()] = value.strip()
        return None
    except ValueError:  # a line longer than the stream's limit
        return None
