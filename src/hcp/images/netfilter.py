"""Debian's netfilter userland (iptables, conntrack) as an image layer, for pods that program a node's firewall.

flanneld (masquerading, forwarding) and kube-proxy (Service rules) run in
host-network pods and call `iptables`, `iptables-restore`, ... by name.
Debian picks the backend those names run with update-alternatives, in a
maintainer script that a layer made by hcp.images.debian never runs, so this
layer adds the links that script would make.

The backend is nft, as on every machine hcp runs: it is Debian 12's default
alternative, so the management node's host-side kube-proxy (which runs the
host's `iptables`) and hosted nodes built from Debian packages use it. All
programs that write one node's rules must use the same backend: rules of the
other are in other tables, and kube-proxy's and flannel's chains would not see
each other.
"""

from __future__ import annotations

from functools import cache

from hcp.images import debian
from hcp.images.oci import File

PACKAGES = ("iptables", "conntrack")
BACKEND = "nft"
MULTI_CALL = f"xtables-{BACKEND}-multi"
"""The one binary behind every iptables command name of the backend; it acts on the name it is run as."""
ALTERNATIVES = tuple(f"{family}{verb}" for family in ("iptables", "ip6tables") for verb in ("", "-restore", "-save"))
"""The names Debian's iptables package registers as alternatives (iptables and its -restore/-save slaves)."""
SBIN = "/usr/sbin"
PATH = "PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
"""The images' search path: the commands are in /usr/sbin, which the default PATH of hcp's images lacks."""


def alternatives_links() -> tuple[File, ...]:
    """What `update-alternatives` would make, minus the /etc/alternatives indirection."""
    return tuple(File(f"{SBIN}/{name}", symlink_to=MULTI_CALL) for name in ALTERNATIVES)


@cache
def layer() -> tuple[File, ...]:
    """iptables and conntrack with their libraries, and the links that select the nft backend."""
    packages = debian.resolve(PACKAGES)
    return debian.layer_files(debian.download(packages)) + alternatives_links()
