"""Every control-plane pod hcp renders meets the Pod Security `restricted` profile, which its namespace enforces.

The control-plane namespace enforces `restricted` (hcp.controlplane.podsecurity), so a pod template that
does not meet it would be accepted as a Deployment and then never get a pod. Every workload of every
component is held here to tests/unit/pod_security.py's reading of the standard, for single-replica and
highly available control planes, with and without the audit-logs container, an audit webhook, a restore,
kwok, the ignition server and an etcd backup Job; the machines of platform Container, the one exception,
are shown to fail it (so the check is not vacuous, and the exception is deliberate).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from hcp.controlplane.components import COMPONENTS
from hcp.controlplane.podsecurity import namespace_labels
from hcp.controlplane.render import render
from hcp.images import NON_ROOT_ID
from hcp.operator.etcdbackup.job import render_job
from hcp.platforms.container import machine_pod
from tests.unit.controlplane.conftest import HIGHLY_AVAILABLE, SINGLE_REPLICA, make_context, make_hcp
from tests.unit.controlplane.test_audit import WEBHOOK_KUBECONFIG, with_profile, with_spec
from tests.unit.operator.etcdbackup.objects import ETCD_IMAGE, OPERATOR_IMAGE, backup, control_plane
from tests.unit.platforms.test_container import template as machine_template
from tests.unit.pod_security import restricted_violations

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet")


def contexts() -> dict[str, Any]:
    from hcp.controlplane import Endpoint

    single = make_context(make_hcp(SINGLE_REPLICA))
    ha = make_context(make_hcp(HIGHLY_AVAILABLE), Endpoint("api.example.com", 6443),
                      ignition_endpoint=Endpoint("ignition.example.com", 443), operator_image=OPERATOR_IMAGE)
    restore = ha.hcp.model_copy(deep=True)
    restore.spec.etcd.managed.storage.restore_snapshot_url = ["s3://hcp-backups/clusters-example/1765000000.db"]
    container = with_spec(ha, platform={"type": "Container"})
    return {
        "single-replica-kwok": single,
        "highly-available-none": ha,
        "no-audit-logs-container": with_profile(single, "None"),
        "audit-webhook": dataclasses.replace(with_spec(single, auditWebhook={"name": "demo-audit-webhook"}),
                                             audit_webhook_kubeconfig=WEBHOOK_KUBECONFIG),
        "restoring-etcd": dataclasses.replace(ha, hcp=restore),
        "container-platform": container,
        "restart-date": dataclasses.replace(single, restart_date="2025-01-02T03:04:05Z"),
    }


CONTEXTS = contexts()


def pod_templates(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Kind/name -> pod template of every workload, and Pod/name of bare pods."""
    templates = {}
    for obj in objects:
        key = f"{obj['kind']}/{obj['metadata']['name']}"
        if obj["kind"] in WORKLOAD_KINDS:
            templates[key] = obj["spec"]["template"]
        elif obj["kind"] == "Pod":
            templates[key] = obj
    return templates


@pytest.mark.parametrize("case", CONTEXTS)
def test_every_rendered_control_plane_pod_meets_the_restricted_profile(case):
    templates = pod_templates(render(CONTEXTS[case]))
    assert templates, "the render has workloads"
    for key, template in templates.items():
        assert restricted_violations(template["spec"], template.get("metadata")) == [], key


def test_the_cases_cover_every_workload_and_the_optional_containers():
    seen = {(key, c["name"]) for ctx in CONTEXTS.values() for key, template in pod_templates(render(ctx)).items()
            for c in [*template["spec"].get("initContainers", []), *template["spec"]["containers"]]}
    workloads = {f"{kind}/{name}" for component in COMPONENTS for kind, name in component.workloads}
    assert workloads <= {key for key, _ in seen}
    for container in ("audit-logs", "konnectivity-server", "kube-apiserver"):
        assert ("Deployment/kube-apiserver", container) in seen
    assert ("StatefulSet/etcd", "reset-member") in seen
    assert len({name for key, name in seen if key == "StatefulSet/etcd"}) > 2  # the restore's init container too


