"""The image of the embedded monitoring's Prometheus (spec only: nothing is built) and that it is published with
the other component images, by `hcp management-cluster up` and `hcp release publish --registry` alike."""

from hcp.images import NON_ROOT_ID
from hcp.release.payload import COMPONENTS
from hcp.upstream import binaries, images


def test_prometheus_is_a_from_scratch_image_of_the_binary_run_as_the_non_root_user():
    image = images.image("hcp/prometheus")
    assert image.version() == binaries.TOOLSETS["prometheus"].version == "v0.316.0"
    assert image.entrypoint == (f"{images.BIN}/prometheus",) and image.cmd == ()
    assert image.user == f"{NON_ROOT_ID}:{NON_ROOT_ID}"
    assert image.ref.on("reg.example") == "reg.example/hcp/prometheus:v0.316.0"
    assert "prometheus" not in COMPONENTS  # the management cluster's, not a hosted cluster's


class EmptyRegistry:
    """A registry that holds nothing yet: every image is pushed."""

    def has_manifest(self, name, tag):
        return False

    def push(self, image):
        return f"sha256:{image}"


def building(monkeypatch) -> list[str]:
    """The repositories images.build is asked for, without building anything."""
    built: list[str] = []
    monkeypatch.setattr(images, "build", lambda spec, layer_cache=None: built.append(spec.name) or spec.name)
    monkeypatch.setattr(images.ComponentImage, "spec", lambda self: type("Spec", (), {"name": self.repository})())
    return built


def test_publish_pushes_prometheus_with_the_other_component_images(monkeypatch):
    """images.publish iterates IMAGES: both `management-cluster up` and `release publish` call it."""
    built = building(monkeypatch)
    digests = images.publish(EmptyRegistry())
    assert f"hcp/prometheus:{binaries.TOOLSETS['prometheus'].version}" in digests
    assert "hcp/prometheus" in built and "hcp/metrics-server" in built


def test_publish_can_be_limited_to_some_repositories(monkeypatch):
    """`hcp install` on the embedded cluster pushes Prometheus's image alone if the registry lacks it."""
    built = building(monkeypatch)
    assert list(images.publish(EmptyRegistry(), only=("hcp/prometheus",))) == [
        f"hcp/prometheus:{binaries.TOOLSETS['prometheus'].version}"]
    assert built == ["hcp/prometheus"]
