"""Node configuration from a NodePool's spec.config (docs 9.1): what hcp applies on real nodes, and its checks.

Each ConfigMap of spec.config holds, under key "config", YAML documents of
the kinds HyperShift users write, of which hcp applies what upstream nodes have:

- `KubeletConfiguration` (kubelet.config.k8s.io/v1beta1): its fields are
  merged over the kubelet configuration of the join script (e.g. maxPods,
  systemReserved, evictionHard). Fields hcp sets for the node to join and be
  trusted (authentication, certificates, runtime endpoint, cluster DNS, taints)
  are refused, naming the field;
- `MachineConfig` (machineconfiguration.openshift.io/v1): the files of
  spec.config.storage.files (Ignition's form: absolute `path`, `contents.source`
  as a data URL, `mode`) are written on the node before the kubelet starts.
  Anything else a MachineConfig can say (systemd units, kernel arguments,
  extensions) has no upstream equivalent here and is refused, naming it.

Later ConfigMaps win over earlier ones (kubelet fields by name, files by path).
A refused payload is a NodeConfigError whose message names the ConfigMap and
the problem: the NodePool says it in ValidMachineConfig and rolls nothing.
Platform KWOK has no node to write to; its pools roll on a change all the same.
"""

from __future__ import annotations

import base64
import hashlib
import json
import posixpath
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import yaml

CONFIG_KEY = "config"
"""The key of a spec.config ConfigMap that holds its payload (HyperShift's)."""
KUBELET_API_VERSION = "kubelet.config.k8s.io/v1beta1"
MACHINE_CONFIG_API_VERSION = "machineconfiguration.openshift.io/v1"
MANAGED_KUBELET_FIELDS = frozenset({
    "authentication", "authorization", "rotateCertificates", "serverTLSBootstrap", "tlsCertFile",
    "tlsPrivateKeyFile", "cgroupDriver", "containerRuntimeEndpoint", "clusterDNS", "clusterDomain",
    "registerWithTaints", "healthzBindAddress", "healthzPort", "readOnlyPort", "resolvConf", "staticPodPath",
})
"""KubeletConfiguration fields the join script sets so that the node joins, is trusted and resolves names."""
DEFAULT_FILE_MODE = 0o644


class NodeConfigError(ValueError):
    """A payload hcp cannot apply; the message names the ConfigMap and what is wrong."""


@dataclass(frozen=True)
class NodeFile:
    path: str
    contents: bytes
    mode: int = DEFAULT_FILE_MODE


@dataclass(frozen=True)
class NodeConfig:
    """What the join script applies on a node besides hcp's own settings."""

    kubelet: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    """KubeletConfiguration fields merged over the join script's."""
    files: tuple[NodeFile, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.kubelet or self.files)


def parse(name: str, data: Mapping[str, str] | None) -> NodeConfig:
    """The node configuration of ConfigMap `name` (its data), or NodeConfigError saying why not."""
    payload = (data or {}).get(CONFIG_KEY)
    if not payload:
        raise NodeConfigError(f"ConfigMap {name} of spec.config has no key {CONFIG_KEY!r}")
    try:
        documents = [d for d in yaml.safe_load_all(payload) if d is not None]
    except yaml.YAMLError as error:
        raise NodeConfigError(f"ConfigMap {name} of spec.config: key {CONFIG_KEY!r} is not valid YAML: "
                              f"{str(error).splitlines()[0]}") from None
    kubelet: dict[str, Any] = {}
    files: dict[str, NodeFile] = {}
    for document in documents:
        if not isinstance(document, dict) or not document.get("kind"):
            raise NodeConfigError(f"ConfigMap {name} of spec.config: every document of key {CONFIG_KEY!r} "
                                  f"must be an object with a kind")
        kind = document["kind"]
        if kind == "KubeletConfiguration":
            kubelet.update(_kubelet(name, document))
        elif kind == "MachineConfig":
            files.update((f.path, f) for f in _files(name, document))
        else:
            raise NodeConfigError(f"ConfigMap {name} of spec.config: kind {kind} is not supported; hcp applies "
                                  f"KubeletConfiguration ({KUBELET_API_VERSION}) and the storage.files of "
                                  f"MachineConfig ({MACHINE_CONFIG_API_VERSION})")
    return NodeConfig(MappingProxyType(kubelet), tuple(files.values()))


def merge(configs: Sequence[NodeConfig]) -> NodeConfig:
    """Several ConfigMaps' configuration, later ones winning (kubelet fields by name, files by path)."""
    kubelet: dict[str, Any] = {}
    files: dict[str, NodeFile] = {}
    for config in configs:
        kubelet.update(config.kubelet)
        files.update((f.path, f) for f in config.files)
    return NodeConfig(MappingProxyType(kubelet), tuple(files.values()))