def test_the_etcd_backup_job_meets_the_restricted_profile():
    job = render_job(backup(), control_plane(), backup_uid="u-1", etcd_image=ETCD_IMAGE, operator_image=OPERATOR_IMAGE)
    template = job["spec"]["template"]
    assert restricted_violations(template["spec"], template["metadata"]) == []


@pytest.mark.parametrize("case", CONTEXTS)
def test_every_control_plane_container_runs_as_the_images_non_root_user(case):
    """No uid from the images is relied on: the pod names 65532, which the etcd and hcp images are built with
    (hcp.upstream.images, hcp.images.python_app) and under which the binary images' files are readable."""
    for key, template in pod_templates(render(CONTEXTS[case])).items():
        context = template["spec"]["securityContext"]
        assert (context["runAsUser"], context["runAsGroup"], context["runAsNonRoot"]) == (NON_ROOT_ID, NON_ROOT_ID, True), key


def test_a_container_machine_is_the_deliberate_exception_and_the_check_sees_why():
    pod = machine_pod("workers-abcde", "clusters-example", machine_template(), "https://ignition", "pin", "node:1")
    problems = restricted_violations(pod["spec"], pod["metadata"])
    assert "node: privileged" in problems and "volume modules: hostPath" in problems
    assert namespace_labels(privileged_machines=True)["pod-security.kubernetes.io/enforce"] == "privileged"
    assert namespace_labels(privileged_machines=False)["pod-security.kubernetes.io/enforce"] == "baseline"
    for privileged in (True, False):
        labels = namespace_labels(privileged_machines=privileged)
        assert labels["pod-security.kubernetes.io/audit"] == labels["pod-security.kubernetes.io/warn"] == "restricted"


@pytest.mark.parametrize(("change", "expected"), [
    (lambda s: s.update(hostNetwork=True), "pod: hostNetwork"),
    (lambda s: s["securityContext"].pop("runAsNonRoot"), "c: runAsNonRoot not true (in the pod or the container)"),
    (lambda s: s["securityContext"].update(runAsUser=0), "pod: runAsUser 0"),
    (lambda s: s["securityContext"].pop("seccompProfile"),
     "c: seccompProfile not RuntimeDefault or Localhost (in the pod or the container)"),
    (lambda s: s["containers"][0]["securityContext"].pop("allowPrivilegeEscalation"),
     "c: allowPrivilegeEscalation not false"),
    (lambda s: s["containers"][0]["securityContext"].update(capabilities={"drop": ["NET_RAW"]}),
     "c: capabilities do not drop ALL"),
    (lambda s: s["containers"][0]["securityContext"]["capabilities"].update(add=["CHOWN"]),
     "c: capabilities added beyond NET_BIND_SERVICE ['CHOWN']"),
    (lambda s: s["containers"][0].update(ports=[{"containerPort": 80, "hostPort": 80}]), "c: hostPort 80"),
    (lambda s: s["volumes"].append({"name": "v", "nfs": {"server": "x", "path": "/"}}), "volume v: type ['nfs']"),
    (lambda s: s["securityContext"].update(sysctls=[{"name": "kernel.msgmax", "value": "1"}]),
     "pod: sysctl kernel.msgmax"),
    (lambda s: s["containers"][0].update(readinessProbe={"httpGet": {"host": "10.0.0.1", "port": 80}}),
     "c: readinessProbe.httpGet.host"),
])
def test_the_check_refuses_what_the_standard_refuses(change, expected):
    spec = {
        "securityContext": {"runAsNonRoot": True, "runAsUser": 1000, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [{"name": "c", "image": "i", "securityContext": {
            "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}}}],
        "volumes": [{"name": "s", "secret": {"secretName": "s"}}],
    }
    assert restricted_violations(spec) == []
    change(spec)
    assert expected in restricted_violations(spec)
