"""Client logic only (request sequence, skipping, error text); a real registry is exercised by integration tests."""

import hashlib
import json

import httpx
import pytest

from hcp.images import File, ImageSpec, RegistryClient, RegistryError, build

BASE = "https://10.0.0.2:5000"


@pytest.fixture
def image():
    return build(ImageSpec(
        name="hcp/etcd",
        tag="v3.6.16",
        layers=((File("/usr/local/bin/etcd", data=b"etcd"),), (File("/etc/x", data=b"x"),)),
    ))


class Recorder:
    """Answers like a registry holding `blobs`, and records every request."""

    def __init__(self, blobs=(), location="/v2/hcp/etcd/blobs/uploads/u1?_state=s1"):
        self.blobs = set(blobs)
        self.location = location
        self.requests = []

    def __call__(self, request):
        self.requests.append(request)
        path = request.url.path
        if request.method == "HEAD" and "/blobs/" in path:
            return httpx.Response(200 if path.rsplit("/", 1)[1] in self.blobs else 404)
        if request.method == "POST" and path.endswith("/blobs/uploads/"):
            return httpx.Response(202, headers={"Location": self.location})
        if request.method == "PUT" and "/blobs/uploads/" in path:
            self.blobs.add(request.url.params["digest"])
            return httpx.Response(201)
        if request.method == "PUT" and "/manifests/" in path:
            return httpx.Response(201)
        return httpx.Response(500)

    def calls(self):
        return [(r.method, r.url.path) for r in self.requests]


def _client(handler):
    return RegistryClient(BASE, transport=httpx.MockTransport(handler))


def _error(status, code, message):
    return httpx.Response(status, json={"errors": [{"code": code, "message": message, "detail": {}}]})


def test_push_uploads_missing_blobs_then_tags_manifest(image):
    recorder = Recorder()
    with _client(recorder) as client:
        assert client.push(image) == image.digest
    blobs = [image.config, *image.layers]
    expected = []
    for blob in blobs:
        expected += [
            ("HEAD", f"/v2/hcp/etcd/blobs/{blob.digest}"),
            ("POST", "/v2/hcp/etcd/blobs/uploads/"),
            ("PUT", "/v2/hcp/etcd/blobs/uploads/u1"),
        ]
    expected.append(("PUT", "/v2/hcp/etcd/manifests/v3.6.16"))
    assert recorder.calls() == expected
    uploads = [r for r in recorder.requests if r.method == "PUT" and "/blobs/" in r.url.path]
    for request, blob in zip(uploads, blobs):
        assert dict(request.url.params) == {"_state": "s1", "digest": blob.digest}
        assert request.content == blob.data
        assert request.headers["Content-Type"] == "application/octet-stream"
    manifest_put = recorder.requests[-1]
    assert manifest_put.content == image.manifest.data
    assert manifest_put.headers["Content-Type"] == "application/vnd.oci.image.manifest.v1+json"


def test_second_push_only_puts_the_manifest(image):
    recorder = Recorder()
    with _client(recorder) as client:
        client.push(image)
        recorder.requests.clear()
        client.push(image)
    assert [c for c in recorder.calls() if c[0] != "HEAD"] == [("PUT", "/v2/hcp/etcd/manifests/v3.6.16")]


def test_push_skips_only_the_blobs_the_registry_has(image):
    recorder = Recorder(blobs={image.layers[0].digest})
    with _client(recorder) as client:
        client.push(image)
    uploaded = [r.url.params["digest"] for r in recorder.requests if r.method == "PUT" and "/blobs/" in r.url.path]
    assert uploaded == [image.config.digest, image.layers[1].digest]


def test_push_follows_an_absolute_upload_location(image):
    recorder = Recorder(location="https://10.0.0.2:5000/v2/hcp/etcd/blobs/uploads/u2")
    with _client(recorder) as client:
        client.push(image)
    assert ("PUT", "/v2/hcp/etcd/blobs/uploads/u2") in recorder.calls()


