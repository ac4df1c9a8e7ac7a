import pytest

from hcp.api import crds


@pytest.fixture(scope="session")
def crd_by_kind() -> dict[str, dict]:
    return {crd["spec"]["names"]["kind"]: crd for crd in crds()}


@pytest.fixture(scope="session")
def schema_by_kind(crd_by_kind) -> dict[str, dict]:
    return {kind: crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"] for kind, crd in crd_by_kind.items()}
