"""Certificates and kubeconfigs."""

from hcp.pki.certs import KeyPair, issue, new_ca, new_service_account_key, renew_at

__all__ = ["KeyPair", "issue", "new_ca", "new_service_account_key", "renew_at"]
