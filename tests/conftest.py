"""The order the suite runs in: unit tests first, then the integration modules longest first.

`make test` runs the suite on pytest-xdist workers with `--dist loadfile
--no-loadscope-reorder`: each module goes whole to one worker (its
module-scoped hosted clusters stay there; each worker has its own session
management cluster), and modules are handed out in this order as workers
free up. The unit tests (seconds) come first so that a broken build shows at
once; the integration modules follow longest first, so that the longest ones
start early and the short ones fill in at the end and the workers finish
together (longest-processing-time-first scheduling). Run serially, the order
is the same and changes nothing else.
"""

from __future__ import annotations

import pytest

EXPECTED_SECONDS = {
    # Measured: each module's setup, calls and teardown (its hosted clusters; the first module on a worker
    # also brings up the worker's management cluster) in a run on 4 workers of this 2-core machine
    # (2026-12-07, 21 min 37 s; test_migrate, test_install_anywhere and test_nodepool as of a later run of 20 min
    # 58 s, test_oidc, test_revocation and test_monitoring since hcp.kube.refresh); only their order matters. A
    # module missing here counts DEFAULT_SECONDS.
    "tests/integration/test_real_nodes.py": 835,
    "tests/integration/test_monitoring.py": 280,
    "tests/integration/backup/test_cluster_backup.py": 285,
    "tests/integration/nodepool/test_nodepool.py": 350,
    "tests/integration/test_oidc.py": 150,
    "tests/integration/test_etcd_backup.py": 225,
    "tests/integration/test_install_anywhere.py": 310,
    "tests/integration/test_revocation.py": 90,
    "tests/integration/test_control_plane_update.py": 205,
    "tests/integration/test_certificate_renewal.py": 185,
    "tests/integration/test_tenancy.py": 185,
    "tests/integration/backup/test_migrate.py": 355,
    "tests/integration/test_management_logs.py": 155,
    "tests/integration/nodepool/test_rollout.py": 145,
    "tests/integration/test_management_cluster.py": 135,
    "tests/integration/test_hosted_control_plane.py": 115,
    "tests/integration/test_audit.py": 110,
    "tests/integration/test_console.py": 100,
    "tests/integration/cli/test_documented_flow.py": 95,
    "tests/integration/test_unschedulable.py": 85,
    "tests/integration/test_operator_metrics.py": 60,
    "tests/integration/cli/test_create_atomic.py": 60,
    "tests/integration/test_operator_privileges.py": 50,
    "tests/integration/test_isolation.py": 50,
    "tests/integration/test_node_identity.py": 50,
    "tests/integration/test_capacity.py": 45,
    "tests/integration/test_api_fidelity.py": 40,
    "tests/integration/test_unmanaged_etcd.py": 35,
    "tests/integration/test_operator_image.py": 35,
    "tests/integration/backup/test_storage.py": 30,
    "tests/integration/kube/test_runtime.py": 25,
    "tests/integration/test_admission_property.py": 15,
    "tests/integration/test_personas.py": 15,
    "tests/integration/test_admission.py": 5,
}
DEFAULT_SECONDS = 60


def _module(item: pytest.Item, config: pytest.Config) -> str:
    return item.path.relative_to(config.rootpath).as_posix()


def _rank(module: str) -> tuple[int, int]:
    if module.startswith("tests/unit/"):
        return (0, 0)
    return (1, -EXPECTED_SECONDS.get(module, DEFAULT_SECONDS))


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Sort whole modules (a stable sort: each module's tests keep their order and stay together)."""
    items.sort(key=lambda item: _rank(_module(item, config)))
