"""The control-plane components, in the order they are rendered.

Each is a folder with its manifest templates and one adapter module exposing
`NAME` and `render(ctx) -> list[dict]` (see component.py for what they share).
Adding a component is adding a folder and a line here.
"""

from hcp.controlplane.components.etcd import adapter as etcd
from hcp.controlplane.components.kube_apiserver import adapter as kube_apiserver
from hcp.controlplane.components.kube_controller_manager import adapter as kube_controller_manager
from hcp.controlplane.components.kube_scheduler import adapter as kube_scheduler
from hcp.controlplane.components.hosted_cluster_config import adapter as hosted_cluster_config
from hcp.controlplane.components.ignition_server import adapter as ignition_server
from hcp.controlplane.components.kwok import adapter as kwok

COMPONENTS = (
    etcd,
    kube_apiserver,
    kube_controller_manager,
    kube_scheduler,
    kwok,
    ignition_server,
    hosted_cluster_config,
)

__all__ = ["COMPONENTS"]
