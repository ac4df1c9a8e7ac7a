"""hcp: hosted Kubernetes control planes on a management cluster."""

__version__ = "0.1.0"
