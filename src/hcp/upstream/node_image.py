"""The node image `hcp/node`: a machine of platform Container, as an image built from Debian packages.

A machine of platform Container (hcp.platforms.container) is a privileged pod
on the management cluster that runs this image. It holds what the join
script (hcp.ignition.join) needs on a machine besides the kubelet, which the
script downloads from the ignition server as on any machine: containerd,
runc, the CNI plugins, iptables and conntrack, iproute2, mount, curl, and the
shell and coreutils the script is written in. The join script finds them as
commands (it looks for commands, not dpkg's database), so it installs nothing.

The layer is made by hcp.images.debian, which runs no maintainer script, so
this module adds by hand what those scripts would have made: /bin/sh (dash's
postinst), the nft alternatives of iptables (hcp.images.netfilter's links) and
the CA bundle /etc/ssl/certs/ca-certificates.crt (update-ca-certificates), so
that containerd can pull from public registries too.

The entrypoint, /usr/local/bin/hcp-node (ENTRYPOINT below), is the machine's
init (the image has no systemd): it makes the container's cgroups usable by a
kubelet, makes / a shared mount, fetches the pool's join script from the
ignition server with the pool's bootstrap token and runs it in the
foreground, and forwards SIGTERM to it so that deleting the pod stops the
kubelet and containerd (and, with the pod's PID namespace, every container of
the machine).

Tag: `v<containerd's upstream version>-<8 hex digits>`. The version says which
runtime the nodes run; the digits are a digest of every package version and
of the entrypoint, because the packages come from the host's apt (security
updates change them under the same containerd version) and the registry is
only pushed tags it lacks (hcp.upstream.images.publish): any change of
content must be a new tag.
"""

from __future__ import annotations

import hashlib
import os
from functools import cache
from pathlib import Path

from hcp.images import debian, netfilter
from hcp.images.oci import File

REPOSITORY = "hcp/node"
ENTRYPOINT = "/usr/local/bin/hcp-node"
PACKAGES = (
    "dash", "coreutils", "sed", "grep",  # the join script's and the entrypoint's shell tools
    "mount",  # mount --make-rshared, the cgroup bind mounts; kubelet's volume mounts
    "iproute2",  # the node's address (`ip route get`); CNI plugins
    *netfilter.PACKAGES,  # iptables, conntrack: CNI's masquerading and port maps
    "containerd", "runc", "containernetworking-plugins",
    "curl", "ca-certificates",  # the join script and the kubelet download; registries' CAs
    "procps",  # sysctl: forwarding and bridge netfilter
    "kmod",  # modprobe overlay, br_netfilter, from the host's /lib/modules
)
"""What a node runs besides the kubelet. Left out: util-linux and findutils (neither script calls them),
systemd (the entrypoint is the init), apt (nothing is installed at run time)."""
EXCLUDED = debian.EXCLUDED | {"init-system-helpers", "usrmerge", "openssl"}
"""Besides what hcp.images.debian leaves out: dependencies only maintainer scripts use (procps's
init-system-helpers, which pulls usrmerge and perl; ca-certificates's openssl, for `openssl rehash`)."""
SH = "/bin/sh"
DASH = "/bin/dash"
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
CA_SOURCES = "usr/share/ca-certificates"
PATH = netfilter.PATH
"""iptables, conntrack, sysctl and modprobe are in sbin directories, which hcp's default image PATH lacks."""

