"""Running `hcp` as a user would (through main(), so error lines are as printed) against a fake API server."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from lightkube import KubeConfig

from hcp.cli.main import main
from hcp.hostedcluster import lifecycle
from hcp.hostedcluster.kube import Kube
from hcp.progress import Progress
from tests.unit.cli.fake_api import FakeAPI

GOLDEN = Path(__file__).parent / "golden"
SERVER = "https://fake-api.test:6443"


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str

    @property
    def progress(self) -> list[str]:
        """The progress lines, without their elapsed times."""
        return [line.split("] ", 1)[1] for line in self.err.splitlines() if line.startswith("[")]

    @property
    def error(self) -> str:
        """The last line on stderr: the one error line of a failure."""
        return self.err.splitlines()[-1]


def kubeconfig_text(server: str = SERVER) -> str:
    return (f"apiVersion: v1\nkind: Config\nclusters: [{{name: c, cluster: {{server: '{server}'}}}}]\n"
            f"users: [{{name: u, user: {{token: t}}}}]\ncontexts: [{{name: c, context: {{cluster: c, user: u}}}}]\n"
            f"current-context: c\n")


FIXED_ENCRYPTION_KEY = bytes(range(100, 132))


@pytest.fixture(autouse=True)
def fixed_encryption_key(monkeypatch) -> bytes:
    """The aescbc key `hcp create cluster` generates, fixed to keep goldens stable."""
    from hcp.cli import create
    monkeypatch.setattr(create, "generate_encryption_key", lambda: FIXED_ENCRYPTION_KEY)
    return FIXED_ENCRYPTION_KEY


@pytest.fixture
def api(monkeypatch) -> FakeAPI:
    """The fake API server every command reaches, whatever kubeconfig it is given."""
    fake = FakeAPI()
    config = KubeConfig.from_dict(yaml.safe_load(kubeconfig_text()))
    monkeypatch.setattr(Kube, "from_file", classmethod(lambda cls, path, transport=None: cls(config, fake.transport)))
    return fake


@pytest.fixture
def hcp(tmp_path, monkeypatch):
    """hcp(*args) -> Run, with a kubeconfig in $KUBECONFIG and no embedded cluster in the state dir."""
    kubeconfig = tmp_path / "mgmt.kubeconfig"
    kubeconfig.write_text(kubeconfig_text())
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    monkeypatch.setenv("HCP_STATE_DIR", str(tmp_path / "state"))

    def run(*args: str) -> Run:
        runner = CliRunner()
        with runner.isolation() as (out, err, _):
            monkeypatch.setattr(sys, "argv", ["hcp", *args])
            # Progress's default stream was bound at import; point it at this run's stderr.
            monkeypatch.setattr(Progress.__init__, "__defaults__", (sys.stderr, False))
            try:
                main()
                code = 0
            except SystemExit as exit_:
                code = exit_.code if isinstance(exit_.code, int) else 1
        return Run(code, out.getvalue().decode(), err.getvalue().decode())
    return run


class FakeClock:
    """lifecycle's time: each sleep advances the clock and runs the next step of the fake world."""

    def __init__(self, steps=()):
        self.now = 0.0
        self.steps = list(steps)

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += 10.0
        if self.steps:
            self.steps.pop(0)()


@pytest.fixture
def clock(monkeypatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(lifecycle, "time", fake)
    return fake


def assert_golden(name: str, text: str) -> None:
    """Compare with golden/<name>; UPDATE_GOLDEN=1 rewrites it (review the diff)."""
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(text)
    assert path.exists(), f"{path} is missing; generate it with UPDATE_GOLDEN=1"
    assert text == path.read_text(), f"{name} changed; review the diff and rerun with UPDATE_GOLDEN=1"
