"""Any OCI registry: locations with a prefix, Basic and Bearer logins, docker config credentials, and that a
password never shows in an error, a repr or a log."""

from __future__ import annotations

import base64
import json
import logging

import httpx
import pytest

from hcp.images import Credentials, CredentialsError, RegistryClient, RegistryError, RegistryLocation
from hcp.images.credentials import docker_config_json, for_registry, load_docker_config, parse_docker_config

BASE = "https://reg.test:5000"
SECRET = "s3cr3t-pass"
LOGIN = Credentials("ci", SECRET)
BASIC = "Basic " + base64.b64encode(f"ci:{SECRET}".encode()).decode()


@pytest.mark.parametrize(("text", "host", "prefix", "name"), [
    ("reg.test", "reg.test", "", "reg.test"),
    ("reg.test:5000", "reg.test:5000", "", "reg.test:5000"),
    ("reg.test:5000/team/hcp", "reg.test:5000", "team/hcp", "reg.test:5000/team/hcp"),
    ("https://10.0.0.1:5001/", "10.0.0.1:5001", "", "10.0.0.1:5001"),
])
def test_registry_locations_parse(text, host, prefix, name):
    location = RegistryLocation.parse(text)
    assert (location.host, location.prefix, location.name, location.url) == (host, prefix, name, f"https://{host}")


@pytest.mark.parametrize("text", ["http://reg.test", "reg test", "reg.test/UPPER", ""])
def test_bad_registry_locations_are_refused(text):
    with pytest.raises(ValueError):
        RegistryLocation.parse(text)


def basic_registry(request: httpx.Request) -> httpx.Response:
    """The distribution registry with htpasswd: Basic challenge, then the login."""
    if request.headers.get("Authorization") != BASIC:
        return httpx.Response(401, headers={"WWW-Authenticate": 'Basic realm="Registry Realm"'},
                              json={"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]})
    return httpx.Response(200, json={})


def test_basic_login_is_answered_and_then_sent_up_front():
    seen = []

    def handler(request):
        seen.append(request.headers.get("Authorization"))
        return basic_registry(request)

    with RegistryClient(BASE, transport=httpx.MockTransport(handler), credentials=LOGIN) as client:
        client.check()
        assert client.has_manifest("hcp/etcd", "v1")
    assert seen == [None, BASIC, BASIC]


def test_without_a_login_a_401_says_how_to_give_one_and_with_a_wrong_one_that_it_was_refused():
    with RegistryClient(BASE, transport=httpx.MockTransport(basic_registry)) as client, \
            pytest.raises(RegistryError, match="wants a login") as missing:
        client.check()
    assert "401" in str(missing.value)
    with RegistryClient(BASE, transport=httpx.MockTransport(basic_registry),
                        credentials=Credentials("ci", "wrong-password")) as client, \
            pytest.raises(RegistryError, match="refused the credentials") as refused:
        client.check()
    assert "wrong-password" not in str(refused.value)


def test_bearer_challenges_get_a_token_per_repository_from_the_realm():
    requests = []

    def handler(request):
        requests.append(request)
        if request.url.host == "auth.test":
            assert request.headers["Authorization"] == BASIC
            return httpx.Response(200, json={"token": f"tok-{request.url.params['scope']}"})
        repository = request.url.path.split("/")[2] + "/" + request.url.path.split("/")[3]
        scope = f"repository:{repository}:pull"
        if request.headers.get("Authorization") != f"Bearer tok-{scope}":
            return httpx.Response(401, headers={
                "WWW-Authenticate": f'Bearer realm="https://auth.test/token",service="reg",scope="{scope}"'})
        return httpx.Response(200)

    with RegistryClient(BASE, transport=httpx.MockTransport(handler), credentials=LOGIN, prefix="team") as client:
        assert client.has_manifest("hcp/etcd", "v1")
        assert client.has_manifest("hcp/etcd", "v2")
    paths = [(r.url.host, r.url.path) for r in requests]
    assert paths == [("reg.test", "/v2/team/hcp/etcd/manifests/v1"), ("auth.test", "/token"),
                     ("reg.test", "/v2/team/hcp/etcd/manifests/v1"), ("reg.test", "/v2/team/hcp/etcd/manifests/v2")]


def test_an_untrusted_certificate_is_one_line_that_names_the_ca_flag():
    def handler(request):
        raise httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed\n"
                                 "certificate in certificate chain", request=request)

    with RegistryClient(BASE, transport=httpx.MockTransport(handler)) as client, \
            pytest.raises(RegistryError) as error:
        client.check()
    assert "\n" not in str(error.value) and "--ca" in str(error.value)


def test_docker_configs_give_credentials_by_host(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"auths": {
        "https://index.docker.io/v1/": {"auth": base64.b64encode(b"me:hub-pass").decode()},
        "reg.test:5000": {"username": "ci", "password": SECRET},
        "helper.test": {},  # a credential helper's placeholder
    }, "credsStore": "desktop"}))
    config = load_docker_config(path)
    assert for_registry(config, "reg.test:5000/team") == LOGIN
    assert for_registry(config, "index.docker.io") == Credentials("me", "hub-pass")
    assert for_registry(config, "helper.test") is None
    assert parse_docker_config(docker_config_json("reg.test:5000", LOGIN), "x") == {"reg.test:5000": LOGIN}


@pytest.mark.parametrize("data", [b"not json", b"{}", b'{"auths": {"r": {"auth": "!!"}}}',
                                  b'{"auths": {"r": {"auth": "bm9jb2xvbg=="}}}'])
def test_unusable_docker_configs_are_one_error_without_their_content(data):
    with pytest.raises(CredentialsError) as error:
        parse_docker_config(data, "auth.json")
    assert str(error.value).startswith("auth.json: ")
    assert "bm9jb2xvbg" not in str(error.value)


def test_a_password_is_never_in_a_repr_or_a_log(caplog):
    caplog.set_level(logging.DEBUG)
    assert SECRET not in repr(LOGIN) and SECRET not in str(LOGIN)
    with RegistryClient(BASE, transport=httpx.MockTransport(basic_registry), credentials=LOGIN) as client:
        client.check()
    assert SECRET not in caplog.text and BASIC.split()[1] not in caplog.text
