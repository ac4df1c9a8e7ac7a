"""A CertificateRevocationRequest carried out pass by pass, as the HostedControlPlane controller runs
hcp.controlplane.revocation_pass: against the fake API of the operator's unit tests, with the control plane's real
PKI and the API server pods' answers faked at the pass's probe.

Each pass is what the controller does: list the Secrets, `prepare`, compute the PKI (writing what changed), serve
the client CA bundle `trusted` says, then `finish`. The API server pods answer a probe from the bundle they have
loaded, which lags the one computed until the kubelet refreshes it (`reload`)."""

from __future__ import annotations

import asyncio
import base64
import datetime
from collections.abc import Sequence

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from hcp.api.certificates.v1alpha1 import CertificateRevocationRequest
from hcp.controlplane import pki_secrets, secret_data
from hcp.controlplane.components.component import COMPONENT_LABEL
from hcp.controlplane.pki import ADMIN_KUBECONFIG, BREAK_GLASS_SIGNER, CA_CERT_KEY, KUBECONFIG_KEY, ROOT_CA, issued_by
from hcp.controlplane.revocation import previous_signer_name
from hcp.controlplane.revocation_pass import PROBE_USER, RevocationPass
from hcp.kube.apply import resource_of
from hcp.pki import KeyPair
from hcp.pki.kubeconfig import client_certificate
from tests.unit.controlplane.conftest import NAMESPACE, SINGLE_REPLICA, make_hcp
from tests.unit.operator.etcdbackup.test_controller import FakeClient, FakeInformer, World

resource_of(CertificateRevocationRequest)  # registered with lightkube, as the operator's informer does

HOST, PORT = "192.168.126.10", 30443
HCP = make_hcp(SINGLE_REPLICA)
OWNER = {"apiVersion": "hypershift.openshift.io/v1beta1", "kind": "HostedControlPlane", "name": "example",
         "uid": "hcp-uid", "controller": True}
PODS = {"kube-apiserver-0": "10.128.0.10", "kube-apiserver-1": "10.128.0.11"}
ALL_STEPS = ["SignerClassValid", "RootCertificatesRegenerated", "NewCertificatesTrusted",
             "LeafCertificatesRegenerated", "PreviousCertificatesRevoked"]


def request_body(name: str = "revoke", signer_class: str = "customer-break-glass",
                 created: str = "2030-01-01T00:00:00Z") -> dict:
    return {"apiVersion": "certificates.hypershift.openshift.io/v1alpha1", "kind": "CertificateRevocationRequest",
            "metadata": {"name": name, "namespace": NAMESPACE, "generation": 1, "creationTimestamp": created},
            "spec": {"signerClass": signer_class}}


def api_server_pod(name: str, address: str, phase: str = "Running") -> dict:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": NAMESPACE, "labels": {COMPONENT_LABEL: "kube-apiserver"}},
            "status": {"phase": phase, "podIP": address}}


