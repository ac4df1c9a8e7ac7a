"""Node subnets: picked and held under one lock, so clusters made at the same moment never share one."""

import ipaddress
import multiprocessing
from pathlib import Path

import pytest

from hcp.management import network
from hcp.management.layout import ClusterConfig


@pytest.fixture
def host(tmp_path, monkeypatch):
    """No interface uses a node subnet unless a test says so; reservations in a directory of the test's own."""
    interfaces: dict[str, set] = {}
    monkeypatch.setattr(network, "RESERVATIONS", tmp_path / "subnets")
    monkeypatch.setattr(network, "_interface_subnets",
                        lambda ignore=None: set().union(*(v for k, v in interfaces.items() if k != ignore)))
    return interfaces


def _owner(tmp_path: Path, name: str) -> Path:
    (tmp_path / name).mkdir()
    return tmp_path / name


def _subnet(index: int) -> ipaddress.IPv4Network:
    return list(network.NODE_SUBNETS.subnets(new_prefix=24))[index]


def test_a_reserved_subnet_is_not_given_again_before_any_interface_has_it(host, tmp_path):
    first, second = _owner(tmp_path, "a"), _owner(tmp_path, "b")
    assert network.reserve_subnet(first) == 0
    assert network.reserve_subnet(second) == 1
    assert network.reserve_subnet(first) == 0  # the same owner asking again keeps its own


def test_subnets_on_interfaces_are_skipped(host, tmp_path):
    host["eth0"] = {_subnet(0), _subnet(2)}
    owners = [_owner(tmp_path, name) for name in "abc"]
    assert [network.reserve_subnet(owner) for owner in owners] == [1, 3, 4]


def test_a_reservation_whose_owner_is_gone_is_free_again(host, tmp_path):
    gone = _owner(tmp_path, "gone")
    assert network.reserve_subnet(gone) == 0
    gone.rmdir()  # a cluster whose state dir was removed without `delete`
    assert network.reserve_subnet(_owner(tmp_path, "new")) == 0


def test_release_frees_only_the_owners_own_reservation(host, tmp_path):
    first, second = _owner(tmp_path, "a"), _owner(tmp_path, "b")
    network.reserve_subnet(first)
    network.release_subnet(0, second)
    assert network.reserve_subnet(second) == 1
    network.release_subnet(0, first)
    assert network.reserve_subnet(_owner(tmp_path, "c")) == 0
    network.release_subnet(5, first)  # nothing reserved there: nothing to do


def test_claim_keeps_an_existing_clusters_subnet_or_says_who_took_it(host, tmp_path):
    first, second = _owner(tmp_path, "a"), _owner(tmp_path, "b")
    config = ClusterConfig("a", 0)
    network.claim_subnet(config, first)  # after a reboot: nothing reserved, nothing on an interface
    assert network.reserve_subnet(second) == 1
    host[config.host_veth] = {_subnet(0)}
    network.claim_subnet(config, first)  # its own interface is no conflict
    with pytest.raises(network.NetworkError, match=f"taken by {first}"):
        network.claim_subnet(config, second)
    with pytest.raises(network.NetworkError, match="used by another interface"):
        host["other"] = {_subnet(1)}
        network.claim_subnet(ClusterConfig("b", 1), second)


def _reserve_in_child(reservations: Path, owner: Path, queue) -> None:
    network.RESERVATIONS = reservations
    network._interface_subnets = lambda ignore=None: set()
    queue.put(network.reserve_subnet(owner))


def test_concurrent_processes_get_different_subnets(tmp_path):
    owners = [_owner(tmp_path, f"cluster{n}") for n in range(6)]
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    children = [context.Process(target=_reserve_in_child, args=(tmp_path / "subnets", owner, queue))
                for owner in owners]
    for child in children:
        child.start()
    for child in children:
        child.join(30)
    assert sorted(queue.get(timeout=5) for _ in owners) == list(range(6))
