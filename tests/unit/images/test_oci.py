import gzip
import hashlib
import io
import json
import os
import tarfile

import pytest

from hcp.images import File, ImageSpec, build


def _spec(tmp_path, **overrides):
    binary = tmp_path / "etcd"
    if not binary.exists():
        binary.write_bytes(os.urandom(3 * 1024 * 1024))  # spans many tar/gzip buffers
    fields = dict(
        name="hcp/etcd",
        tag="v3.6.16",
        layers=(
            (
                File("/usr/local/bin/etcd", source=binary),
                File("/usr/local/bin/etcdctl", data=b"#!/bin/sh\n", mode=0o700),
                File("/etc/etcd/etcd.conf", data=b"name: x\n", mode=0o644),
                File("/usr/bin/etcd", symlink_to="/usr/local/bin/etcd"),
            ),
            (File("/licenses/LICENSE", data=b"Apache-2.0\n", mode=0o644),),
        ),
        entrypoint=("/usr/local/bin/etcd",),
        cmd=("--help",),
        user="65532:65532",
        workdir="/var/lib/etcd",
        labels={"org.opencontainers.image.version": "v3.6.16"},
    )
    fields.update(overrides)
    return ImageSpec(**fields)


def _members(blob):
    with tarfile.open(fileobj=io.BytesIO(blob.data), mode="r:gz") as tar:
        return [(m, tar.extractfile(m).read() if m.isfile() else None) for m in tar.getmembers()]


def test_build_is_reproducible(tmp_path):
    first, second = build(_spec(tmp_path)), build(_spec(tmp_path))
    assert first.digest == second.digest
    assert first.manifest.data == second.manifest.data
    assert first.config.data == second.config.data
    assert [layer.data for layer in first.layers] == [layer.data for layer in second.layers]


def test_changed_input_changes_digest(tmp_path):
    changed = _spec(tmp_path, layers=((File("/usr/local/bin/etcdctl", data=b"#!/bin/sh\n", mode=0o755),),))
    assert build(changed).digest != build(_spec(tmp_path)).digest


def test_gzip_header_has_no_timestamp_or_filename(tmp_path):
    for layer in build(_spec(tmp_path)).layers:
        header = layer.data[:10]
        assert header[:3] == b"\x1f\x8b\x08"
        assert header[3] & 0x08 == 0  # FNAME flag
        assert header[4:8] == b"\0\0\0\0"  # MTIME


def test_layer_entries_are_sorted_with_parent_directories_first(tmp_path):
    layer = build(_spec(tmp_path)).layers[0]
    names = [m.name for m, _ in _members(layer)]
    assert names == [
        "etc", "etc/etcd", "etc/etcd/etcd.conf",
        "usr", "usr/bin", "usr/bin/etcd",
        "usr/local", "usr/local/bin", "usr/local/bin/etcd", "usr/local/bin/etcdctl",
    ]


def test_layer_entry_metadata_and_content(tmp_path):
    spec = _spec(tmp_path)
    entries = {m.name: (m, content) for m, content in _members(build(spec).layers[0])}
    for member, _ in entries.values():
        assert (member.uid, member.gid, member.uname, member.gname, member.mtime) == (0, 0, "", "", 0)
    for directory in ("etc", "etc/etcd", "usr", "usr/bin", "usr/local", "usr/local/bin"):
        member, _ = entries[directory]
        assert member.isdir() and member.mode == 0o755
    etcd, content = entries["usr/local/bin/etcd"]
    assert etcd.isfile() and etcd.mode == 0o755
    assert content == (tmp_path / "etcd").read_bytes()
    etcdctl, content = entries["usr/local/bin/etcdctl"]
    assert etcdctl.mode == 0o700 and content == b"#!/bin/sh\n"
    assert entries["etc/etcd/etcd.conf"][0].mode == 0o644
    link, _ = entries["usr/bin/etcd"]
    assert link.issym() and link.linkname == "/usr/local/bin/etcd" and link.size == 0