ENTRYPOINT_SCRIPT = r"""#!/bin/sh
# hcp-node: the init of a machine of platform Container (a privileged pod on the management cluster).
# Environment (set by hcp.platforms.container): HCP_IGNITION_URL, HCP_JOIN_PIN (curl --pinnedpubkey of the
# ignition server), HCP_JOIN_TOKEN (the pool's bootstrap token), HCP_NODE_NAME, HCP_NODE_IP, and
# HCP_NODE_CONFIG (the digest of the pool's node configuration the machine was made for, if any).
set -eu
say() { echo "hcp-node: $*" >&2; }
fail() { say "error: $*"; exit 1; }
for var in HCP_IGNITION_URL HCP_JOIN_PIN HCP_JOIN_TOKEN; do
  eval "value=\${$var:-}"
  [ -n "$value" ] || fail "$var is not set"
done
[ "$(id -u)" = 0 ] || fail "run as root in a privileged container"
trap 'say "stopped before joining"; exit 0' TERM INT
mkdir -p /tmp /run/hcp-node && chmod 1777 /tmp

if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  # cgroup v2. A cgroup with processes of its own cannot hand controllers to children, and the kubelet
  # creates its pods' cgroups under ours: move every process of ours into a child, then delegate.
  own=$(sed -n 's/^0:://p' /proc/self/cgroup)
  if [ "$own" = / ]; then
    dir=/sys/fs/cgroup  # a private cgroup namespace: ours is its root
  else
    dir=/sys/fs/cgroup$own  # the host's namespace: our cgroup is deeper, and the kubelet's root with it
    export HCP_CGROUP_ROOT="$own"
  fi
  mkdir -p "$dir/init"
  while read -r pid; do
    echo "$pid" > "$dir/init/cgroup.procs" 2>/dev/null || true  # a process that exited meanwhile
  done < "$dir/cgroup.procs"
  for controller in $(cat "$dir/cgroup.controllers"); do
    echo "+$controller" > "$dir/cgroup.subtree_control" 2>/dev/null \
      || say "cannot delegate cgroup controller $controller"
  done
else
  # cgroup v1. Each hierarchy is mounted with our own cgroup as its root, but /proc/self/cgroup names our
  # cgroups by their paths from the host's root, and the kubelet looks them up by those names: mount each
  # hierarchy's root at the path it names, so that both lead to the same cgroup.
  grep ' - cgroup ' /proc/self/mountinfo | while read -r _ _ _ _ mountpoint rest; do
    options=",${rest##* },"  # the super options, which name the hierarchy's controllers
    path=""
    while IFS=: read -r _ controllers cgroup; do
      [ -n "$controllers" ] || continue
      case "$options" in *",${controllers%%,*},"*) path=$cgroup ;; esac
    done < /proc/self/cgroup
    [ -n "$path" ] && [ "$path" != / ] && [ ! -e "$mountpoint$path/cgroup.procs" ] || continue
    mkdir -p "$mountpoint$path"
    mount --bind "$mountpoint" "$mountpoint$path" || fail "cannot bind-mount $mountpoint at $mountpoint$path"
  done
fi

# The kubelet's volume mounts must propagate into the containers that use them.
mount --make-rshared / || fail "cannot make / a shared mount (is the container privileged?)"

# Fetched to a file rather than piped into sh: an ignition server not reachable yet, or not serving the
# pool's token yet (a new token reaches its mounted Secret within a minute or so), is retried here, and the
# script's process is the one to forward SIGTERM to. A refusal's body is a script printing why.
attempt=0
until curl -sS --fail-with-body --insecure --pinnedpubkey "$HCP_JOIN_PIN" \
    -H "Authorization: Bearer $HCP_JOIN_TOKEN" -H "X-HCP-Node-Config: ${HCP_NODE_CONFIG:-}" \
    -o /run/hcp-node/join.sh "$HCP_IGNITION_URL/join"; do
  attempt=$((attempt + 1))
  if [ $attempt -ge 150 ]; then
    [ -s /run/hcp-node/join.sh ] && sh /run/hcp-node/join.sh
    fail "cannot get the join script from the ignition server at $HCP_IGNITION_URL"
  fi
  sleep 2 &
  wait $! || true
done

HCP_NODE_FOREGROUND=1 sh /run/hcp-node/join.sh &
join=$!
# The join script's own trap stops the kubelet, then containerd; when this process ends, the pod's PID
# namespace ends, and with it every container of the machine.
trap 'say "stopping the node"; kill -TERM $join 2>/dev/null || true' TERM INT
status=0
wait $join || status=$?
while kill -0 $join 2>/dev/null; do  # a trapped signal interrupts wait: wait for the script itself
  status=0
  wait $join || status=$?
done
exit $status
"""


OS_RELEASE = """NAME="hcp node"
ID=hcp-node
ID_LIKE=debian
PRETTY_NAME="hcp node (Debian packages)"
"""
"""/etc/os-release: what the kubelet reports as the Node's osImage (base-files, which would ship one, is
left out with the rest of what only a full system needs)."""


@cache
def packages() -> tuple[debian.Package, ...]:
    """The packages of the image and their dependencies, at the versions the host's apt would install."""
    return tuple(debian.resolve(PACKAGES, exclude=EXCLUDED))


def version() -> str:
    """The tag: containerd's upstream version and a digest of the image's content (see the module doc)."""
    found = packages()
    containerd = next(p for p in found if p.name == "containerd").version
    upstream = containerd.split(":")[-1].split("-")[0].split("~")[0].split("+")[0]
    digest = hashlib.sha256(
        "\n".join([*(f"{p.name}={p.version}" for p in found), ENTRYPOINT_SCRIPT, OS_RELEASE]).encode()
    ).hexdigest()[:8]
    return f"v{upstream}-{digest}"


def ca_bundle(root: Path) -> bytes:
    """What update-ca-certificates would write: every certificate the package ships, concatenated."""
    sources = sorted((root / CA_SOURCES).rglob("*.crt"))
    return b"".join(path.read_bytes().rstrip(b"\n") + b"\n" for path in sources)


def added_files(root: Path) -> tuple[File, ...]:
    """What the packages' maintainer scripts would have made, and the entrypoint."""
    # Bookworm's dash ships /bin/sh; a dash that leaves it to its maintainer script would not.
    shell = () if os.path.lexists(root / SH.lstrip("/")) else (File(SH, symlink_to="dash"),)
    return (
        *shell,
        *netfilter.alternatives_links(),
        File(CA_BUNDLE, data=ca_bundle(root), mode=0o644),
        File(ENTRYPOINT, data=ENTRYPOINT_SCRIPT.encode(), mode=0o755),
        File("/etc/os-release", data=OS_RELEASE.encode(), mode=0o644),
    )


@cache
def layers() -> tuple[tuple[File, ...], ...]:
    """One layer: a single Debian tree keeps merged /usr consistent, then the files added by hand."""
    files = debian.layer_files(debian.download(packages()))
    root = _tree_root(files)
    return (files + added_files(root) + debian.user_files(),)


def _tree_root(files: tuple[File, ...]) -> Path:
    """The unpacked tree the layer's files come from (hcp.images.debian caches it on disk)."""
    dash = next(f for f in files if f.path == DASH)
    assert dash.source is not None
    return dash.source.parents[len(Path(DASH).parts) - 2]
