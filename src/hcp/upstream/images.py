"""The images hcp builds from upstream binaries and serves from the local registry.

Each image is named `<registry>/hcp/<component>:<component version>`. Images
that need a shell (etcd, for `etcdctl` in the pod; the volume helper) carry
Debian's static busybox as a layer of its own, shared between them. Images
whose command programs the node's packet filter (flanneld, kube-proxy) carry
Debian's iptables and conntrack (hcp.images.netfilter), also a shared layer.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from hcp.images import NON_ROOT_ID, File, ImageSpec, RegistryClient, build, netfilter
from hcp.upstream import binaries, node_image

BIN = "/usr/local/bin"


@dataclass(frozen=True)
class ImageRef:
    """A component image's repository name and tag."""

    name: str
    tag: str

    def on(self, registry: str) -> str:
        return f"{registry}/{self.name}:{self.tag}"


@cache
def busybox_version() -> str:
    result = subprocess.run(
        ["dpkg-query", "-W", "-f", "${Version}", "busybox-static"], capture_output=True, text=True
    )
    if result.returncode != 0:
        raise binaries.BuildError("busybox is missing; install the Debian package busybox-static")
    return result.stdout.split(":")[-1].split("-")[0]


@cache
def _busybox_layer() -> tuple[File, ...]:
    busybox = binaries.host_binary("busybox", "busybox-static")
    applets = subprocess.run([str(busybox), "--list"], capture_output=True, text=True, check=True)
    links = tuple(
        File(f"/bin/{applet}", symlink_to="/bin/busybox")
        for applet in sorted(set(applets.stdout.split()) - {"busybox"})
    )
    return (File("/bin/busybox", source=busybox), *links)


def _binaries_layer(toolset: str, names: tuple[str, ...]) -> tuple[File, ...]:
    directory = binaries.ensure(toolset)
    return tuple(File(f"{BIN}/{name}", source=directory / name) for name in names)


@dataclass(frozen=True)
class ComponentImage:
    """One image: its repository, where its version comes from, and what it holds."""

    repository: str
    version: Callable[[], str]
    layers: Callable[[], tuple[tuple[File, ...], ...]]
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    user: str = ""
    env: tuple[str, ...] = ImageSpec.env

    @property
    def ref(self) -> ImageRef:
        return ImageRef(self.repository, self.version())

    def spec(self) -> ImageSpec:
        return ImageSpec(
            name=self.repository, tag=self.version(), layers=self.layers(),
            entrypoint=self.entrypoint, cmd=self.cmd, user=self.user, env=self.env,
        )


def _toolset_version(toolset: str) -> Callable[[], str]:
    return lambda: binaries.TOOLSETS[toolset].version


def _binary_image(toolset: str, command: str, shell: bool = False, component: str | None = None,
                  user: str = "") -> ComponentImage:
    """The image of one command, named hcp/<component>: the command's name unless the release calls the
    component otherwise (konnectivity's proxy-server is the component konnectivity-server)."""
    def layers() -> tuple[tuple[File, ...], ...]:
        return ((_busybox_layer(),) if shell else ()) + (_binaries_layer(toolset, (command,)),)

    return ComponentImage(f"hcp/{component or command}", _toolset_version(toolset), layers,
                          entrypoint=(f"{BIN}/{command}",), user=user)


@cache
def _busybox_usr_layer() -> tuple[File, ...]:
    """Busybox in /usr/bin, for images with a Debian layer: that layer makes /bin a link to usr/bin (merged
    /usr), which the /bin directory of the usual busybox layer would replace."""
    return tuple(
        File("/usr" + f.path, source=f.source, symlink_to=f.symlink_to and "/usr" + f.symlink_to)
        for f in _busybox_layer()
    )


def _netfilter_image(toolset: str, command: str, shell: bool = False, component: str | None = None) -> ComponentImage:
    """The image of a command that calls iptables and conntrack, with Debian's (nft backend) beside it."""
    def layers() -> tuple[tuple[File, ...], ...]:
        return (netfilter.layer(), *((_busybox_usr_layer(),) if shell else ()), _binaries_layer(toolset, (command,)))

    return ComponentImage(f"hcp/{component or command}", _toolset_version(toolset), layers,
                          entrypoint=(f"{BIN}/{command}",), env=(netfilter.PATH,))


ETCDCTL = b"""#!/bin/sh
# etcd 3.6 moved `snapshot status` and `snapshot restore` from etcdctl to etcdutl; the docs
# (written for etcd 3.5) run them as `etcdctl [-w table] snapshot status|restore ...`: those go to
# etcdutl with the same arguments, everything else to etcdctl.
snapshot=
for arg in "$@"; do
  case "$arg" in
    -*) ;;
    snapshot) snapshot=1 ;;
    status|restore) [ -n "$snapshot" ] && exec /usr/local/bin/etcdutl "$@" ;;
    *) [ -n "$snapshot" ] && break ;;
  esac
done
exec /usr/local/bin/etcdctl "$@"
"""
"""/usr/bin/etcdctl of the etcd image: etcdctl, with the docs' `snapshot status|restore` sent to etcdutl."""

