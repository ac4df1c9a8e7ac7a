"""spec.configuration.apiServer.tlsSecurityProfile as the flags of each control-plane TLS server.

What each server is given of the profile, and what it cannot take, is decided once in
hcp.api.v1beta1.tlsprofile (`served`), which the SupportedConfiguration report reads too; here are only the
servers' flag names. Unset, no server gets any flag, so the render is what it was before the field was
modelled. Being flags of the pod templates, a new profile rolls the servers.
"""

from __future__ import annotations

from hcp.api.v1beta1.clusterconfig import TLSProtocolVersion, TLSSecurityProfile
from hcp.api.v1beta1.tlsprofile import ETCD, IGNITION, KONNECTIVITY, KUBERNETES, served
from hcp.controlplane.context import RenderContext

ETCD_VERSIONS = {TLSProtocolVersion.TLS12: "TLS1.2", TLSProtocolVersion.TLS13: "TLS1.3"}
"""etcd's names of the minimum versions it takes."""


def tls_security_profile(ctx: RenderContext) -> TLSSecurityProfile | None:
    """spec.configuration.apiServer.tlsSecurityProfile, or None when unset."""
    configuration = ctx.hcp.spec.configuration
    api_server = configuration.api_server if configuration is not None else None
    return api_server.tls_security_profile if api_server is not None else None


def _flags(*flags: tuple[str, str | None]) -> list[str]:
    return [f"{flag}={value}" for flag, value in flags if value]


def kubernetes_tls_args(profile: TLSSecurityProfile | None) -> list[str]:
    """kube-apiserver's, kube-controller-manager's and kube-scheduler's --tls-min-version and --tls-cipher-suites
    (k8s.io/component-base's flags, which take every version and every suite Go has)."""
    given = served(profile, KUBERNETES)
    return _flags(("--tls-min-version", given.min_version and given.min_version.value),
                  ("--tls-cipher-suites", ",".join(given.suites)))


def etcd_tls_args(profile: TLSSecurityProfile | None) -> list[str]:
    """etcd's --tls-min-version (TLS1.2 or TLS1.3) and --cipher-suites (never beside TLS1.3), for its client and
    peer listeners alike."""
    given = served(profile, ETCD)
    return _flags(("--tls-min-version", given.min_version and ETCD_VERSIONS[given.min_version]),
                  ("--cipher-suites", ",".join(given.suites)))


def konnectivity_tls_args(profile: TLSSecurityProfile | None) -> list[str]:
    """konnectivity-server's --cipher-suites, its only TLS flag: TLS 1.3 suites alone for a TLS 1.3 minimum."""
    given = served(profile, KONNECTIVITY)
    return _flags(("--cipher-suites", ",".join(given.suites)))


def ignition_tls_args(profile: TLSSecurityProfile | None) -> list[str]:
    """hcp's ignition server's --tls-min-version (VersionTLS12 or VersionTLS13) and --tls-ciphers (OpenSSL's
    names, as OpenSSL's cipher lists are written), which hcp.ignition.server reads."""
    given = served(profile, IGNITION)
    return _flags(("--tls-min-version", given.min_version and given.min_version.value),
                  ("--tls-ciphers", ":".join(given.ciphers)))