NODE_CONFIG_HEADER = "X-HCP-Node-Config"
"""Sent by a machine that expects its pool's node configuration of a given `digest`: the ignition server
answers 503 (retried) until it has that one, so a machine made right after a change never joins with the
configuration before it."""


def to_document(config: NodeConfig) -> dict[str, Any]:
    """JSON-able form, as the data-plane controller publishes it for the ignition server."""
    return {"kubelet": dict(config.kubelet),
            "files": [{"path": f.path, "contents": base64.b64encode(f.contents).decode(), "mode": f.mode}
                      for f in config.files]}


def digest(config: NodeConfig) -> str:
    """A short stable digest of a configuration (of no configuration too)."""
    return hashlib.sha256(json.dumps(to_document(config), sort_keys=True).encode()).hexdigest()[:16]


def from_document(document: Mapping[str, Any] | None) -> NodeConfig:
    """The inverse of `to_document` (an absent document is no configuration)."""
    if not document:
        return NodeConfig()
    files = tuple(NodeFile(str(f["path"]), base64.b64decode(f["contents"]), int(f["mode"]))
                  for f in document.get("files") or ())
    for node_file in files:
        _check_path("the published node configuration", node_file.path)
    return NodeConfig(MappingProxyType(dict(document.get("kubelet") or {})), files)


def _kubelet(name: str, document: Mapping[str, Any]) -> dict[str, Any]:
    if document.get("apiVersion") != KUBELET_API_VERSION:
        raise NodeConfigError(f"ConfigMap {name} of spec.config: KubeletConfiguration must have apiVersion "
                              f"{KUBELET_API_VERSION}, not {document.get('apiVersion')}")
    fields = {key: value for key, value in document.items() if key not in ("apiVersion", "kind")}
    managed = sorted(MANAGED_KUBELET_FIELDS & fields.keys())
    if managed:
        raise NodeConfigError(f"ConfigMap {name} of spec.config: KubeletConfiguration field(s) "
                              f"{', '.join(managed)} are set by hcp for the node to join and cannot be changed")
    return fields


def _files(name: str, document: Mapping[str, Any]) -> list[NodeFile]:
    where = f"ConfigMap {name} of spec.config: MachineConfig {(document.get('metadata') or {}).get('name', '')}"
    if document.get("apiVersion") != MACHINE_CONFIG_API_VERSION:
        raise NodeConfigError(f"{where} must have apiVersion {MACHINE_CONFIG_API_VERSION}")
    spec = document.get("spec") or {}
    unsupported = sorted(key for key in spec if key != "config")
    config = spec.get("config") or {}
    unsupported += sorted(f"config.{key}" for key in config if key not in ("ignition", "storage"))
    storage = config.get("storage") or {}
    unsupported += sorted(f"config.storage.{key}" for key in storage if key != "files")
    if unsupported:
        raise NodeConfigError(f"{where}: {', '.join(unsupported)} not supported; hcp writes the files of "
                              f"spec.config.storage.files only")
    files = []
    for entry in storage.get("files") or ():
        path = entry.get("path") if isinstance(entry, dict) else None
        if not isinstance(path, str):
            raise NodeConfigError(f"{where}: every file needs a path")
        _check_path(where, path)
        source = ((entry.get("contents") or {}).get("source")) or "data:,"
        mode = entry.get("mode", DEFAULT_FILE_MODE)
        if not isinstance(mode, int) or not 0 <= mode <= 0o7777:
            raise NodeConfigError(f"{where}: file {path} has an invalid mode {mode!r} (a number, e.g. 420 for 0644)")
        files.append(NodeFile(path, _data_url(where, path, source), mode))
    return files


def _check_path(where: str, path: str) -> None:
    if not path.startswith("/") or posixpath.normpath(path) != path or path == "/":
        raise NodeConfigError(f"{where}: file path {path!r} must be absolute and normalized")


def _data_url(where: str, path: str, source: str) -> bytes:
    """The bytes of an RFC 2397 data URL, as Ignition's contents.source (only data URLs: nodes fetch nothing)."""
    if not source.startswith("data:") or "," not in source:
        raise NodeConfigError(f"{where}: file {path} must have a data: URL as contents.source (hcp nodes fetch "
                              f"no other URL)")
    header, _, data = source[5:].partition(",")
    if header.endswith(";base64"):
        try:
            return base64.b64decode(data, validate=True)
        except ValueError:
            raise NodeConfigError(f"{where}: file {path} has invalid base64 contents") from None
    return urllib.parse.unquote_to_bytes(data)
