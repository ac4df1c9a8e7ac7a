"""`python -m hcp.cli`, the same as the `hcp` command."""

from hcp.cli.main import main

main()
