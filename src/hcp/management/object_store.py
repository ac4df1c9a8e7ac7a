"""The embedded management cluster's S3 object store, as its users see it: a bucket and a credentials Secret.

The store itself is a host process (hcp.management.host_processes, versitygw with TLS from
the cluster CA and root keys minted once in the state dir). Once it is healthy, `up` makes
the default bucket `hcp-backups` and applies Secret `hypershift/object-store-credentials`,
the Secret an HCPEtcdBackup's `spec.storage.s3.credentials` names: HyperShift's AWS
credentials file with the store's `endpoint_url`, and the cluster CA in `ca.crt`
(hcp.backup.credentials). Pods and the host reach the store at the same URL, the node's
address (ClusterConfig.object_store_url).
"""

from __future__ import annotations

from hcp.backup import objectstore
from hcp.backup.credentials import S3Credentials, credentials_secret
from hcp.backup.storage import DEFAULT_REGION, S3Config, S3Storage
from hcp.management.layout import ClusterConfig, Layout
from hcp.operator.install import NAMESPACE

SECRET_NAME = "object-store-credentials"
"""In the operator's namespace, where HyperShift looks for an HCPEtcdBackup's credentials Secret."""
BUCKET = objectstore.DEFAULT_BUCKET
REGION = DEFAULT_REGION
LABELS = {"app.kubernetes.io/managed-by": "hcp", "app.kubernetes.io/component": "object-store"}


def credentials(layout: Layout, config: ClusterConfig) -> S3Credentials:
    """The store's root keys, endpoint and CA (`up` has minted them: hcp.management.pki)."""
    root = objectstore.load_or_create_credentials(layout.object_store_credentials)
    return S3Credentials(root.access_key, root.secret_key, config.object_store_url,
                         (layout.pki_dir / "ca.crt").read_bytes())


def manifests(store: S3Credentials) -> list[dict]:
    """The operator's namespace and the credentials Secret in it (pure)."""
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}
    return [namespace, credentials_secret(SECRET_NAME, NAMESPACE, store, labels=LABELS)]


def client_config(layout: Layout, store: S3Credentials) -> S3Config:
    """How the host reaches the store: its endpoint, trusting the cluster CA."""
    return store.s3_config(REGION, layout.pki_dir / "ca.crt")


def ensure_bucket(layout: Layout, store: S3Credentials) -> None:
    """Make the default bucket if it is not there (raises StorageError with the reason)."""
    S3Storage(client_config(layout, store), BUCKET).create_bucket()