class ControlPlane:
    """A control plane that has run (its PKI written), its API server pods, and the controller's passes."""

    def __init__(self) -> None:
        self.world = World()
        for secret in pki_secrets(NAMESPACE, HCP, HOST, {}, endpoint_port=PORT):
            self.world.put(secret)
        for name, address in PODS.items():
            self.world.put(api_server_pod(name, address))
        self.bundle: list[bytes] = [self.signer]
        """The break-glass signers of the client CA bundle computed last."""
        self.loaded: dict[str, list[bytes]] = {address: list(self.bundle) for address in PODS.values()}
        """The break-glass signers each API server pod trusts: the bundle it has loaded."""
        self.probes: list[tuple[str, str, bytes]] = []
        """(pod address, probe certificate's user, the signer that issued it) for each probe."""

    # What a user sees.

    def secret(self, name: str) -> dict[str, bytes] | None:
        body = self.world.get("Secret", NAMESPACE, name)
        return secret_data(body) if body else None

    @property
    def signer(self) -> bytes:
        return self.secret(BREAK_GLASS_SIGNER)[CA_CERT_KEY]

    @property
    def admin_certificate(self) -> bytes:
        return client_certificate(self.secret(ADMIN_KUBECONFIG)[KUBECONFIG_KEY]).public_bytes(Encoding.PEM)

    def request(self, name: str = "revoke") -> dict:
        return self.world.get("CertificateRevocationRequest", NAMESPACE, name)

    def conditions(self, name: str = "revoke") -> dict[str, tuple[str, str]]:
        status = self.request(name).get("status") or {}
        return {c["type"]: (c["status"], c["reason"]) for c in status.get("conditions") or []}

    # The world changing.

    def reload(self, *addresses: str) -> None:
        """The kubelet refreshes the mounted bundle of these pods (all if none named); the API server re-reads it."""
        for address in addresses or PODS.values():
            self.loaded[address] = list(self.bundle)

    async def _probe(self, root_ca: bytes, probe: KeyPair, addresses: Sequence[str]) -> list[int | None]:
        assert root_ca == self.secret(ROOT_CA)[CA_CERT_KEY]
        cert = x509.load_pem_x509_certificate(probe.cert_pem)
        user = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value
        issuer = next((s for s in (self.signer, *self._copies()) if issued_by(probe.cert_pem, s)), None)
        answers: list[int | None] = []
        for address in addresses:
            self.probes.append((address, user, issuer))
            answers.append(200 if any(issued_by(probe.cert_pem, s) for s in self.loaded[address]) else 401)
        return answers

    def _copies(self) -> list[bytes]:
        """The signers the requests' copies hold."""
        return [secret_data(s)[CA_CERT_KEY] for s in self.world.of_kind("Secret")
                if (s["metadata"].get("ownerReferences") or [{}])[0].get("kind") == "CertificateRevocationRequest"]

    def run_pass(self) -> RevocationPass:
        """One HostedControlPlane pass's revocation part, in the controller's order."""
        return asyncio.run(self._pass())

    async def _pass(self) -> RevocationPass:
        client = FakeClient(self.world)
        secrets = {s["metadata"]["name"]: secret_data(s) for s in self.world.of_kind("Secret")}
        requests = FakeInformer(self.world, "CertificateRevocationRequest").list(NAMESPACE)
        revocation = RevocationPass(client, HCP, OWNER, requests, probe=self._probe)
        await revocation.prepare(secrets)
        pki = {s["metadata"]["name"]: secret_data(s) for s in pki_secrets(NAMESPACE, HCP, HOST, secrets,
                                                                            endpoint_port=PORT)}
        for name, data in pki.items():
            if data != secrets.get(name):
                self.world.put({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name,
                                "namespace": NAMESPACE}, "data": _b64(data)})
        self.bundle = revocation.trusted(pki[BREAK_GLASS_SIGNER][CA_CERT_KEY])
        await revocation.finish(pki[ROOT_CA][CA_CERT_KEY], pki[BREAK_GLASS_SIGNER],
                                pki[ADMIN_KUBECONFIG][KUBECONFIG_KEY])
        return revocation


def _b64(data: dict[str, bytes]) -> dict[str, str]:
    return {key: base64.b64encode(value).decode() for key, value in data.items()}


def test_an_unknown_signer_class_is_refused_and_nothing_else_changes():
    plane = ControlPlane()
    plane.world.put(request_body(signer_class="sre-break-glass"))
    signer, admin, secrets = plane.signer, plane.admin_certificate, len(plane.world.of_kind("Secret"))
    for _ in range(2):  # and stays so
        revocation = plane.run_pass()
        assert not revocation.in_progress
        assert plane.conditions() == {"SignerClassValid": ("False", "SignerClassUnknown")}
        assert plane.request()["status"].keys() == {"conditions"}, "no revocationTimestamp, no previousSigner"
    [condition] = plane.request()["status"]["conditions"]
    assert condition["message"] == "Signer class 'sre-break-glass' unknown."
    assert (plane.signer, plane.admin_certificate) == (signer, admin)
    assert len(plane.world.of_kind("Secret")) == secrets, "no copy of the signer"
    assert plane.bundle == [signer]
    assert plane.probes == []


