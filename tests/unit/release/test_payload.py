"""Payload contents, publishing and resolving, against an in-memory registry (parsing only)."""

import gzip
import io
import json
import os
import tarfile

import httpx
import pytest

from hcp.images import File, ImageSpec, RegistryClient, build
from hcp.upstream.binaries import TOOLSETS
from hcp.release import ReleaseError, payload_spec, publish, resolve, supported_versions
from hcp.release.payload import COMPONENTS

from .memory_registry import ALIASES, BASE, MemoryRegistry

REGISTRY = "registry.hcp.internal:5000"
SUPPORTED = ", ".join(supported_versions())


@pytest.fixture
def registry():
    return MemoryRegistry()


@pytest.fixture
def client(registry):
    with RegistryClient(BASE, transport=httpx.MockTransport(registry)) as client:
        yield client


def _layer_files(layer_data: bytes) -> dict[str, bytes | None]:
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(layer_data))) as tar:
        return {m.name: tar.extractfile(m).read() if m.isfile() else None for m in tar}


def _payload(version="1.37.1", components=None, name="hcp/release", tag=None, **document):
    """A hand-made payload, for contents hcp itself would never publish."""
    body = {"kind": "ReleasePayload", "apiVersion": "hcp.io/v1", "version": version,
            "components": components or {c: f"{REGISTRY}/hcp/{c}:v1" for c in COMPONENTS}, **document}
    return build(ImageSpec(name=name, tag=tag or f"v{version}",
                           layers=((File("/release-manifests/release.json", data=json.dumps(body).encode()),),)))


def test_payload_spec_lists_every_component_on_the_registry():
    version = TOOLSETS["kubernetes-1.36"].version  # "v1.36.4"
    spec = payload_spec("kubernetes-1.36", REGISTRY)
    assert (spec.name, spec.tag) == ("hcp/release", version)
    assert dict(spec.labels) == {"io.hcp.release.version": version[1:]}

    built = build(spec)
    assert len(built.layers) == 1
    files = _layer_files(built.layers[0].data)
    assert list(files) == ["release-manifests", "release-manifests/release.json"]
    document = json.loads(files["release-manifests/release.json"])
    assert document["kind"] == "ReleasePayload"
    assert document["apiVersion"] == "hcp.io/v1"
    assert document["version"] == version[1:]
    components = document["components"]
    assert list(components) == [
        "etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok", "coredns", "pause",
        "konnectivity-server", "konnectivity-agent", "kubelet", "flannel", "kube-proxy", "metrics-server",
        "node",
    ]
    for name, ref in components.items():
        assert ref.startswith(f"{REGISTRY}/hcp/{name}:v"), ref
    for name in ("kube-apiserver", "kube-controller-manager", "kube-scheduler"):
        assert components[name] == f"{REGISTRY}/hcp/{name}:{version}"
    assert components["etcd"] == f"{REGISTRY}/hcp/etcd:{TOOLSETS['etcd'].version}"
    # Named for the component, built from konnectivity's proxy-server and proxy-agent.
    for name in ("konnectivity-server", "konnectivity-agent"):
        assert components[name] == f"{REGISTRY}/hcp/{name}:{TOOLSETS['konnectivity'].version}"
    assert components["flannel"] == f"{REGISTRY}/hcp/flannel:{TOOLSETS['flannel'].version}"
    assert components["metrics-server"] == f"{REGISTRY}/hcp/metrics-server:{TOOLSETS['metrics-server'].version}"
    # Only the newest Kubernetes toolset builds kube-proxy; every release has that one.
    assert components["kube-proxy"] == f"{REGISTRY}/hcp/kube-proxy:{TOOLSETS['kubernetes'].version}"
    assert json.loads(build(spec).config.data)["config"]["Labels"] == {"io.hcp.release.version": version[1:]}


