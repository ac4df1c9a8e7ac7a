"""The join command of a NodePool whose machines join on their own, as the CLI prints it.

It is read, never stored: the pool's current bootstrap token (Secret
`bootstrap-tokens` of the control-plane namespace, kept and rotated by the
operator), the ignition server's published URL (its ConfigMap) and the key
its certificate carries (pinned by the command). A command printed before a
rotation stops working once its token expires; printing it again gives the
current one.
"""

from __future__ import annotations

import base64
import json
import ssl
import time
from typing import Any

import httpx

from lightkube import ApiError
from lightkube.resources.core_v1 import ConfigMap, Secret

from hcp.api.names import control_plane_namespace
from hcp.hostedcluster.kube import HostedClusterError, Kube
from hcp.hostedcluster.lifecycle import POLL_SECONDS, Log
from hcp.ignition.join import JOIN_PATH, join_command, public_key_pin

TOKENS_SECRET = "bootstrap-tokens"
IGNITION_CONFIG = "ignition-server"
IGNITION_TLS = "ignition-server-tls"


def _get(kube: Kube, resource: Any, name: str, namespace: str) -> Any | None:
    try:
        return kube.client.get(resource, name, namespace=namespace)
    except ApiError as error:
        if error.status.code == 404:
            return None
        raise


def _served(url: str, ca_pem: bytes, token: str) -> str:
    """Why the ignition server does not serve the pool's token yet ("" once it does, or if it cannot be
    reached from here: the command is for machines, which may reach it when this host cannot)."""
    context = ssl.create_default_context(cadata=ca_pem.decode())
    try:
        response = httpx.get(url + JOIN_PATH, headers={"Authorization": f"Bearer {token}"}, verify=context,
                              timeout=5.0)
    except httpx.HTTPError:
        return ""
    if response.status_code == 401:
        return "the ignition server does not serve the pool's new token yet (its Secret volume is refreshed)"
    if response.status_code == 503:
        return "the ignition server does not have the pool's labels and taints yet (its ConfigMap volume is refreshed)"
    return ""


def current(kube: Kube, namespace: str, cluster: str, pool: str) -> tuple[str | None, str]:
    """The pool's join command, or None and what it still waits for."""
    target = control_plane_namespace(namespace, cluster)
    config = _get(kube, ConfigMap, IGNITION_CONFIG, target)
    if config is None or "config.json" not in (config.data or {}):
        return None, f"the ignition server of {namespace}/{cluster} is not published yet"
    tls = _get(kube, Secret, IGNITION_TLS, target)
    if tls is None or "tls.crt" not in (tls.data or {}):
        return None, "the ignition server has no certificate yet"
    tokens = _get(kube, Secret, TOKENS_SECRET, target)
    token = (tokens.data or {}).get(pool) if tokens is not None else None
    if not token:
        return None, f"NodePool {pool} has no bootstrap token yet (the control plane must be available first)"
    url = json.loads(config.data["config.json"])["ignitionURL"]
    pin = public_key_pin(base64.b64decode(tls.data["tls.crt"]))
    secret = base64.b64decode(token).decode()
    waiting = _served(url, base64.b64decode(tls.data["ca.crt"]), secret) if "ca.crt" in tls.data else ""
    if waiting:
        return None, waiting
    return join_command(url, pin, secret), ""


def wait_for_join_command(kube: Kube, namespace: str, cluster: str, pool: str, log: Log,
                          timeout: float | None) -> str:
    """The pool's join command, waiting (and saying for what) until the operator has made its parts."""
    deadline = time.monotonic() + timeout if timeout else None
    said = ""
    while True:
        command, waiting = current(kube, namespace, cluster, pool)
        if command:
            return command
        if waiting != said:
            log(f"waiting: {waiting}")
            said = waiting
        if deadline is not None and time.monotonic() > deadline:
            raise HostedClusterError(f"timed out after {timeout:.0f}s: {waiting}")
        time.sleep(POLL_SECONDS)
