"""Upstream binaries: built from the Go modules pinned under tools/, cached by version.

Each toolset is one folder of tools/ with a go.mod that requires one upstream
module at one version and lists the commands to build as `tool` directives.
Builds are static (CGO_ENABLED=0; or cgo with static linking for a command with
C parts, see Toolset.cgo) so the same files run on the host and in
FROM-scratch images. A build lands in the cache under a key made of the
version and a hash of the module files and flags, so a second run finds it
and a changed pin rebuilds. A directory of prebuilt binaries may be supplied
instead with HCP_PREBUILT_BIN_DIR (layout: `<toolset>-<version>/<binary>`).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from hcp.cache import cache_dir
from hcp.progress import ticking

TOOLS_DIR = Path(os.environ.get("HCP_TOOLS_DIR") or Path(__file__).resolve().parents[3] / "tools")


class BuildError(RuntimeError):
    """A binary could not be built or found; the message says which and where to look."""


def _kubernetes_version_flags(version: str) -> list[str]:
    major, minor = version.lstrip("v").split(".")[:2]
    flags = []
    for package in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        flags += [
            f"-X {package}.gitVersion={version}",
            f"-X {package}.gitMajor={major}",
            f"-X {package}.gitMinor={minor}",
            f"-X {package}.gitTreeState=clean",
        ]
    return flags


def _kwok_version_flags(version: str) -> list[str]:
    return [f"-X sigs.k8s.io/kwok/pkg/consts.Version={version}"]


def _registry_version_flags(version: str) -> list[str]:
    return [f"-X github.com/distribution/distribution/v3/version.version={version}"]


def _versitygw_version_flags(version: str) -> list[str]:
    return [f"-X main.Version={version}"]


def _flannel_version_flags(version: str) -> list[str]:
    return [f"-X github.com/flannel-io/flannel/pkg/version.Version={version}"]


def _hydra_version_flags(version: str) -> list[str]:
    return [f"-X github.com/ory/hydra/v2/driver/config.Version={version}"]


def _kube_router_version_flags(version: str) -> list[str]:
    # As kube-router's Makefile (`git describe --tags`, so `v2.10.0`); its BuildDate is left out, so that a
    # build is the same whenever it is made.
    return [f"-X github.com/cloudnativelabs/kube-router/v2/pkg/version.Version={version}"]


def prometheus_release(version: str) -> str:
    """Prometheus's own version of its Go module's: 3.x.y is published as v0.3xx.y (v0.316.0 is 3.16.0)."""
    minor, patch = version.lstrip("v").split(".")[1:3]
    return f"{int(minor) // 100}.{int(minor) % 100}.{patch}"


def _prometheus_version_flags(version: str) -> list[str]:
    # As Prometheus's .promu.yml: its version (3.16.0, which `prometheus --version`, the build_info metric
    # and the API's buildinfo report), the module tag it was built from as the revision, and the branch
    # `HEAD`, which upstream's release builds of a tag report too.
    package = "github.com/prometheus/common/version"
    return [f"-X {package}.Version={prometheus_release(version)}", f"-X {package}.Revision={version}",
            f"-X {package}.Branch=HEAD"]


def _metrics_server_version_flags(version: str) -> list[str]:
    # Only client-go's, as metrics-server's Makefile: component-base's version is the apiserver
    # library's binary version, which feature gates and emulation compare against Kubernetes'.
    return [f"-X k8s.io/client-go/pkg/version.gitVersion={version}"]


@dataclass(frozen=True)
class Toolset:
    """A folder of tools/: one pinned upstream module and the commands built from it."""

    name: str
    module: str
    commands: dict[str, str]
    version_flags: Callable[[str], list[str]] = field(default=lambda version: [])
    cgo: bool = False
    """Build with cgo, still static (glibc's libc.a, the pure-Go resolver and user lookup): for
    commands with C parts that have no pure-Go build (flanneld's udp backend on amd64)."""
    tags: tuple[str, ...] = ()
    """Go build tags the upstream project builds the command with (Hydra's SQLite store needs `sqlite`)."""
    on_demand: bool = False
    """Built when first asked for (`ensure`), not by `ensure_all`: a tool only tests use (the OIDC provider),
    which a management cluster never runs."""
    cold_build_s: int = 60
    """Seconds a build takes from empty caches on two cores (measured 2026-12-06; CoreDNS and the registry
    took 1-2 minutes each, counted as 90 s), for the estimate `management-cluster up` prints before building."""

    @property
    def directory(self) -> Path:
        return TOOLS_DIR / self.name

    @property
    def version(self) -> str:
        return module_version(self.directory / "go.mod", self.module)


_KUBE_CMD = "k8s.io/kubernetes/cmd/"
TOOLSETS: dict[str, Toolset] = {
    t.name: t
    for t in (
        Toolset(
            "kubernetes",
            "k8s.io/kubernetes",
            {c: _KUBE_CMD + c for c in (
                "kube-apiserver", "kube-controller-manager", "kube-scheduler",
                "kubelet", "kube-proxy", "kubectl",
            )},
            _kubernetes_version_flags,
            cold_build_s=387,
        ),
        Toolset(
            "kubernetes-1.36",
            "k8s.io/kubernetes",
            {c: _KUBE_CMD + c for c in ("kube-apiserver", "kube-controller-manager", "kube-scheduler")},
            _kubernetes_version_flags,
            cold_build_s=220,
        ),
        Toolset(
            "etcd",
            "go.etcd.io/etcd/server/v3",
            {
                "etcd": "go.etcd.io/etcd/server/v3",
                "etcdctl": "go.etcd.io/etcd/etcdctl/v3",
                "etcdutl": "go.etcd.io/etcd/etcdutl/v3",
            },
            cold_build_s=28,
        ),
        Toolset("coredns", "github.com/coredns/coredns", {"coredns": "github.com/coredns/coredns"},
                cold_build_s=90),
        Toolset("kwok", "sigs.k8s.io/kwok", {"kwok": "sigs.k8s.io/kwok/cmd/kwok"}, _kwok_version_flags,
                cold_build_s=91),
        Toolset(
            "registry",
            "github.com/distribution/distribution/v3",
            {"registry": "github.com/distribution/distribution/v3/cmd/registry"},
            _registry_version_flags,
            cold_build_s=90,
        ),
        Toolset(
            "local-path-provisioner",
            "github.com/rancher/local-path-provisioner",
            {"local-path-provisioner": "github.com/rancher/local-path-provisioner"},
            cold_build_s=54,
        ),
        Toolset(
            "konnectivity",
            "sigs.k8s.io/apiserver-network-proxy",
            {
                "proxy-server": "sigs.k8s.io/apiserver-network-proxy/cmd/server",
                "proxy-agent": "sigs.k8s.io/apiserver-network-proxy/cmd/agent",
            },
            cold_build_s=51,
        ),
        Toolset(
            "flannel", "github.com/flannel-io/flannel", {"flanneld": "github.com/flannel-io/flannel"},
            _flannel_version_flags, cgo=True, cold_build_s=60,
        ),
        # The embedded management cluster's NetworkPolicy enforcement: kube-router's firewall only (no routing,
        # no service proxy), a host process beside kube-proxy (hcp.management.host_processes).
        Toolset(
            "kube-router",
            "github.com/cloudnativelabs/kube-router/v2",
            {"kube-router": "github.com/cloudnativelabs/kube-router/v2/cmd/kube-router"},
            _kube_router_version_flags,
            cold_build_s=150,  # measured 2026-12-07 from empty caches, modules downloaded too: 149 s
        ),
        Toolset(
            "metrics-server",
            "sigs.k8s.io/metrics-server",
            {"metrics-server": "sigs.k8s.io/metrics-server/cmd/metrics-server"},
            _metrics_server_version_flags,
            cold_build_s=107,
        ),
        Toolset(
            "versitygw",
            "github.com/versity/versitygw",
            {"versitygw": "github.com/versity/versitygw/cmd/versitygw"},
            _versitygw_version_flags,
            cold_build_s=95,
        ),
        # The embedded monitoring's Prometheus (`hcp install --prometheus`; hcp.monitoring). Prometheus's own
        # build tags leave out every service discovery but kubernetes_sd (file and http discovery are always
        # in), which is the one the operator's configuration uses: a much smaller and quicker build.
        Toolset(
            "prometheus",
            "github.com/prometheus/prometheus",
            {"prometheus": "github.com/prometheus/prometheus/cmd/prometheus"},
            _prometheus_version_flags,
            tags=("remove_all_sd", "enable_kubernetes_sd"),
            cold_build_s=95,
        ),
        # An OIDC provider for the OIDC integration test: Hydra issues ID tokens whose claims (groups) the
        # login and consent steps set through its admin API, so a test gets a real token without a browser.
        # Its SQLite store is C (cgo), kept in memory for the test.
        Toolset(
            "hydra", "github.com/ory/hydra/v2", {"hydra": "github.com/ory/hydra/v2"}, _hydra_version_flags,
            cgo=True, tags=("sqlite", "sqlite_omit_load_extension"), on_demand=True, cold_build_s=105,
        ),
        # Source only, nothing built: the monitoring integration test installs the Prometheus Operator's real
        # ServiceMonitor CRD from its module (go_module_dir), to see hcp emit ServiceMonitors where it exists.
        Toolset("prometheus-operator", "github.com/prometheus-operator/prometheus-operator", {}, on_demand=True,
                cold_build_s=0),
    )
}


def module_version(go_mod: Path, module: str) -> str:
    """The version go.mod requires of `module`."""
    match = re.search(rf"^\s*(?:require\s+)?{re.escape(module)}\s+(v\S+)", go_mod.read_text(), re.M)
    if not match:
        raise BuildError(f"{go_mod} does not require {module}")
    return match.group(1)


def _build_key(toolset: Toolset) -> str:
    digest = hashlib.sha256()
    for name in ("go.mod", "go.sum"):
        digest.update((toolset.directory / name).read_bytes())
    digest.update(" ".join(toolset.version_flags(toolset.version)).encode())
    if toolset.cgo:  # only then, so that the keys of the pure-Go toolsets stay as they were
        digest.update(" ".join(["cgo", _CGO_LDFLAGS, *_CGO_BUILD_FLAGS]).encode())
    if toolset.tags:  # likewise
        digest.update(" ".join(["tags", *toolset.tags]).encode())
    return f"{toolset.name}-{toolset.version}-{digest.hexdigest()[:12]}"


def _prebuilt(toolset: Toolset) -> Path | None:
    root = os.environ.get("HCP_PREBUILT_BIN_DIR")
    if not root:
        return None
    candidate = Path(root) / f"{toolset.name}-{toolset.version}"
    if all((candidate / command).is_file() for command in toolset.commands):
        return candidate
    return None


def cached(toolset_name: str) -> Path | None:
    """The directory holding the toolset's binaries, if built or supplied already."""
    toolset = TOOLSETS[toolset_name]
    prebuilt = _prebuilt(toolset)
    if prebuilt:
        return prebuilt
    target = cache_dir() / "bin" / _build_key(toolset)
    return target if (target / ".complete").exists() else None


def ensure(toolset_name: str, log: Callable[[str], None] = lambda _: None, step: str = "", after: int = 0) -> Path:
    """The directory holding the toolset's binaries, building them first if needed.

    A build is shown while it runs, with what it builds and how many builds come after it
    (`[3/9] kubernetes v1.37.1: building… 2m10s (4 more after it; kube-apiserver, kubelet, ...)`,
    `step` being the `[3/9]`), then with its duration; a cached toolset says nothing here.
    """
    found = cached(toolset_name)
    if found:
        return found
    toolset = TOOLSETS[toolset_name]
    if not toolset.commands:
        raise BuildError(f"{toolset_name} builds nothing: only its module's files are read (go_module_dir)")
    target = cache_dir() / "bin" / _build_key(toolset)
    target.parent.mkdir(parents=True, exist_ok=True)
    with build_lock(target.name, log):
        found = cached(toolset_name)  # built by another process while this one waited for the lock
        if found:
            return found
        staging = Path(tempfile.mkdtemp(prefix=f".{toolset.name}-", dir=target.parent))
        try:
            with ticking(log, f"{step} {toolset.name} {toolset.version}".lstrip(),
                         detail=build_detail(toolset, after)):
                _go_build(toolset, staging)
            (staging / ".complete").write_text(toolset.version + "\n")
            shutil.rmtree(target, ignore_errors=True)  # an incomplete one (no .complete): nobody runs it
            staging.rename(target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return target


@contextmanager
def build_lock(name: str, log: Callable[[str], None] = lambda _: None) -> Iterator[None]:
    """Holds an exclusive lock for building artifact `name` of the shared cache (file `locks/<name>.lock`).

    Two processes that need the same missing artifact (two test workers bringing up their management
    clusters) build it once: the second waits, then finds it. The lock goes with the process if it dies.
    """
    locks = cache_dir() / "locks"
    locks.mkdir(parents=True, exist_ok=True)
    with open(locks / f"{name}.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log(f"{name}: another process is building it; waiting for it")
            fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def ensure_all(log: Callable[[str], None] = lambda _: None) -> None:
    """Every toolset built, the missing ones announced first with how long they take all told.

    When something is to be built, every toolset gets its line in turn, `[2/9] etcd v3.6.16: cached` for
    one built before, so that the count a newcomer watches is of the whole list and each line says
    whether it is work or not; when nothing is, nothing is said.
    """
    toolsets = [toolset for toolset in TOOLSETS.values() if not toolset.on_demand]
    missing = [toolset for toolset in toolsets if cached(toolset.name) is None]
    if not missing:
        return
    minutes = max(1, round(sum(toolset.cold_build_s for toolset in missing) / 60))
    noun = "toolset" if len(missing) == 1 else "toolsets"
    log(f"building {len(missing)} {noun} from their Go modules (about {minutes} min on 2 cores; "
        f"cached in {_home_relative(cache_dir() / 'bin')})")
    for number, toolset in enumerate(toolsets, 1):
        step = f"[{number}/{len(toolsets)}]"
        if toolset not in missing:
            log(f"{step} {toolset.name} {toolset.version}: cached")
            continue
        ensure(toolset.name, log, step=step, after=len(missing) - missing.index(toolset) - 1)


COMMANDS_SHOWN = 3
"""Commands named on a build's line; more are counted, so that the line fits a terminal."""


def build_detail(toolset: Toolset, after: int) -> str:
    """What a running build's line says after its elapsed time: how many builds follow it, then what it
    builds (`4 more after it; kube-apiserver, kube-controller-manager, kube-scheduler, +3 more`)."""
    names = list(toolset.commands)
    shown = ", ".join(names[:COMMANDS_SHOWN]) + (f", +{len(names) - COMMANDS_SHOWN} more"
                                                 if len(names) > COMMANDS_SHOWN else "")
    return (f"{after} more after it; " if after else "") + shown


def _home_relative(path: Path) -> str:
    """`~/.cache/hcp/bin` rather than `/root/.cache/hcp/bin`: shorter, and the same for every user."""
    home = Path.home()
    return f"~/{path.relative_to(home)}" if path.is_relative_to(home) else str(path)


_CGO_LDFLAGS = '-extldflags "-static"'
_CGO_TAGS = ("netgo", "osusergo")
_CGO_BUILD_FLAGS = ("-tags", ",".join(_CGO_TAGS))
"""A static cgo build must not call glibc's NSS (DNS, users), which needs shared libraries at run time."""


def _tag_flags(toolset: Toolset) -> list[str]:
    """`-tags ...`: the static cgo build's and the toolset's own, in one flag (a second -tags would replace the first)."""
    tags = [*(_CGO_TAGS if toolset.cgo else ()), *toolset.tags]
    return ["-tags", ",".join(tags)] if tags else []


def _go_build(toolset: Toolset, output: Path) -> None:
    go = shutil.which("go")
    if not go:
        raise BuildError("the Go toolchain (`go`) is not on PATH; it builds the upstream binaries")
    ldflags = " ".join(["-s", "-w", *toolset.version_flags(toolset.version), *([_CGO_LDFLAGS] if toolset.cgo else [])])
    env = {**os.environ, "CGO_ENABLED": "1" if toolset.cgo else "0", "GOFLAGS": "-mod=mod", "GOWORK": "off"}
    log_file = output / "build.log"
    with log_file.open("wb") as log:
        result = subprocess.run(
            [go, "build", "-trimpath", *_tag_flags(toolset), "-ldflags", ldflags,
             "-o", str(output) + "/", *toolset.commands.values()],
            cwd=toolset.directory, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    if result.returncode != 0:
        tail = log_file.read_text(errors="replace").strip().splitlines()[-5:]
        raise BuildError(f"building {toolset.name} {toolset.version} failed: " + " | ".join(tail))
    log_file.unlink()
    for binary, package in toolset.commands.items():
        built = output / _go_binary_name(package)
        if built.name != binary:
            built.rename(output / binary)


def _go_binary_name(package: str) -> str:
    """The file `go build -o dir/` writes: the last path element, major-version suffix skipped."""
    parts = package.split("/")
    return parts[-2] if re.fullmatch(r"v\d+", parts[-1]) else parts[-1]


def binary(toolset_name: str, command: str) -> Path:
    """The path of one built command; the toolset must have been ensured."""
    directory = cached(toolset_name)
    if directory is None:
        raise BuildError(f"{toolset_name} is not built yet; run `hcp management-cluster up` first")
    return directory / command


@cache
def go_module_dir(toolset_name: str) -> Path:
    """The unpacked source of a toolset's upstream module, from the Go module cache."""
    toolset = TOOLSETS[toolset_name]
    result = subprocess.run(
        ["go", "mod", "download", "-json", toolset.module],
        cwd=toolset.directory, capture_output=True, text=True,
        env={**os.environ, "GOFLAGS": "-mod=mod", "GOWORK": "off"},
    )
    match = re.search(r'"Dir":\s*"([^"]+)"', result.stdout)
    if result.returncode != 0 or not match:
        raise BuildError(f"cannot download {toolset.module}: {result.stderr.strip() or result.stdout.strip()}")
    return Path(match.group(1))


def ensure_pause(log: Callable[[str], None] = lambda _: None) -> Path:
    """The pod sandbox binary, compiled from the pause.c that ships in the Kubernetes module."""
    kubernetes = TOOLSETS["kubernetes"]
    target = cache_dir() / "bin" / f"pause-{kubernetes.version}" / "pause"
    if target.exists():
        return target
    with build_lock(target.parent.name, log):
        if target.exists():  # built by another process while this one waited for the lock
            return target
        source = go_module_dir("kubernetes") / "build" / "pause" / "linux" / "pause.c"
        cc = shutil.which("gcc") or shutil.which("cc")
        if not cc:
            raise BuildError("a C compiler (Debian package gcc) is needed to build the pause binary")
        log(f"building pause from Kubernetes {kubernetes.version}; first time only")
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = target.with_suffix(".tmp")
        result = subprocess.run(
            [cc, "-Os", "-static", f"-DVERSION={kubernetes.version}", "-o", str(staging), str(source)],
            capture_output=True, text=True,
        )
        if result.returncode != 0:
            raise BuildError(f"building pause failed: {result.stderr.strip()}")
        staging.rename(target)
    return target


def host_binary(name: str, debian_package: str) -> Path:
    """A binary hcp takes from the machine's Debian packages."""
    found = shutil.which(name, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")
    if not found:
        raise BuildError(f"`{name}` is missing; install the Debian package {debian_package}")
    return Path(found)
