"""The node image of platform Container: its entrypoint, what is added by hand, and (from cached debs) its files."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from hcp.ignition import join
from hcp.images import debian, netfilter
from hcp.upstream import binaries, images, node_image
from hcp.release.payload import COMPONENTS


def test_the_entrypoint_is_valid_posix_sh():
    result = subprocess.run(["sh", "-n"], input=node_image.ENTRYPOINT_SCRIPT, text=True, capture_output=True)
    assert result.returncode == 0, result.stderr
    if shutil.which("dash"):
        assert subprocess.run(["dash", "-n"], input=node_image.ENTRYPOINT_SCRIPT, text=True).returncode == 0


def test_the_entrypoint_refuses_to_start_without_its_settings():
    result = subprocess.run(["sh", "-c", node_image.ENTRYPOINT_SCRIPT], env={"PATH": "/usr/bin:/bin"},
                            text=True, capture_output=True)
    assert result.returncode == 1
    assert "hcp-node: error: HCP_IGNITION_URL is not set" in result.stderr


def test_the_entrypoint_runs_the_join_script_in_the_foreground_and_forwards_sigterm():
    script = node_image.ENTRYPOINT_SCRIPT
    assert '"$HCP_IGNITION_URL/join"' in script
    assert '--pinnedpubkey "$HCP_JOIN_PIN"' in script
    assert '-H "Authorization: Bearer $HCP_JOIN_TOKEN"' in script
    assert "HCP_NODE_FOREGROUND=1 sh /run/hcp-node/join.sh &" in script
    assert "trap 'say \"stopping the node\"; kill -TERM $join" in script
    assert "mount --make-rshared /" in script


def test_the_image_is_registered_and_in_every_release():
    image = images.image(node_image.REPOSITORY)
    assert image.entrypoint == (node_image.ENTRYPOINT,)
    assert image.env == (netfilter.PATH,)
    assert "node" in COMPONENTS and node_image.REPOSITORY == "hcp/node"


def test_the_tag_is_containerds_version_and_a_digest_of_the_content(monkeypatch):
    packages = (debian.Package("containerd", "1.6.20~ds1-1+deb12u3", "amd64"),
                debian.Package("runc", "1.1.5+ds1-1+deb12u1", "amd64"))
    monkeypatch.setattr(node_image, "packages", lambda: packages)
    tag = node_image.version()
    assert re.fullmatch(r"v1\.6\.20-[0-9a-f]{8}", tag), tag
    monkeypatch.setattr(node_image, "ENTRYPOINT_SCRIPT", node_image.ENTRYPOINT_SCRIPT + "\n")
    assert node_image.version() != tag  # a new entrypoint is a new tag: publish pushes only tags it lacks


def test_added_files_are_what_maintainer_scripts_would_make(tmp_path):
    mozilla = tmp_path / "usr/share/ca-certificates/mozilla"
    mozilla.mkdir(parents=True)
    (mozilla / "B.crt").write_text("-----B-----\n")
    (mozilla / "A.crt").write_text("-----A-----")
    added = {f.path: f for f in node_image.added_files(tmp_path)}
    assert added["/bin/sh"].symlink_to == "dash"
    assert added["/usr/sbin/iptables"].symlink_to == "xtables-nft-multi"
    assert added["/etc/ssl/certs/ca-certificates.crt"].data == b"-----A-----\n-----B-----\n"
    assert added[node_image.ENTRYPOINT].data == node_image.ENTRYPOINT_SCRIPT.encode()
    assert added[node_image.ENTRYPOINT].mode == 0o755
    # The kubelet reports PRETTY_NAME as the Node's OS image (kubectl get nodes -o wide), not "Unknown".
    assert b'PRETTY_NAME="hcp node (Debian packages)"' in added["/etc/os-release"].data
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin/sh").symlink_to("dash")  # shipped by the package: not added twice
    assert "/bin/sh" not in {f.path for f in node_image.added_files(tmp_path)}


def _debs_cached() -> bool:
    if not (shutil.which("apt-cache") and shutil.which("dpkg-deb")):
        return False
    try:
        found = node_image.packages()
    except RuntimeError:
        return False
    return all((binaries.cache_dir() / "debs" / p.filename).exists() for p in found)


@pytest.mark.skipif(not _debs_cached(), reason="needs the node image's Debian packages in hcp's cache")
def test_the_image_has_what_the_join_script_looks_for():
    (layer,) = node_image.layers()
    files = {f.path: f for f in layer}

    def resolve(path: str) -> str:
        for _ in range(10):
            parts = path.strip("/").split("/")
            for i in range(1, len(parts) + 1):
                prefix = "/" + "/".join(parts[:i])
                link = files.get(prefix)
                if link is not None and link.symlink_to:
                    target = link.symlink_to
                    base = target if target.startswith("/") else "/" + "/".join(parts[:i - 1] + [target])
                    path = "/".join([base, *parts[i:]])
                    break
            else:
                return path
        raise AssertionError(f"{path}: too many links")

    def present(path: str) -> bool:
        target = files.get(resolve(path).replace("//", "/"))
        return target is not None and target.symlink_to is None

    for path in ("/bin/sh", "/usr/bin/containerd", "/usr/sbin/runc", "/usr/lib/cni/bridge", "/usr/bin/curl",
                 "/usr/sbin/iptables", "/usr/sbin/iptables-restore", "/usr/sbin/conntrack", node_image.ENTRYPOINT,
                 "/etc/ssl/certs/ca-certificates.crt"):
        assert present(path), path
    search = ("/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin", join.CNI_BIN_DIR)
    for command in (*join.COMMANDS, "sha256sum", "base64", "sed", "grep", "modprobe", "sysctl", "id", "sleep"):
        assert any(present(f"{directory}/{command}") for directory in search), command
    assert len(files["/etc/ssl/certs/ca-certificates.crt"].data) > 100_000
