"""Push and read images over the OCI distribution API: hcp's embedded registry or any other one.

Any OCI registry means: TLS always (verified with a given CA or the system's),
an optional repository prefix (`host:port/team/hcp/etcd`), and the two ways
registries ask for a login on a 401: `Basic` (the distribution registry with
htpasswd) and `Bearer` (a token from the realm the challenge names, as Docker
Hub, Harbor, GHCR and the distribution registry's token auth do).
"""

from __future__ import annotations

import base64
import json
import re
import ssl
from collections.abc import Generator, Iterable
from dataclasses import dataclass
from pathlib import Path

import httpx

from hcp.images.credentials import Credentials
from hcp.images.oci import MANIFEST_MEDIA_TYPE, Blob, BuiltImage, sha256_digest

DOCKER_MANIFEST_MEDIA_TYPE = "application/vnd.docker.distribution.manifest.v2+json"
_MANIFEST_ACCEPT = f"{MANIFEST_MEDIA_TYPE}, {DOCKER_MANIFEST_MEDIA_TYPE}"


class RegistryError(Exception):
    """A registry request failed; the message names the registry, the object and the registry's reason."""


_HOST = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
                   r"|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$")
_PREFIX = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$")


@dataclass(frozen=True)
class RegistryLocation:
    """Where images go: `host[:port]` plus an optional repository prefix, as `--registry` spells it."""

    host: str
    prefix: str = ""

    @classmethod
    def parse(cls, text: str) -> RegistryLocation:
        """`host[:port][/prefix]`; an https:// URL is accepted, http:// refused (hcp always speaks TLS)."""
        original = text
        text = text.strip().rstrip("/")
        if text.startswith("http://"):
            raise ValueError(f"registry {original!r}: hcp speaks TLS only; use an https registry (and --ca)")
        text = text.removeprefix("https://")
        host, _, prefix = text.partition("/")
        if not _HOST.match(host):
            raise ValueError(f"registry {original!r}: want HOST[:PORT][/PREFIX], e.g. registry.example.com:5000/hcp")
        if prefix and not _PREFIX.match(prefix):
            raise ValueError(f"registry {original!r}: prefix {prefix!r} is not a repository path "
                             f"(lowercase letters, digits, '.', '_', '-', separated by '/')")
        return cls(host, prefix)

    @property
    def name(self) -> str:
        """How image pull specs name it: `host[:port][/prefix]`."""
        return f"{self.host}/{self.prefix}" if self.prefix else self.host

    @property
    def url(self) -> str:
        """Its OCI distribution API endpoint (the prefix is part of repository names, not of the URL)."""
        return f"https://{self.host}"


