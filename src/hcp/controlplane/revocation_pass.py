"""One HostedControlPlane pass's part in CertificateRevocationRequests: gather facts, act, probe, report.

The decisions are hcp.controlplane.revocation's (pure); this is the I/O around
them, run by the HostedControlPlane controller because it is the one writer of
the PKI and of the API server's client CA bundle: `prepare` copies and
replaces the break-glass signer before the PKI is computed, `trusted` says
which break-glass signers the bundle holds, and `finish` probes every
kube-apiserver pod and writes each request's status.

A probe presents a short-lived certificate of the signer in question (user
system:customer-break-glass:revocation-probe, in no group: it can read public
endpoints only) to each running API server pod directly, and asks /version:
200 is "trusted", 401 is "refused". Only when every pod agrees does a step
complete, as in HyperShift, which also asks each pod. The asking itself is a
`Probe` (`probe_api_servers` unless another is given), the one seam a test
fakes.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime
import logging
import os
import ssl
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC
from typing import Any

import httpx
from lightkube import AsyncClient
from cryptography.hazmat.primitives.serialization import Encoding
from lightkube.resources.core_v1 import Pod, Secret

from hcp.api import HostedControlPlane
from hcp.api.certificates.v1alpha1 import (
    PREVIOUS_CERTIFICATES_REVOKED, SIGNER_CLASS_VALID, CertificateRevocationRequest,
    CertificateRevocationRequestStatus,
)
from hcp.controlplane.components.component import COMPONENT_LABEL
from hcp.controlplane.pki import (
    BREAK_GLASS_SIGNER, BREAK_GLASS_USER_PREFIX, CA_CERT_KEY, CA_KEY_KEY, KAS_PORT, KAS_SERVICE, issued_by,
    secret_data,
)
from hcp.controlplane.labels import stamp
from hcp.controlplane.revocation import (
    Facts, Request, Step, active, conditions, previous_signer_name, step, trusted_signers, trusts_previous,
    valid_signer_class,
)
from hcp.kube.apply import apply, apply_status, get_or_none
from hcp.kube.conditions import set_condition
from hcp.kube.objects import as_dict
from hcp.pki import KeyPair, issue, new_ca
from hcp.pki.kubeconfig import client_certificate

log = logging.getLogger(__name__)

PROBE_USER = f"{BREAK_GLASS_USER_PREFIX}revocation-probe"
PROBE_VALIDITY = datetime.timedelta(minutes=10)
PROBE_TIMEOUT = 5.0
STATUS_FIELD_MANAGER = "hcp-certificate-revocation"

Probe = Callable[[bytes, KeyPair, Sequence[str]], Awaitable[list[int | None]]]
"""(root CA, probe certificate, pod addresses) -> each pod's status code for /version, in order; None for a pod
that did not answer."""


def _true(request: dict[str, Any], type_: str) -> bool:
    return any(c.get("type") == type_ and c.get("status") == "True"
               for c in (request.get("status") or {}).get("conditions") or [])


def _finished(request: dict[str, Any]) -> bool:
    signer_class = (request.get("spec") or {}).get("signerClass", "")
    return _true(request, PREVIOUS_CERTIFICATES_REVOKED) or not valid_signer_class(signer_class)


class RevocationPass:
    """The CertificateRevocationRequests of one control-plane namespace, for one pass."""

    def __init__(self, client: AsyncClient, hcp: HostedControlPlane, owner: dict, requests: list[Any],
                 probe: Probe | None = None):
        self.client = client
        self._probe = probe or probe_api_servers
        self.owner = owner
        self.namespace = hcp.metadata.namespace
        self.requests = [as_dict(r) for r in requests if not r.metadata.deletionTimestamp]
        self.active = active([Request(r["metadata"]["name"], str(r["metadata"].get("creationTimestamp") or ""),
                                      _finished(r)) for r in self.requests])
        self.in_progress = self.active is not None
        self._previous: bytes | None = None
        self._current_before: bytes | None = None

    def _request(self, name: str) -> dict[str, Any]:
        return next(r for r in self.requests if r["metadata"]["name"] == name)

    def _facts(self, request: dict[str, Any], current: bytes | None, **probes: Any) -> Facts:
        status = request.get("status") or {}
        recorded = frozenset(c["type"] for c in status.get("conditions") or [] if c.get("status") == "True")
        is_active = request["metadata"]["name"] == self.active
        return Facts(
            signer_class=(request.get("spec") or {}).get("signerClass", ""),
            previous_recorded=bool(status.get("previousSigner")) or (is_active and self._previous is not None),
            previous_signer=self._previous if is_active else None,
            current_signer=current, recorded=recorded, **probes)

    async def prepare(self, secrets: dict[str, dict[str, bytes]]) -> None:
        """Take the active request's copy of the signer, and replace the signer when its step says so.

        `secrets` (Secret name -> data, as listed) is updated in place with what is written.
        """
        if self.active is None:
            return
        request = self._request(self.active)
        signer = secrets.get(BREAK_GLASS_SIGNER) or {}
        if not (signer.get(CA_CERT_KEY) and signer.get(CA_KEY_KEY)):
            return  # a control plane's first pass: the PKI makes the signer, the next pass revokes it
        copy_name = previous_signer_name(self.active)
        copy = secrets.get(copy_name) or {}
        if not copy.get(CA_CERT_KEY):
            copy = {CA_CERT_KEY: signer[CA_CERT_KEY], CA_KEY_KEY: signer[CA_KEY_KEY]}
            await apply(self.client, _secret(self.namespace, copy_name, copy, _owner(request)))
            secrets[copy_name] = copy
        self._previous = copy[CA_CERT_KEY]
        if step(self._facts(request, signer[CA_CERT_KEY])) == Step.ROTATE_SIGNER:
            fresh = new_ca(BREAK_GLASS_SIGNER)
            data = {CA_CERT_KEY: fresh.cert_pem, CA_KEY_KEY: fresh.key_pem}
            await apply(self.client, _secret(self.namespace, BREAK_GLASS_SIGNER, data, self.owner))
            secrets[BREAK_GLASS_SIGNER] = data
            log.info("replaced the customer-break-glass signer for a CertificateRevocationRequest",
                     extra={"namespace": self.namespace, "request": self.active})

    def trusted(self, current: bytes) -> list[bytes]:
        """The break-glass signers the client CA bundle holds now."""
        previous: dict[str, bytes] = {}
        if self.active is not None and self._previous is not None \
                and trusts_previous(self._facts(self._request(self.active), current)):
            previous[self.active] = self._previous
        return trusted_signers(current, previous)

    async def finish(self, root_ca: bytes, signer: dict[str, bytes], admin_kubeconfig: bytes) -> None:
        """Probe what the active request waits for, then write every request's status."""
        current = signer.get(CA_CERT_KEY)
        admin = client_certificate(admin_kubeconfig)
        admin_reissued = bool(admin is not None and current and issued_by(
            admin.public_bytes(Encoding.PEM), current))
        for request in self.requests:
            name = request["metadata"]["name"]
            if name == self.active and self._previous is not None:
                facts = self._facts(request, current, admin_reissued=admin_reissued)
                now = step(facts)
                if now == Step.TRUST_NEW:
                    accepted = await self._every_api_server(root_ca, KeyPair(current, signer[CA_KEY_KEY]), 200)
                    facts = self._facts(request, current, admin_reissued=admin_reissued, new_trusted=accepted)
                elif now == Step.REVOKE_PREVIOUS:
                    copy = await self._copy(name)
                    refused = copy is not None and await self._every_api_server(root_ca, copy, 401)
                    facts = self._facts(request, current, admin_reissued=admin_reissued, previous_rejected=refused)
                self.in_progress = step(facts) != Step.DONE
            elif name == self.active or not _finished(request) or not _true(request, SIGNER_CLASS_VALID):
                facts = self._facts(request, current)
            else:
                continue  # done, and reported so
            await self._write_status(request, facts)

    async def _copy(self, name: str) -> KeyPair | None:
        secret = await get_or_none(self.client, Secret, previous_signer_name(name), self.namespace)
        if secret is None:  # gone: nothing to probe with
            return None
        data = secret_data(as_dict(secret))
        return KeyPair(data[CA_CERT_KEY], data[CA_KEY_KEY]) if data.get(CA_KEY_KEY) else None

    async def _write_status(self, request: dict[str, Any], facts: Facts) -> None:
        status = dict(request.get("status") or {})
        # The status alone is read: a spec the model refuses (a signer class the CRD's enum did not stop) is
        # reported like any other, not an error of the whole pass.
        existing = list(CertificateRevocationRequestStatus.model_validate(status).conditions or [])
        generation = request["metadata"].get("generation")
        for type_, (value, reason, message) in conditions(facts, f"{self.namespace}/{BREAK_GLASS_SIGNER}").items():
            existing = set_condition(existing, type_, "True" if value else "False", reason, message, generation)
        body: dict[str, Any] = {"conditions": [as_dict(c) for c in existing]}
        if facts.signer_class == "customer-break-glass":
            body["revocationTimestamp"] = status.get("revocationTimestamp") or \
                datetime.datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            if facts.previous_recorded:
                body["previousSigner"] = {"name": previous_signer_name(request["metadata"]["name"])}
        await apply_status(self.client, CertificateRevocationRequest, request["metadata"]["name"], self.namespace,
                           body, field_manager=STATUS_FIELD_MANAGER)

    async def _every_api_server(self, root_ca: bytes, signer: KeyPair, expected: int) -> bool:
        """Whether every running kube-apiserver pod answers /version with `expected` (200: the signer is trusted;
        401: refused) to a probe certificate of `signer`. No pod, or any other answer, is not yet."""
        pods = [pod async for pod in self.client.list(Pod, namespace=self.namespace,
                                                      labels={COMPONENT_LABEL: "kube-apiserver"})]
        addresses = [pod.status.podIP for pod in pods if not pod.metadata.deletionTimestamp
                     and pod.status and pod.status.phase == "Running" and pod.status.podIP]
        if not addresses:
            return False
        probe = issue(signer, PROBE_USER, client=True, validity=PROBE_VALIDITY)
        answers = await self._probe(root_ca, probe, addresses)
        return all(code == expected for code in answers)


