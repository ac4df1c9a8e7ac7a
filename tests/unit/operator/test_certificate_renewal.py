"""What the HostedCluster controller does for certificate renewal: pass the validity annotation on, and come
back for the renewed admin kubeconfig."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hcp.api import to_dict
from hcp.operator.hostedcluster import KUBECONFIG_RENEWAL_DELAY, PROGRESS_RECHECK, control_plane_manifest, \
    kubeconfig_recheck
from hcp.pki import issue, kubeconfig, new_ca
from tests.unit.operator import test_validation

T0 = datetime(2030, 1, 1, tzinfo=UTC)


def manifest(annotations: dict[str, str]) -> dict:
    hc = test_validation.hosted_cluster()
    hc.metadata.annotations = annotations
    hc.metadata.uid = "0000-1111"
    return control_plane_manifest(hc, to_dict(hc.spec), "clusters-demo")


def test_the_validity_annotation_is_passed_to_the_hosted_control_plane():
    annotations = manifest({"hcp.io/certificate-validity": "10m", "unrelated": "x"})["metadata"]["annotations"]
    assert annotations["hcp.io/certificate-validity"] == "10m"
    assert "unrelated" not in annotations
    assert "hcp.io/certificate-validity" not in manifest({})["metadata"]["annotations"]


def admin_kubeconfig(validity: timedelta) -> bytes:
    ca = new_ca("root-ca")
    credentials = issue(ca, "system:admin", organizations=("system:masters",), client=True, validity=validity, now=T0)
    return kubeconfig.render(cluster="demo", server="https://192.168.126.10:30443", ca_pem=ca.cert_pem,
                             user="system:admin", credentials=credentials).encode()


def test_a_pass_comes_back_just_after_the_admin_kubeconfig_is_due_for_renewal():
    document = admin_kubeconfig(timedelta(minutes=3))  # renewal due at T0 + 114 s
    assert kubeconfig_recheck(document, T0) == 114 + KUBECONFIG_RENEWAL_DELAY


def test_while_the_renewed_kubeconfig_is_not_there_yet_it_looks_again_shortly():
    document = admin_kubeconfig(timedelta(minutes=3))
    assert kubeconfig_recheck(document, T0 + timedelta(minutes=2)) == PROGRESS_RECHECK


def test_nothing_to_come_back_for_without_a_kubeconfig():
    assert kubeconfig_recheck(None, T0) is None
    assert kubeconfig_recheck(b"not: a kubeconfig", T0) is None
