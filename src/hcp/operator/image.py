"""The operator's image: Debian's Python, hcp's pinned dependencies, hcp, and the version pins.

The go.mod files of tools/ ride along (a few KiB) so that the operator
knows the supported Kubernetes versions from the same pins that built the
binaries, with no second list to keep in step.
"""

from __future__ import annotations

import dataclasses

from hcp import __version__
from hcp.images import File, ImageSpec, RegistryClient, build
from hcp.images.python_app import PYTHON, python_app_image, runtime_requirements
from hcp.upstream.binaries import TOOLS_DIR
from hcp.upstream.images import layer_cache

REPOSITORY = "hcp/operator"
IMAGE_TOOLS_DIR = "/opt/hcp/tools"


def operator_image_spec() -> ImageSpec:
    project = TOOLS_DIR.parent
    spec = python_app_image(
        REPOSITORY, __version__,
        requirements=runtime_requirements(project / "requirements.lock", project),
        project_dir=project,
        entrypoint=(PYTHON, "-m", "hcp.operator"),
    )
    pins = tuple(
        File(f"{IMAGE_TOOLS_DIR}/{go_mod.parent.name}/{go_mod.name}", source=go_mod, mode=0o644)
        for go_mod in sorted(TOOLS_DIR.glob("*/go.mod"))
    )
    return dataclasses.replace(spec, layers=(*spec.layers, pins), env=(*spec.env, f"HCP_TOOLS_DIR={IMAGE_TOOLS_DIR}"))


def publish_operator_image(client: RegistryClient, registry: str) -> str:
    """Build and push the operator image; returns its pull spec pinned by digest, so new content rolls out."""
    image = build(operator_image_spec(), layer_cache=layer_cache())
    digest = client.push(image)
    return f"{registry}/{REPOSITORY}:{image.spec.tag}@{digest}"
