"""An in-memory registry behind httpx.MockTransport: unit tests of payload parsing only.

Reading payloads from a real registry is covered by the integration tests.
"""

import hashlib
import re

import httpx

from hcp.images import BuiltImage, RegistryClient

BASE = "https://10.0.0.2:5000"
ALIASES = {"registry.hcp.internal:5000": "10.0.0.2:5000"}
_PATH = re.compile(r"/v2/(?P<name>.+)/(?P<kind>manifests|blobs)/(?P<reference>[^/]+)")


class MemoryRegistry:
    """Answers the OCI distribution requests RegistryClient makes, from dicts; records every request."""

    def __init__(self):
        self.manifests: dict[tuple[str, str], bytes] = {}
        self.blobs: dict[str, bytes] = {}
        self.requests: list[httpx.Request] = []

    def add(self, image: BuiltImage) -> None:
        for blob in (image.config, *image.layers):
            self.blobs[blob.digest] = blob.data
        self._put_manifest(image.spec.name, image.spec.tag, image.manifest.data)

    def _put_manifest(self, name: str, tag: str, data: bytes) -> None:
        self.manifests[name, tag] = data
        self.manifests[name, "sha256:" + hashlib.sha256(data).hexdigest()] = data

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if request.method == "POST" and path.endswith("/blobs/uploads/"):
            return httpx.Response(202, headers={"Location": "/upload/1"})
        if request.method == "PUT" and path == "/upload/1":
            self.blobs[request.url.params["digest"]] = request.content
            return httpx.Response(201)
        match = _PATH.fullmatch(path)
        if not match:
            return httpx.Response(400)
        name, kind, reference = match["name"], match["kind"], match["reference"]
        if request.method == "PUT" and kind == "manifests":
            self._put_manifest(name, reference, request.content)
            return httpx.Response(201)
        data = self.manifests.get((name, reference)) if kind == "manifests" else self.blobs.get(reference)
        if data is None:
            code = "MANIFEST_UNKNOWN" if kind == "manifests" else "BLOB_UNKNOWN"
            return httpx.Response(404, json={"errors": [{"code": code, "message": f"{kind[:-1]} unknown"}]})
        return httpx.Response(200, content=b"" if request.method == "HEAD" else data)

    def writes(self) -> list[tuple[str, str]]:
        return [(r.method, r.url.path) for r in self.requests if r.method in ("POST", "PUT")]

