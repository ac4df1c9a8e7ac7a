"""spec.configuration.apiServer.tlsSecurityProfile as kube-apiserver's --tls-min-version and --tls-cipher-suites.

OpenShift's profiles (config/v1 TLSProfiles, as in the openshift/api version HyperShift vendors) name their
ciphers as OpenSSL does; kube-apiserver takes Go's (IANA) names. The table below maps one to the other as
library-go's OpenSSLToIANACipherSuites does, and a cipher Go does not implement (DHE-*, AES256-SHA256, ...) is
dropped, as there. TLS 1.3 suites are left out too: Go negotiates all of them and lets none be configured, so a
Modern profile (TLS 1.3 only) sets the minimum version alone, as does any profile whose ciphers are all TLS 1.3
ones; with minimum version TLS 1.3 no suite is passed at all (none would apply).

Unset, hcp passes neither flag: the API server keeps its own defaults (Go's, TLS 1.2 and its secure suites,
close to Intermediate), and the render is what it was before the field was modelled. OpenShift's default,
Intermediate, differs from that only in leaving out the CBC suites Go still offers.
"""

from __future__ import annotations

from hcp.api.v1beta1.clusterconfig import TLSProfileType, TLSProtocolVersion, TLSSecurityProfile

TLS13_CIPHERS = ("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256")

OPENSSL_TO_IANA = {
    # TLS 1.2
    "ECDHE-ECDSA-AES128-GCM-SHA256": "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "ECDHE-RSA-AES128-GCM-SHA256": "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384": "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384": "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305": "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    "ECDHE-RSA-CHACHA20-POLY1305": "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    "ECDHE-ECDSA-AES128-SHA256": "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
    "ECDHE-RSA-AES128-SHA256": "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
    "AES128-GCM-SHA256": "TLS_RSA_WITH_AES_128_GCM_SHA256",
    "AES256-GCM-SHA384": "TLS_RSA_WITH_AES_256_GCM_SHA384",
    "AES128-SHA256": "TLS_RSA_WITH_AES_128_CBC_SHA256",
    # TLS 1.0
    "ECDHE-ECDSA-AES128-SHA": "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
    "ECDHE-RSA-AES128-SHA": "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
    "ECDHE-ECDSA-AES256-SHA": "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
    "ECDHE-RSA-AES256-SHA": "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
    # SSL 3
    "AES128-SHA": "TLS_RSA_WITH_AES_128_CBC_SHA",
    "AES256-SHA": "TLS_RSA_WITH_AES_256_CBC_SHA",
    "DES-CBC3-SHA": "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
    "ECDHE-RSA-DES-CBC3-SHA": "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA",
}
"""OpenSSL's cipher names to Go's, for the suites Go implements and lets be configured (TLS 1.2 and older)."""

_MODERN_TLS12 = (
    "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
)
PROFILES: dict[TLSProfileType, tuple[TLSProtocolVersion, tuple[str, ...]]] = {
    TLSProfileType.OLD: (TLSProtocolVersion.TLS10, (
        *TLS13_CIPHERS, *_MODERN_TLS12,
        "ECDHE-ECDSA-AES128-SHA256", "ECDHE-RSA-AES128-SHA256", "ECDHE-ECDSA-AES128-SHA", "ECDHE-RSA-AES128-SHA",
        "ECDHE-ECDSA-AES256-SHA384", "ECDHE-RSA-AES256-SHA384", "ECDHE-ECDSA-AES256-SHA", "ECDHE-RSA-AES256-SHA",
        "AES128-GCM-SHA256", "AES256-GCM-SHA384", "AES128-SHA256", "AES256-SHA256", "AES128-SHA", "AES256-SHA",
        "DES-CBC3-SHA",
    )),
    TLSProfileType.INTERMEDIATE: (TLSProtocolVersion.TLS12, (*TLS13_CIPHERS, *_MODERN_TLS12)),
    TLSProfileType.MODERN: (TLSProtocolVersion.TLS13, TLS13_CIPHERS),
}
"""OpenShift's predefined profiles: minimum version and ciphers in OpenSSL's names."""


def iana_cipher_suites(ciphers: list[str] | tuple[str, ...]) -> list[str]:
    """Go's names of the OpenSSL-named `ciphers` that can be configured, in their order; the rest dropped."""
    return [OPENSSL_TO_IANA[cipher] for cipher in ciphers if cipher in OPENSSL_TO_IANA]


def tls_args(profile: TLSSecurityProfile | None) -> list[str]:
    """The kube-apiserver flags of a TLS security profile: none when unset (or type unset, or Custom without
    custom), else --tls-min-version and, where any applies, --tls-cipher-suites."""
    if profile is None or profile.type is None:
        return []
    if profile.type == TLSProfileType.CUSTOM:
        custom = profile.custom
        version = custom.min_tls_version if custom is not None else None
        ciphers = tuple(custom.ciphers or ()) if custom is not None else ()
    else:
        version, ciphers = PROFILES[profile.type]
    args = [f"--tls-min-version={version.value}"] if version is not None else []
    suites = iana_cipher_suites(ciphers)
    if suites and version != TLSProtocolVersion.TLS13:
        args.append(f"--tls-cipher-suites={','.join(suites)}")
    return args