ETCD_BASH = b"#!/bin/sh\n# busybox ash standing in for bash, for the docs' etcd-data pod (docs 7.3)\nexec /bin/sh \"$@\"\n"
"""/usr/bin/bash of the etcd image: the docs' restore procedure runs its etcd-data pod with it."""

CONTROL_PLANE_COMMANDS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler")
KUBERNETES_TOOLSETS = ("kubernetes", "kubernetes-1.36")

IMAGES: tuple[ComponentImage, ...] = (
    ComponentImage(
        "hcp/pause", _toolset_version("kubernetes"),
        lambda: ((File("/pause", source=binaries.ensure_pause()),),),
        entrypoint=("/pause",), user="65535:65535",
    ),
    ComponentImage("hcp/busybox", busybox_version, lambda: (_busybox_layer(),), cmd=("sh",)),
    ComponentImage(
        "hcp/etcd", _toolset_version("etcd"),
        lambda: (
            _busybox_layer(),
            _binaries_layer("etcd", ("etcd", "etcdctl", "etcdutl"))
            # the docs run /usr/bin/etcdctl in the etcd pod (see ETCDCTL)
            + (File("/usr/bin/etcdctl", data=ETCDCTL), File("/usr/bin/etcdutl", symlink_to=f"{BIN}/etcdutl"))
            # and `/usr/bin/bash -c 'while true; do sleep 1000; done'` in the etcd-data pod of their
            # restore procedure (docs 7.3): busybox's ash serves it; there is no bash in the image
            + (File("/usr/bin/bash", data=ETCD_BASH),),
        ),
        cmd=(f"{BIN}/etcd",),
        # etcd's pods run as this user; so does a pod that names only the image, such as the docs' etcd-data
        # pod of their restore procedure, so the data it restores is etcd's to read
        user=f"{NON_ROOT_ID}:{NON_ROOT_ID}",
    ),
    *(_binary_image(toolset, command) for toolset in KUBERNETES_TOOLSETS for command in CONTROL_PLANE_COMMANDS),
    _binary_image("coredns", "coredns"),
    _binary_image("kwok", "kwok"),
    _binary_image("local-path-provisioner", "local-path-provisioner"),
    _binary_image("konnectivity", "proxy-server", component="konnectivity-server"),
    _binary_image("konnectivity", "proxy-agent", component="konnectivity-agent"),
    # Not run as a container: the ignition server copies the kubelet out of it (hence the shell) and hands
    # it to joining machines.
    _binary_image("kubernetes", "kubelet", shell=True),
    # The hosted clusters' pod network; its shell writes the node's CNI config (hcp.dataplane.components.flannel).
    _netfilter_image("flannel", "flanneld", shell=True, component="flannel"),
    # Only the newest Kubernetes toolset builds kube-proxy: every release has this one (see release.payload).
    _netfilter_image("kubernetes", "kube-proxy"),
    _binary_image("metrics-server", "metrics-server"),
    # The management cluster's Prometheus (`hcp install --prometheus`, hcp.monitoring): not a hosted-cluster
    # component, so in no release payload; install names it on the install's registry. Its user is the
    # non-root one every hcp pod runs as, so a pod that names only the image does not run it as root.
    _binary_image("prometheus", "prometheus", user=f"{NON_ROOT_ID}:{NON_ROOT_ID}"),
    # The machines of platform Container: Debian's containerd, runc, CNI plugins and netfilter tools, and
    # hcp's entrypoint that joins through the ignition server (hcp.upstream.node_image).
    ComponentImage(node_image.REPOSITORY, node_image.version, node_image.layers,
                   entrypoint=(node_image.ENTRYPOINT,), env=(node_image.PATH,)),
)


def image(repository: str, toolset: str | None = None) -> ComponentImage:
    """The image of a repository (and, for Kubernetes images, of a given Kubernetes toolset)."""
    version = binaries.TOOLSETS[toolset].version if toolset else None
    for candidate in IMAGES:
        if candidate.repository == repository and (version is None or candidate.version() == version):
            return candidate
    raise KeyError(f"no image {repository} {version or ''}".strip())


def layer_cache() -> Path:
    """Compressed layers, reused across state dirs: a fresh cluster pushes without recompressing."""
    return binaries.cache_dir() / "layers"


def publish(client: RegistryClient, log: Callable[[str], None] = lambda _: None,
            only: tuple[str, ...] = ()) -> dict[str, str]:
    """Build and push every image the registry lacks (or those of the repositories `only` names); returns
    `name:tag` → manifest digest."""
    digests = {}
    for component in IMAGES:
        if only and component.repository not in only:
            continue
        wanted = component.ref
        key = f"{wanted.name}:{wanted.tag}"
        if client.has_manifest(wanted.name, wanted.tag):
            digests[key] = client.get_manifest(wanted.name, wanted.tag)[0]
            continue
        log(f"pushing image {key}")
        digests[key] = client.push(build(component.spec(), layer_cache=layer_cache()))
    return digests
