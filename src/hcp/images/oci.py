"""Build OCI images from files on disk, reproducibly, without a container daemon.

Identical inputs give byte-identical layers, config and manifest, so an image
that is rebuilt unchanged keeps its digest and a registry push uploads nothing new.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import posixpath
import tarfile
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

MANIFEST_MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json"
CONFIG_MEDIA_TYPE = "application/vnd.oci.image.config.v1+json"
LAYER_MEDIA_TYPE = "application/vnd.oci.image.layer.v1.tar+gzip"

# Fast enough for 100+ MB binaries; the exact level only has to stay fixed.
_GZIP_LEVEL = 6


@dataclass(frozen=True)
class File:
    """One entry of a layer: content from disk, literal bytes, or a symlink."""

    path: str
    source: Path | None = None
    data: bytes | None = None
    mode: int = 0o755
    symlink_to: str | None = None

    def __post_init__(self) -> None:
        if not self.path.startswith("/") or self.path == "/" or posixpath.normpath(self.path) != self.path:
            raise ValueError(f"image file path must be absolute and normalized: {self.path!r}")
        if sum(x is not None for x in (self.source, self.data, self.symlink_to)) != 1:
            raise ValueError(f"image file {self.path}: set exactly one of source, data, symlink_to")


@dataclass(frozen=True)
class ImageSpec:
    """Everything that determines an image; equal specs build equal digests."""

    name: str
    tag: str
    layers: tuple[tuple[File, ...], ...]
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    env: tuple[str, ...] = ("PATH=/usr/local/bin:/usr/bin:/bin",)
    user: str = ""
    workdir: str = "/"
    labels: Mapping[str, str] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        # A private read-only copy keeps the frozen spec from changing under a caller's dict.
        object.__setattr__(self, "labels", MappingProxyType(dict(self.labels)))


@dataclass(frozen=True)
class Blob:
    """Content-addressed bytes as the registry stores them."""

    digest: str
    media_type: str
    data: bytes

    @classmethod
    def of(cls, media_type: str, data: bytes) -> Blob:
        return cls(sha256_digest(data), media_type, data)

    def descriptor(self) -> dict:
        return {"mediaType": self.media_type, "digest": self.digest, "size": len(self.data)}


@dataclass(frozen=True)
class BuiltImage:
    """A built image held in memory, ready to push."""

    spec: ImageSpec
    config: Blob
    layers: tuple[Blob, ...]
    manifest: Blob

    @property
    def digest(self) -> str:
        """The manifest digest: the immutable reference (name@digest) to pull by."""
        return self.manifest.digest


def build(spec: ImageSpec, layer_cache: Path | None = None) -> BuiltImage:
    """Build the image; layers stream from disk through tar and gzip into memory.

    With `layer_cache`, a layer whose inputs (paths, modes, and each source
    file's size, mtime and inode) are unchanged is read back instead of
    compressed again: gzip of the large static binaries dominates build time.
    """
    layers: list[Blob] = []
    diff_ids: list[str] = []
    for files in spec.layers:
        blob, diff_id = _cached_layer(files, layer_cache) if layer_cache else _build_layer(files)
        layers.append(blob)
        diff_ids.append(diff_id)
    container_config: dict = {"Env": list(spec.env), "WorkingDir": spec.workdir}
    if spec.entrypoint:
        container_config["Entrypoint"] = list(spec.entrypoint)
    if spec.cmd:
        container_config["Cmd"] = list(spec.cmd)
    if spec.user:
        container_config["User"] = spec.user
    if spec.labels:
        container_config["Labels"] = dict(spec.labels)
    config = Blob.of(CONFIG_MEDIA_TYPE, _canonical_json({
        "architecture": "amd64",
        "os": "linux",
        "config": container_config,
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }))
    manifest = Blob.of(MANIFEST_MEDIA_TYPE, _canonical_json({
        "schemaVersion": 2,
        "mediaType": MANIFEST_MEDIA_TYPE,
        "config": config.descriptor(),
        "layers": [layer.descriptor() for layer in layers],
    }))
    return BuiltImage(spec=spec, config=config, layers=tuple(layers), manifest=manifest)


def _cached_layer(files: tuple[File, ...], cache: Path) -> tuple[Blob, str]:
    inputs = hashlib.sha256()
    for f in files:
        if f.source is not None:
            stat = os.stat(f.source)
            identity = [str(f.source), stat.st_size, stat.st_mtime_ns, stat.st_ino]
        else:
            identity = [hashlib.sha256(f.data).hexdigest() if f.data is not None else None]
        inputs.update(json.dumps([f.path, f.mode, f.symlink_to, *identity]).encode())
    entry = cache / inputs.hexdigest()
    blob_file, diff_id_file = entry.with_suffix(".tar.gz"), entry.with_suffix(".diffid")
    if blob_file.exists() and diff_id_file.exists():
        return Blob.of(LAYER_MEDIA_TYPE, blob_file.read_bytes()), diff_id_file.read_text()
    blob, diff_id = _build_layer(files)
    cache.mkdir(parents=True, exist_ok=True)
    # Other processes read (and may write) the same entry at the same time: each file is written under a
    # name of this writer's own and renamed into place, the blob last, since a reader takes the entry
    # only once both are there.
    _write_atomically(diff_id_file, diff_id.encode())
    _write_atomically(blob_file, blob.data)
    return blob, diff_id


def _write_atomically(path: Path, data: bytes) -> None:
    """`path` holds `data` whole or is left as it was: written to a unique file beside it, then renamed."""
    descriptor, staging = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as out:
            out.write(data)
        os.replace(staging, path)
    except BaseException:
        Path(staging).unlink(missing_ok=True)
        raise


def _build_layer(files: tuple[File, ...]) -> tuple[Blob, str]:
    """Return the gzip layer blob and its diff_id (digest of the uncompressed tar)."""
    by_path: dict[str, File | None] = {}  # None marks a directory entry
    for f in files:
        if f.path in by_path:
            raise ValueError(f"image file {f.path} is given twice, or also as a parent directory, in one layer")
        by_path[f.path] = f
        parent = posixpath.dirname(f.path)
        while parent != "/":
            if by_path.setdefault(parent, None) is not None:
                raise ValueError(f"image file {parent} is also a parent directory in one layer")
            parent = posixpath.dirname(parent)

    compressed = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=compressed, compresslevel=_GZIP_LEVEL, mtime=0) as gz:
        tar_stream = _HashingWriter(gz)
        with tarfile.open(fileobj=tar_stream, mode="w|", format=tarfile.PAX_FORMAT) as tar:
            # Sorting by components puts every directory right before its contents.
            for path in sorted(by_path, key=lambda p: p.split("/")):
                _add_entry(tar, path, by_path[path])
    return Blob.of(LAYER_MEDIA_TYPE, compressed.getvalue()), "sha256:" + tar_stream.sha256.hexdigest()


def _add_entry(tar: tarfile.TarFile, path: str, f: File | None) -> None:
    info = tarfile.TarInfo(path.lstrip("/"))
    info.mtime = 0
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    if f is None:
        info.type, info.mode = tarfile.DIRTYPE, 0o755
        tar.addfile(info)
    elif f.symlink_to is not None:
        info.type, info.mode, info.linkname = tarfile.SYMTYPE, 0o777, f.symlink_to
        tar.addfile(info)
    elif f.data is not None:
        info.mode, info.size = f.mode, len(f.data)
        tar.addfile(info, io.BytesIO(f.data))
    else:
        with open(f.source, "rb") as src:
            info.mode, info.size = f.mode, os.fstat(src.fileno()).st_size
            tar.addfile(info, src)


class _HashingWriter:
    """Digests the uncompressed tar on its way into gzip, so it is never held or read twice."""

    def __init__(self, out: gzip.GzipFile) -> None:
        self.out = out
        self.sha256 = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.sha256.update(data)
        return self.out.write(data)


def sha256_digest(data: bytes) -> str:
    """The content address the registry and image config use for these bytes."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _canonical_json(value: dict) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()
