"""Kubernetes API access shared by the CLI, the management cluster and the operator."""
