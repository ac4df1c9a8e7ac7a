"""`python -m hcp.operator`."""

from hcp.operator.main import main

main()
