"""The integration tests' loopback ports: a block of their own per pytest-xdist worker, below the ephemeral range."""

import socket

from tests.integration import ports


def test_each_worker_takes_ports_from_its_own_block(monkeypatch):
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw2")
    port = ports.free_port()
    assert ports.BASE + 2 * ports.BLOCK <= port < ports.BASE + 3 * ports.BLOCK
    monkeypatch.delenv("PYTEST_XDIST_WORKER")
    assert ports.BASE <= ports.free_port() < ports.BASE + ports.BLOCK


def test_a_port_in_use_or_handed_out_before_is_not_handed_out(monkeypatch):
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw1")
    with socket.socket() as busy:
        busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        first = ports.free_port()
        busy.bind(("127.0.0.1", first + 1))
        busy.listen()
        second = ports.free_port()
        assert second not in (first, first + 1)
