"""The operator's serving certificate: its /metrics, /healthz and /readyz over TLS.

`hcp install` passes `--serving-secret operator-serving-cert`: on start the
operator reads that Secret in its namespace and keeps what it holds while the
certificate is usable (issued for the Service's names, not yet at two thirds of
its life), else mints a CA and a certificate and writes them there. A second
replica starting at the same time finds the first one's (a create that conflicts
reads again), so every replica serves under the same CA. hcp's Prometheus
verifies the operator with that CA (hcp.operator.monitoring copies ca.crt into
its configuration); the kubelet's probes do not verify.

The certificate is read once, at start: a renewal (yearly) takes a restart of
the operator, which any update of it brings.
"""

from __future__ import annotations

import base64
import datetime
import ssl
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from lightkube import ApiError, AsyncClient
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Secret

from hcp.kube.apply import apply
from hcp.pki import issue, new_ca, renew_at

SERVING_SECRET = "operator-serving-cert"
"""The Secret (in the operator's namespace) of the operator's serving certificate; install names it."""
CERT_KEY, KEY_KEY, CA_KEY = "tls.crt", "tls.key", "ca.crt"
SERVICE = "operator"
"""The operator's Service (hcp.operator.install.SERVICE): its names are the certificate's."""


@dataclass(frozen=True)
class Serving:
    cert_pem: bytes
    key_pem: bytes = field(repr=False)
    ca_pem: bytes


def server_names(namespace: str) -> tuple[str, ...]:
    return (SERVICE, f"{SERVICE}.{namespace}", f"{SERVICE}.{namespace}.svc", f"{SERVICE}.{namespace}.svc.cluster.local",
            "localhost")


def usable(data: dict[str, bytes], namespace: str, now: datetime.datetime) -> bool:
    """Whether a Secret's certificate can be served: all keys there, for the Service's names, not yet due."""
    if not all(data.get(key) for key in (CERT_KEY, KEY_KEY, CA_KEY)):
        return False
    try:
        cert = x509.load_pem_x509_certificate(data[CERT_KEY])
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (ValueError, x509.ExtensionNotFound):
        return False
    return set(server_names(namespace)) <= set(names.get_values_for_type(x509.DNSName)) and renew_at(cert) > now


def mint(namespace: str) -> Serving:
    authority = new_ca("hcp-operator-ca")
    pair = issue(authority, f"{SERVICE}.{namespace}.svc", dns_names=server_names(namespace), server=True)
    return Serving(pair.cert_pem, pair.key_pem, authority.cert_pem)


def _secret(namespace: str, name: str, serving: Serving) -> Secret:
    data = {CERT_KEY: serving.cert_pem, KEY_KEY: serving.key_pem, CA_KEY: serving.ca_pem}
    return Secret(metadata=ObjectMeta(name=name, namespace=namespace, labels={"app.kubernetes.io/managed-by": "hcp"}),
                  type="Opaque", data={key: base64.b64encode(value).decode() for key, value in data.items()})


def _data(secret: Secret) -> dict[str, bytes]:
    return {key: base64.b64decode(value) for key, value in (secret.data or {}).items()}


async def ensure(client: AsyncClient, namespace: str, name: str = SERVING_SECRET,
                 now: datetime.datetime | None = None) -> Serving:
    """The serving certificate in Secret `name`, minted and written first when missing or no longer usable."""
    now = now or datetime.datetime.now(datetime.UTC)
    for _ in range(3):
        try:
            existing = await client.get(Secret, name, namespace=namespace)
        except ApiError as error:
            if error.status.code != 404:
                raise
            existing = None
        if existing is not None:
            data = _data(existing)
            if usable(data, namespace, now):
                return Serving(data[CERT_KEY], data[KEY_KEY], data[CA_KEY])
        serving = mint(namespace)
        if existing is not None:  # due for renewal: rewritten (hcp's Secrets are patched, never replaced)
            await apply(client, _secret(namespace, name, serving))
            return serving
        try:
            await client.create(_secret(namespace, name, serving))
        except ApiError as error:
            if error.status.code == 409:
                continue  # another replica created one first: serve that one
            raise
        return serving
    raise RuntimeError(f"Secret {namespace}/{name} keeps changing under the operator")


def server_context(serving: Serving) -> ssl.SSLContext:
    """A TLS server context for the certificate (the ssl module loads keys from files only: a private temp dir)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    with tempfile.TemporaryDirectory(prefix="hcp-serving-") as directory:
        cert, key = Path(directory) / CERT_KEY, Path(directory) / KEY_KEY
        cert.write_bytes(serving.cert_pem)
        key.touch(mode=0o600)
        key.write_bytes(serving.key_pem)
        context.load_cert_chain(cert, key)
    return context
