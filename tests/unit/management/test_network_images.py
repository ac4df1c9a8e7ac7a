"""The images of the hosted clusters' network components and metrics-server (specs only: nothing is built)."""

from hcp.images import netfilter
from hcp.upstream import binaries, images


def test_network_images_run_their_command_with_sbin_on_the_path():
    for repository, command in (("hcp/flannel", "flanneld"), ("hcp/kube-proxy", "kube-proxy")):
        image = images.image(repository)
        assert image.entrypoint == (f"{images.BIN}/{command}",)
        assert image.env == (netfilter.PATH,)


def test_versions_are_those_of_the_toolsets():
    assert images.image("hcp/flannel").version() == binaries.TOOLSETS["flannel"].version == "v0.28.10"
    assert images.image("hcp/metrics-server").version() == binaries.TOOLSETS["metrics-server"].version == "v0.8.0"
    # kube-proxy is a Kubernetes image: the newest toolset's version (the one that builds it).
    assert images.image("hcp/kube-proxy").version() == binaries.TOOLSETS["kubernetes"].version
    assert "kube-proxy" in binaries.TOOLSETS["kubernetes"].commands
    assert "kube-proxy" not in binaries.TOOLSETS["kubernetes-1.36"].commands


def test_only_flanneld_and_hydra_are_built_with_cgo_and_the_other_cache_keys_do_not_change():
    assert [t.name for t in binaries.TOOLSETS.values() if t.cgo] == ["flannel", "hydra"]
    kwok = binaries.TOOLSETS["kwok"]
    flannel = binaries.TOOLSETS["flannel"]
    assert binaries._build_key(kwok) == binaries._build_key(binaries.Toolset(
        kwok.name, kwok.module, kwok.commands, kwok.version_flags))
    assert binaries._build_key(flannel) != binaries._build_key(binaries.Toolset(
        flannel.name, flannel.module, flannel.commands, flannel.version_flags))


def test_cgo_builds_are_static_and_use_no_nss(monkeypatch, tmp_path):
    calls = []

    def run(command, **kwargs):
        calls.append((command, kwargs["env"]["CGO_ENABLED"]))
        (tmp_path / "flannel").write_bytes(b"")

        class Done:
            returncode = 0
        return Done()

    monkeypatch.setattr(binaries.subprocess, "run", run)
    monkeypatch.setattr(binaries.shutil, "which", lambda name: "/usr/bin/go")
    binaries._go_build(binaries.TOOLSETS["flannel"], tmp_path)
    ((command, cgo),) = calls
    assert cgo == "1"
    assert command[command.index("-tags") + 1] == "netgo,osusergo"
    assert '-extldflags "-static"' in command[command.index("-ldflags") + 1]
    assert "-X github.com/flannel-io/flannel/pkg/version.Version=v0.28.10" in command[command.index("-ldflags") + 1]
    assert (tmp_path / "flanneld").exists()


def test_a_toolsets_own_build_tags_join_the_static_cgo_ones_in_one_flag(monkeypatch, tmp_path):
    """A second -tags would replace the first: Hydra needs its SQLite tags and the static build's."""
    calls = []

    def run(command, **kwargs):
        calls.append(command)
        (tmp_path / "hydra").write_bytes(b"")  # go names it after the path element before /v2

        class Done:
            returncode = 0
        return Done()

    monkeypatch.setattr(binaries.subprocess, "run", run)
    monkeypatch.setattr(binaries.shutil, "which", lambda name: "/usr/bin/go")
    binaries._go_build(binaries.TOOLSETS["hydra"], tmp_path)
    ((command),) = calls
    assert command.count("-tags") == 1
    assert command[command.index("-tags") + 1] == "netgo,osusergo,sqlite,sqlite_omit_load_extension"
    assert (tmp_path / "hydra").exists()