def test_push_puts_manifest_under_every_tag_once(image):
    recorder = Recorder()
    with _client(recorder) as client:
        client.push(image, reference_tags=["latest", "v3.6.16", "v3.6"])
    manifest_puts = [path for method, path in recorder.calls() if "/manifests/" in path]
    assert manifest_puts == [
        "/v2/hcp/etcd/manifests/v3.6.16", "/v2/hcp/etcd/manifests/latest", "/v2/hcp/etcd/manifests/v3.6",
    ]


def test_registry_error_text_is_in_the_message(image):
    def handler(request):
        if request.method == "PUT" and "/manifests/" in request.url.path:
            return _error(400, "MANIFEST_INVALID", "manifest invalid")
        return httpx.Response(200)

    with _client(handler) as client, pytest.raises(RegistryError) as raised:
        client.push(image)
    assert str(raised.value) == (
        "registry https://10.0.0.2:5000: PUT manifest hcp/etcd:v3.6.16 failed: 400 MANIFEST_INVALID manifest invalid"
    )


def test_error_without_body_uses_http_reason(image):
    with _client(lambda request: httpx.Response(503)) as client, pytest.raises(RegistryError) as raised:
        client.push(image)
    assert str(raised.value) == (
        f"registry {BASE}: HEAD blob hcp/etcd@{image.config.digest} failed: 503 Service Unavailable"
    )


def test_connection_error_names_the_registry():
    def handler(request):
        raise httpx.ConnectError("[Errno 111] Connection refused")

    with _client(handler) as client, pytest.raises(RegistryError) as raised:
        client.has_manifest("hcp/etcd", "v3.6.16")
    assert str(raised.value) == (
        f"cannot reach registry {BASE} (HEAD manifest hcp/etcd:v3.6.16): [Errno 111] Connection refused"
    )


def test_get_manifest_returns_digest_of_received_bytes(image):
    requests = []

    def handler(request):
        requests.append(request)
        return httpx.Response(200, content=image.manifest.data)

    with _client(handler) as client:
        assert client.get_manifest("hcp/etcd", "v3.6.16") == (image.digest, json.loads(image.manifest.data))
        assert client.get_manifest("hcp/etcd", image.digest)[0] == image.digest
    accept = requests[0].headers["Accept"]
    assert "application/vnd.oci.image.manifest.v1+json" in accept
    assert "application/vnd.docker.distribution.manifest.v2+json" in accept
    assert requests[1].url.path == f"/v2/hcp/etcd/manifests/{image.digest}"


def test_get_manifest_by_digest_rejects_other_content(image):
    with _client(lambda request: httpx.Response(200, content=b"{}")) as client, pytest.raises(RegistryError):
        client.get_manifest("hcp/etcd", image.digest)


def test_get_manifest_not_found():
    with _client(lambda request: _error(404, "MANIFEST_UNKNOWN", "manifest unknown")) as client:
        with pytest.raises(RegistryError, match="GET manifest hcp/etcd:v9 failed: 404 MANIFEST_UNKNOWN manifest unknown"):
            client.get_manifest("hcp/etcd", "v9")


def test_get_blob_verifies_digest():
    data = b"layer bytes"
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    with _client(lambda request: httpx.Response(200, content=data)) as client:
        assert client.get_blob("hcp/etcd", digest) == data
    with _client(lambda request: httpx.Response(200, content=b"corrupt")) as client:
        with pytest.raises(RegistryError, match=f"GET blob hcp/etcd@{digest} failed: content has digest"):
            client.get_blob("hcp/etcd", digest)


def test_get_blob_follows_redirect_to_storage():
    data = b"layer bytes"
    digest = "sha256:" + hashlib.sha256(data).hexdigest()

    def handler(request):
        if request.url.path.startswith("/v2/"):
            return httpx.Response(307, headers={"Location": "https://storage.example/blob"})
        return httpx.Response(200, content=data)

    with _client(handler) as client:
        assert client.get_blob("hcp/etcd", digest) == data


def test_has_manifest():
    with _client(lambda request: httpx.Response(200)) as client:
        assert client.has_manifest("hcp/etcd", "v3.6.16")
    with _client(lambda request: httpx.Response(404)) as client:
        assert not client.has_manifest("hcp/etcd", "v3.6.16")
