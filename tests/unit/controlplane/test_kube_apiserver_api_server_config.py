"""spec.configuration.apiServer in the hosted kube-apiserver's flags: additionalCORSAllowedOrigins as
--cors-allowed-origins, tlsSecurityProfile as --tls-min-version and --tls-cipher-suites (issue 11)."""

from __future__ import annotations

from typing import Any

import pytest

from hcp.api.v1beta1.clusterconfig import CustomTLSProfile, TLSProfileType, TLSSecurityProfile
from hcp.api.v1beta1.tlsprofile import OPENSSL_TO_IANA, PROFILES, TLS13_CIPHERS
from hcp.controlplane.tls_flags import kubernetes_tls_args

from tests.unit.controlplane.test_audit import main_args, pod_of, rendered, with_spec

INTERMEDIATE_SUITES = (
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,"
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,"
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"
)


def with_api_server(ctx, **api_server: Any):
    return with_spec(ctx, configuration={"apiServer": api_server})


def api_server_flags(ctx) -> list[str]:
    return [arg for arg in main_args(rendered(ctx))
            if arg.startswith(("--cors-allowed-origins", "--tls-min-version", "--tls-cipher-suites"))]


@pytest.mark.parametrize("api_server", [
    None, {}, {"tlsSecurityProfile": {}}, {"additionalCORSAllowedOrigins": []},
    {"servingCerts": {}, "clientCA": {"name": ""}, "encryption": {}},
], ids=["no-configuration", "empty", "profile-without-type", "no-origins", "go-zero-values"])
def test_unset_renders_what_was_rendered_before(single_ctx, api_server):
    ctx = single_ctx if api_server is None else with_api_server(single_ctx, **api_server)
    assert api_server_flags(ctx) == []
    assert rendered(ctx) == rendered(single_ctx)


def test_cors_origins_are_passed_comma_joined(single_ctx):
    origins = [r"//console\.example\.com(:|$)", r"//127\.0\.0\.1(:|$)"]
    assert api_server_flags(with_api_server(single_ctx, additionalCORSAllowedOrigins=origins)) == [
        r"--cors-allowed-origins=//console\.example\.com(:|$),//127\.0\.0\.1(:|$)"]


@pytest.mark.parametrize(("profile", "flags"), [
    ({"type": "Intermediate", "intermediate": {}},
     ["--tls-min-version=VersionTLS12", f"--tls-cipher-suites={INTERMEDIATE_SUITES}"]),
    ({"type": "Modern", "modern": {}}, ["--tls-min-version=VersionTLS13"]),
    ({"type": "Old", "old": {}}, ["--tls-min-version=VersionTLS10", "--tls-cipher-suites=" + ",".join([
        INTERMEDIATE_SUITES,
        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
        "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
        "TLS_RSA_WITH_AES_128_GCM_SHA256,TLS_RSA_WITH_AES_256_GCM_SHA384,TLS_RSA_WITH_AES_128_CBC_SHA256",
        "TLS_RSA_WITH_AES_128_CBC_SHA,TLS_RSA_WITH_AES_256_CBC_SHA,TLS_RSA_WITH_3DES_EDE_CBC_SHA"])]),
    ({"type": "Custom", "custom": {"minTLSVersion": "VersionTLS11", "ciphers": [
        "ECDHE-RSA-AES128-GCM-SHA256", "DHE-RSA-AES128-GCM-SHA256", "TLS_AES_128_GCM_SHA256", "ECDHE-RSA-AES256-SHA"]}},
     ["--tls-min-version=VersionTLS11",
      "--tls-cipher-suites=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"]),
    ({"type": "Custom", "custom": {"minTLSVersion": "VersionTLS13", "ciphers": ["ECDHE-RSA-AES128-GCM-SHA256"]}},
     ["--tls-min-version=VersionTLS13"]),
    ({"type": "Custom", "custom": {"minTLSVersion": "VersionTLS12", "ciphers": ["TLS_AES_128_GCM_SHA256"]}},
     ["--tls-min-version=VersionTLS12"]),
    ({"type": "Custom", "custom": {"ciphers": ["ECDHE-RSA-AES128-GCM-SHA256"]}},
     ["--tls-cipher-suites=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"]),
    ({"type": "Custom"}, []),
], ids=["intermediate", "modern", "old", "custom", "custom-tls13-drops-suites", "custom-only-tls13-suites",
        "custom-without-version", "custom-unset"])
def test_a_tls_profile_becomes_the_api_servers_min_version_and_suites(single_ctx, profile, flags):
    assert api_server_flags(with_api_server(single_ctx, tlsSecurityProfile=profile)) == flags


def test_a_new_profile_or_origin_rolls_the_api_servers(single_ctx):
    before = pod_of(rendered(single_ctx))
    for ctx in (with_api_server(single_ctx, tlsSecurityProfile={"type": "Modern"}),
                with_api_server(single_ctx, additionalCORSAllowedOrigins=["//example"])):
        after = pod_of(rendered(ctx))
        assert after != before  # the pod template changes, so the Deployment rolls its pods


def test_only_ciphers_go_can_configure_are_mapped():
    assert not set(OPENSSL_TO_IANA) & set(TLS13_CIPHERS)
    for ciphers in (["DHE-RSA-AES256-GCM-SHA384", "AES256-SHA256", "ECDHE-RSA-AES256-SHA384"], list(TLS13_CIPHERS)):
        custom = TLSSecurityProfile(type=TLSProfileType.CUSTOM, custom=CustomTLSProfile(ciphers=ciphers))
        assert kubernetes_tls_args(custom) == []
    assert set(PROFILES) == {TLSProfileType.OLD, TLSProfileType.INTERMEDIATE, TLSProfileType.MODERN}
    custom = TLSSecurityProfile(type=TLSProfileType.CUSTOM, custom=CustomTLSProfile(ciphers=["AES128-SHA"]))
    assert kubernetes_tls_args(custom) == ["--tls-cipher-suites=TLS_RSA_WITH_AES_128_CBC_SHA"]
    assert kubernetes_tls_args(None) == []