def test_payloads_share_everything_but_the_control_plane():
    def components(toolset):
        data = _layer_files(build(payload_spec(toolset, REGISTRY)).layers[0].data)
        return json.loads(data["release-manifests/release.json"])["components"]

    newest, older = components("kubernetes"), components("kubernetes-1.36")
    differing = {name for name in COMPONENTS if newest[name] != older[name]}
    assert differing == {"kube-apiserver", "kube-controller-manager", "kube-scheduler"}


def test_payload_spec_is_reproducible():
    assert build(payload_spec("kubernetes", REGISTRY)).digest == build(payload_spec("kubernetes", REGISTRY)).digest


def test_publish_then_resolve_round_trip(registry, client):
    releases = publish(client, REGISTRY)
    assert [r.version for r in releases] == [TOOLSETS[t].version[1:] for t in ("kubernetes", "kubernetes-1.36")]
    assert [r.image for r in releases] == [f"{REGISTRY}/hcp/release:v{r.version}" for r in releases]
    for release in releases:
        assert resolve(client, release.image, ALIASES) == release


def test_publish_skips_payloads_the_registry_has(registry, client):
    logged = []
    publish(client, REGISTRY, logged.append)
    assert len(logged) == 2
    registry.requests.clear()
    logged.clear()
    publish(client, REGISTRY, logged.append)
    assert registry.writes() == []
    assert logged == []


def test_publish_replaces_a_payload_with_other_content(registry, client):
    stale = _payload(version=TOOLSETS["kubernetes"].version[1:])
    registry.add(stale)
    publish(client, REGISTRY)
    assert ("PUT", f"/v2/hcp/release/manifests/{TOOLSETS['kubernetes'].version}") in registry.writes()
    current = build(payload_spec("kubernetes", REGISTRY))
    assert registry.manifests["hcp/release", current.spec.tag] == current.manifest.data


def test_resolve_by_digest_and_by_the_registry_address(registry, client):
    payload = _payload()
    registry.add(payload)
    by_digest = f"{REGISTRY}/hcp/release@{payload.digest}"
    release = resolve(client, by_digest, ALIASES)
    assert (release.image, release.version, release.minor) == (by_digest, "1.37.1", "1.37")
    assert release.component("kube-apiserver") == f"{REGISTRY}/hcp/kube-apiserver:v1"
    assert resolve(client, "10.0.0.2:5000/hcp/release:v1.37.1").version == "1.37.1"
    assert resolve(client, f"{REGISTRY}/hcp/release:v1.37.1@{payload.digest}", ALIASES).version == "1.37.1"


def test_resolve_not_found(client):
    image = f"{REGISTRY}/hcp/release:v9.9.9"
    with pytest.raises(ReleaseError) as raised:
        resolve(client, image, ALIASES)
    newest, older = (TOOLSETS[t].version for t in ("kubernetes", "kubernetes-1.36"))
    assert str(raised.value) == (
        f"release image {image} not found in the registry; supported versions: {SUPPORTED}; "
        f"hcp publishes {REGISTRY}/hcp/release:{newest}, {REGISTRY}/hcp/release:{older}"
    )


def test_resolve_not_a_payload(registry, client):
    registry.add(build(ImageSpec(name="hcp/etcd", tag="v3.6.16",
                                 layers=((File("/usr/local/bin/etcd", data=b"etcd"),),))))
    with pytest.raises(ReleaseError) as raised:
        resolve(client, f"{REGISTRY}/hcp/etcd:v3.6.16", ALIASES)
    assert str(raised.value) == (
        f"release image {REGISTRY}/hcp/etcd:v3.6.16 is not an hcp release payload "
        f"(no /release-manifests/release.json)"
    )


def test_resolve_does_not_download_large_layers(registry, client):
    big = build(ImageSpec(name="hcp/big", tag="v1",
                          layers=((File("/blob", data=os.urandom(2 << 20)),),)))
    registry.add(big)
    with pytest.raises(ReleaseError, match="is not an hcp release payload"):
        resolve(client, f"{REGISTRY}/hcp/big:v1", ALIASES)
    assert not any(big.layers[0].digest in r.url.path for r in registry.requests)


