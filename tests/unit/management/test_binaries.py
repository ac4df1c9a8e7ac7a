import pytest

from hcp.management import binaries


def test_every_toolset_pins_its_upstream_module():
    for toolset in binaries.TOOLSETS.values():
        assert toolset.version.startswith("v"), toolset.name


def test_kubernetes_toolsets_are_the_newest_minor_and_the_one_before():
    current = binaries.TOOLSETS["kubernetes"].version.split(".")
    previous = binaries.TOOLSETS["kubernetes-1.36"].version.split(".")
    assert int(current[1]) == int(previous[1]) + 1


def test_kubernetes_builds_carry_their_version():
    flags = binaries.TOOLSETS["kubernetes"].version_flags("v1.37.1")
    assert "-X k8s.io/component-base/version.gitVersion=v1.37.1" in flags
    assert "-X k8s.io/component-base/version.gitMinor=37" in flags


@pytest.mark.parametrize("package,name", [
    ("go.etcd.io/etcd/server/v3", "server"),
    ("sigs.k8s.io/kwok/cmd/kwok", "kwok"),
    ("github.com/coredns/coredns", "coredns"),
])
def test_go_output_names(package, name):
    assert binaries._go_binary_name(package) == name


def test_prebuilt_directory_is_used_when_complete(tmp_path, monkeypatch):
    toolset = binaries.TOOLSETS["etcd"]
    directory = tmp_path / f"etcd-{toolset.version}"
    directory.mkdir()
    for command in toolset.commands:
        (directory / command).write_text("")
    monkeypatch.setenv("HCP_PREBUILT_BIN_DIR", str(tmp_path))
    assert binaries.cached("etcd") == directory


def test_cache_key_changes_with_the_pins(tmp_path, monkeypatch):
    for name in ("go.mod", "go.sum"):
        (tmp_path / name).write_text((binaries.TOOLSETS["kwok"].directory / name).read_text())
    monkeypatch.setattr(binaries, "TOOLS_DIR", tmp_path.parent)
    toolset = binaries.Toolset(tmp_path.name, "sigs.k8s.io/kwok", {"kwok": "sigs.k8s.io/kwok/cmd/kwok"})
    before = binaries._build_key(toolset)
    (tmp_path / "go.sum").write_text("changed\n")
    assert binaries._build_key(toolset) != before


def test_missing_host_binary_names_the_debian_package():
    with pytest.raises(binaries.BuildError, match="install the Debian package no-such-package"):
        binaries.host_binary("no-such-binary-hcp", "no-such-package")
