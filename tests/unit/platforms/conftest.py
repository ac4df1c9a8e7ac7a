"""The control-plane render contexts, shared with the control-plane tests."""

from tests.unit.controlplane.conftest import single_ctx  # noqa: F401
