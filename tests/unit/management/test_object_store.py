import base64
import stat

from hcp.backup.credentials import decode_secret_data, parse_credentials
from hcp.management import object_store, pki
from hcp.management.layout import ClusterConfig, Layout
from cryptography import x509

CONFIG = ClusterConfig(name="t", subnet_index=3)


def test_pki_mints_the_store_certificate_and_keys_once(tmp_path):
    layout = Layout(tmp_path)
    pki.ensure(layout, CONFIG)
    keys = layout.object_store_credentials
    assert stat.S_IMODE(keys.stat().st_mode) == 0o600
    assert stat.S_IMODE((layout.pki_dir / "object-store.key").stat().st_mode) == 0o600
    first = (keys.read_text(), (layout.pki_dir / "object-store.crt").read_bytes())
    pki.ensure(layout, CONFIG)
    assert (keys.read_text(), (layout.pki_dir / "object-store.crt").read_bytes()) == first
    certificate = x509.load_pem_x509_certificate((layout.pki_dir / "object-store.crt").read_bytes())
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert {str(ip) for ip in names.get_values_for_type(x509.IPAddress)} == {"172.30.3.2", "127.0.0.1"}


def test_the_credentials_secret_points_at_the_store_with_the_cluster_ca(tmp_path):
    layout = Layout(tmp_path)
    pki.ensure(layout, CONFIG)
    store = object_store.credentials(layout, CONFIG)
    namespace, secret = object_store.manifests(store)
    assert namespace == {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "hypershift"}}
    assert secret["metadata"]["name"] == "object-store-credentials"
    assert secret["metadata"]["namespace"] == "hypershift"
    files = decode_secret_data(secret["data"])
    assert files["ca.crt"] == (layout.pki_dir / "ca.crt").read_bytes()
    parsed = parse_credentials(files)
    assert parsed.endpoint == "https://172.30.3.2:7070"
    assert parsed == store
    config = object_store.client_config(layout, store)
    assert (config.endpoint, config.region, config.ca_file) == (
        "https://172.30.3.2:7070", "us-east-1", layout.pki_dir / "ca.crt")
    assert object_store.BUCKET == "hcp-backups"
    assert base64.b64decode(secret["data"]["credentials"]).startswith(b"[default]\n")
