"""The kube-apiserver's audit: the policy of each profile, its flags, the audit-logs container and the webhook.

The policies are checked by evaluating them the way kube-apiserver does (the
first rule matching a request sets its level), over requests of every kind
that matter: Secrets must never be logged above Metadata, whatever the profile
or custom rules say.
"""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any

import pytest
import yaml

from hcp.api.v1beta1.clusterconfig import Audit, AuditCustomRule, AuditProfileType
from hcp.controlplane.components.kube_apiserver import adapter
from hcp.controlplane.components.kube_apiserver.audit import audit_policy, logs_anything

LEVELS = ("None", "Metadata", "Request", "RequestResponse")
PROFILES = list(AuditProfileType)


def level(policy: dict[str, Any], *, verb: str, group: str = "", resource: str = "", subresource: str = "",
          path: str = "", user_groups: tuple[str, ...] = ("system:authenticated",)) -> str:
    """The level kube-apiserver's policy checker gives a request: that of the first matching rule, else None."""
    for rule in policy["rules"]:
        if rule.get("userGroups") and not set(rule["userGroups"]) & set(user_groups):
            continue
        if rule.get("verbs") and verb not in rule["verbs"]:
            continue
        if path:
            urls = rule.get("nonResourceURLs")
            if rule.get("resources") or (urls and not any(
                    path == url or (url.endswith("*") and path.startswith(url[:-1])) for url in urls)):
                continue
        else:
            if rule.get("nonResourceURLs"):
                continue
            if rule.get("resources"):
                name = f"{resource}/{subresource}" if subresource else resource
                if not any(entry.get("group", "") == group and name in entry.get("resources", [])
                           for entry in rule["resources"]):
                    continue
        return rule["level"]
    return "None"


READS, WRITES = ("get", "list", "watch"), ("create", "update", "patch", "delete", "deletecollection")
SENSITIVE = [("", "secrets", ""), ("", "serviceaccounts", "token"), ("authentication.k8s.io", "tokenreviews", "")]


def test_the_policy_is_an_audit_k8s_io_v1_policy_without_request_received_or_managed_fields():
    policy = audit_policy(Audit())
    assert policy["apiVersion"] == "audit.k8s.io/v1" and policy["kind"] == "Policy"
    assert policy["omitStages"] == ["RequestReceived"] and policy["omitManagedFields"] is True


@pytest.mark.parametrize("profile", PROFILES)
def test_health_and_discovery_paths_are_never_logged(profile):
    policy = audit_policy(Audit(profile=profile))
    for path in ("/healthz", "/readyz", "/livez", "/version", "/api", "/apis/apps/v1"):
        assert level(policy, verb="get", path=path) == "None"


def test_default_logs_every_request_at_metadata():
    policy = audit_policy(Audit())
    for verb in READS + WRITES:
        for group, resource in (("", "configmaps"), ("", "secrets"), ("apps", "deployments"), ("", "pods")):
            assert level(policy, verb=verb, group=group, resource=resource) == "Metadata"
    assert level(policy, verb="get", path="/metrics") == "Metadata"


def test_write_request_bodies_logs_bodies_of_writes_only():
    policy = audit_policy(Audit(profile=AuditProfileType.WRITE_REQUEST_BODIES))
    for verb in WRITES:
        assert level(policy, verb=verb, resource="configmaps") == "RequestResponse"
        assert level(policy, verb=verb, group="apps", resource="deployments") == "RequestResponse"
    for verb in READS:
        assert level(policy, verb=verb, resource="configmaps") == "Metadata"


def test_all_request_bodies_logs_bodies_of_reads_too():
    policy = audit_policy(Audit(profile=AuditProfileType.ALL_REQUEST_BODIES))
    for verb in READS + WRITES:
        assert level(policy, verb=verb, resource="configmaps") == "RequestResponse"


def test_none_logs_nothing():
    policy = audit_policy(Audit(profile=AuditProfileType.NONE))
    assert {rule["level"] for rule in policy["rules"]} == {"None"}
    for verb in READS + WRITES:
        assert level(policy, verb=verb, resource="secrets") == "None"
        assert level(policy, verb=verb, resource="configmaps") == "None"


