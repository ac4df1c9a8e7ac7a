"""The hcp command."""
