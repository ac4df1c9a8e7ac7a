"""`hcp install --registry` on any management cluster, and uninstall: what is rendered, what the operator is told,
and when uninstall refuses. Nothing here names the embedded registry: the operator takes its registry from
install."""

from __future__ import annotations

import base64
import json
from types import SimpleNamespace

import httpx
import pytest
import yaml
from click.testing import CliRunner
from lightkube import ApiError

from hcp.cli.main import cli
from hcp.controlplane.controller import PULL_SECRET, pull_secret
from hcp.images.credentials import Credentials, docker_config_json
from hcp.operator import install, uninstall
from hcp.operator.main import control_plane_settings, parse_args, registry_credentials, registry_options
from hcp.release.versions import SUPPORTED_VERSIONS_NAME

PASSWORD = "very-secret-password"
AUTH = docker_config_json("reg.example:5443", Credentials("puller", PASSWORD))
CA = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def deployment(documents):
    """The operator's Deployment (an install with Prometheus has its Deployment too)."""
    [found] = [d for d in documents if d["kind"] == "Deployment" and d["metadata"]["name"] == install.DEPLOYMENT]
    return found


def test_the_operator_is_told_its_registry_its_ca_and_its_pull_secret():
    settings = install.RegistrySettings("reg.example:5443/team", ca_pem=CA, pull_secret=AUTH)
    documents = install.render("reg.example:5443/team/hcp/operator:1", settings)
    pod = deployment(documents)["spec"]["template"]["spec"]
    args = pod["containers"][0]["args"]
    assert args[args.index("--registry") + 1] == "reg.example:5443/team"
    assert args[args.index("--registry-url") + 1] == "https://reg.example:5443"
    assert args[args.index("--node-registry") + 1] == "reg.example:5443=https://reg.example:5443"
    assert args[args.index("--registry-auth") + 1] == f"{install.PULL_SECRET_MOUNT}/.dockerconfigjson"
    assert pod["imagePullSecrets"] == [{"name": install.PULL_SECRET}]
    [volume] = [v for v in pod["volumes"] if v["name"] == "registry-auth"]
    assert volume["secret"] == {"secretName": install.PULL_SECRET, "defaultMode": 0o440}
    kinds = {(d["kind"], d["metadata"]["name"]) for d in documents}
    assert {("ConfigMap", install.REGISTRY_CA_CONFIGMAP), ("Secret", install.PULL_SECRET),
            ("ConfigMap", SUPPORTED_VERSIONS_NAME)} <= kinds
    [secret] = [d for d in documents if d["kind"] == "Secret"]
    assert secret["type"] == "kubernetes.io/dockerconfigjson"


def test_a_public_registry_without_login_gets_no_secret_no_ca_and_no_node_mirror():
    documents = install.render("reg.example/hcp/operator:1", install.RegistrySettings("reg.example"))
    pod = deployment(documents)["spec"]["template"]["spec"]
    assert "imagePullSecrets" not in pod and "--node-registry" not in pod["containers"][0]["args"]
    assert not [d for d in documents if d["kind"] == "Secret"]


def test_the_embedded_registry_is_passed_explicitly(tmp_path):
    from hcp.management.layout import ClusterConfig, Layout
    layout = Layout(tmp_path / "state")
    layout.save_config(ClusterConfig("emb", 3))
    result = CliRunner().invoke(cli, ["install", "--render", "--state-dir", str(layout.state_dir)])
    assert result.exit_code == 0, result.output
    documents = list(yaml.load_all(result.stdout, Loader=yaml.CSafeLoader))
    args = deployment(documents)["spec"]["template"]["spec"]["containers"][0]["args"]
    config = layout.load_config()
    assert args[args.index("--registry") + 1] == config.registry
    assert args[args.index("--node-registry") + 1] == f"{config.registry}={config.registry_url}"


def test_hcp_install_render_with_registry_ca_and_pull_secret_never_prints_what_it_was_not_asked_to(tmp_path):
    (tmp_path / "ca.crt").write_bytes(CA)
    (tmp_path / "auth.json").write_bytes(AUTH)
    result = CliRunner().invoke(cli, ["install", "--render", "--registry", "reg.example:5443", "--ca",
                                      str(tmp_path / "ca.crt"), "--pull-secret", str(tmp_path / "auth.json"),
                                      "--state-dir", str(tmp_path / "none")])
    assert result.exit_code == 0, result.output
    documents = list(yaml.load_all(result.stdout, Loader=yaml.CSafeLoader))
    assert deployment(documents)["spec"]["template"]["spec"]["containers"][0]["image"].startswith(
        "reg.example:5443/hcp/operator:")
    assert PASSWORD not in result.stdout.replace(base64.b64encode(PASSWORD.encode()).decode(), "")


def test_install_without_a_registry_and_without_an_embedded_cluster_says_what_to_give(tmp_path):
    result = CliRunner().invoke(cli, ["install", "--render", "--state-dir", str(tmp_path / "none")])
    assert result.exit_code != 0 and "--registry" in str(result.exception)


