"""`hcp create kubeconfig --ttl`: parsing, capping at the signer's life, and the minted certificate."""

import datetime

import pytest

from hcp.hostedcluster.kube import HostedClusterError
from hcp.hostedcluster.kubeconfig import capped_ttl, parse_ttl
from hcp.pki import new_ca

NOW = datetime.datetime.now(datetime.timezone.utc)


@pytest.mark.parametrize(("text", "expected"), [("10m", datetime.timedelta(minutes=10)),
                                                ("1h30m", datetime.timedelta(hours=1, minutes=30)),
                                                (" 8h ", datetime.timedelta(hours=8))])
def test_a_go_duration_is_a_ttl(text, expected):
    assert parse_ttl(text) == expected


@pytest.mark.parametrize(("text", "fragment"), [("0", "longer than zero"), ("0s", "longer than zero"),
                                                ("abc", "not a duration"), ("-5m", "longer than zero"),
                                                ("", "not a duration")])
def test_a_bad_ttl_is_one_clear_error(text, fragment):
    with pytest.raises(HostedClusterError, match=fragment) as error:
        parse_ttl(text)
    assert "\n" not in str(error.value)


def test_a_ttl_is_capped_at_the_signers_remaining_life():
    signer = new_ca("customer-system-admin-signer").certificate
    remaining = signer.not_valid_after_utc - NOW
    assert capped_ttl(datetime.timedelta(hours=1), signer, NOW) == datetime.timedelta(hours=1)
    assert capped_ttl(datetime.timedelta(days=100000), signer, NOW) == remaining
    with pytest.raises(HostedClusterError, match="expired"):
        capped_ttl(datetime.timedelta(hours=1), signer, signer.not_valid_after_utc + datetime.timedelta(seconds=1))
