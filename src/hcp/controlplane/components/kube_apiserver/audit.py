"""The kube-apiserver's audit policy: spec.configuration.apiServer.audit as an audit.k8s.io/v1 Policy.

The profiles mean what they mean on an OpenShift cluster (openshift/api's
config/v1 AuditProfileType, rendered by library-go's audit package), so a
procedure written for OpenShift's profiles reads the same log here:

- every profile starts with the same rules: no events for the health and
  discovery endpoints (`/healthz`, `/readyz`, `/livez`, `/version`, `/api*`),
  no RequestReceived stage, no managedFields in the objects logged;
- Default logs every request at Metadata (who, what, when, the response
  code; never a body);
- WriteRequestBodies logs the request and response bodies of writes, and
  AllRequestBodies those of every request, both except for the resources
  whose bodies hold credentials, which stay at Metadata in every profile:
  Secrets, ServiceAccount token requests (`serviceaccounts/token`) and
  TokenReviews;
- None logs nothing;
- each customRules entry applies its profile's rules to the members of its
  group, before the top-level profile's (first match wins).

OpenShift's profiles also carry rules for resources that exist only in
OpenShift (OAuth tokens and clients, identities, routes, machine configs,
apirequestcounts); a hosted cluster here is upstream Kubernetes, so they are
left out: they could never match a request. ConfigMaps are not among the
sensitive resources in OpenShift either, so their bodies are logged by the
body profiles; credentials belong in Secrets.
"""

from __future__ import annotations

from typing import Any

import yaml

from hcp.api.v1beta1.clusterconfig import Audit, AuditProfileType
from hcp.controlplane.context import RenderContext

WRITE_VERBS = ("create", "update", "patch", "delete", "deletecollection")
"""The verbs WriteRequestBodies logs with their bodies (OpenShift's list)."""

SENSITIVE_RESOURCES: tuple[dict[str, Any], ...] = (
    {"group": "", "resources": ["secrets", "serviceaccounts/token"]},
    {"group": "authentication.k8s.io", "resources": ["tokenreviews"]},
)
"""Resources whose request or response bodies carry credentials: never logged above Metadata."""

UNAUDITED_PATHS = ("/api*", "/version", "/healthz", "/readyz", "/livez")
"""Non-resource paths polled by probes and discovery: too frequent and too dull to log."""


def audit_config(ctx: RenderContext) -> Audit:
    """spec.configuration.apiServer.audit, or the Default profile when any part of it is unset."""
    configuration = ctx.hcp.spec.configuration
    api_server = configuration.api_server if configuration else None
    return api_server.audit if api_server else Audit()


def profile_rules(profile: AuditProfileType) -> list[dict[str, Any]]:
    """The rules of one profile, first match wins; a fresh list on every call (callers add userGroups)."""
    catch_all_metadata = {"level": "Metadata", "omitStages": ["RequestReceived"]}
    sensitive = {"level": "Metadata", "resources": [dict(group) for group in SENSITIVE_RESOURCES]}
    if profile == AuditProfileType.NONE:
        return [{"level": "None"}]
    if profile == AuditProfileType.WRITE_REQUEST_BODIES:
        return [sensitive, {"level": "RequestResponse", "verbs": list(WRITE_VERBS)}, catch_all_metadata]
    if profile == AuditProfileType.ALL_REQUEST_BODIES:
        return [sensitive, {"level": "RequestResponse"}]
    return [catch_all_metadata]


def audit_policy(audit: Audit) -> dict[str, Any]:
    """The Policy for an Audit: the common rules, each customRules entry's for its group, then the profile's."""
    rules: list[dict[str, Any]] = [
        {"level": "None", "userGroups": ["system:authenticated", "system:unauthenticated"],
         "nonResourceURLs": list(UNAUDITED_PATHS)},
    ]
    for custom in audit.custom_rules or ():
        rules += [{**rule, "userGroups": [custom.group]} for rule in profile_rules(custom.profile)]
    rules += profile_rules(audit.profile)
    return {
        "apiVersion": "audit.k8s.io/v1",
        "kind": "Policy",
        "omitManagedFields": True,
        "omitStages": ["RequestReceived"],
        "rules": rules,
    }


def logs_anything(audit: Audit) -> bool:
    """Whether the policy can record any event: not when the profile and every custom rule are None."""
    profiles = [audit.profile, *(custom.profile for custom in audit.custom_rules or ())]
    return any(profile != AuditProfileType.NONE for profile in profiles)


def policy_yaml(audit: Audit) -> str:
    return yaml.safe_dump(audit_policy(audit), sort_keys=False)