def test_a_pull_secret_without_the_registrys_credentials_is_refused(tmp_path):
    (tmp_path / "auth.json").write_bytes(docker_config_json("other.example", Credentials("a", "b")))
    result = CliRunner().invoke(cli, ["install", "--render", "--registry", "reg.example:5443",
                                      "--pull-secret", str(tmp_path / "auth.json")])
    assert result.exit_code == 2 and "no credentials for reg.example:5443" in result.output


def test_the_operator_assumes_no_registry():
    with pytest.raises(SystemExit, match="--registry"):
        registry_options(parse_args([]))
    options = parse_args(["--registry", "reg.example:5443/team"])
    assert registry_options(options)[:2] == ("reg.example:5443/team", "https://reg.example:5443")
    with pytest.raises(SystemExit, match="TLS"):
        registry_options(parse_args(["--registry-url", "http://reg.example"]))


def test_the_operator_reads_its_pull_credentials_and_hands_them_to_control_planes(tmp_path):
    (tmp_path / "auth").write_bytes(AUTH)
    options = parse_args(["--registry", "reg.example:5443", "--registry-auth", str(tmp_path / "auth")])
    assert registry_credentials(options, "reg.example:5443", "https://reg.example:5443") == \
        Credentials("puller", PASSWORD)
    settings = control_plane_settings(options)
    assert settings.pull_secret == AUTH and PASSWORD not in repr(settings)
    secret = pull_secret("clusters-a", settings.pull_secret)
    assert secret["metadata"]["name"] == PULL_SECRET and secret["type"] == "kubernetes.io/dockerconfigjson"
    assert json.loads(base64.b64decode(secret["data"][".dockerconfigjson"])) == json.loads(AUTH)




def _api_error(code: int) -> ApiError:
    request = httpx.Request("GET", "https://api.test/x")
    response = httpx.Response(code, request=request, json={"kind": "Status", "apiVersion": "v1", "code": code,
                                                          "status": "Failure", "message": "x"})
    return ApiError(request=request, response=response)


class FakeCluster:
    """HostedClusters (by namespace/name) that the 'operator' removes a pass after they are deleted."""

    def __init__(self, clusters=(), crds=True):
        self.clusters = set(clusters)
        self.deleting: set[str] = set()
        self.crds = crds
        self.deleted: list[str] = []

    def list(self, resource, namespace=None):
        if not self.crds:
            raise _api_error(404)
        if resource.__name__ != "HostedCluster":
            return []
        self.clusters -= self.deleting  # the operator finished what was deleted before
        return [SimpleNamespace(metadata=SimpleNamespace(namespace=n.split("/")[0], name=n.split("/")[1]))
                for n in self.clusters]

    def delete(self, resource, name, namespace=None):
        if resource.__name__ == "HostedCluster":
            self.deleting.add(f"{namespace}/{name}")
        self.deleted.append(f"{resource.__name__}/{name}")

    def get(self, resource, name, namespace=None):
        raise _api_error(404)


DOCUMENTS = install.render("unused", install.RegistrySettings("unused", ca_pem=b"x", pull_secret=b"{}"))


def test_uninstall_refuses_while_hosted_clusters_exist_naming_how_many_and_where():
    cluster = FakeCluster({"clusters/a", "team/b"})
    with pytest.raises(install.InstallError) as error:
        uninstall.uninstall(cluster, DOCUMENTS, lambda _: None)
    assert str(error.value).startswith("2 HostedClusters exist (clusters/a, team/b); ")
    assert "--force" in str(error.value) and "\n" not in str(error.value)
    assert cluster.deleted == []


def test_forced_uninstall_removes_hosted_clusters_before_the_operator_and_crds_last(monkeypatch):
    monkeypatch.setattr(uninstall, "POLL", 0)
    cluster, lines = FakeCluster({"clusters/a"}), []
    uninstall.uninstall(cluster, DOCUMENTS, lines.append, force=True)
    assert cluster.deleted[0] == "HostedCluster/a"
    operator = cluster.deleted.index("Deployment/operator")
    policy = cluster.deleted.index(f"ValidatingAdmissionPolicy/{install.POLICY}")
    role = next(i for i, d in enumerate(cluster.deleted) if d.startswith("ClusterRoleBinding/"))
    assert operator < role < policy < cluster.deleted.index("Namespace/hypershift")
    assert all(d.startswith("CustomResourceDefinition/") for d in cluster.deleted[-4:])
    assert lines[0] == "deleting HostedCluster clusters/a" and lines[-1] == "hcp is uninstalled"


def test_uninstall_of_nothing_installed_is_quiet_and_succeeds(monkeypatch):
    monkeypatch.setattr(uninstall, "POLL", 0)
    uninstall.uninstall(FakeCluster(crds=False), DOCUMENTS, lambda _: None)
