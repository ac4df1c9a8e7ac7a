"""Every command has --help with examples; `hcp completion` prints click's completion scripts."""

from __future__ import annotations

import click
import pytest

from hcp.cli.main import cli


def leaves(group: click.Group, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for name, command in group.commands.items():
        found += leaves(command, (*path, name)) if isinstance(command, click.Group) else [(*path, name)]
    return found


OWN = [path for path in leaves(cli) if path[0] in ("create", "destroy", "dump", "backup", "version", "completion")]


@pytest.mark.parametrize("path", OWN, ids=" ".join)
def test_help_has_examples(hcp, path):
    result = hcp(*path, "--help")
    assert result.code == 0, result.err
    assert "Example" in result.out


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion(hcp, shell):
    result = hcp("completion", shell)
    assert result.code == 0, result.err
    assert "_HCP_COMPLETE" in result.out
    assert f"{shell}_complete" in result.out


def test_completion_of_an_unknown_shell(hcp):
    result = hcp("completion", "tcsh")
    assert result.code == 2
    assert result.error.startswith("Error: Invalid value for '{bash|zsh|fish}': 'tcsh' is not one of")
