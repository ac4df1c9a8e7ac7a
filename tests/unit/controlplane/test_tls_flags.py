"""spec.configuration.apiServer.tlsSecurityProfile on every control-plane TLS server (issue 11): each one's flags
under each profile type, nothing at all when unset, and the flag names against the built binaries."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

from hcp.controlplane.components import COMPONENTS
from hcp.controlplane.render import render_component
from hcp.ignition.server import parse_arguments, server_context
from hcp.pki import issue, new_ca
from hcp.upstream import binaries

from tests.unit.controlplane.test_audit import with_spec
from tests.unit.controlplane.test_kube_apiserver_api_server_config import INTERMEDIATE_SUITES as INTERMEDIATE_GO

INTERMEDIATE_OPENSSL = (
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
)
OLD_SECURE_GO = INTERMEDIATE_GO + (
    ",TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"
    ",TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"
)
OLD_GO = ",".join([
    INTERMEDIATE_GO,
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
    "TLS_RSA_WITH_AES_128_GCM_SHA256,TLS_RSA_WITH_AES_256_GCM_SHA384,TLS_RSA_WITH_AES_128_CBC_SHA256",
    "TLS_RSA_WITH_AES_128_CBC_SHA,TLS_RSA_WITH_AES_256_CBC_SHA,TLS_RSA_WITH_3DES_EDE_CBC_SHA"])
OLD_OPENSSL_WITHOUT_3DES = ":".join([
    INTERMEDIATE_OPENSSL, "ECDHE-ECDSA-AES128-SHA256:ECDHE-RSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA",
    "ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:ECDHE-RSA-AES256-SHA:AES128-GCM-SHA256:AES256-GCM-SHA384",
    "AES128-SHA256:AES128-SHA:AES256-SHA"])
TLS13_SUITES = "TLS_AES_128_GCM_SHA256,TLS_AES_256_GCM_SHA384,TLS_CHACHA20_POLY1305_SHA256"
RSA_KEX_ONLY = {"type": "Custom", "custom": {"minTLSVersion": "VersionTLS12", "ciphers": ["AES128-SHA"]}}
THREE_DES_ONLY = {"type": "Custom", "custom": {"minTLSVersion": "VersionTLS12", "ciphers": ["DES-CBC3-SHA"]}}

SERVERS = {
    # server: (component, object, container, the field holding its flags)
    "kube-apiserver": ("kube-apiserver", "Deployment/kube-apiserver", "kube-apiserver", "args"),
    "konnectivity-server": ("kube-apiserver", "Deployment/kube-apiserver", "konnectivity-server", "args"),
    "kube-controller-manager": ("kube-controller-manager", "Deployment/kube-controller-manager",
                                "kube-controller-manager", "args"),
    "kube-scheduler": ("kube-scheduler", "Deployment/kube-scheduler", "kube-scheduler", "args"),
    "etcd": ("etcd", "StatefulSet/etcd", "etcd", "args"),
    "ignition-server": ("ignition-server", "Deployment/ignition-server", "ignition-server", "command"),
}
TLS_FLAGS = ("--tls-min-version", "--tls-cipher-suites", "--cipher-suites", "--tls-ciphers")


def component_objects(ctx, name: str) -> dict[str, dict[str, Any]]:
    component = next(each for each in COMPONENTS if each.name == name)
    return {f"{obj['kind']}/{obj['metadata']['name']}": obj for obj in render_component(ctx, component)}


def server_container(ctx, server: str) -> dict[str, Any]:
    component, key, name, _ = SERVERS[server]
    pod = component_objects(ctx, component)[key]["spec"]["template"]
    return next(each for each in pod["spec"]["containers"] if each["name"] == name)


def tls_flags(ctx, server: str) -> list[str]:
    field = SERVERS[server][3]
    return [flag for flag in server_container(ctx, server)[field] if flag.startswith(TLS_FLAGS)]


def with_profile(ctx, profile: dict[str, Any] | None):
    """`ctx` with spec.configuration.apiServer.tlsSecurityProfile `profile` (None: an apiServer without one)."""
    configuration = ctx.hcp.model_dump(by_alias=True, exclude_none=True)["spec"].get("configuration", {})
    api_server = {**configuration.get("apiServer", {}), "tlsSecurityProfile": profile}
    if profile is None:
        del api_server["tlsSecurityProfile"]
    return with_spec(ctx, configuration={**configuration, "apiServer": api_server})


PROFILES = {
    "intermediate": {"type": "Intermediate", "intermediate": {}},
    "modern": {"type": "Modern", "modern": {}},
    "old": {"type": "Old", "old": {}},
    "custom-tls11": {"type": "Custom", "custom": {"minTLSVersion": "VersionTLS11", "ciphers": [
        "ECDHE-RSA-AES128-GCM-SHA256", "DHE-RSA-AES128-GCM-SHA256", "TLS_AES_128_GCM_SHA256", "AES128-SHA"]}},
    "custom-tls13": {"type": "Custom", "custom": {"minTLSVersion": "VersionTLS13",
                                                  "ciphers": ["ECDHE-RSA-AES128-GCM-SHA256"]}},
    "custom-without-version": {"type": "Custom", "custom": {"ciphers": ["ECDHE-ECDSA-AES256-GCM-SHA384"]}},
    "custom-rsa-kex-only": RSA_KEX_ONLY,
    "custom-3des-only": THREE_DES_ONLY,
}
EXPECTED: dict[str, dict[str, list[str]]] = {
    "intermediate": {
        "kubernetes": ["--tls-min-version=VersionTLS12", f"--tls-cipher-suites={INTERMEDIATE_GO}"],
        "etcd": ["--tls-min-version=TLS1.2", f"--cipher-suites={INTERMEDIATE_GO}"],
        "konnectivity-server": [f"--cipher-suites={INTERMEDIATE_GO}"],
        "ignition-server": ["--tls-min-version=VersionTLS12", f"--tls-ciphers={INTERMEDIATE_OPENSSL}"],
    },
    "modern": {
        "kubernetes": ["--tls-min-version=VersionTLS13"],
        "etcd": ["--tls-min-version=TLS1.3"],  # etcd refuses --cipher-suites beside TLS1.3
        "konnectivity-server": [f"--cipher-suites={TLS13_SUITES}"],  # no TLS 1.2 suite: TLS 1.3 only
        "ignition-server": ["--tls-min-version=VersionTLS13"],
    },
    "old": {
        "kubernetes": ["--tls-min-version=VersionTLS10", f"--tls-cipher-suites={OLD_GO}"],
        "etcd": [f"--cipher-suites={OLD_GO}"],  # TLS 1.2 at least (reported)
        "konnectivity-server": [f"--cipher-suites={OLD_SECURE_GO}"],  # no insecure suite (reported)
        "ignition-server": [f"--tls-ciphers={OLD_OPENSSL_WITHOUT_3DES}"],  # no TLS 1.0, no 3DES (reported)
    },
    "custom-tls11": {
        "kubernetes": ["--tls-min-version=VersionTLS11",
                       "--tls-cipher-suites=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_RSA_WITH_AES_128_CBC_SHA"],
        "etcd": ["--cipher-suites=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_RSA_WITH_AES_128_CBC_SHA"],
        "konnectivity-server": ["--cipher-suites=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"],
        "ignition-server": ["--tls-ciphers=ECDHE-RSA-AES128-GCM-SHA256:AES128-SHA"],
    },
    "custom-tls13": {
        "kubernetes": ["--tls-min-version=VersionTLS13"],
        "etcd": ["--tls-min-version=TLS1.3"],
        "konnectivity-server": [f"--cipher-suites={TLS13_SUITES}"],
        "ignition-server": ["--tls-min-version=VersionTLS13"],
    },
    "custom-without-version": {
        "kubernetes": ["--tls-cipher-suites=TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"],
        "etcd": ["--cipher-suites=TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"],
        "konnectivity-server": ["--cipher-suites=TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"],
        "ignition-server": ["--tls-ciphers=ECDHE-ECDSA-AES256-GCM-SHA384"],
    },
    # Suites konnectivity-server refuses, or OpenSSL lacks, and nothing else: TLS 1.3 only there, rather than
    # the server's own TLS 1.2 suites, which the profile does not list.
    "custom-rsa-kex-only": {
        "kubernetes": ["--tls-min-version=VersionTLS12", "--tls-cipher-suites=TLS_RSA_WITH_AES_128_CBC_SHA"],
        "etcd": ["--tls-min-version=TLS1.2", "--cipher-suites=TLS_RSA_WITH_AES_128_CBC_SHA"],
        "konnectivity-server": [f"--cipher-suites={TLS13_SUITES}"],
        "ignition-server": ["--tls-min-version=VersionTLS12", "--tls-ciphers=AES128-SHA"],
    },
    "custom-3des-only": {
        "kubernetes": ["--tls-min-version=VersionTLS12", "--tls-cipher-suites=TLS_RSA_WITH_3DES_EDE_CBC_SHA"],
        "etcd": ["--tls-min-version=TLS1.2", "--cipher-suites=TLS_RSA_WITH_3DES_EDE_CBC_SHA"],
        "konnectivity-server": [f"--cipher-suites={TLS13_SUITES}"],
        "ignition-server": ["--tls-min-version=VersionTLS13"],
    },
}
KUBERNETES_SERVERS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler")


@pytest.mark.parametrize("server", SERVERS)
@pytest.mark.parametrize("profile", PROFILES)
def test_each_server_takes_the_profile_as_its_flags_allow(ha_ctx, profile, server):
    expected = EXPECTED[profile]["kubernetes" if server in KUBERNETES_SERVERS else server]
    assert tls_flags(with_profile(ha_ctx, PROFILES[profile]), server) == expected


@pytest.mark.parametrize("server", SERVERS)
def test_unset_every_server_renders_as_before(ha_ctx, server):
    assert tls_flags(ha_ctx, server) == []
    for unset in (None, {}, {"type": "Custom"}):
        assert server_container(with_profile(ha_ctx, unset), server) == server_container(ha_ctx, server)


@pytest.mark.parametrize("component", [each.name for each in COMPONENTS])
def test_unset_renders_every_component_exactly_as_before(ha_ctx, single_ctx, component):
    for ctx in (ha_ctx, single_ctx):
        for unset in (None, {}, {"type": "Custom"}):
            assert component_objects(with_profile(ctx, unset), component) == component_objects(ctx, component)


@pytest.mark.parametrize("server", SERVERS)
def test_a_new_profile_rolls_the_server(ha_ctx, server):
    component, key, _, _ = SERVERS[server]
    before = component_objects(ha_ctx, component)[key]["spec"]["template"]
    after = component_objects(with_profile(ha_ctx, PROFILES["modern"]), component)[key]["spec"]["template"]
    assert after != before


def _help(toolset: str, command: str) -> str:
    directory = binaries.cached(toolset)
    if directory is None or not (directory / command).is_file():
        pytest.skip(f"{command} of {toolset} is not built on this machine")
    result = subprocess.run([str(directory / command), "--help"], capture_output=True, text=True, timeout=60)
    return result.stdout + result.stderr


@pytest.mark.parametrize(("toolset", "command", "present", "absent"), [
    ("etcd", "etcd", ["--cipher-suites", "--tls-min-version"], []),
    ("konnectivity", "proxy-server", ["--cipher-suites"], ["--tls-min-version", "min-version", "--tls-cipher-suites"]),
    ("kubernetes", "kube-apiserver", ["--tls-min-version", "--tls-cipher-suites"], []),
    ("kubernetes", "kube-controller-manager", ["--tls-min-version", "--tls-cipher-suites"], []),
    ("kubernetes", "kube-scheduler", ["--tls-min-version", "--tls-cipher-suites"], []),
], ids=["etcd", "konnectivity-server", "kube-apiserver", "kube-controller-manager", "kube-scheduler"])
def test_the_flags_are_the_binaries_own(toolset, command, present, absent):
    """Against `<command> --help` of the release's build, where it is built (skipped elsewhere)."""
    text = _help(toolset, command)
    for flag in present:
        assert f"{flag} " in text, f"{command} has no {flag}"
    for flag in absent:
        assert flag not in text, f"{command} has {flag}: hcp.api.v1beta1.tlsprofile should use it"


def test_etcd_takes_only_tls12_and_tls13_as_its_minimum():
    text = _help("etcd", "etcd")
    assert "Possible values: TLS1.2, TLS1.3." in text


@pytest.mark.parametrize("profile", PROFILES)
def test_the_ignition_servers_flags_are_its_own_and_give_a_working_context(ha_ctx, tmp_path, profile):
    command = server_container(with_profile(ha_ctx, PROFILES[profile]), "ignition-server")["command"]
    arguments = command[command.index("hcp.ignition.server") + 1:]
    options = parse_arguments(arguments)
    leaf = issue(new_ca("root-ca"), "ignition-server", ip_addresses=("127.0.0.1",), server=True)
    (tmp_path / "tls.crt").write_bytes(leaf.cert_pem)
    (tmp_path / "tls.key").write_bytes(leaf.key_pem)
    server_context(tmp_path / "tls.crt", tmp_path / "tls.key", options.tls_min_version, options.tls_ciphers)
