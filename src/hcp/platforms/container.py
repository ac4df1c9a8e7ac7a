"""The Container platform: a machine is a privileged pod on the management cluster, a real node of the pool.

hcp's nodes-as-pods platform (HyperShift's nearest is KubeVirt, whose
machines are virtual machines in pods). Each machine is a Pod in the hosted
cluster's control-plane namespace running the release's node image
(hcp.upstream.node_image): containerd, runc and the CNI plugins from
Debian, and an entrypoint that joins through the one join path every real
machine takes, the pool's join script from the control plane's ignition
server (hcp.ignition), authenticated by the pool's bootstrap token. So the
kubelet is the release's, it bootstraps its certificates with the hosted
cluster like any other, and the Node it registers (named after the pod) is
drained, health-checked and replaced by the NodePool controller as on every
platform.

Where the provider gets what a machine needs, all from the control-plane
namespace through the management cluster's API (nothing is cached, so a
rotated certificate or a republished endpoint is picked up by the next
machine):

- the ignition server's URL: its ConfigMap (config.json, `ignitionURL`), as
  the ignition-server component renders it;
- the pin of its key: its serving certificate, Secret `ignition-server-tls`;
- the token: not read at all; the pod takes it from Secret `bootstrap-tokens`
  (key: the pool), which the data-plane controller keeps, so a container that
  restarts after a rotation joins with the current token;
- the image: the release's `node` component (MachineTemplate.images).

The machine's state that a container restart must keep, and that an overlay
root cannot hold (containerd's overlayfs snapshots cannot sit on the
container's own overlay), is in emptyDir volumes; deleting the pod deletes the
machine and everything on it.
"""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

from lightkube import ApiError
from lightkube.operators import exists
from lightkube.resources.core_v1 import ConfigMap, Node, Pod, Secret

from hcp.api.v1beta1.nodepool import NodePoolPlatform
from hcp.controlplane.components.ignition_server.adapter import CONFIG_KEY, SERVICE, TLS_SECRET
from hcp.controlplane.labels import MANAGED_BY, MANAGED_BY_LABEL
from hcp.ignition.join import public_key_pin
from hcp.platforms.provider import CONFIG_ANNOTATION, NODE_POOL_LABEL, Machine, MachineTemplate, PlatformContext

MACHINE_LABEL = "hcp.io/machine"
"""On every machine pod (value: the machine's name): what tells the provider's pods from others."""
NODE_IMAGE_COMPONENT = "node"
"""The release component whose image a machine runs (hcp.release.payload.COMPONENTS)."""
CONTAINER = "node"
GRACE_SECONDS = 30
"""Time the pod is given to stop: the entrypoint stops the kubelet, then containerd, in a few seconds."""
DELETE_WAIT_SECONDS = GRACE_SECONDS + 10
"""How long `delete` waits for the pod to go before it returns anyway (the next pass deletes it again)."""
POLL_SECONDS = 0.5
REQUESTS = {"cpu": "100m", "memory": "256Mi"}
"""What the scheduler reserves for a machine: an idle kubelet and containerd. No limits: the hosted
cluster's pods run inside the machine's cgroup, and a memory limit would OOM-kill them at random rather
than let the kubelet evict; a machine's real size is whatever its management node has to spare."""
VOLUMES = {
    # containerd's snapshots (overlayfs cannot stack on the container's overlay root) and images.
    "containerd": ("/var/lib/containerd", {"emptyDir": {}}),
    # The kubelet's pods, volumes and certificates (kept across a restart of the container).
    "kubelet": ("/var/lib/kubelet", {"emptyDir": {}}),
    "logs": ("/var/log", {"emptyDir": {}}),
    # Sockets and runtime state of containerd and the kubelet; tmpfs, as /run is on a machine.
    "run": ("/run", {"emptyDir": {"medium": "Memory"}}),
}
MODULES = ("/lib/modules", {"hostPath": {"path": "/lib/modules", "type": "DirectoryOrCreate"}})
"""The host's kernel modules, read-only, for `modprobe overlay br_netfilter` in the join script.

DirectoryOrCreate, not Directory: a kernel with everything built in (as in many
VMs) has no /lib/modules, and a machine there needs no module loaded; the
kubelet then makes the empty directory rather than refusing to start the pod."""


