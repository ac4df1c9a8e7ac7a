"""The iptables layer selects the nft backend the way Debian's alternatives do."""

from hcp.images import netfilter


def test_every_iptables_name_runs_the_nft_multi_call_binary():
    links = {f.path: f.symlink_to for f in netfilter.alternatives_links()}
    assert links == {
        f"/usr/sbin/{name}": "xtables-nft-multi"
        for name in ("iptables", "iptables-restore", "iptables-save", "ip6tables", "ip6tables-restore",
                     "ip6tables-save")
    }


def test_the_image_path_finds_sbin():
    assert "/usr/sbin" in netfilter.PATH.removeprefix("PATH=").split(":")
