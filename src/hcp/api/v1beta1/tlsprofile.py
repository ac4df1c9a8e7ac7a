"""What spec.configuration.apiServer.tlsSecurityProfile asks of the control plane's TLS servers, and what each can take.

This is the one mapping. The components' flags (hcp.controlplane.tls_flags) and the SupportedConfiguration
report (hcp.api.v1beta1.clusteroptions.unhonoured_fields) both read it, which is why it sits in the API
package, below both.

OpenShift's profiles (config/v1 TLSProfiles, as in the openshift/api version HyperShift vendors) name their
ciphers as OpenSSL does; Go's servers take Go's (IANA) names. OPENSSL_TO_IANA maps one to the other as
library-go's OpenSSLToIANACipherSuites does, and a cipher Go does not implement (DHE-*, AES256-SHA256, ...) is
dropped, as there. TLS 1.3 suites are not configured: Go negotiates all three and lets none be chosen (nor
does Python's ssl), so a minimum of TLS 1.3 comes without a suite list wherever a minimum can be set.

HyperShift applies the profile to every control-plane component that serves TLS; hcp does too, within what
each one's flags allow (SERVERS, checked against the binaries' --help where they are built):

- kube-apiserver, kube-controller-manager, kube-scheduler (KUBERNETES): --tls-min-version (TLS 1.0 to 1.3)
  and --tls-cipher-suites (every suite Go implements): the whole profile.
- etcd 3.6 (ETCD): --tls-min-version takes TLS1.2 or TLS1.3 only, and etcd refuses --cipher-suites beside
  TLS1.3 (server/embed/config.go). A lower minimum leaves etcd at TLS 1.2.
- konnectivity-server v0.34.0 (KONNECTIVITY): --cipher-suites only, which refuses Go's insecure suites (those
  of crypto/tls InsecureCipherSuites: RSA key exchange, 3DES, CBC with SHA-256), and a minimum fixed at TLS
  1.2 (cmd/server/app: no flag for it). A TLS 1.3 minimum is honoured all the same: given TLS 1.3 suites
  alone, Go has no suite for a TLS 1.2 handshake and refuses every one (checked with Go 1.26's crypto/tls),
  which is also what HyperShift passes it for Modern (library-go's mapping keeps the TLS 1.3 names).
- ignition-server (IGNITION: hcp's own, Python's ssl on Debian's OpenSSL 3.0): a minimum of TLS 1.2 or 1.3 and
  the suites in OpenSSL's names; OpenSSL's default security level allows neither TLS 1.0 and 1.1 nor 3DES.

What a server cannot take is reported (`unhonoured`), never dropped in silence. A server that can offer none
of the TLS 1.2 suites a profile lists serves TLS 1.3 only, rather than suites the profile does not list.

Unset (or type unset, or Custom without custom), nothing is passed to any server: each keeps its own
defaults (Go's: TLS 1.2 and its secure suites, close to Intermediate), and the render is what it was before
the field was modelled. OpenShift's default, Intermediate, differs from that only in leaving out the CBC
suites Go still offers.

The clients of these servers all negotiate TLS 1.3: Go's crypto/tls does by default (kube-apiserver to
etcd, etcd's peers, konnectivity agents, Prometheus, the kubelet's probes, etcdctl, kubelets and kubectl),
and so does OpenSSL 3 (the operator's checks, curl on joining machines). TLS 1.3 does not look at the TLS
1.2 suite list, so a Custom list without any suite a client offers for TLS 1.2 still connects.
"""

from __future__ import annotations

from dataclasses import dataclass

from hcp.api.v1beta1.clusterconfig import TLSProfileType, TLSProtocolVersion, TLSSecurityProfile

TLS13_CIPHERS = ("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256")
"""The TLS 1.3 suites, which OpenSSL and Go name alike."""

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

GO_INSECURE_CIPHERS = frozenset({
    "AES128-GCM-SHA256", "AES256-GCM-SHA384", "AES128-SHA256", "AES128-SHA", "AES256-SHA", "DES-CBC3-SHA",
    "ECDHE-RSA-DES-CBC3-SHA", "ECDHE-ECDSA-AES128-SHA256", "ECDHE-RSA-AES128-SHA256",
})
"""The ciphers of OPENSSL_TO_IANA whose Go suite is in crypto/tls InsecureCipherSuites (Go 1.26: RSA key
exchange, 3DES, CBC with SHA-256); the rest are in CipherSuites."""

OPENSSL_3DES = frozenset({"DES-CBC3-SHA", "ECDHE-RSA-DES-CBC3-SHA"})
"""The ciphers of OPENSSL_TO_IANA that OpenSSL 3.0 does not offer at its default security level."""

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

TLS12_AND_UP = frozenset({TLSProtocolVersion.TLS12, TLSProtocolVersion.TLS13})


@dataclass(frozen=True)
class TLSServer:
    """A control-plane TLS server, and what of a profile its flags can take."""

    name: str
    min_versions: frozenset[TLSProtocolVersion]
    """The minimum versions it can be given. Asked for a lower one, it keeps TLS 1.2 (`floor`). Without TLS
    1.3 here, TLS 1.3 only is had by giving it TLS 1.3 suites alone (its suite flag must take their names)."""
    floor: str = ""
    """Why it cannot go below TLS 1.2, for the report."""
    refused: frozenset[str] = frozenset()
    """Ciphers of OPENSSL_TO_IANA it cannot offer."""
    refusal: str = ""
    """Why, for the report."""


