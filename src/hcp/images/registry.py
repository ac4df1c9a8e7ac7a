"""Push and read images over the OCI distribution API (the local registry kubelet pulls from)."""

from __future__ import annotations

import json
import ssl
from collections.abc import Iterable
from pathlib import Path

import httpx

from hcp.images.oci import MANIFEST_MEDIA_TYPE, Blob, BuiltImage, sha256_digest

DOCKER_MANIFEST_MEDIA_TYPE = "application/vnd.docker.distribution.manifest.v2+json"
_MANIFEST_ACCEPT = f"{MANIFEST_MEDIA_TYPE}, {DOCKER_MANIFEST_MEDIA_TYPE}"


class RegistryError(Exception):
    """A registry request failed; the message names the registry, the object and the registry's reason."""


class RegistryClient:
    """A client for one registry; pushes are idempotent and skip blobs the registry already has."""

    def __init__(
        self,
        base_url: str,
        ca_file: Path | None = None,
        timeout: float = 60.0,
        *,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=str(ca_file)) if ca_file else True
        self._http = httpx.Client(
            base_url=self.base_url,
            verify=verify,
            timeout=timeout,
            follow_redirects=True,  # registries may redirect blob downloads to their storage
            transport=transport,
        )

    def push(self, image: BuiltImage, reference_tags: Iterable[str] | None = None) -> str:
        """Upload missing blobs, then tag the manifest; returns the manifest digest."""
        name = image.spec.name
        for blob in (image.config, *image.layers):
            if not self._has_blob(name, blob.digest):
                self._upload_blob(name, blob)
        for tag in dict.fromkeys([image.spec.tag, *(reference_tags or ())]):
            self._request(
                "PUT", f"/v2/{name}/manifests/{tag}", f"PUT manifest {_ref(name, tag)}",
                content=image.manifest.data, headers={"Content-Type": image.manifest.media_type},
            )
        return image.digest

    def get_manifest(self, name: str, reference: str) -> tuple[str, dict]:
        """Return (digest, manifest); the digest is computed from the bytes received, not trusted from headers."""
        action = f"GET manifest {_ref(name, reference)}"
        response = self._request(
            "GET", f"/v2/{name}/manifests/{reference}", action, headers={"Accept": _MANIFEST_ACCEPT},
        )
        digest = sha256_digest(response.content)
        if reference.startswith("sha256:") and digest != reference:
            raise RegistryError(f"registry {self.base_url}: {action} failed: content has digest {digest}")
        try:
            return digest, json.loads(response.content)
        except ValueError as e:
            raise RegistryError(f"registry {self.base_url}: {action} failed: manifest is not JSON: {e}") from e

    def get_blob(self, name: str, digest: str) -> bytes:
        """Download a blob and check it against its digest, so corrupt data never reaches the caller."""
        action = f"GET blob {_ref(name, digest)}"
        data = self._request("GET", f"/v2/{name}/blobs/{digest}", action).content
        if (actual := sha256_digest(data)) != digest:
            raise RegistryError(f"registry {self.base_url}: {action} failed: content has digest {actual}")
        return data

    def has_manifest(self, name: str, reference: str) -> bool:
        """Lets callers skip building or pushing an image that is already published."""
        return self._exists(
            f"/v2/{name}/manifests/{reference}", f"HEAD manifest {_ref(name, reference)}",
            headers={"Accept": _MANIFEST_ACCEPT},
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _has_blob(self, name: str, digest: str) -> bool:
        return self._exists(f"/v2/{name}/blobs/{digest}", f"HEAD blob {_ref(name, digest)}")

    def _upload_blob(self, name: str, blob: Blob) -> None:
        """Monolithic upload: open an upload session, then PUT the whole blob to it."""
        started = self._request("POST", f"/v2/{name}/blobs/uploads/", f"POST blob upload {name}")
        location = started.headers.get("Location")
        if not location:
            raise RegistryError(f"registry {self.base_url}: POST blob upload {name} failed: no Location header")
        # The Location carries the registry's upload state in its query; httpx's params= would drop it.
        url = httpx.URL(location).copy_merge_params({"digest": blob.digest})
        self._request(
            "PUT", url, f"PUT blob {_ref(name, blob.digest)}",
            content=blob.data, headers={"Content-Type": "application/octet-stream"},
        )

    def _exists(self, url: str, action: str, **kwargs) -> bool:
        response = self._send("HEAD", url, action, **kwargs)
        if response.status_code == 404:
            return False
        self._raise_for_status(response, action)
        return True

    def _request(self, method: str, url: str | httpx.URL, action: str, **kwargs) -> httpx.Response:
        response = self._send(method, url, action, **kwargs)
        self._raise_for_status(response, action)
        return response

    def _send(self, method: str, url: str | httpx.URL, action: str, **kwargs) -> httpx.Response:
        try:
            return self._http.request(method, url, **kwargs)
        except httpx.TransportError as e:
            reason = str(e) or type(e).__name__
            raise RegistryError(f"cannot reach registry {self.base_url} ({action}): {reason}") from e

    def _raise_for_status(self, response: httpx.Response, action: str) -> None:
        if response.is_success:
            return
        raise RegistryError(
            f"registry {self.base_url}: {action} failed: {response.status_code} {_error_text(response)}"
        )


def _error_text(response: httpx.Response) -> str:
    """The registry's own error codes and messages when it sent them, else the HTTP reason."""
    try:
        errors = response.json()["errors"]
        text = "; ".join(" ".join(filter(None, (e.get("code"), e.get("message")))) for e in errors)
    except (ValueError, KeyError, TypeError, AttributeError):
        text = ""
    return " ".join((text or response.reason_phrase).split())


def _ref(name: str, reference: str) -> str:
    return f"{name}@{reference}" if reference.startswith("sha256:") else f"{name}:{reference}"
