"""The control-plane components, in the order they are rendered.

Each is a folder with its manifest templates and one adapter module that
declares its `COMPONENT` (hcp.controlplane.components.contract: name, render,
when enabled, its workloads, what it depends on; component.py has what the
adapters share). Adding a component is adding a folder and a line here; the
update order follows from `depends_on` (hcp.controlplane.ordering), not from
this order.
"""

from hcp.controlplane.components.contract import Component
from hcp.controlplane.components.etcd import adapter as etcd
from hcp.controlplane.components.kube_apiserver import adapter as kube_apiserver
from hcp.controlplane.components.kube_controller_manager import adapter as kube_controller_manager
from hcp.controlplane.components.kube_scheduler import adapter as kube_scheduler
from hcp.controlplane.components.hosted_cluster_config import adapter as hosted_cluster_config
from hcp.controlplane.components.ignition_server import adapter as ignition_server
from hcp.controlplane.components.kwok import adapter as kwok
from hcp.controlplane.components.network_policy import adapter as network_policy

COMPONENTS: tuple[Component, ...] = (
    network_policy.COMPONENT,  # first: a new namespace is closed before its first pod starts
    etcd.COMPONENT,
    kube_apiserver.COMPONENT,
    kube_controller_manager.COMPONENT,
    kube_scheduler.COMPONENT,
    kwok.COMPONENT,
    ignition_server.COMPONENT,
    hosted_cluster_config.COMPONENT,
)

__all__ = ["COMPONENTS", "Component"]
