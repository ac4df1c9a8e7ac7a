"""One cluster's API for the CLI: lightkube for objects, plain requests for what lightkube lacks.

Discovery (`/api`, `/apis`), previous container logs (`pods/log?previous=true`)
and deletes with preconditions are not in lightkube's API, so a plain HTTP
client built from the same kubeconfig serves them. A transport can be passed
in so tests can put a fake API server behind both.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx2
import yaml
from lightkube import ApiError, Client, KubeConfig
from lightkube.config.client_adapter import Client as HTTPClient
from lightkube.config.client_adapter import ConnectionParams
from lightkube.core import resource as lk
from lightkube.core.exceptions import ConfigError

FIELD_MANAGER = "hcp-cli"
"""The CLI's own field manager, so its applies never take fields from the operator's ("hcp")."""


class HostedClusterError(Exception):
    """A problem the user can fix; the message names it and says how."""


class Kube:
    def __init__(self, config: KubeConfig, transport: httpx2.BaseTransport | None = None):
        self.transport = transport
        self.server = config.get().cluster.server
        self.client = Client(config, field_manager=FIELD_MANAGER, transport=transport)
        self._http = HTTPClient(config.get(), ConnectionParams(transport=transport))

    @classmethod
    def from_file(cls, path: Path, transport: httpx2.BaseTransport | None = None) -> Kube:
        try:
            return cls(KubeConfig.from_file(path), transport)
        except (yaml.YAMLError, ConfigError, KeyError, TypeError, AttributeError) as error:
            raise HostedClusterError(f"{path} is not a usable kubeconfig ({str(error).splitlines()[0]}); "
                                     f"pass the management cluster's kubeconfig") from None

    def other(self, kubeconfig: str) -> Kube:
        """Another cluster (a hosted one), reached the same way as this one."""
        return Kube(KubeConfig.from_dict(yaml.safe_load(kubeconfig)), self.transport)

    def get(self, path: str, **params: Any) -> httpx2.Response:
        """GET an API path; raises httpx2.HTTPStatusError on an error status."""
        response = self._http.get(path, params={k: v for k, v in params.items() if v is not None})
        response.raise_for_status()
        return response

    def request(self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None,
                headers: dict[str, str] | None = None) -> httpx2.Response:
        """Any API request, its response returned as it came (errors too).

        For callers that show the API server's answer verbatim (the web
        console) or use endpoints lightkube has no resource for
        (SelfSubjectReview, the scale subresource with a merge patch).
        """
        return self._http.request(method, path, json=json, headers=headers,
                                  params={k: v for k, v in (params or {}).items() if v is not None})

    def get_or_none(self, resource: type[lk.Resource], name: str, namespace: str | None = None) -> Any:
        """The object, or None when it does not exist."""
        try:
            return self.client.get(resource, name, namespace=namespace)
        except ApiError as error:
            if error.status.code == 404 and _names_object(error):
                return None
            if error.status.code == 404:
                raise HostedClusterError(_missing_api(resource)) from None
            raise
        except httpx2.HTTPStatusError as error:  # a 404 without a Status body: the API is not served at all
            if error.response.status_code == 404:
                raise HostedClusterError(_missing_api(resource)) from None
            raise

    def delete(self, resource: type[lk.Resource], name: str, namespace: str | None = None, *,
               uid: str | None = None) -> None:
        """Delete one object; with `uid`, only while it is still that object.

        The API server checks the uid (a DeleteOptions precondition), so an
        object someone else made under the same name in the meantime is never
        deleted in place of the one meant. Raises ApiError: 404 when it is
        gone, 409 when the name now holds another object.
        """
        info = lk.api_info(resource)
        group, version = info.resource.group, info.resource.version
        path = ["api", version] if not group else ["apis", group, version]
        if namespace is not None:
            path += ["namespaces", namespace]
        body: dict[str, Any] = {"apiVersion": "v1", "kind": "DeleteOptions"}
        if uid is not None:
            body["preconditions"] = {"uid": uid}
        response = self._http.request("DELETE", "/" + "/".join([*path, info.plural, name]), json=body)
        if response.is_error:
            if response.headers.get("Content-Type", "").startswith("application/json"):
                raise ApiError(request=response.request, response=response)
            response.raise_for_status()

    def list(self, resource: type[lk.Resource], namespace: str | None = None, **selectors: Any) -> list[Any]:
        """Objects of one namespace, of all namespaces when it is None, or of a cluster-scoped kind."""
        namespace = namespace or ("*" if issubclass(resource, lk.NamespacedResource) else None)
        try:
            return list(self.client.list(resource, namespace=namespace, **selectors))
        except ApiError as error:
            if error.status.code == 404:
                raise HostedClusterError(_missing_api(resource)) from None
            raise

    def close(self) -> None:
        self.client.close()
        self._http.close()

    def __enter__(self) -> Kube:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _names_object(error: ApiError) -> bool:
    """A 404 about one object ("x" not found) rather than about a whole API that is not served."""
    details = error.status.details
    return bool(details and details.name)


def _missing_api(resource: type[lk.Resource]) -> str:
    info = lk.api_info(resource).resource
    return (f"the management cluster does not serve {info.kind} ({info.api_version}); "
            f"install the operator and its CRDs with `hcp install`")
