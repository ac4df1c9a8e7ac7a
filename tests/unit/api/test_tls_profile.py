"""What of spec.configuration.apiServer.tlsSecurityProfile a control-plane TLS server cannot take is reported in
SupportedConfiguration, never dropped in silence (issue 11); and the facts the mapping rests on, checked against
Go's crypto/tls and this machine's OpenSSL where they are here."""

from __future__ import annotations

import copy
import re
import shutil
import ssl
import subprocess
from pathlib import Path

import pytest

from hcp.api.v1beta1.clusterconfig import TLSProfileType, TLSProtocolVersion, TLSSecurityProfile
from hcp.api.v1beta1.clusteroptions import unhonoured_fields
from hcp.api.v1beta1.hostedcluster import HostedCluster
from hcp.api.v1beta1.tlsprofile import (
    ETCD, GO_INSECURE_CIPHERS, IGNITION, KONNECTIVITY, KUBERNETES, OPENSSL_3DES, OPENSSL_TO_IANA, PROFILES, SERVERS,
    TLS13_CIPHERS, served, unhonoured,
)

from tests.hypershift_manifests import HOSTED_CLUSTER

PATH = "spec.configuration.apiServer.tlsSecurityProfile"


def profile(type_: str, min_version: str | None = None, ciphers: list[str] | None = None) -> TLSSecurityProfile:
    if type_ != "Custom":
        return TLSSecurityProfile.model_validate({"type": type_})
    custom = {"ciphers": ciphers, **({"minTLSVersion": min_version} if min_version else {})}
    return TLSSecurityProfile.model_validate({"type": type_, "custom": custom})


@pytest.mark.parametrize("asked", [
    None, TLSSecurityProfile(), TLSSecurityProfile(type=TLSProfileType.CUSTOM),
    profile("Intermediate"), profile("Modern"),
    profile("Custom", "VersionTLS12", ["ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384"]),
    profile("Custom", "VersionTLS13", ["ECDHE-RSA-AES128-GCM-SHA256", "DHE-RSA-AES128-GCM-SHA256"]),
    profile("Custom", "VersionTLS12", list(TLS13_CIPHERS)),
    profile("Custom", None, ["ECDHE-RSA-AES128-SHA"]),
], ids=["unset", "type-unset", "custom-unset", "intermediate", "modern", "custom-secure", "custom-tls13",
        "custom-tls13-suites-only", "custom-without-version"])
def test_profiles_every_server_takes_are_not_reported(asked):
    assert unhonoured(asked) == []


def test_old_is_reported_where_it_cannot_be_had():
    assert unhonoured(profile("Old")) == [
        "ciphers ECDHE-ECDSA-AES256-SHA384 ECDHE-RSA-AES256-SHA384 AES256-SHA256 "
        "(Go has no such suites: no server offers them)",
        "minTLSVersion VersionTLS10 on etcd (its --tls-min-version takes TLS1.2 or TLS1.3: TLS 1.2 and up)",
        "minTLSVersion VersionTLS10 on konnectivity-server (it has no minimum-version flag: TLS 1.2 and up)",
        "ciphers ECDHE-ECDSA-AES128-SHA256 ECDHE-RSA-AES128-SHA256 AES128-GCM-SHA256 AES256-GCM-SHA384 "
        "AES128-SHA256 AES128-SHA AES256-SHA DES-CBC3-SHA on konnectivity-server "
        "(its --cipher-suites refuses Go's insecure suites)",
        "minTLSVersion VersionTLS10 on ignition-server "
        "(OpenSSL's default security level allows no TLS 1.0 or 1.1: TLS 1.2 and up)",
        "ciphers DES-CBC3-SHA on ignition-server (OpenSSL's default security level has no 3DES)",
    ]


def test_a_custom_profile_is_reported_item_by_item():
    asked = profile("Custom", "VersionTLS11", [
        "ECDHE-RSA-AES128-GCM-SHA256", "DHE-RSA-AES128-GCM-SHA256", "TLS_AES_128_GCM_SHA256", "AES128-SHA"])
    assert unhonoured(asked) == [
        "ciphers DHE-RSA-AES128-GCM-SHA256 (Go has no such suites: no server offers them)",
        "a choice among the TLS 1.3 ciphers (none can be made: every server offers all three)",
        "minTLSVersion VersionTLS11 on etcd (its --tls-min-version takes TLS1.2 or TLS1.3: TLS 1.2 and up)",
        "minTLSVersion VersionTLS11 on konnectivity-server (it has no minimum-version flag: TLS 1.2 and up)",
        "ciphers AES128-SHA on konnectivity-server (its --cipher-suites refuses Go's insecure suites)",
        "minTLSVersion VersionTLS11 on ignition-server "
        "(OpenSSL's default security level allows no TLS 1.0 or 1.1: TLS 1.2 and up)",
    ]


