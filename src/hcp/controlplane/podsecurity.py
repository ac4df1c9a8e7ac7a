"""The Pod Security Standards level of control-plane namespaces: the labels Pod Security admission reads.

Every control-plane pod hcp renders meets the `restricted` profile (component.adapt_pod gives each the
settings it asks for: non-root uid 65532, RuntimeDefault seccomp, no privilege escalation, every
capability dropped, only Secret, ConfigMap, emptyDir and PersistentVolumeClaim volumes, no host
namespaces, paths or ports). The namespace audits and warns at `restricted`, so a pod there that does not
meet it shows in the management cluster's audit log and in the warnings of whoever applies it, and it
*enforces* `baseline`: the API server refuses privileged pods, host namespaces, host paths and ports and
added capabilities, whoever creates them. Enforcing `restricted` would also refuse the docs' own manual
procedures (7.3: the `etcd-data` Deployment that restores etcd's volume is written without a
securityContext, as OpenShift's SCCs fill one in), which hcp promises work with kubectl as written.

The exception is a hosted cluster of platform Container: its machines are privileged pods in the same
namespace (hcp.platforms.container), which `baseline` would refuse. Its namespace enforces `privileged`
and still audits and warns at `restricted`. (Machines in a namespace of their own would let every
control-plane namespace enforce `baseline`; left for later.)

`latest`: the profile of the management cluster's own Kubernetes version. The control-plane pods are
tested against the current rules (tests/unit/controlplane/test_pod_security.py); a pinned version would
have to be bumped by hand and would let pods the newer rules refuse in.
"""

from __future__ import annotations

ENFORCE = "pod-security.kubernetes.io/enforce"
AUDIT = "pod-security.kubernetes.io/audit"
WARN = "pod-security.kubernetes.io/warn"
RESTRICTED, BASELINE, PRIVILEGED = "restricted", "baseline", "privileged"
VERSION = "latest"


def namespace_labels(*, privileged_machines: bool) -> dict[str, str]:
    """The Pod Security labels of a control-plane namespace: `baseline` enforced, `restricted` audited and
    warned of; `privileged` enforced where privileged machine pods live."""
    enforce = PRIVILEGED if privileged_machines else BASELINE
    labels = {ENFORCE: enforce, AUDIT: RESTRICTED, WARN: RESTRICTED}
    for mode in (ENFORCE, AUDIT, WARN):
        labels[f"{mode}-version"] = VERSION
    return labels