def _audits() -> list[Audit]:
    """Every profile, alone and under each custom profile for a group."""
    audits = [Audit(profile=p) for p in PROFILES]
    for top, custom in itertools.product(PROFILES, PROFILES):
        audits.append(Audit(profile=top, custom_rules=[AuditCustomRule(group="auditors", profile=custom)]))
    return audits


def _audit_id(audit: Audit) -> str:
    return "-".join([audit.profile.value, *(rule.profile.value for rule in audit.custom_rules or ())])


@pytest.mark.parametrize("audit", _audits(), ids=_audit_id)
def test_credentials_are_never_logged_above_metadata(audit):
    policy = audit_policy(audit)
    for (group, resource, subresource), verb, users in itertools.product(
            SENSITIVE, READS + WRITES, [("system:authenticated",), ("system:authenticated", "auditors")]):
        found = level(policy, verb=verb, group=group, resource=resource, subresource=subresource, user_groups=users)
        assert LEVELS.index(found) <= LEVELS.index("Metadata"), (group, resource, subresource, verb, users, found)


def test_custom_rules_apply_to_their_group_first_and_in_order():
    audit = Audit(profile=AuditProfileType.DEFAULT, custom_rules=[
        AuditCustomRule(group="bots", profile=AuditProfileType.NONE),
        AuditCustomRule(group="auditors", profile=AuditProfileType.ALL_REQUEST_BODIES),
    ])
    policy = audit_policy(audit)
    assert level(policy, verb="get", resource="configmaps", user_groups=("auditors",)) == "RequestResponse"
    assert level(policy, verb="get", resource="configmaps", user_groups=("bots", "auditors")) == "None"
    assert level(policy, verb="get", resource="configmaps", user_groups=("others",)) == "Metadata"
    assert logs_anything(audit)
    assert not logs_anything(Audit(profile=AuditProfileType.NONE,
                                   custom_rules=[AuditCustomRule(group="x", profile=AuditProfileType.NONE)]))
    assert logs_anything(Audit(profile=AuditProfileType.NONE,
                               custom_rules=[AuditCustomRule(group="x", profile=AuditProfileType.DEFAULT)]))


# The rendering.

def with_spec(ctx, **spec: Any):
    hcp = ctx.hcp.model_validate({**ctx.hcp.model_dump(by_alias=True, exclude_none=True),
                                  "spec": {**ctx.hcp.model_dump(by_alias=True, exclude_none=True)["spec"], **spec}})
    return dataclasses.replace(ctx, hcp=hcp)


def with_profile(ctx, profile: str, **audit: Any):
    return with_spec(ctx, configuration={"apiServer": {"audit": {"profile": profile, **audit}}})


def rendered(ctx) -> dict[str, dict[str, Any]]:
    return {f"{obj['kind']}/{obj['metadata']['name']}": obj for obj in adapter.render(ctx)}


def pod_of(objects) -> dict[str, Any]:
    return objects["Deployment/kube-apiserver"]["spec"]["template"]


def main_args(objects) -> list[str]:
    return next(c for c in pod_of(objects)["spec"]["containers"] if c["name"] == "kube-apiserver")["args"]


def container_names(objects) -> list[str]:
    return [c["name"] for c in pod_of(objects)["spec"]["containers"]]


def config_hash(objects) -> str:
    return pod_of(objects)["metadata"]["annotations"]["component.hypershift.openshift.io/config-hash"]


def test_without_configuration_the_default_profile_is_rendered_with_its_flags(single_ctx):
    objects = rendered(single_ctx)
    policy = yaml.safe_load(objects["ConfigMap/kas-audit-config"]["data"]["policy.yaml"])
    assert policy == audit_policy(Audit())
    args = main_args(objects)
    for flag in ("--audit-policy-file=/etc/kubernetes/audit/policy.yaml",
                 "--audit-log-path=/var/log/kube-apiserver/audit.log", "--audit-log-format=json",
                 "--audit-log-maxsize=10", "--audit-log-maxbackup=1"):
        assert flag in args
    assert not [a for a in args if a.startswith("--audit-webhook")]
    volumes = {v["name"]: v for v in pod_of(objects)["spec"]["volumes"]}
    assert volumes["audit-config"] == {"name": "audit-config", "configMap": {"name": "kas-audit-config"}}
    assert volumes["logs"] == {"name": "logs", "emptyDir": {}}


