"""The Pod Security Standards level of control-plane namespaces: the labels Pod Security admission reads.

Every control-plane pod hcp renders meets the `restricted` profile (component.adapt_pod gives each the
settings it asks for: non-root uid 65532, RuntimeDefault seccomp, no privilege escalation, every
capability dropped, only Secret, ConfigMap, emptyDir and PersistentVolumeClaim volumes, no host
namespaces, paths or ports), so the namespace enforces it: the management cluster's API server then
refuses any pod there that does not, whoever creates it. That is HyperShift's rule too (its control-plane
namespaces are labelled restricted where the management cluster allows it).

The exception is a hosted cluster of platform Container: its machines are privileged pods in the same
namespace (hcp.platforms.container), which `restricted` would refuse. Its namespace enforces `privileged`
and still audits and warns at `restricted`, so a control-plane pod that drifted from the profile shows in
the audit log and in the warnings of whoever applies it. (Machines in a namespace of their own would let the
control plane's namespace enforce `restricted` for every platform; left for later.)

`latest`: the profile of the management cluster's own Kubernetes version. The control-plane pods are
tested against the current rules (tests/unit/controlplane/test_pod_security.py); a pinned version would
have to be bumped by hand and would let pods the newer rules refuse in.
"""

from __future__ import annotations

ENFORCE = "pod-security.kubernetes.io/enforce"
AUDIT = "pod-security.kubernetes.io/audit"
WARN = "pod-security.kubernetes.io/warn"
RESTRICTED, PRIVILEGED = "restricted", "privileged"
VERSION = "latest"


def namespace_labels(*, privileged_machines: bool) -> dict[str, str]:
    """The Pod Security labels of a control-plane namespace: `restricted` enforced, audited and warned of;
    `privileged` enforced (restricted still audited and warned of) where privileged machine pods live."""
    enforce = PRIVILEGED if privileged_machines else RESTRICTED
    labels = {ENFORCE: enforce, AUDIT: RESTRICTED, WARN: RESTRICTED}
    for mode in (ENFORCE, AUDIT, WARN):
        labels[f"{mode}-version"] = VERSION
    return labels
