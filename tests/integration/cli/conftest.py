"""The documented CLI flow needs the operator installed on the session's management cluster."""

from __future__ import annotations

import pytest

from tests.integration.conftest import ManagementCluster


@pytest.fixture(scope="module")
def operator(management_cluster: ManagementCluster) -> ManagementCluster:
    """`hcp install` into the session's management cluster (building and pushing the operator image)."""
    management_cluster.hcp("install", "--state-dir", str(management_cluster.state_dir),
                           "--kubeconfig", str(management_cluster.state_dir / "admin.kubeconfig"))
    return management_cluster
