"""The management cluster a benchmark runs on: a fresh embedded one with the operator, or the caller's."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.integration.conftest import ManagementCluster


@contextmanager
def management_cluster(name: str, state_dir: Path | None) -> Iterator[tuple[ManagementCluster, Path]]:
    """(cluster, scratch dir): with `state_dir` the running management cluster there (operator installed),
    left running; else a new embedded one named `name` with the operator installed, deleted afterwards."""
    work = Path(tempfile.mkdtemp(prefix=f"hcp-bench-{name}-"))
    cluster = ManagementCluster(name, state_dir or work / "state")
    try:
        if state_dir is None:
            cluster.mc("up", "--name", name)
            cluster.hcp("install", "--state-dir", str(cluster.state_dir))
        yield cluster, work
    finally:
        if state_dir is None:
            cluster.mc("delete", check=False)
        shutil.rmtree(work, ignore_errors=True)
