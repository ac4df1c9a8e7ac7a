"""The operator image as built for the cluster: unpacked and run, it imports hcp and its dependencies."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from hcp.images import build
from hcp.images import python_app
from hcp.upstream.images import layer_cache
from hcp.operator.image import operator_image_spec

pytestmark = pytest.mark.integration


def _unpack(image, root: Path) -> None:
    """Lay the image's layers over each other, in order, as a container runtime would."""
    for layer in image.layers:
        with tarfile.open(fileobj=io.BytesIO(layer.data), mode="r:gz") as tar:
            tar.extractall(root, filter="tar")


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("chroot"), reason="needs root and chroot")
def test_operator_image_runs_python_with_hcp_and_its_dependencies(tmp_path):
    spec = operator_image_spec()
    image = build(spec, layer_cache=layer_cache())
    root = tmp_path / "rootfs"
    try:
        _unpack(image, root)
        env = dict(variable.split("=", 1) for variable in spec.env)
        chroot = [shutil.which("chroot"), f"--userspec={spec.user}", str(root)]
        imports = subprocess.run(
            [*chroot, python_app.PYTHON, "-c",
             "import hcp.operator.main, lightkube, cryptography.x509, pydantic, yaml, httpx, ssl; "
             "from hcp.release import supported_versions; print(supported_versions())"],
            capture_output=True, text=True, env=env,
        )
        assert imports.returncode == 0, imports.stderr
        assert imports.stdout.strip().startswith("['1.")
        usage = subprocess.run([*chroot, *spec.entrypoint, "--help"], capture_output=True, text=True, env=env)
        assert "--registry-url" in usage.stdout, usage.stderr
    finally:
        shutil.rmtree(root, ignore_errors=True)
