"""`hcp version`: the three lines of the docs (6.3.2), or the client line and one error line."""

from __future__ import annotations

from hcp import __version__
from hcp.release import supported_versions_configmap
from tests.unit.cli.conftest import assert_golden


def test_client_and_server(hcp, api):
    api.add(supported_versions_configmap("0.0.9"))
    result = hcp("version")
    assert result.code == 0, result.err
    assert_golden("version.txt", result.out.replace(__version__, "CLIENT"))


def test_client_only(hcp):
    result = hcp("version", "--client-only")
    assert result.code == 0
    assert result.out.startswith(f"Client Version: hcp: {__version__}. Latest supported Kubernetes: ")
    assert len(result.out.splitlines()) == 1


def test_unreachable_server(hcp, monkeypatch, tmp_path):
    monkeypatch.delenv("KUBECONFIG")
    result = hcp("version")
    assert result.code == 1
    assert result.out.startswith("Client Version: ")
    assert result.err == (f"error: no kubeconfig at {tmp_path / 'state' / 'admin.kubeconfig'}; "
                          f"run `hcp management-cluster up` or pass --kubeconfig\n")


def test_server_without_the_operator(hcp, api):
    result = hcp("version")
    assert result.code == 1
    assert result.err == ("error: no ConfigMap hypershift/supported-versions on the management cluster; "
                          "install the operator with `hcp install`\n")
