"""Updating a hosted control plane (docs 6): 1.36 -> 1.37 in order, with the API serving; downgrades refused
unless forced with hypershift.openshift.io/force-upgrade-to.

A highly available control plane (3 etcd members, 3 API servers) is updated
while a client reads from the hosted API twice a second: no request fails, the
HostedCluster stays Available, kube-controller-manager is updated only after
kube-apiserver has rolled out, and the history records both releases.
"""

from __future__ import annotations

import json
import time

import pytest

from hcp.upstream import binaries
from tests.integration.caller import Caller
from tests.integration.conftest import ManagementCluster, hosted_cluster_manifest, remove_hosted_cluster, wait_for
from tests.integration.nodepool.conftest import release_image

pytestmark = pytest.mark.integration

NAMESPACE = "updates"
NAME = "ha"
CONTROL_PLANE = f"{NAMESPACE}-{NAME}"
OLD = binaries.TOOLSETS["kubernetes-1.36"].version.lstrip("v")
NEW = binaries.TOOLSETS["kubernetes"].version.lstrip("v")


def hosted_cluster(cluster: ManagementCluster) -> dict:
    return json.loads(cluster.kubectl("get", "hostedcluster", NAME, "-n", NAMESPACE, "-o", "json").stdout)


def condition(hc: dict, type_: str) -> dict:
    return next((c for c in hc.get("status", {}).get("conditions", []) if c["type"] == type_), {})


def completed(cluster: ManagementCluster, version: str) -> bool:
    history = hosted_cluster(cluster).get("status", {}).get("version", {}).get("history") or [{}]
    return history[0].get("version") == version and history[0].get("state") == "Completed"


def image_of(cluster: ManagementCluster, kind: str, name: str) -> str:
    return cluster.kubectl("get", kind, name, "-n", CONTROL_PLANE, "-o",
                           "jsonpath={.spec.template.spec.containers[0].image}").stdout


def rolled_out(cluster: ManagementCluster, name: str) -> bool:
    return cluster.kubectl("rollout", "status", f"deployment/{name}", "-n", CONTROL_PLANE, "--timeout=1s",
                           check=False).returncode == 0


def set_channel(cluster: ManagementCluster, channel: str) -> None:
    cluster.kubectl("patch", "hostedcluster", NAME, "-n", NAMESPACE, "--type=merge",
                    "-p", json.dumps({"spec": {"channel": channel}}))


def check_channels(cluster: ManagementCluster) -> None:
    """spec.channel filters availableUpdates (OpenShift's channel meaning), and a channel without the
    current version says so in ClusterVersionRetrievedUpdates."""
    old_minor, new_minor = OLD.rsplit(".", 1)[0], NEW.rsplit(".", 1)[0]

    def offered_and_retrieved() -> tuple[list[str], dict]:
        hc = hosted_cluster(cluster)
        offered = [u["version"] for u in hc["status"]["version"].get("availableUpdates") or []]
        return offered, condition(hc, "ClusterVersionRetrievedUpdates")

    set_channel(cluster, f"stable-{old_minor}")  # only patches of the current minor: none newer published
    wait_for(lambda: offered_and_retrieved()[0] == [], 60, f"stable-{old_minor} offers nothing")
    assert offered_and_retrieved()[1]["status"] == "True"
    set_channel(cluster, "stable-9.99")
    wait_for(lambda: offered_and_retrieved()[1].get("reason") == "VersionNotFound", 60, "VersionNotFound")
    assert f"version {OLD} not found in the 'stable-9.99' channel" in offered_and_retrieved()[1]["message"]
    assert offered_and_retrieved()[0] == []
    set_channel(cluster, f"fast-{new_minor}")
    wait_for(lambda: offered_and_retrieved()[0] == [NEW], 60, f"fast-{new_minor} offers {NEW}")
    assert offered_and_retrieved()[1]["status"] == "True"


def set_release(cluster: ManagementCluster, toolset: str) -> str:
    image = release_image(cluster, toolset)
    cluster.kubectl("patch", "hostedcluster", NAME, "-n", NAMESPACE, "--type=merge",
                    "-p", json.dumps({"spec": {"release": {"image": image}}}))
    return image