async def probe_api_servers(root_ca: bytes, probe: KeyPair, addresses: Sequence[str]) -> list[int | None]:
    """Ask each API server pod (by address) for /version presenting `probe`, trusting the root CA: its status code,
    None for no answer."""
    context = _client_context(root_ca, probe)
    return list(await asyncio.gather(*(_status_code(context, address) for address in addresses)))


async def _status_code(context: ssl.SSLContext, address: str) -> int | None:
    host = f"[{address}]" if ":" in address else address
    try:
        async with httpx.AsyncClient(verify=context, timeout=PROBE_TIMEOUT) as client:
            # The serving certificate names the Service, not the pod: verify that name over the pod's address.
            response = await client.get(f"https://{host}:{KAS_PORT}/version",
                                        extensions={"sni_hostname": KAS_SERVICE})
    except httpx.HTTPError:
        return None
    return response.status_code


def _client_context(root_ca: bytes, probe: KeyPair) -> ssl.SSLContext:
    """A TLS context trusting the root CA and presenting `probe`; its files exist only while they are loaded."""
    context = ssl.create_default_context(cadata=root_ca.decode())
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "probe.pem")
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(probe.cert_pem + probe.key_pem)
        context.load_cert_chain(path)
        with contextlib.suppress(OSError):
            os.unlink(path)
    return context


def _owner(request: dict[str, Any]) -> dict[str, Any]:
    metadata = request["metadata"]
    return {"apiVersion": request["apiVersion"], "kind": request["kind"], "name": metadata["name"],
            "uid": metadata["uid"]}


def _secret(namespace: str, name: str, data: dict[str, bytes], owner: dict[str, Any] | None) -> dict[str, Any]:
    secret = stamp({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "type": "Opaque",
                    "data": {key: base64.b64encode(value).decode() for key, value in data.items()}}, namespace)
    if owner is not None:
        secret["metadata"]["ownerReferences"] = [owner]
    return secret