class ContainerProvider:
    """Machines that are pods of the control-plane namespace, labelled with their pool."""

    makes_machines = True

    def __init__(self, context: PlatformContext) -> None:
        self._management = context.management
        self._namespace = context.control_plane_namespace
        self._hosted = context.hosted

    async def machines(self, pool: str) -> list[Machine]:
        # Listed from the API server each time (a consistent read), so a create or delete just made shows:
        # the hosted cluster's informers do not see the management cluster's pods.
        pods = self._management.list(Pod, namespace=self._namespace,
                                     labels={NODE_POOL_LABEL: pool, MACHINE_LABEL: exists()})
        return [machine_of(pod) async for pod in pods]

    async def create(self, name: str, template: MachineTemplate) -> None:
        ignition_url, pin = await self._ignition()
        image = template.images.get(NODE_IMAGE_COMPONENT)
        if not image:
            raise MachineSetupError(f"the release of NodePool {template.pool} has no {NODE_IMAGE_COMPONENT!r} image")
        pod = machine_pod(name, self._namespace, template, ignition_url, pin, image)
        await self._management.create(Pod.from_dict(pod))

    async def delete(self, machine: Machine) -> None:
        try:
            await self._management.delete(Pod, machine.name, namespace=self._namespace, grace_period=GRACE_SECONDS)
        except ApiError as error:
            if error.status.code != 404:
                raise
        gone = await self._until_gone(machine.name)
        if gone and machine.node_name:
            # Once its kubelet has stopped: a Node deleted under a running kubelet could be registered again.
            try:
                await self._hosted.client.delete(Node, machine.node_name)
            except ApiError as error:
                if error.status.code != 404:
                    raise

    async def update(self, machine: Machine, template: MachineTemplate) -> None:
        """A machine pod cannot change its kubelet while it runs: the drained machine is stopped and made
        again under the same name from the new template, and its new kubelet registers the Node afresh
        (with the pool's labels and taints; what else was set on the old Node object, and what the old pod
        held on its own disk, is not kept). Until it has, the machine counts as unavailable."""
        await self.delete(machine)
        await self.create(machine.name, template)

    def capacity(self, platform: NodePoolPlatform) -> None:
        return None  # whatever the management node the pod lands on has to spare: known once it registers

    async def _until_gone(self, name: str) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + DELETE_WAIT_SECONDS
        while True:
            try:
                await self._management.get(Pod, name, namespace=self._namespace)
            except ApiError as error:
                if error.status.code == 404:
                    return True
                raise
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(POLL_SECONDS)

    async def _ignition(self) -> tuple[str, str]:
        """The ignition server's URL and the pin of its key, as the control plane publishes them."""
        try:
            config = await self._management.get(ConfigMap, SERVICE, namespace=self._namespace)
            tls = await self._management.get(Secret, TLS_SECRET, namespace=self._namespace)
        except ApiError as error:
            if error.status.code != 404:
                raise
            raise MachineSetupError(
                f"the ignition server of {self._namespace} is not published yet (ConfigMap {SERVICE}, Secret "
                f"{TLS_SECRET}); machines of platform Container join through it") from None
        return ignition_settings((config.data or {}).get(CONFIG_KEY, ""), (tls.data or {}).get("tls.crt", ""))


class MachineSetupError(RuntimeError):
    """What a machine needs from the control plane is not there (yet); the pass is retried."""


def ignition_settings(config_json: str, tls_crt_base64: str) -> tuple[str, str]:
    """The URL in the ignition server's config.json, and the pin of the key of its certificate."""
    try:
        url = json.loads(config_json)["ignitionURL"]
        pin = public_key_pin(base64.b64decode(tls_crt_base64))
    except (ValueError, KeyError, TypeError) as error:
        raise MachineSetupError(f"the ignition server's settings are not usable yet: {error}") from None
    return url, pin


def machine_pod(name: str, namespace: str, template: MachineTemplate, ignition_url: str, pin: str,
                image: str) -> dict[str, Any]:
    """The Pod of machine `name`: the node image, privileged, joining NodePool `template.pool`."""
    # Imported here: hcp.dataplane.tokens imports hcp.platforms (the pool label), which imports this module.
    from hcp.dataplane.tokens import MANAGEMENT_SECRET

    mounts = [{"name": volume, "mountPath": path} for volume, (path, _) in VOLUMES.items()]
    mounts.append({"name": "modules", "mountPath": MODULES[0], "readOnly": True})
    env: list[dict[str, Any]] = [
        {"name": "HCP_IGNITION_URL", "value": ignition_url},
        {"name": "HCP_JOIN_PIN", "value": pin},
        {"name": "HCP_JOIN_TOKEN",
         "valueFrom": {"secretKeyRef": {"name": MANAGEMENT_SECRET, "key": template.pool}}},
        {"name": "HCP_NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {"name": "HCP_NODE_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
    ]
    if template.node_config:
        env.append({"name": "HCP_NODE_CONFIG", "value": template.node_config})
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {NODE_POOL_LABEL: template.pool, MACHINE_LABEL: name, MANAGED_BY_LABEL: MANAGED_BY},
            "annotations": {CONFIG_ANNOTATION: template.config},
        },
        "spec": {
            "hostname": name,
            "restartPolicy": "Always",
            "terminationGracePeriodSeconds": GRACE_SECONDS,
            # A machine holds no credential of the management cluster, and its DNS is its host's, not the
            # management cluster's services.
            "automountServiceAccountToken": False,
            "enableServiceLinks": False,
            "dnsPolicy": "Default",
            "nodeSelector": {"kubernetes.io/arch": template.arch, "kubernetes.io/os": "linux"},
            "containers": [{
                "name": CONTAINER,
                "image": image,
                "env": env,
                "securityContext": {"privileged": True},
                "resources": {"requests": dict(REQUESTS)},
                "volumeMounts": mounts,
            }],
            "volumes": [{"name": volume, **source} for volume, (_, source) in VOLUMES.items()]
                       + [{"name": "modules", **MODULES[1]}],
        },
    }


def machine_of(pod: Any) -> Machine:
    """A machine pod as a Machine: its Node is named after it (HCP_NODE_NAME)."""
    return Machine(name=pod.metadata.name, created=pod.metadata.creationTimestamp, node_name=pod.metadata.name,
                   config=(pod.metadata.annotations or {}).get(CONFIG_ANNOTATION))