def test_config_describes_runtime_and_diff_ids(tmp_path):
    image = build(_spec(tmp_path))
    config = json.loads(image.config.data)
    assert config["architecture"] == "amd64"
    assert config["os"] == "linux"
    assert "created" not in config
    assert config["config"] == {
        "Entrypoint": ["/usr/local/bin/etcd"],
        "Cmd": ["--help"],
        "Env": ["PATH=/usr/local/bin:/usr/bin:/bin"],
        "User": "65532:65532",
        "WorkingDir": "/var/lib/etcd",
        "Labels": {"org.opencontainers.image.version": "v3.6.16"},
    }
    assert config["rootfs"] == {
        "type": "layers",
        "diff_ids": ["sha256:" + hashlib.sha256(gzip.decompress(layer.data)).hexdigest() for layer in image.layers],
    }


def test_manifest_references_config_and_layers(tmp_path):
    image = build(_spec(tmp_path))
    manifest = json.loads(image.manifest.data)
    assert image.manifest.media_type == "application/vnd.oci.image.manifest.v1+json"
    assert image.digest == image.manifest.digest == "sha256:" + hashlib.sha256(image.manifest.data).hexdigest()
    assert manifest["schemaVersion"] == 2
    assert manifest["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
    assert manifest["config"] == {
        "mediaType": "application/vnd.oci.image.config.v1+json",
        "digest": image.config.digest,
        "size": len(image.config.data),
    }
    assert manifest["layers"] == [
        {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer.digest, "size": len(layer.data)}
        for layer in image.layers
    ]
    for blob in (image.config, *image.layers):
        assert blob.digest == "sha256:" + hashlib.sha256(blob.data).hexdigest()


def test_spec_labels_are_a_private_read_only_copy(tmp_path):
    labels = {"a": "1"}
    spec = _spec(tmp_path, labels=labels)
    labels["a"] = "2"
    assert spec.labels == {"a": "1"}
    with pytest.raises(TypeError):
        spec.labels["a"] = "3"
    assert hash(spec) == hash(_spec(tmp_path, labels={"a": "1"}))


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(path="usr/bin/x", data=b""),
        dict(path="/usr/../bin/x", data=b""),
        dict(path="/", data=b""),
        dict(path="/x"),
        dict(path="/x", data=b"", symlink_to="/y"),
    ],
)
def test_invalid_file_is_rejected(kwargs):
    with pytest.raises(ValueError):
        File(**kwargs)


@pytest.mark.parametrize(
    "files",
    [
        (File("/bin/x", data=b"a"), File("/bin/x", data=b"b")),
        (File("/bin", data=b"a"), File("/bin/x", data=b"b")),
        (File("/bin/x", data=b"b"), File("/bin", symlink_to="/usr/bin")),
    ],
)
def test_conflicting_paths_in_one_layer_are_rejected(tmp_path, files):
    with pytest.raises(ValueError):
        build(_spec(tmp_path, layers=(files,)))


def test_layer_cache_reuses_unchanged_layers_and_notices_changes(tmp_path):
    source = tmp_path / "tool"
    source.write_bytes(b"version 1")
    spec = ImageSpec(name="hcp/tool", tag="v1", layers=((File("/usr/local/bin/tool", source=source),),))
    cache = tmp_path / "cache"
    first = build(spec, layer_cache=cache)
    assert len(list(cache.glob("*.tar.gz"))) == 1
    assert build(spec, layer_cache=cache).digest == first.digest == build(spec).digest
    source.write_bytes(b"version 2, longer")
    assert build(spec, layer_cache=cache).digest != first.digest
    assert len(list(cache.glob("*.tar.gz"))) == 2


def test_layer_cache_entries_are_written_whole_under_names_of_their_own(tmp_path):
    source = tmp_path / "tool"
    source.write_bytes(b"binary")
    spec = ImageSpec(name="hcp/tool", tag="v1", layers=((File("/usr/local/bin/tool", source=source),),))
    cache = tmp_path / "cache"
    build(spec, layer_cache=cache)
    names = sorted(p.suffix for p in cache.iterdir())
    assert names == [".diffid", ".gz"]  # no staging file left behind
