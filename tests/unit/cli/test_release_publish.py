"""`hcp release publish`: how credentials are given, and that a registry that cannot be used fails before any
build, in one line, without the password."""

from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

from hcp.cli.main import cli
from hcp.cli.release import credentials
from hcp.images import Credentials, RegistryError, RegistryLocation
from hcp.images.credentials import docker_config_json

LOCATION = RegistryLocation.parse("reg.example:5443/team")


def test_a_login_comes_from_stdin_the_environment_or_a_docker_config(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "stdin", type("In", (), {"readline": lambda self: "from-stdin\n"})())
    assert credentials(LOCATION, "ci", True, None, None) == Credentials("ci", "from-stdin")
    assert credentials(LOCATION, "ci", False, "from-env", None) == Credentials("ci", "from-env")
    config = tmp_path / "config.json"
    config.write_bytes(docker_config_json("reg.example:5443", Credentials("bot", "pw")))
    assert credentials(LOCATION, None, False, None, config) == Credentials("bot", "pw")
    assert credentials(LOCATION, None, False, None, None) is None


def test_half_a_login_is_a_usage_error():
    runner = CliRunner()
    result = runner.invoke(cli, ["release", "publish", "--registry", "reg.example", "--username", "ci"])
    assert result.exit_code == 2 and "needs a password" in result.output
    result = runner.invoke(cli, ["release", "publish", "--registry", "http://reg.example"])
    assert result.exit_code == 2 and "TLS" in result.output


def test_an_unreachable_registry_fails_before_anything_is_built():
    result = CliRunner().invoke(cli, ["release", "publish", "--registry", "127.0.0.1:9"],
                                env={"HCP_REGISTRY_PASSWORD": ""})
    assert isinstance(result.exception, RegistryError)
    assert "cannot reach registry https://127.0.0.1:9" in str(result.exception)


def test_the_command_line_error_is_one_line_and_never_the_password():
    result = subprocess.run(
        [sys.executable, "-m", "hcp.cli", "release", "publish", "--registry", "127.0.0.1:9", "--username", "ci"],
        env={"HCP_REGISTRY_PASSWORD": "top-secret-pw", "PATH": "/usr/bin:/bin",
             "PYTHONPATH": ":".join(p for p in sys.path if p)},
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 1, result.stderr
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: cannot reach registry")
    assert "top-secret-pw" not in result.stdout + result.stderr
