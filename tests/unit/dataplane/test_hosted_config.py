"""ConfigMap hosted-cluster-config: the one format the control plane writes and the data-plane controller reads."""

from __future__ import annotations

import json

import pytest

from hcp.controlplane.context import Endpoint
from hcp.dataplane.components import config
from hcp.dataplane.components.config import ConfigError

API = Endpoint("192.168.126.10", 30443)
KONNECTIVITY = Endpoint("konnectivity.example.com", 30132)
IMAGES = {"coredns": "registry.hcp.internal:5000/hcp/coredns:v1.15.0",
          "kube-proxy": "registry.hcp.internal:5000/hcp/kube-proxy:v1.37.1"}


def text(**changes) -> str:
    body = json.loads(config.data(API, KONNECTIVITY, "1.37.1", IMAGES)[config.KEY])
    body.update(changes)
    return json.dumps(body)


def test_what_the_control_plane_writes_the_data_plane_reads_back():
    data = config.data(API, KONNECTIVITY, "1.37.1", IMAGES)
    assert list(data) == [config.KEY] and config.NAME == "hosted-cluster-config"
    parsed = config.parse(data[config.KEY])
    assert parsed == (API, KONNECTIVITY, "1.37.1", IMAGES)
    api_server, konnectivity, version, images = parsed
    assert (api_server, konnectivity, version, dict(images)) == (API, KONNECTIVITY, "1.37.1", IMAGES)


def test_the_document_has_the_agreed_shape_and_is_written_stably():
    assert config.document(API, None, "1.37.1", IMAGES) == {
        "apiServer": {"host": "192.168.126.10", "port": 30443},
        "konnectivity": None,
        "kubernetesVersion": "1.37.1",
        "images": IMAGES,
    }
    reordered = dict(reversed(list(IMAGES.items())))
    assert config.data(API, None, "1.37.1", reordered) == config.data(API, None, "1.37.1", IMAGES)
    assert config.parse(config.data(API, None, "1.37.1", IMAGES)[config.KEY]).konnectivity is None


@pytest.mark.parametrize(("document", "message"), [
    (None, "has no config.json"),
    ("", "has no config.json"),
    ("{", "is not JSON"),
    ("[]", "must be a JSON object"),
    (text(apiServer=None), "apiServer must be an object"),
    (json.dumps({"kubernetesVersion": "1.37.1", "images": {}}), "has no apiServer"),
    (text(apiServer={"host": "", "port": 443}), "apiServer.host"),
    (text(apiServer={"host": "https://a", "port": 443}), "apiServer.host"),
    (text(apiServer={"host": "a", "port": "443"}), "apiServer.port"),
    (text(apiServer={"host": "a", "port": True}), "apiServer.port"),
    (text(apiServer={"host": "a", "port": 0}), "apiServer.port"),
    (text(apiServer={"host": "a", "port": 65536}), "apiServer.port"),
    (text(apiServer={"host": "a", "port": 443, "scheme": "https"}), "apiServer has unknown fields: scheme"),
    (text(konnectivity={"host": "k"}), "konnectivity.port"),
    (text(kubernetesVersion="v1.37.1"), "kubernetesVersion"),
    (text(kubernetesVersion=137), "kubernetesVersion"),
    (text(images=["coredns"]), "images must be an object"),
    (text(images={"coredns": ""}), "images.coredns"),
    (text(images={"coredns": None}), "images.coredns"),
    (text(release="x"), "unknown fields: release"),
])
def test_a_bad_document_is_refused_saying_where(document, message):
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        config.parse(document)


def test_the_producer_cannot_write_what_the_consumer_refuses():
    with pytest.raises(ConfigError, match="apiServer.port"):
        config.document(Endpoint("192.168.126.10", 0), None, "1.37.1", IMAGES)
    with pytest.raises(ConfigError, match="kubernetesVersion"):
        config.data(API, None, "latest", IMAGES)


def test_versions_with_a_pre_release_are_accepted():
    assert config.parse(text(kubernetesVersion="1.38.0-alpha.1")).kubernetes_version == "1.38.0-alpha.1"
