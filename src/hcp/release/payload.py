"""Release payloads: OCI images that name a Kubernetes version and the image of every component.

A payload `<registry>/hcp/release:v<version>` holds one file,
/release-manifests/release.json. hcp builds one per supported Kubernetes
version and pushes it to the management cluster's registry; the operator
resolves `spec.release.image` by reading that file back over the OCI
distribution API, so a release is whatever the registry says it is.
"""

from __future__ import annotations

import io
import json
import posixpath
import re
import tarfile
import zlib
from collections.abc import Callable, Mapping
from types import MappingProxyType
from urllib.parse import urlsplit

from hcp.images import File, ImageSpec, RegistryClient, RegistryError, build
from hcp.upstream.images import CONTROL_PLANE_COMMANDS
from hcp.upstream.images import image as component_image
from hcp.release.versions import (
    RELEASE_REPOSITORY,
    Release,
    ReleaseError,
    check_supported,
    release_image,
    release_version,
    supported_versions,
    toolsets_newest_first,
)

RELEASE_JSON = "/release-manifests/release.json"
KIND = "ReleasePayload"
API_VERSION = "hcp.io/v1"
VERSION_LABEL = "io.hcp.release.version"
COMPONENTS = (
    "etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok", "coredns", "pause",
    "konnectivity-server", "konnectivity-agent", "kubelet",
    # The hosted cluster's own network and metrics. kube-proxy is built by the newest Kubernetes toolset
    # only, so every release shares it (see hcp.dataplane.components.kube_proxy on the skew).
    "flannel", "kube-proxy", "metrics-server",
    # The image of platform Container's machines (hcp.upstream.node_image); its kubelet is "kubelet"'s.
    "node",
)

# A payload layer is a few kilobytes; anything larger is some other image's
# layer, and is not downloaded into the operator's memory.
_MAX_LAYER_BYTES = 1 << 20

_NAME_PART = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_PULL_SPEC = re.compile(
    rf"(?P<host>[^/@]+)/(?P<name>{_NAME_PART}(?:/{_NAME_PART})*)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(?:@(?P<digest>sha256:[0-9a-f]{64}))?"
)
_VERSION = re.compile(r"\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]+)?")


def payload_spec(version_toolset: str, registry: str) -> ImageSpec:
    """The payload image of one Kubernetes toolset, its component refs on `registry`."""
    return _spec(_release(version_toolset, registry))


def publish(client: RegistryClient, registry: str, log: Callable[[str], None] = lambda _: None) -> list[Release]:
    """Build and push every payload the registry lacks or holds with other content; newest first."""
    releases = []
    for toolset in toolsets_newest_first():
        release = _release(toolset, registry)
        built = build(_spec(release))
        name, tag = built.spec.name, built.spec.tag
        if not (client.has_manifest(name, tag) and client.get_manifest(name, tag)[0] == built.digest):
            log(f"pushing release payload {name}:{tag}")
            client.push(built)
        releases.append(release)
    return releases


def resolve(
    client: RegistryClient, image: str, registry_aliases: Mapping[str, str] = MappingProxyType({}),
) -> Release:
    """Read, validate and support-check the release payload `image` from the client's registry.

    `registry_aliases` maps other names of the client's registry, as pull specs
    spell them, to the client's host[:port]: kubelet pulls from
    registry.hcp.internal:5000 while hcp may reach the same registry by IP.
    """
    match = _PULL_SPEC.fullmatch(image)
    if not match or not (match["tag"] or match["digest"]):
        raise ReleaseError(
            f"release image {image!r} is not a pull spec; "
            f"use <registry>/<repository>:<tag> or <registry>/<repository>@sha256:<digest>"
        )
    host, name, reference = match["host"], match["name"], match["digest"] or match["tag"]
    client_host = urlsplit(client.base_url).netloc
    prefix = f"{client.prefix}/" if client.prefix else ""
    if (host != client_host and registry_aliases.get(host) != client_host) or not name.startswith(prefix):
        known = [client_host, *(alias for alias, target in registry_aliases.items() if target == client_host)]
        names = ", ".join(f"{k}/{client.prefix}" if client.prefix else k for k in known)
        raise ReleaseError(
            f"release image {image} is not on hcp's registry ({names}); "
            f"hcp reads release payloads only from its own registry"
        )
    name = name[len(prefix):]  # the client adds its prefix back
    location = f"{host}/{client.prefix}" if client.prefix else host
    try:
        if not client.has_manifest(name, reference):
            published = ", ".join(release_image(location, release_version(t)) for t in toolsets_newest_first())
            raise ReleaseError(
                f"release image {image} not found in the registry; "
                f"supported versions: {', '.join(supported_versions())}; hcp publishes {published}"
            )
        data = _read_release_json(client, name, client.get_manifest(name, reference)[1])
    except RegistryError as e:
        raise ReleaseError(f"cannot read release image {image}: {e}") from e
    if data is None:
        raise ReleaseError(f"release image {image} is not an hcp release payload (no {RELEASE_JSON})")
    release = _parse(image, data)
    check_supported(release)
    return release