KUBERNETES = TLSServer("kube-apiserver, kube-controller-manager and kube-scheduler", frozenset(TLSProtocolVersion))
ETCD = TLSServer("etcd", TLS12_AND_UP, floor="its --tls-min-version takes TLS1.2 or TLS1.3: TLS 1.2 and up")
KONNECTIVITY = TLSServer(
    "konnectivity-server", frozenset(), floor="it has no minimum-version flag: TLS 1.2 and up",
    refused=GO_INSECURE_CIPHERS, refusal="its --cipher-suites refuses Go's insecure suites")
IGNITION = TLSServer(
    "ignition-server", TLS12_AND_UP,
    floor="OpenSSL's default security level allows no TLS 1.0 or 1.1: TLS 1.2 and up",
    refused=OPENSSL_3DES, refusal="OpenSSL's default security level has no 3DES")
SERVERS = (KUBERNETES, ETCD, KONNECTIVITY, IGNITION)


@dataclass(frozen=True)
class Served:
    """What a server is given of a profile, and what of the profile it cannot take."""

    min_version: TLSProtocolVersion | None = None
    """The minimum version to pass; None: none (the server's own, TLS 1.2)."""
    ciphers: tuple[str, ...] = ()
    """The suites to pass, in OpenSSL's names; (): none (the server's own)."""
    unhonoured: tuple[str, ...] = ()
    """What of the profile the server cannot take, as the SupportedConfiguration condition says it."""

    @property
    def suites(self) -> list[str]:
        """`ciphers` in Go's names (a TLS 1.3 suite has the same name in both)."""
        return [OPENSSL_TO_IANA.get(cipher, cipher) for cipher in self.ciphers]


def asked(profile: TLSSecurityProfile | None) -> tuple[TLSProtocolVersion | None, tuple[str, ...]] | None:
    """The minimum version and the ciphers (OpenSSL's names) of a profile; None when unset (or type unset)."""
    if profile is None or profile.type is None:
        return None
    if profile.type != TLSProfileType.CUSTOM:
        return PROFILES[profile.type]
    custom = profile.custom
    if custom is None:
        return None, ()
    return custom.min_tls_version, tuple(custom.ciphers or ())


def _tls13_only(server: TLSServer, unhonoured: list[str]) -> Served:
    if TLSProtocolVersion.TLS13 in server.min_versions:
        return Served(TLSProtocolVersion.TLS13, (), tuple(unhonoured))
    return Served(None, TLS13_CIPHERS, tuple(unhonoured))


def served(profile: TLSSecurityProfile | None, server: TLSServer) -> Served:
    """What `server` is given of `profile`: nothing when unset; a TLS 1.3 minimum alone; or the minimum it can
    take and the asked suites it can offer (TLS 1.3 only when it can offer none of them)."""
    settings = asked(profile)
    if settings is None:
        return Served()
    version, ciphers = settings
    if version == TLSProtocolVersion.TLS13:
        return _tls13_only(server, [])
    unhonoured = []
    minimum = version if version in server.min_versions else None
    if version in (TLSProtocolVersion.TLS10, TLSProtocolVersion.TLS11) and minimum is None:  # it keeps TLS 1.2
        unhonoured.append(f"minTLSVersion {version.value} on {server.name} ({server.floor})")
    configurable = [cipher for cipher in ciphers if cipher in OPENSSL_TO_IANA]
    offered = tuple(cipher for cipher in configurable if cipher not in server.refused)
    refused = [cipher for cipher in configurable if cipher in server.refused]
    if refused:
        unhonoured.append(f"ciphers {' '.join(refused)} on {server.name} ({server.refusal})")
    if configurable and not offered:
        return _tls13_only(server, unhonoured)
    return Served(minimum, offered, tuple(unhonoured))


def unhonoured(profile: TLSSecurityProfile | None, servers: tuple[TLSServer, ...] = SERVERS) -> list[str]:
    """What of `profile` the control plane's `servers` do not take: ciphers Go does not implement, a choice among
    the TLS 1.3 suites (none can be made), and what each server cannot take (`served`)."""
    settings = asked(profile)
    if settings is None:
        return []
    version, ciphers = settings
    found = []
    if version != TLSProtocolVersion.TLS13:  # with TLS 1.3 only, no TLS 1.2 cipher matters
        missing = [cipher for cipher in ciphers if cipher not in OPENSSL_TO_IANA and cipher not in TLS13_CIPHERS]
        if missing:
            found.append(f"ciphers {' '.join(missing)} (Go has no such suites: no server offers them)")
    tls13 = {cipher for cipher in ciphers if cipher in TLS13_CIPHERS}
    if tls13 and len(tls13) < len(TLS13_CIPHERS):
        found.append("a choice among the TLS 1.3 ciphers (none can be made: every server offers all three)")
    for server in servers:
        found += served(profile, server).unhonoured
    return found
