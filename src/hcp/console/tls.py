"""The console's serving certificate: a CA of its own and a leaf for the names it is reached by, kept on disk.

Kept under the state dir, keys 0600, and reused across restarts so a browser
that was told to trust the CA (ca.crt) keeps trusting the console. A leaf that
does not cover the names asked for, or is due for renewal, is issued anew from
the same CA.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import socket
from pathlib import Path

from cryptography import x509

from hcp.pki import KeyPair, issue, new_ca
from hcp.pki.certs import renew_at


def _write(path: Path, data: bytes, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    path.chmod(mode)


def _names(host: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """DNS names and IPs the certificate covers: localhost, this machine's name, and the bind address."""
    dns, ips = {"localhost", socket.gethostname()}, {"127.0.0.1", "::1"}
    try:
        ipaddress.ip_address(host)
        if host not in ("0.0.0.0", "::"):
            ips.add(host)
    except ValueError:
        if host:
            dns.add(host)
    return tuple(sorted(dns)), tuple(sorted(ips))


def _covers(cert: x509.Certificate, dns: tuple[str, ...], ips: tuple[str, ...]) -> bool:
    try:
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    have_dns = set(names.get_values_for_type(x509.DNSName))
    have_ips = {str(ip) for ip in names.get_values_for_type(x509.IPAddress)}
    return set(dns) <= have_dns and set(ips) <= have_ips


def serving_certificate(directory: Path, host: str) -> tuple[Path, Path, Path]:
    """(ca.crt, tls.crt, tls.key) in `directory`, made or renewed as needed."""
    ca_cert, ca_key = directory / "ca.crt", directory / "ca.key"
    cert, key = directory / "tls.crt", directory / "tls.key"
    if ca_cert.exists() and ca_key.exists():
        ca = KeyPair(ca_cert.read_bytes(), ca_key.read_bytes())
    else:
        ca = new_ca("hcp console CA")
        _write(ca_key, ca.key_pem, 0o600)
        _write(ca_cert, ca.cert_pem, 0o644)
    dns, ips = _names(host)
    now = datetime.datetime.now(datetime.timezone.utc)
    if cert.exists() and key.exists():
        leaf = x509.load_pem_x509_certificate(cert.read_bytes())
        if _covers(leaf, dns, ips) and renew_at(leaf) > now and leaf.issuer == ca.certificate.subject:
            return ca_cert, cert, key
    pair = issue(ca, "hcp console", dns_names=dns, ip_addresses=ips, server=True)
    _write(key, pair.key_pem, 0o600)
    _write(cert, pair.cert_pem + ca.cert_pem, 0o644)
    return ca_cert, cert, key