def _release(toolset: str, registry: str) -> Release:
    """The release of a toolset: its control-plane images, and the components all versions share."""
    version = release_version(toolset)
    components = {
        name: component_image(f"hcp/{name}", toolset if name in CONTROL_PLANE_COMMANDS else None).ref.on(registry)
        for name in COMPONENTS
    }
    return Release(release_image(registry, version), version, components)


def _spec(release: Release) -> ImageSpec:
    document = {"kind": KIND, "apiVersion": API_VERSION, "version": release.version,
                "components": dict(release.components)}
    return ImageSpec(
        name=RELEASE_REPOSITORY,
        tag=f"v{release.version}",
        layers=((File(RELEASE_JSON, data=(json.dumps(document, indent=2) + "\n").encode(), mode=0o644),),),
        env=(),  # data only: nothing in a payload runs
        labels={VERSION_LABEL: release.version},
    )


def _read_release_json(client: RegistryClient, name: str, manifest: object) -> bytes | None:
    """release.json from the topmost layer that has one, or None when no layer has it."""
    layers = manifest.get("layers") if isinstance(manifest, dict) else None
    for layer in reversed(layers if isinstance(layers, list) else []):
        if _small_layer(layer) and (data := _extract(client.get_blob(name, layer["digest"]))) is not None:
            return data
    return None


def _small_layer(layer: object) -> bool:
    return (
        isinstance(layer, dict) and isinstance(layer.get("digest"), str)
        and isinstance(layer.get("size"), int) and layer["size"] <= _MAX_LAYER_BYTES
    )


def _extract(blob: bytes) -> bytes | None:
    """release.json from a (compressed) tar layer; a layer that is not a tar archive has none."""
    try:
        with tarfile.open(fileobj=io.BytesIO(blob), mode="r:*") as tar:
            for member in tar:
                if (
                    member.isfile() and member.size <= _MAX_LAYER_BYTES
                    and posixpath.normpath("/" + member.name) == RELEASE_JSON
                ):
                    return tar.extractfile(member).read()
    except (tarfile.TarError, OSError, EOFError, zlib.error):
        pass
    return None


def _parse(image: str, data: bytes) -> Release:
    """Validate release.json: a payload that resolves must be able to run a control plane."""
    def invalid(why: str) -> ReleaseError:
        return ReleaseError(f"release image {image} has an invalid {RELEASE_JSON}: {why}")

    try:
        document = json.loads(data)
    except ValueError as e:
        raise invalid(f"not JSON ({e})") from None
    if not isinstance(document, dict) or (document.get("kind"), document.get("apiVersion")) != (KIND, API_VERSION):
        raise invalid(f"want kind {KIND} and apiVersion {API_VERSION}")
    version = document.get("version")
    if not isinstance(version, str) or not _VERSION.fullmatch(version):
        raise invalid(f"version {version!r} is not a Kubernetes version like 1.37.1")
    components = document.get("components")
    if not isinstance(components, dict) or not all(
        isinstance(pull_spec, str) and pull_spec for pull_spec in components.values()
    ):
        raise invalid("components must map each component name to an image pull spec")
    if missing := [name for name in COMPONENTS if name not in components]:
        raise invalid(f"no image for {', '.join(missing)}")
    return Release(image, version, components)
