"""The operator's serving certificate: kept while usable, minted otherwise, and served over TLS."""

import asyncio
import base64
import datetime
import ssl
import tempfile
from pathlib import Path

import httpx
from lightkube import ApiError
from lightkube.resources.core_v1 import Secret
from prometheus_client import CollectorRegistry

from hcp.kube.metrics import MetricsServer
from hcp.operator.serving import ensure, mint, server_context, server_names, usable

NOW = datetime.datetime.now(datetime.UTC)


def as_data(serving) -> dict[str, bytes]:
    return {"tls.crt": serving.cert_pem, "tls.key": serving.key_pem, "ca.crt": serving.ca_pem}


def test_a_minted_certificate_is_usable_for_its_namespace_until_two_thirds_of_its_life():
    serving = mint("hypershift")
    assert usable(as_data(serving), "hypershift", NOW)
    assert not usable(as_data(serving), "elsewhere", NOW)  # not issued for that Service's names
    assert not usable(as_data(serving), "hypershift", NOW + datetime.timedelta(days=250))
    assert not usable({**as_data(serving), "ca.crt": b""}, "hypershift", NOW)
    assert not usable({**as_data(serving), "tls.crt": b"garbage"}, "hypershift", NOW)
    assert "operator.hypershift.svc" in server_names("hypershift")


def test_the_metrics_server_answers_over_tls_verified_by_the_ca():
    serving = mint("hypershift")

    async def scenario() -> None:
        server = MetricsServer(CollectorRegistry(), lambda: (True, "running"))
        await server.start(0, host="127.0.0.1", tls=server_context(serving))
        try:
            with tempfile.TemporaryDirectory() as directory:
                ca = Path(directory) / "ca.crt"
                ca.write_bytes(serving.ca_pem)
                verify = ssl.create_default_context(cafile=str(ca))
                async with httpx.AsyncClient(base_url=f"https://localhost:{server.port}", verify=verify,
                                             timeout=5) as http:
                    answer = await http.get("/healthz")
                    assert (answer.status_code, answer.text) == (200, "ok\n")
                async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}", timeout=5) as http:
                    try:
                        plain = await http.get("/healthz")
                    except httpx.HTTPError:
                        plain = None
                    assert plain is None or plain.status_code != 200  # no answer in the clear
        finally:
            await server.stop()

    asyncio.run(scenario())


class FakeSecrets:
    """The three calls `ensure` makes, on an in-memory store, with the API's 404 and 409."""

    def __init__(self, existing=None, conflict_with=None):
        self.stored = existing
        self.conflict_with = conflict_with
        self.calls = []

    async def get(self, resource, name, namespace=None):
        self.calls.append(("get", name, namespace))
        if self.stored is None:
            raise ApiError(response=FakeResponse(404))
        return self.stored

    async def create(self, obj):
        self.calls.append(("create", obj.metadata.name, obj.metadata.namespace))
        if self.conflict_with is not None:
            self.stored, self.conflict_with = self.conflict_with, None
            raise ApiError(response=FakeResponse(409))
        self.stored = obj
        return obj

    async def patch(self, resource, name, body, **kwargs):
        self.calls.append(("patch", name, kwargs.get("namespace")))
        self.stored = Secret.from_dict(body)
        return self.stored


class FakeResponse:
    def __init__(self, code):
        self.status_code = code

    def json(self):
        return {"kind": "Status", "code": self.status_code, "message": "fake", "reason": "fake"}


def stored_secret(serving):
    return Secret.from_dict({"metadata": {"name": "operator-serving-cert", "namespace": "hypershift"},
                             "data": {k: base64.b64encode(v).decode() for k, v in as_data(serving).items()}})


def test_ensure_mints_and_creates_the_secret_once_then_keeps_it():
    client = FakeSecrets()
    first = asyncio.run(ensure(client, "hypershift", "operator-serving-cert"))
    assert [c[0] for c in client.calls] == ["get", "create"]
    assert client.stored.metadata.namespace == "hypershift" and client.stored.type == "Opaque"
    again = asyncio.run(ensure(client, "hypershift", "operator-serving-cert"))
    assert again == first and [c[0] for c in client.calls] == ["get", "create", "get"]


def test_a_replica_that_loses_the_race_serves_the_winners_certificate():
    winner = mint("hypershift")
    client = FakeSecrets(conflict_with=stored_secret(winner))
    assert asyncio.run(ensure(client, "hypershift", "operator-serving-cert")) == winner


def test_a_certificate_due_for_renewal_is_rewritten():
    old = mint("hypershift")
    client = FakeSecrets(existing=stored_secret(old))
    later = NOW + datetime.timedelta(days=300)
    renewed = asyncio.run(ensure(client, "hypershift", "operator-serving-cert", now=later))
    assert renewed != old and [c[0] for c in client.calls] == ["get", "patch"]
