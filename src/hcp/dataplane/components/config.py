"""ConfigMap `hosted-cluster-config`: what the control plane tells the data-plane controller about its hosted cluster.

Some of what the hosted cluster's components are rendered from cannot be read
off the HostedControlPlane: where the API server and the konnectivity server
are published (a NodePort's node address, a LoadBalancer's ingress), and the
release's Kubernetes version and component images (resolved from the payload
in the registry). The HostedControlPlane controller knows them on every pass,
so it publishes them in ConfigMap NAME of the control-plane namespace, under
KEY, as JSON:

    {"apiServer": {"host": str, "port": int},
     "konnectivity": {"host": str, "port": int} | null,
     "kubernetesVersion": "1.37.1",
     "images": {component: pull spec}}

and the data-plane controller reads it back. Both sides import this module:
the producer calls `data()` (or `document()`), the consumer `parse()`, and
`document()` refuses what `parse()` would, so the format is defined once and
a bad value is reported by the side that wrote it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

from hcp.api.v1beta1.platform import PlatformType
from hcp.controlplane.context import Endpoint

NAME = "hosted-cluster-config"
"""The ConfigMap, in the control-plane namespace (the HostedControlPlane's)."""


def published_for(platform: PlatformType | str) -> bool:
    """Whether the control plane of a cluster on `platform` publishes the ConfigMap: not for KWOK, whose
    simulated nodes run none of the hosted components that read it (so the data-plane controller does not
    wait for it either)."""
    return platform != PlatformType.KWOK
KEY = "config.json"

API_SERVER, KONNECTIVITY, KUBERNETES_VERSION, IMAGES = "apiServer", "konnectivity", "kubernetesVersion", "images"
_VERSION = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]+)?")
"""A Kubernetes version without the leading v, as releases name it ("1.37.1")."""


class ConfigError(ValueError):
    """The hosted-cluster-config document is not one this module writes (the message says where)."""


class HostedClusterConfig(NamedTuple):
    api_server: Endpoint
    konnectivity: Endpoint | None
    kubernetes_version: str
    images: Mapping[str, str]


def document(api_server: Endpoint, konnectivity: Endpoint | None, kubernetes_version: str,
             images: Mapping[str, str]) -> dict[str, Any]:
    """The JSON document under KEY; ConfigError if it holds what `parse` would refuse."""
    body = {
        API_SERVER: _endpoint_document(api_server),
        KONNECTIVITY: _endpoint_document(konnectivity) if konnectivity is not None else None,
        KUBERNETES_VERSION: kubernetes_version,
        IMAGES: dict(sorted(images.items())),
    }
    _check(body)
    return body


def data(api_server: Endpoint, konnectivity: Endpoint | None, kubernetes_version: str,
         images: Mapping[str, str]) -> dict[str, str]:
    """The ConfigMap's `data`: the document, serialised stably (the same inputs give the same bytes)."""
    body = document(api_server, konnectivity, kubernetes_version, images)
    return {KEY: json.dumps(body, indent=2, sort_keys=True) + "\n"}


def parse(text: str | None) -> HostedClusterConfig:
    """The configuration in the text under KEY; ConfigError saying what is wrong with it."""
    if not text:
        raise ConfigError(f"{NAME} has no {KEY}")
    try:
        body = json.loads(text)
    except ValueError as error:
        raise ConfigError(f"{KEY} of {NAME} is not JSON: {error}") from None
    return _check(body)


def _endpoint_document(endpoint: Endpoint) -> dict[str, Any]:
    return {"host": endpoint.host, "port": endpoint.port}


def _check(body: Any) -> HostedClusterConfig:
    if not isinstance(body, Mapping):
        raise ConfigError(f"{KEY} of {NAME} must be a JSON object, not {type(body).__name__}")
    unknown = sorted(set(body) - {API_SERVER, KONNECTIVITY, KUBERNETES_VERSION, IMAGES})
    if unknown:
        raise ConfigError(f"{KEY} of {NAME} has unknown fields: {', '.join(unknown)}")
    if API_SERVER not in body:
        raise ConfigError(f"{KEY} of {NAME} has no {API_SERVER}")
    api_server = _endpoint(body[API_SERVER], API_SERVER)
    konnectivity = None if body.get(KONNECTIVITY) is None else _endpoint(body[KONNECTIVITY], KONNECTIVITY)
    version = body.get(KUBERNETES_VERSION)
    if not isinstance(version, str) or not _VERSION.fullmatch(version):
        raise ConfigError(f"{KUBERNETES_VERSION} must be a Kubernetes version such as 1.37.1, not {version!r}")
    images = body.get(IMAGES)
    if not isinstance(images, Mapping):
        raise ConfigError(f"{IMAGES} must be an object of component name -> image pull spec, not {images!r}")
    for component, image in images.items():
        if not component or not isinstance(image, str) or not image:
            raise ConfigError(f"{IMAGES}.{component or '<empty>'} must be a non-empty image pull spec, "
                              f"not {image!r}")
    return HostedClusterConfig(api_server, konnectivity, version, MappingProxyType(dict(images)))


def _endpoint(value: Any, field: str) -> Endpoint:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{field} must be an object with host and port, not {value!r}")
    unknown = sorted(set(value) - {"host", "port"})
    if unknown:
        raise ConfigError(f"{field} has unknown fields: {', '.join(unknown)}")
    host, port = value.get("host"), value.get("port")
    if not isinstance(host, str) or not host or any(c.isspace() for c in host) or "/" in host:
        raise ConfigError(f"{field}.host must be a host name or IP address, not {host!r}")
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise ConfigError(f"{field}.port must be a port number (1-65535), not {port!r}")
    return Endpoint(host, port)
