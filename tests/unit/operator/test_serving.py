"""The operator's serving certificate: kept while usable, minted otherwise, and served over TLS."""

import asyncio
import datetime
import ssl
import tempfile
from pathlib import Path

import httpx
from prometheus_client import CollectorRegistry

from hcp.kube.metrics import MetricsServer
from hcp.operator.serving import mint, server_context, server_names, usable

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