def test_a_request_walks_its_steps_as_the_api_servers_follow():
    plane = ControlPlane()
    old_signer, old_admin = plane.signer, plane.admin_certificate
    plane.world.put(request_body())
    copy_name = previous_signer_name("revoke")

    # Pass 1: the signer is copied and replaced; the admin kubeconfig is re-issued from the new one at once, and the
    # bundle trusts both. The pods have not loaded that bundle yet: the new signer is not trusted.
    revocation = plane.run_pass()
    copy = plane.world.get("Secret", NAMESPACE, copy_name)
    request = plane.request()
    assert secret_data(copy)[CA_CERT_KEY] == old_signer
    assert copy["metadata"]["ownerReferences"] == [{
        "apiVersion": request["apiVersion"], "kind": "CertificateRevocationRequest", "name": "revoke",
        "uid": request["metadata"]["uid"]}], "the copy goes with the request"
    new_signer = plane.signer
    assert new_signer != old_signer
    assert issued_by(plane.admin_certificate, new_signer) and not issued_by(plane.admin_certificate, old_signer)
    assert plane.bundle == [new_signer, old_signer]
    assert plane.conditions() == {"SignerClassValid": ("True", "AsExpected"),
                                  "RootCertificatesRegenerated": ("True", "AsExpected"),
                                  "NewCertificatesTrusted": ("False", "WaitingForAvailable")}
    status = plane.request()["status"]
    assert status["previousSigner"] == {"name": copy_name}
    stamp = status["revocationTimestamp"]
    assert datetime.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ")
    assert {(address, user, signer) for address, user, signer in plane.probes} == {
        (address, PROBE_USER, new_signer) for address in PODS.values()}
    assert revocation.in_progress

    # Pass 2: one pod of two has the new bundle; every one must. Nothing is replaced again.
    plane.reload(PODS["kube-apiserver-0"])
    plane.run_pass()
    assert plane.conditions()["NewCertificatesTrusted"] == ("False", "WaitingForAvailable")
    assert plane.signer == new_signer and secret_data(plane.world.get("Secret", NAMESPACE, copy_name)) == \
        secret_data(copy)
    assert plane.bundle == [new_signer, old_signer]

    # Pass 3: every pod trusts the new signer, and the admin kubeconfig is already its: the previous signer may go.
    plane.reload()
    plane.run_pass()
    assert plane.conditions() == {"SignerClassValid": ("True", "AsExpected"),
                                  "RootCertificatesRegenerated": ("True", "AsExpected"),
                                  "NewCertificatesTrusted": ("True", "AsExpected"),
                                  "LeafCertificatesRegenerated": ("True", "AsExpected"),
                                  "PreviousCertificatesRevoked": ("False", "WaitingForAvailable")}

    # Pass 4: the bundle drops the previous signer; the pods still accept it until they reload.
    plane.probes.clear()
    revocation = plane.run_pass()
    assert plane.bundle == [new_signer]
    assert {(user, signer) for _, user, signer in plane.probes} == {(PROBE_USER, old_signer)}
    assert plane.conditions()["PreviousCertificatesRevoked"] == ("False", "WaitingForAvailable")
    assert revocation.in_progress

    # Pass 5: every pod refuses the previous signer: done.
    plane.reload()
    revocation = plane.run_pass()
    assert plane.conditions() == {type_: ("True", "AsExpected") for type_ in ALL_STEPS}
    assert list(plane.conditions()) == ALL_STEPS, "in HyperShift's order"
    assert not revocation.in_progress
    assert plane.request()["status"]["revocationTimestamp"] == stamp
    assert plane.signer == new_signer and plane.bundle == [new_signer]
    assert issued_by(plane.admin_certificate, new_signer) and plane.admin_certificate != old_admin


def test_no_running_api_server_is_not_yet_trusted():
    plane = ControlPlane()
    for name, address in PODS.items():
        plane.world.put(api_server_pod(name, address, phase="Pending"))
    plane.world.put(request_body())
    plane.run_pass()
    plane.reload()
    revocation = plane.run_pass()
    assert plane.conditions()["NewCertificatesTrusted"] == ("False", "WaitingForAvailable")
    assert plane.probes == [], "nothing to ask"
    assert revocation.in_progress


def test_a_finished_request_is_left_alone():
    plane = ControlPlane()
    plane.world.put(request_body())
    plane.run_pass()
    plane.reload()
    plane.run_pass()
    plane.run_pass()
    plane.reload()
    plane.run_pass()
    assert plane.conditions() == {type_: ("True", "AsExpected") for type_ in ALL_STEPS}
    finished, signer, admin = plane.request(), plane.signer, plane.admin_certificate
    plane.probes.clear()
    plane.world.writes.clear()

    revocation = plane.run_pass()
    assert not revocation.in_progress
    assert plane.world.writes == [], "no Secret, no status written"
    assert plane.probes == []
    assert plane.request() == finished
    assert (plane.signer, plane.admin_certificate, plane.bundle) == (signer, admin, [signer])


def test_a_later_request_waits_for_the_one_before_it():
    plane = ControlPlane()
    plane.world.put(request_body("first", created="2030-01-01T00:00:00Z"))
    plane.world.put(request_body("second", created="2030-01-01T00:01:00Z"))
    old_signer = plane.signer
    plane.run_pass()
    assert plane.world.get("Secret", NAMESPACE, previous_signer_name("first")) is not None
    assert plane.world.get("Secret", NAMESPACE, previous_signer_name("second")) is None
    assert plane.conditions("first")["RootCertificatesRegenerated"] == ("True", "AsExpected")
    assert plane.conditions("second") == {"SignerClassValid": ("True", "AsExpected")}
    assert plane.bundle == [plane.signer, old_signer]