class RegistryClient:
    """A client for one registry; pushes are idempotent and skip blobs the registry already has.

    Repository names given to its methods are relative to `prefix` (`hcp/etcd` is pushed
    as `<prefix>/hcp/etcd`). With `credentials` it answers Basic and Bearer challenges.
    """

    def __init__(
        self,
        base_url: str,
        ca_file: Path | None = None,
        timeout: float = 60.0,
        *,
        transport: httpx.BaseTransport | None = None,
        credentials: Credentials | None = None,
        prefix: str = "",
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.prefix = prefix.strip("/")
        verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=str(ca_file)) if ca_file else True
        self._http = httpx.Client(
            base_url=self.base_url,
            verify=verify,
            timeout=timeout,
            follow_redirects=True,  # registries may redirect blob downloads to their storage
            transport=transport,
            auth=ChallengeAuth(credentials),
        )

    def _repository(self, name: str) -> str:
        return f"{self.prefix}/{name}" if self.prefix else name

    def push(self, image: BuiltImage, reference_tags: Iterable[str] | None = None) -> str:
        """Upload missing blobs, then tag the manifest; returns the manifest digest."""
        name = self._repository(image.spec.name)
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
        name = self._repository(name)
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
        name = self._repository(name)
        action = f"GET blob {_ref(name, digest)}"
        data = self._request("GET", f"/v2/{name}/blobs/{digest}", action).content
        if (actual := sha256_digest(data)) != digest:
            raise RegistryError(f"registry {self.base_url}: {action} failed: content has digest {actual}")
        return data

    def has_manifest(self, name: str, reference: str) -> bool:
        """Lets callers skip building or pushing an image that is already published."""
        name = self._repository(name)
        return self._exists(
            f"/v2/{name}/manifests/{reference}", f"HEAD manifest {_ref(name, reference)}",
            headers={"Accept": _MANIFEST_ACCEPT},
        )

    def check(self) -> None:
        """GET /v2/ (with a login if one is asked for): an unreachable, untrusted or refusing registry fails here,
        before anything is built for it."""
        self._request("GET", "/v2/", "GET /v2/")

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
            reason = " ".join((str(e) or type(e).__name__).split())
            if "CERTIFICATE_VERIFY_FAILED" in reason:
                reason += "; give the CA that signed the registry's certificate (--ca)"
            raise RegistryError(f"cannot reach registry {self.base_url} ({action}): {reason}") from e

    def _raise_for_status(self, response: httpx.Response, action: str) -> None:
        if response.is_success:
            return
        hint = ""
        if response.status_code == 401:
            hint = ("; the registry wants a login: give credentials (--username/--password-stdin or "
                    "--docker-config)" if not self._http.auth.credentials else
                    "; the registry refused the credentials given")
        elif response.status_code == 403:
            hint = "; the credentials given may not do this"
        raise RegistryError(
            f"registry {self.base_url}: {action} failed: {response.status_code} {_error_text(response)}{hint}"
        )


_CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')
_REPOSITORY_PATH = re.compile(r"^/v2/(.+?)/(?:manifests|blobs|tags)/")


class ChallengeAuth(httpx.Auth):
    """Answers a registry's 401 challenge: Basic with the credentials, or Bearer with a token from the realm.

    Tokens are kept per repository (their scope), and Basic is sent up front once a
    registry asked for it, so only the first request of each repository pays a round trip.
    Without credentials a Bearer realm may still hand out an anonymous (pull) token.
    """

    requires_response_body = True

    def __init__(self, credentials: Credentials | None) -> None:
        self.credentials = credentials
        self._basic = False
        self._tokens: dict[str, str] = {}

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        repository = _repository_of(request)
        self._authorize(request, repository)
        response = yield request
        if response.status_code != 401:
            return
        scheme, params = _challenge(response.headers.get("WWW-Authenticate", ""))
        if scheme == "basic" and self.credentials is not None:
            self._basic = True
        elif scheme == "bearer" and params.get("realm", "").startswith(("https://", "http://")):
            query = {key: params[key] for key in ("service", "scope") if params.get(key)}
            token_request = httpx.Request("GET", params["realm"], params=query)
            if self.credentials is not None:
                token_request.headers["Authorization"] = _basic_header(self.credentials)
            token_response = yield token_request
            if token_response.status_code != 200:
                return  # the original 401 stands, with the registry's own message
            try:
                body = json.loads(token_response.content)
                token = body.get("token") or body.get("access_token")
            except (ValueError, AttributeError):
                token = None
            if not isinstance(token, str) or not token:
                return
            self._tokens[repository] = token
        else:
            return
        self._authorize(request, repository)
        yield request

    def _authorize(self, request: httpx.Request, repository: str) -> None:
        if repository in self._tokens:
            request.headers["Authorization"] = f"Bearer {self._tokens[repository]}"
        elif self._basic and self.credentials is not None:
            request.headers["Authorization"] = _basic_header(self.credentials)


def _repository_of(request: httpx.Request) -> str:
    match = _REPOSITORY_PATH.match(request.url.path)
    return match.group(1) if match else ""


def _challenge(header: str) -> tuple[str, dict[str, str]]:
    """(lower-case scheme, parameters) of a WWW-Authenticate header."""
    scheme, _, rest = header.strip().partition(" ")
    return scheme.lower(), dict(_CHALLENGE_PARAM.findall(rest))


def _basic_header(credentials: Credentials) -> str:
    return "Basic " + base64.b64encode(f"{credentials.username}:{credentials.password}".encode()).decode()


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