def test_resolve_unsupported_version(registry, client):
    registry.add(_payload(version="1.35.0"))
    image = f"{REGISTRY}/hcp/release:v1.35.0"
    with pytest.raises(ReleaseError) as raised:
        resolve(client, image, ALIASES)
    assert str(raised.value) == (
        f"release image {image}: Kubernetes 1.35 is not supported; supported versions: {SUPPORTED}"
    )


@pytest.mark.parametrize(("document", "why"), [
    ({"kind": "Other"}, "want kind ReleasePayload and apiVersion hcp.io/v1"),
    ({"version": "v1.37.1"}, "version 'v1.37.1' is not a Kubernetes version like 1.37.1"),
    ({"components": {"etcd": f"{REGISTRY}/hcp/etcd:v1"}},
     "no image for kube-apiserver, kube-controller-manager, kube-scheduler, kwok, coredns, pause, "
     "konnectivity-server, konnectivity-agent, kubelet, flannel, kube-proxy, metrics-server, node"),
    ({"components": {c: 1 for c in COMPONENTS}},
     "components must map each component name to an image pull spec"),
])
def test_resolve_invalid_release_json(registry, client, document, why):
    registry.add(_payload(tag="v1.37.1", **document))
    image = f"{REGISTRY}/hcp/release:v1.37.1"
    with pytest.raises(ReleaseError) as raised:
        resolve(client, image, ALIASES)
    assert str(raised.value) == f"release image {image} has an invalid /release-manifests/release.json: {why}"


def test_resolve_rejects_other_registries(client):
    with pytest.raises(ReleaseError) as raised:
        resolve(client, "quay.io/openshift-release-dev/ocp-release:4.17.0-x86_64", ALIASES)
    assert str(raised.value) == (
        "release image quay.io/openshift-release-dev/ocp-release:4.17.0-x86_64 is not on hcp's registry "
        "(10.0.0.2:5000, registry.hcp.internal:5000); hcp reads release payloads only from its own registry"
    )


@pytest.mark.parametrize("image", [
    "registry.hcp.internal:5000/hcp/release",  # no tag or digest
    "hcp-release",
    "registry.hcp.internal:5000/hcp/../v2/release:v1",
    "registry.hcp.internal:5000/hcp/release@sha256:abc",
])
def test_resolve_rejects_malformed_pull_specs(client, image):
    with pytest.raises(ReleaseError, match="is not a pull spec; use <registry>/<repository>:<tag>"):
        resolve(client, image, ALIASES)


def test_resolve_reports_an_unreachable_registry():
    def refuse(request):
        raise httpx.ConnectError("[Errno 111] Connection refused")

    with RegistryClient(BASE, transport=httpx.MockTransport(refuse)) as client, \
            pytest.raises(ReleaseError) as raised:
        resolve(client, f"{REGISTRY}/hcp/release:v1.37.1", ALIASES)
    assert str(raised.value) == (
        f"cannot read release image {REGISTRY}/hcp/release:v1.37.1: cannot reach registry {BASE} "
        f"(HEAD manifest hcp/release:v1.37.1): [Errno 111] Connection refused"
    )


def test_a_registry_with_a_prefix_publishes_and_resolves_under_it(registry):
    """`hcp release publish --registry host/team` and an operator installed with that registry agree."""
    host = BASE.removeprefix("https://")
    with RegistryClient(BASE, transport=httpx.MockTransport(registry), prefix="team") as client:
        client.push(_payload(components={c: f"{host}/team/hcp/{c}:v1" for c in COMPONENTS}))
        assert ("team/hcp/release", "v1.37.1") in registry.manifests
        release = resolve(client, f"{host}/team/hcp/release:v1.37.1")
        assert release.component("etcd") == f"{host}/team/hcp/etcd:v1"
        with pytest.raises(ReleaseError, match=rf"not on hcp's registry \({host}/team\)"):
            resolve(client, f"{host}/hcp/release:v1.37.1")
