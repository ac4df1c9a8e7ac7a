"""Kubernetes API access shared by the CLI, the management cluster and the operator.

`client` builds clients; the operator's controller runtime is `informer`
(watch-fed caches) -> `queue` (keys to reconcile) -> `controller` (workers and
the manager), with `leader` election, server-side `apply`, status
`conditions`, `events` and JSON `logs`.
"""