def test_the_audit_logs_container_follows_the_log_with_a_shell_from_the_release(single_ctx):
    objects = rendered(single_ctx)
    assert container_names(objects) == ["kube-apiserver", "audit-logs", "konnectivity-server"]
    tail = next(c for c in pod_of(objects)["spec"]["containers"] if c["name"] == "audit-logs")
    assert tail["image"] == single_ctx.images["etcd"]
    assert "tail -n +1 -F /var/log/kube-apiserver/audit.log" in tail["command"][-1]
    assert tail["volumeMounts"] == [{"name": "logs", "mountPath": "/var/log/kube-apiserver", "readOnly": True}]


def test_profile_none_keeps_a_policy_of_level_none_and_drops_the_audit_logs_container(single_ctx):
    objects = rendered(with_profile(single_ctx, "None"))
    policy = yaml.safe_load(objects["ConfigMap/kas-audit-config"]["data"]["policy.yaml"])
    assert {rule["level"] for rule in policy["rules"]} == {"None"}
    assert "audit-logs" not in container_names(objects)


@pytest.mark.parametrize("profile", ["WriteRequestBodies", "AllRequestBodies", "None"])
def test_a_new_profile_changes_the_policy_and_the_config_hash_so_the_api_servers_roll(single_ctx, profile):
    before, after = rendered(single_ctx), rendered(with_profile(single_ctx, profile))
    assert after["ConfigMap/kas-audit-config"]["data"] != before["ConfigMap/kas-audit-config"]["data"]
    assert config_hash(after) != config_hash(before)
    assert yaml.safe_load(after["ConfigMap/kas-audit-config"]["data"]["policy.yaml"]) == \
        audit_policy(Audit(profile=AuditProfileType(profile)))


def test_custom_rules_are_rendered(single_ctx):
    objects = rendered(with_profile(single_ctx, "Default",
                                    customRules=[{"group": "auditors", "profile": "AllRequestBodies"}]))
    policy = yaml.safe_load(objects["ConfigMap/kas-audit-config"]["data"]["policy.yaml"])
    assert level(policy, verb="get", resource="configmaps", user_groups=("auditors",)) == "RequestResponse"


WEBHOOK_KUBECONFIG = b"apiVersion: v1\nkind: Config\nclusters: [{name: w, cluster: {server: https://audit.example}}]\n"


def test_an_audit_webhook_mounts_the_copied_secret_and_sends_batches(single_ctx):
    ctx = dataclasses.replace(with_spec(single_ctx, auditWebhook={"name": "demo-audit-webhook"}),
                              audit_webhook_kubeconfig=WEBHOOK_KUBECONFIG)
    objects = rendered(ctx)
    args = main_args(objects)
    assert "--audit-webhook-config-file=/etc/kubernetes/auditwebhook/webhook-kubeconfig" in args
    assert "--audit-webhook-mode=batch" in args
    assert "--audit-webhook-initial-backoff=5s" in args
    volumes = {v["name"]: v for v in pod_of(objects)["spec"]["volumes"]}
    assert volumes["kas-audit-webhook"]["secret"]["secretName"] == "demo-audit-webhook"
    assert volumes["kas-audit-webhook"]["secret"]["items"] == [
        {"key": "webhook-kubeconfig", "path": "webhook-kubeconfig"}]
    main = next(c for c in pod_of(objects)["spec"]["containers"] if c["name"] == "kube-apiserver")
    assert {"name": "kas-audit-webhook", "mountPath": "/etc/kubernetes/auditwebhook"} in main["volumeMounts"]
    # The kubeconfig may hold a client key: only a digest of it goes into the pod template.
    assert "audit.example" not in yaml.safe_dump(objects["Deployment/kube-apiserver"])
    changed = rendered(dataclasses.replace(ctx, audit_webhook_kubeconfig=WEBHOOK_KUBECONFIG + b"# new\n"))
    assert config_hash(changed) != config_hash(objects)


def test_an_audit_webhook_whose_secret_was_not_copied_is_a_render_error(single_ctx):
    from hcp.controlplane.context import RenderError

    ctx = with_spec(single_ctx, auditWebhook={"name": "demo-audit-webhook"})
    with pytest.raises(RenderError, match="audit webhook Secret demo-audit-webhook"):
        adapter.render(ctx)