def test_a_server_that_can_offer_none_of_the_listed_tls12_suites_serves_tls13_only_and_says_so():
    asked = profile("Custom", "VersionTLS12", ["AES128-SHA", "DES-CBC3-SHA"])
    konnectivity = served(asked, KONNECTIVITY)
    assert (konnectivity.min_version, konnectivity.suites) == (None, list(TLS13_CIPHERS))
    assert konnectivity.unhonoured == (
        "ciphers AES128-SHA DES-CBC3-SHA on konnectivity-server (its --cipher-suites refuses Go's insecure suites)",)
    ignition = served(profile("Custom", "VersionTLS12", ["DES-CBC3-SHA"]), IGNITION)
    assert (ignition.min_version, ignition.ciphers) == (TLSProtocolVersion.TLS13, ())
    etcd = served(asked, ETCD)
    assert (etcd.min_version, etcd.suites, etcd.unhonoured) == (
        TLSProtocolVersion.TLS12, ["TLS_RSA_WITH_AES_128_CBC_SHA", "TLS_RSA_WITH_3DES_EDE_CBC_SHA"], ())


@pytest.mark.parametrize("type_", ["Old", "Intermediate", "Modern"])
def test_kubernetes_servers_take_every_profile_whole(type_):
    version, ciphers = PROFILES[TLSProfileType(type_)]
    given = served(profile(type_), KUBERNETES)
    assert given.min_version == version and given.unhonoured == ()
    tls12 = [OPENSSL_TO_IANA[cipher] for cipher in ciphers if cipher in OPENSSL_TO_IANA]
    assert given.suites == ([] if version == TLSProtocolVersion.TLS13 else tls12)


def hosted_cluster(api_server: dict, **spec) -> HostedCluster:
    manifest = copy.deepcopy(HOSTED_CLUSTER)
    manifest["spec"].update(configuration={"apiServer": api_server}, **spec)
    return HostedCluster.model_validate(manifest)


def test_supported_configuration_names_what_the_servers_of_the_cluster_cannot_take():
    hc = hosted_cluster({"tlsSecurityProfile": {"type": "Old", "old": {}}})
    assert unhonoured_fields(hc.spec) == [f"{PATH} {what}" for what in unhonoured(profile("Old"))]


def test_only_the_servers_a_cluster_runs_are_named():
    unmanaged = {"managementType": "Unmanaged", "unmanaged": {
        "endpoint": "https://etcd.example.com:2379", "tls": {"clientSecret": {"name": "etcd-client"}}}}
    hc = hosted_cluster({"tlsSecurityProfile": {"type": "Custom", "custom": {"minTLSVersion": "VersionTLS10"}}},
                        platform={"type": "KWOK"}, etcd=unmanaged)
    assert unhonoured_fields(hc.spec) == [
        f"{PATH} minTLSVersion VersionTLS10 on konnectivity-server (it has no minimum-version flag: TLS 1.2 and up)"]


def test_intermediate_is_honoured_everywhere():
    assert unhonoured_fields(hosted_cluster({"tlsSecurityProfile": {"type": "Intermediate"}}).spec) == []


def test_every_server_is_in_the_report():
    assert SERVERS == (KUBERNETES, ETCD, KONNECTIVITY, IGNITION)


def _go_cipher_suites_source() -> str:
    go = shutil.which("go") or ("/usr/local/go/bin/go" if Path("/usr/local/go/bin/go").exists() else None)
    if go is None:
        pytest.skip("no Go toolchain on this machine")
    goroot = subprocess.run([go, "env", "GOROOT"], capture_output=True, text=True, timeout=60).stdout.strip()
    source = Path(goroot) / "src" / "crypto" / "tls" / "cipher_suites.go"
    if not source.is_file():
        pytest.skip(f"{source} is not here")
    return source.read_text()


def test_the_insecure_suites_are_those_of_go_crypto_tls():
    """konnectivity-server takes the names of crypto/tls CipherSuites() only; InsecureCipherSuites() it refuses."""
    source = _go_cipher_suites_source()
    insecure = re.search(r"func InsecureCipherSuites\(\)[^{]*\{(.*?)\n}", source, re.S).group(1)
    secure = re.search(r"func CipherSuites\(\)[^{]*\{(.*?)\n}", source, re.S).group(1)
    insecure_names = set(re.findall(r'"(TLS_\w+)"', insecure))
    secure_names = set(re.findall(r'"(TLS_\w+)"', secure))
    for cipher, suite in OPENSSL_TO_IANA.items():
        assert (suite in insecure_names) == (cipher in GO_INSECURE_CIPHERS), cipher
        assert (suite in secure_names) == (cipher not in GO_INSECURE_CIPHERS), cipher
    assert set(TLS13_CIPHERS) <= secure_names  # konnectivity-server takes them (TLS 1.3 only)


def test_openssl_offers_every_mapped_cipher_but_3des():
    """The ignition server's OpenSSL (the operator image's Python is Debian's, as this one is)."""
    for cipher in OPENSSL_TO_IANA:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        if cipher in OPENSSL_3DES:
            with pytest.raises(ssl.SSLError):
                context.set_ciphers(cipher)
        else:
            context.set_ciphers(cipher)
            assert cipher in [each["name"] for each in context.get_ciphers()]