def test_ha_update_in_order_without_failed_requests_and_a_refused_then_forced_downgrade(operator_installed,
                                                                                         tmp_path):
    cluster = operator_installed
    manifest = hosted_cluster_manifest(cluster, NAME, NAMESPACE, release=release_image(cluster, "kubernetes-1.36"),
                                       policy="HighlyAvailable")
    cluster.kubectl("apply", "-f", "-", input=manifest)
    caller = None
    try:
        cluster.kubectl("wait", "-n", NAMESPACE, f"hostedcluster/{NAME}", "--for=condition=Available",
                        "--timeout=600s", timeout=700)
        wait_for(lambda: completed(cluster, OLD), 120, f"history Completed {OLD}")
        offered = hosted_cluster(cluster)["status"]["version"].get("availableUpdates") or []
        assert [u["version"] for u in offered] == [NEW]
        assert offered[0]["image"] == release_image(cluster, "kubernetes")
        check_channels(cluster)

        kubeconfig = tmp_path / "admin.kubeconfig"
        kubeconfig.write_text(cluster.kubectl("get", "secret", f"{NAME}-admin-kubeconfig", "-n", NAMESPACE, "-o",
                                              "go-template={{.data.kubeconfig | base64decode}}").stdout)
        kubeconfig.chmod(0o600)
        caller = Caller(str(kubeconfig))
        caller.start()

        set_release(cluster, "kubernetes")
        kcm_changed = False
        kas_first: bool | None = None
        unavailable: list[str] = []

        def observe() -> bool:
            nonlocal kcm_changed, kas_first
            if not kcm_changed and NEW in image_of(cluster, "deployment", "kube-controller-manager"):
                kcm_changed = True
                # Looked at only after kube-controller-manager's change was seen: kube-apiserver, updated
                # first, must have rolled out by then. (Timing each from the polls instead raced: one poll
                # could find kube-apiserver still rolling and, a kubectl call later, the new kcm.)
                kas_first = NEW in image_of(cluster, "deployment", "kube-apiserver") \
                    and rolled_out(cluster, "kube-apiserver")
            hc = hosted_cluster(cluster)
            if condition(hc, "Available").get("status") != "True":
                unavailable.append(condition(hc, "Available").get("message", ""))
            return completed(cluster, NEW)

        wait_for(observe, 600, f"the control plane updated to {NEW}")
        caller.stop.set()
        caller.join(10)
        print(f"hosted API calls during the update: {caller.calls}, failed: {len(caller.failures)}")
        assert kcm_changed
        assert kas_first, "kube-controller-manager was updated before kube-apiserver had rolled out"
        assert not caller.failures, f"{len(caller.failures)} of {caller.calls} calls failed: {caller.failures[:3]}"
        assert not unavailable, f"the HostedCluster was not Available during the update: {unavailable}"
        history = hosted_cluster(cluster)["status"]["version"]["history"]
        assert [(h["version"], h["state"]) for h in history[:2]] == [(NEW, "Completed"), (OLD, "Completed")]

        # A downgrade is refused with a condition, and the control plane stays where it is.
        older = set_release(cluster, "kubernetes-1.36")
        refused = wait_for(lambda: condition(hosted_cluster(cluster), "ValidReleaseImage").get("status") == "False"
                           and condition(hosted_cluster(cluster), "ValidReleaseImage"), 60, "ValidReleaseImage False")
        assert refused["reason"] == "UnsupportedUpdate"
        assert f"downgrading from {NEW} to {OLD} is not supported" in refused["message"]
        assert "hypershift.openshift.io/force-upgrade-to" in refused["message"]
        time.sleep(10)
        assert NEW in image_of(cluster, "deployment", "kube-apiserver")
        assert completed(cluster, NEW)

        # Forced, as the refusal says: the control plane goes to the requested release.
        cluster.kubectl("annotate", "hostedcluster", NAME, "-n", NAMESPACE,
                        f"hypershift.openshift.io/force-upgrade-to={older}")
        wait_for(lambda: completed(cluster, OLD), 600, f"the forced move to {OLD}")
        assert condition(hosted_cluster(cluster), "ValidReleaseImage")["status"] == "True"
    finally:
        if caller is not None:
            caller.stop.set()
        remove_hosted_cluster(cluster, NAMESPACE, NAME)
