import io
from pathlib import Path

import pytest

from hcp.upstream import binaries
from hcp.progress import Progress


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


class _Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def _cold_cache(tmp_path, monkeypatch, names):
    """A cache of its own (never ~/.cache/hcp) and only the toolsets `names`."""
    monkeypatch.setenv("HCP_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("HCP_PREBUILT_BIN_DIR", raising=False)
    monkeypatch.setattr(binaries, "TOOLSETS", {name: binaries.TOOLSETS[name] for name in names})


def test_ensure_all_says_how_many_and_how_long_then_shows_each_build(tmp_path, monkeypatch):
    _cold_cache(tmp_path, monkeypatch, ("kubernetes", "etcd", "kwok"))
    clock, built = _Clock(), []

    def go_build(toolset, output):
        clock.now += toolset.cold_build_s
        built.append(toolset.name)
        for command in toolset.commands:
            (output / command).write_text("")

    monkeypatch.setattr(binaries, "_go_build", go_build)
    binaries.ensure("etcd")  # cached before: not in the estimate, and said to be cached
    built.clear()
    stream = io.StringIO()
    binaries.ensure_all(Progress(stream, clock=clock))
    kubernetes, kwok = binaries.TOOLSETS["kubernetes"].version, binaries.TOOLSETS["kwok"].version
    etcd = binaries.TOOLSETS["etcd"].version
    assert built == ["kubernetes", "kwok"]
    assert stream.getvalue().splitlines() == [
        f"[   0.0s] building 2 toolsets from their Go modules (about 8 min on 2 cores; cached in {tmp_path}/bin)",
        f"[   0.0s] [1/3] kubernetes {kubernetes}: building… 0s "
        f"(1 more after it; kube-apiserver, kube-controller-manager, kube-scheduler, +3 more)",
        f"[ 387.0s] [1/3] kubernetes {kubernetes}: built in 6m27s",
        f"[ 387.0s] [2/3] etcd {etcd}: cached",
        f"[ 387.0s] [3/3] kwok {kwok}: building… 0s (kwok)",
        f"[ 478.0s] [3/3] kwok {kwok}: built in 1m31s",
    ]
    assert binaries.cached("kwok") is not None

    stream.seek(0), stream.truncate()
    binaries.ensure_all(Progress(stream, clock=clock))
    assert stream.getvalue() == "" and built == ["kubernetes", "kwok"]  # all cached: silent


def test_a_failed_build_keeps_the_go_output_in_the_error(tmp_path, monkeypatch):
    _cold_cache(tmp_path, monkeypatch, ("etcd",))

    def run(command, cwd, env, stdout, stderr):
        stdout.write(b"".join(f"line {n}\n".encode() for n in range(1, 9)))

        class Failed:
            returncode = 1
        return Failed()

    monkeypatch.setattr(binaries.subprocess, "run", run)
    monkeypatch.setattr(binaries.shutil, "which", lambda name: "/usr/bin/go")
    stream = io.StringIO()
    with pytest.raises(binaries.BuildError, match=r"building etcd v\S+ failed: line 4 \| line 5 .* line 8$"):
        binaries.ensure_all(Progress(stream))
    assert "[1/1] etcd" in stream.getvalue() and ": failed after 0s" in stream.getvalue()
    assert binaries.cached("etcd") is None and not list((tmp_path / "bin").iterdir())  # no half-built leftovers


def test_the_cache_is_shown_under_home_as_tilde(monkeypatch):
    monkeypatch.setenv("HOME", "/home/someone")
    assert binaries._home_relative(Path("/home/someone/.cache/hcp/bin")) == "~/.cache/hcp/bin"
    assert binaries._home_relative(Path("/var/cache/hcp/bin")) == "/var/cache/hcp/bin"


def test_a_builds_detail_says_how_many_follow_and_names_a_few_commands():
    toolsets = binaries.TOOLSETS
    assert binaries.build_detail(toolsets["kubernetes"], 8) == \
        "8 more after it; kube-apiserver, kube-controller-manager, kube-scheduler, +3 more"
    assert binaries.build_detail(toolsets["etcd"], 1) == "1 more after it; etcd, etcdctl, etcdutl"
    assert binaries.build_detail(toolsets["konnectivity"], 0) == "proxy-server, proxy-agent"


def _ensure_in_child(cache: Path, builds: Path) -> None:
    import os
    import time
    os.environ["HCP_CACHE_DIR"] = str(cache)
    os.environ.pop("HCP_PREBUILT_BIN_DIR", None)

    def go_build(toolset, output):
        with builds.open("a") as out:
            out.write(f"{os.getpid()}\n")
        time.sleep(0.3)  # long enough for the other process to find the toolset missing too
        for command in toolset.commands:
            (output / command).write_text("")

    binaries._go_build = go_build
    binaries.ensure("etcd")


def test_two_processes_needing_the_same_toolset_build_it_once(tmp_path):
    import multiprocessing
    context = multiprocessing.get_context("fork")
    builds = tmp_path / "builds"
    children = [context.Process(target=_ensure_in_child, args=(tmp_path / "cache", builds)) for _ in range(2)]
    for child in children:
        child.start()
    for child in children:
        child.join(30)
    assert [child.exitcode for child in children] == [0, 0]
    assert len(builds.read_text().splitlines()) == 1
    built = [p for p in (tmp_path / "cache" / "bin").iterdir()]
    assert len(built) == 1 and (built[0] / ".complete").exists()


def test_waiting_for_another_build_is_said(tmp_path, monkeypatch):
    import fcntl
    import threading
    import time
    monkeypatch.setenv("HCP_CACHE_DIR", str(tmp_path))
    said, entered = [], threading.Event()

    def second():
        with binaries.build_lock("thing", said.append):
            entered.set()

    (tmp_path / "locks").mkdir()
    with (tmp_path / "locks" / "thing.lock").open("w") as other:  # another process's build, as far as flock sees
        fcntl.flock(other, fcntl.LOCK_EX)
        waiter = threading.Thread(target=second)
        waiter.start()
        time.sleep(0.2)
        assert said == ["thing: another process is building it; waiting for it"] and not entered.is_set()
    waiter.join(5)
    assert entered.is_set()


def test_ensure_all_leaves_out_the_toolsets_only_tests_build(tmp_path, monkeypatch):
    """Hydra (the OIDC test's provider) is built by the test that needs it, never by management-cluster up."""
    assert binaries.TOOLSETS["hydra"].on_demand
    assert [t.name for t in binaries.TOOLSETS.values() if t.on_demand] == ["hydra", "prometheus-operator"]
    _cold_cache(tmp_path, monkeypatch, ("etcd", "hydra"))
    built = []

    def go_build(toolset, output):
        built.append(toolset.name)
        for command in toolset.commands:
            (output / command).write_text("")

    monkeypatch.setattr(binaries, "_go_build", go_build)
    binaries.ensure_all()
    assert built == ["etcd"]
    binaries.ensure("hydra")
    assert built == ["etcd", "hydra"]


def test_prometheus_is_built_with_its_own_version_and_only_kubernetes_discovery(monkeypatch, tmp_path):
    """Prometheus 3.x is module v0.3xx.y; `prometheus --version` and build_info report 3.x.y, as upstream's."""
    toolset = binaries.TOOLSETS["prometheus"]
    assert toolset.version == "v0.316.0" and not toolset.on_demand  # management clusters run it
    assert binaries.prometheus_release("v0.316.0") == "3.16.0"
    assert binaries.prometheus_release("v0.300.1") == "3.0.1"
    assert binaries.prometheus_release("v0.310.12") == "3.10.12"
    assert toolset.version_flags(toolset.version) == [
        "-X github.com/prometheus/common/version.Version=3.16.0",
        "-X github.com/prometheus/common/version.Revision=v0.316.0",
        "-X github.com/prometheus/common/version.Branch=HEAD",
    ]
    calls = []

    def run(command, **kwargs):
        calls.append((command, kwargs["env"]["CGO_ENABLED"]))
        (tmp_path / "prometheus").write_bytes(b"")

        class Done:
            returncode = 0
        return Done()

    monkeypatch.setattr(binaries.subprocess, "run", run)
    monkeypatch.setattr(binaries.shutil, "which", lambda name: "/usr/bin/go")
    binaries._go_build(toolset, tmp_path)
    ((command, cgo),) = calls
    assert cgo == "0"
    # Prometheus's build tags: every service discovery out but Kubernetes' (file and http are always in).
    assert command[command.index("-tags") + 1] == "remove_all_sd,enable_kubernetes_sd"
    assert "-X github.com/prometheus/common/version.Version=3.16.0" in command[command.index("-ldflags") + 1]
    assert command[-1] == "github.com/prometheus/prometheus/cmd/prometheus"


def test_a_source_only_toolset_is_never_built():
    """The Prometheus Operator is pinned for its CRD files only (the monitoring test reads them)."""
    assert binaries.TOOLSETS["prometheus-operator"].commands == {}
    with pytest.raises(binaries.BuildError, match="builds nothing"):
        binaries.ensure("prometheus-operator")


def test_kube_router_builds_carry_their_version_as_its_makefile_sets_it():
    toolset = binaries.TOOLSETS["kube-router"]
    assert toolset.commands == {"kube-router": "github.com/cloudnativelabs/kube-router/v2/cmd/kube-router"}
    assert toolset.version_flags(toolset.version) == [
        f"-X github.com/cloudnativelabs/kube-router/v2/pkg/version.Version={toolset.version}"]
    assert not toolset.on_demand and not toolset.cgo  # a management cluster runs it; static, pure Go
