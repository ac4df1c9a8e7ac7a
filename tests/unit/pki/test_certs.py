import datetime
import ipaddress

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from hcp.pki import issue, kubeconfig, new_ca, new_service_account_key, renew_at


def test_ca_is_self_signed_and_may_only_sign_leaves():
    ca = new_ca("test-ca")
    cert = ca.certificate
    assert cert.subject == cert.issuer
    constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert constraints.ca and constraints.path_length == 0
    cert.verify_directly_issued_by(cert)


def test_leaf_carries_identity_names_and_usages():
    ca = new_ca("test-ca")
    leaf = issue(ca, "system:node:n1", organizations=("system:nodes",), dns_names=("n1",),
                 ip_addresses=("10.0.0.2",), server=True, client=True).certificate
    leaf.verify_directly_issued_by(ca.certificate)
    assert leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "system:node:n1"
    assert leaf.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "system:nodes"
    sans = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["n1"]
    assert sans.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("10.0.0.2")]
    usages = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert set(usages) == {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH}
    assert leaf.not_valid_after_utc - datetime.datetime.now(datetime.timezone.utc) > datetime.timedelta(days=300)


def test_leaf_needs_a_purpose():
    with pytest.raises(ValueError, match="server, a client"):
        issue(new_ca("ca"), "nobody")


def test_service_account_key_pair_matches():
    pair = new_service_account_key()
    assert b"PUBLIC KEY" in pair.cert_pem
    public = serialization.load_pem_public_key(pair.cert_pem)
    assert pair.private_key().public_key().public_numbers() == public.public_numbers()


def test_kubeconfig_embeds_credentials_and_selects_its_context():
    ca = new_ca("ca")
    creds = issue(ca, "admin", organizations=("system:masters",), client=True)
    document = yaml.safe_load(kubeconfig.render(
        cluster="c1", server="https://10.0.0.2:6443", ca_pem=ca.cert_pem, user="admin", credentials=creds))
    assert document["current-context"] == "c1"
    assert document["clusters"][0]["cluster"]["server"] == "https://10.0.0.2:6443"
    assert document["users"][0]["user"]["client-key-data"]


# Renewal.

T0 = datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc)


def test_renewal_is_due_at_two_thirds_of_the_life():
    ca = new_ca("test-ca")
    leaf = issue(ca, "c", client=True, validity=datetime.timedelta(days=365), now=T0).certificate
    assert leaf.not_valid_before_utc == T0 - datetime.timedelta(minutes=5)
    assert leaf.not_valid_after_utc == T0 + datetime.timedelta(days=365)
    life = datetime.timedelta(days=365, minutes=5)
    assert renew_at(leaf) == T0 - datetime.timedelta(minutes=5) + life * 2 / 3


def test_a_short_validity_is_backdated_by_a_tenth_at_most_so_it_renews_at_about_two_thirds():
    leaf = issue(new_ca("test-ca"), "c", client=True, validity=datetime.timedelta(minutes=3), now=T0).certificate
    assert leaf.not_valid_before_utc == T0 - datetime.timedelta(seconds=18)
    assert leaf.not_valid_after_utc == T0 + datetime.timedelta(minutes=3)
    assert renew_at(leaf) == T0 + datetime.timedelta(seconds=114)  # (180 + 18) * 2/3 - 18


def test_renewal_time_does_not_depend_on_the_clock():
    leaf = issue(new_ca("test-ca"), "c", client=True, validity=datetime.timedelta(hours=3), now=T0).certificate
    assert renew_at(leaf) == renew_at(x509.load_pem_x509_certificate(leaf.public_bytes(serialization.Encoding.PEM)))


def test_a_leaf_may_be_renewed_for_its_key():
    ca = new_ca("test-ca")
    first = issue(ca, "server", server=True)
    renewed = issue(ca, "server", server=True, key_pem=first.key_pem)
    assert renewed.key_pem == first.key_pem
    assert renewed.cert_pem != first.cert_pem


def test_validity_must_be_positive():
    with pytest.raises(ValueError, match="positive"):
        issue(new_ca("ca"), "c", client=True, validity=datetime.timedelta(0))
