"""`hcp completion bash|zsh|fish`: the shell completion script, as click generates it."""

from __future__ import annotations

import click
from click.shell_completion import get_completion_class

SHELLS = ("bash", "zsh", "fish")


@click.command("completion")
@click.argument("shell", type=click.Choice(SHELLS))
@click.pass_context
def completion(ctx: click.Context, shell: str) -> None:
    """Print the shell completion script for SHELL.

    \b
    Examples:
      eval "$(hcp completion bash)"                 # in ~/.bashrc
      hcp completion zsh > "${fpath[1]}/_hcp"
      hcp completion fish > ~/.config/fish/completions/hcp.fish
    """
    root = ctx.find_root()
    script = get_completion_class(shell)(root.command, {}, "hcp", "_HCP_COMPLETE").source()
    click.echo(script, nl=False)
