"""The Pod Security Standards' `restricted` profile as a pure check of a pod spec (tests only).

Written from the standard (https://kubernetes.io/docs/concepts/security/pod-security-standards/): the
`baseline` controls, which `restricted` includes, then `restricted`'s own. Pod Security admission in the
management cluster's API server is the real judge (tests/integration/test_isolation.py asks it); this
check lets unit tests hold every rendered pod template to the same rules without a cluster, so a
component that drifts from the profile fails here rather than as pods its namespace refuses.
"""

from __future__ import annotations

from typing import Any

BASELINE_CAPABILITIES = frozenset({
    "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE",
    "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
})
RESTRICTED_CAPABILITIES = frozenset({"NET_BIND_SERVICE"})
SAFE_SYSCTLS = frozenset({
    "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
})
SELINUX_TYPES = frozenset({"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"})
RESTRICTED_VOLUMES = frozenset({
    "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret",
})
ALLOWED_SECCOMP = frozenset({"RuntimeDefault", "Localhost"})
ALLOWED_APPARMOR = frozenset({"RuntimeDefault", "Localhost"})
APPARMOR_ANNOTATION = "container.apparmor.security.beta.kubernetes.io/"


def all_containers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [*spec.get("initContainers", []), *spec.get("containers", []), *spec.get("ephemeralContainers", [])]


def restricted_violations(spec: dict[str, Any], metadata: dict[str, Any] | None = None) -> list[str]:
    """What in a pod (its spec and metadata) the `restricted` profile forbids; empty if it meets it."""
    problems: list[str] = []
    pod_context = spec.get("securityContext") or {}
    containers = all_containers(spec)
    contexts = {c["name"]: c.get("securityContext") or {} for c in containers}

    # --- baseline -------------------------------------------------------------------------------------
    for where, context in [("pod", pod_context), *contexts.items()]:
        if (context.get("windowsOptions") or {}).get("hostProcess"):
            problems.append(f"{where}: windowsOptions.hostProcess")
        selinux = context.get("seLinuxOptions") or {}
        if selinux.get("type", "") not in SELINUX_TYPES or selinux.get("user") or selinux.get("role"):
            problems.append(f"{where}: seLinuxOptions {selinux}")
        if (context.get("seccompProfile") or {}).get("type") == "Unconfined":
            problems.append(f"{where}: seccompProfile Unconfined")
        apparmor = (context.get("appArmorProfile") or {}).get("type")
        if apparmor is not None and apparmor not in ALLOWED_APPARMOR:
            problems.append(f"{where}: appArmorProfile {apparmor}")
        if context.get("runAsUser") == 0:  # restricted
            problems.append(f"{where}: runAsUser 0")
    for key, value in ((metadata or {}).get("annotations") or {}).items():
        if key.startswith(APPARMOR_ANNOTATION) and value != "runtime/default" and not value.startswith("localhost/"):
            problems.append(f"annotation {key}: {value}")
    for namespace in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(namespace):
            problems.append(f"pod: {namespace}")
    for sysctl in pod_context.get("sysctls") or ():
        if sysctl["name"] not in SAFE_SYSCTLS:
            problems.append(f"pod: sysctl {sysctl['name']}")
    for volume in spec.get("volumes", []):
        kinds = set(volume) - {"name"}
        if "hostPath" in kinds:
            problems.append(f"volume {volume['name']}: hostPath")
        elif not kinds <= RESTRICTED_VOLUMES:  # restricted
            problems.append(f"volume {volume['name']}: type {sorted(kinds - RESTRICTED_VOLUMES)}")
    for container in containers:
        name, context = container["name"], contexts[container["name"]]
        if context.get("privileged"):
            problems.append(f"{name}: privileged")
        added = set((context.get("capabilities") or {}).get("add") or ())
        if added - BASELINE_CAPABILITIES:
            problems.append(f"{name}: capabilities added {sorted(added - BASELINE_CAPABILITIES)}")
        if context.get("procMount", "Default") != "Default":
            problems.append(f"{name}: procMount {context['procMount']}")
        for port in container.get("ports") or ():
            if port.get("hostPort"):
                problems.append(f"{name}: hostPort {port['hostPort']}")
        handlers = [(probe, container.get(probe) or {}) for probe in ("livenessProbe", "readinessProbe", "startupProbe")]
        handlers += [(f"lifecycle.{hook}", (container.get("lifecycle") or {}).get(hook) or {})
                     for hook in ("postStart", "preStop")]
        for where, handler in handlers:
            for action in ("httpGet", "tcpSocket"):
                if (handler.get(action) or {}).get("host"):
                    problems.append(f"{name}: {where}.{action}.host")  # baseline's "host probes" control

    # --- restricted -----------------------------------------------------------------------------------
    pod_non_root = pod_context.get("runAsNonRoot") is True
    pod_seccomp = (pod_context.get("seccompProfile") or {}).get("type")
    for container in containers:
        name, context = container["name"], contexts[container["name"]]
        if context.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{name}: allowPrivilegeEscalation not false")
        non_root = context.get("runAsNonRoot")
        if non_root is False or (non_root is None and not pod_non_root):
            problems.append(f"{name}: runAsNonRoot not true (in the pod or the container)")
        seccomp = (context.get("seccompProfile") or {}).get("type")
        if (seccomp or pod_seccomp) not in ALLOWED_SECCOMP:
            problems.append(f"{name}: seccompProfile not RuntimeDefault or Localhost (in the pod or the container)")
        capabilities = context.get("capabilities") or {}
        if "ALL" not in (capabilities.get("drop") or ()):
            problems.append(f"{name}: capabilities do not drop ALL")
        added = set(capabilities.get("add") or ())
        if added - RESTRICTED_CAPABILITIES:
            problems.append(f"{name}: capabilities added beyond NET_BIND_SERVICE {sorted(added - RESTRICTED_CAPABILITIES)}")
    return problems
