import base64
import os
from pathlib import Path

import pytest

from hcp.backup.credentials import (
    CredentialsError,
    S3Credentials,
    credentials_secret,
    decode_secret_data,
    parse_credentials,
    read_credentials_dir,
    render_credentials_file,
)

CA = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def test_the_secret_round_trips_keys_endpoint_and_ca():
    credentials = S3Credentials("hcp-1234", "s3cr3t-value", "https://172.30.1.2:7070", CA)
    secret = credentials_secret("object-store-credentials", "hypershift", credentials,
                                labels={"app.kubernetes.io/managed-by": "hcp"})
    assert secret["metadata"] == {"name": "object-store-credentials", "namespace": "hypershift",
                                  "labels": {"app.kubernetes.io/managed-by": "hcp"}}
    assert secret["type"] == "Opaque" and set(secret["data"]) == {"credentials", "ca.crt"}
    files = decode_secret_data(secret["data"])
    assert files["credentials"].decode() == (
        "[default]\naws_access_key_id = hcp-1234\naws_secret_access_key = s3cr3t-value\n"
        "endpoint_url = https://172.30.1.2:7070\n")
    assert parse_credentials(files) == credentials
    assert "s3cr3t" not in repr(credentials)


def test_aws_s3_needs_no_endpoint_and_no_ca():
    text = "[default]\naws_access_key_id=AKIAEXAMPLE\naws_secret_access_key = abc/def+ghi\nregion = eu-west-1\n"
    parsed = parse_credentials({"credentials": text.encode()})
    assert parsed == S3Credentials("AKIAEXAMPLE", "abc/def+ghi")
    config = parsed.s3_config("eu-west-1")
    assert (config.endpoint, config.region, config.ca_file) == (None, "eu-west-1", None)


def test_a_ca_goes_to_the_client_as_a_file(tmp_path):
    parsed = parse_credentials({"credentials": render_credentials_file("a", "b", "https://s3.local:9000").encode(),
                                "ca.crt": CA})
    with pytest.raises(CredentialsError, match="no file holds it"):
        parsed.s3_config("us-east-1")
    config = parsed.s3_config("us-east-1", tmp_path / "ca.crt")
    assert (config.endpoint, config.ca_file) == ("https://s3.local:9000", tmp_path / "ca.crt")


@pytest.mark.parametrize(("files", "message"), [
    ({}, "has no key 'credentials'"),
    ({"credentials": b"arn:aws:iam::123456789012:role/backup"}, "IAM role ARN"),
    ({"credentials": b"aws_access_key_id = x\n"}, "is not an AWS credentials file"),
    ({"credentials": b"[prod]\naws_access_key_id = x\naws_secret_access_key = y\n"},
     r"has no \[default\] profile \(profiles: prod\)"),
    ({"credentials": b"[default]\naws_access_key_id = x\n"}, "has no aws_secret_access_key"),
    ({"credentials": b"[default]\naws_access_key_id = x\naws_secret_access_key = y\naws_session_token = z\n"},
     "aws_session_token"),
    ({"credentials": b"[default]\naws_access_key_id = x\naws_secret_access_key = y\nendpoint_url = s3.local\n"},
     "is not an S3 endpoint URL"),
    ({"credentials": render_credentials_file("x", "y", "https://h").encode(), "ca.crt": b"junk"},
     "holds no PEM certificate"),
])
def test_unusable_secrets_are_one_clear_error(files, message):
    with pytest.raises(CredentialsError, match=message) as error:
        parse_credentials(files, where="Secret hypershift/s3")
    assert str(error.value).startswith("Secret hypershift/s3")
    assert "y\n" not in str(error.value)


def test_secret_data_is_base64():
    assert decode_secret_data({"a": base64.b64encode(b"x").decode()}) == {"a": b"x"}
    with pytest.raises(CredentialsError, match="not base64"):
        decode_secret_data({"a": "%%%"})


def test_a_mounted_secret_volume_is_read_by_key(tmp_path):
    # How kubelet lays out a Secret volume: keys are links into a hidden, timestamped directory.
    data = tmp_path / "..2026_01_01_00_00_00.1"
    data.mkdir()
    (data / "credentials").write_text(render_credentials_file("a", "b"))
    (data / "ca.crt").write_bytes(CA)
    os.symlink(data.name, tmp_path / "..data")
    for key in ("credentials", "ca.crt"):
        os.symlink(Path("..data") / key, tmp_path / key)
    assert read_credentials_dir(tmp_path) == {"ca.crt": CA, "credentials": render_credentials_file("a", "b").encode()}
