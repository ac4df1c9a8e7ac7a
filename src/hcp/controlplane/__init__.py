"""The hosted control plane: its components' manifests and its PKI, rendered from a HostedControlPlane."""

from hcp.api.names import RESTART_DATE_ANNOTATION
from hcp.controlplane.context import Endpoint, RenderContext, RenderError
from hcp.controlplane.pki import pki_secrets, secret_data
from hcp.controlplane.render import render, render_component

__all__ = [
    "RESTART_DATE_ANNOTATION",
    "Endpoint",
    "RenderContext",
    "RenderError",
    "pki_secrets",
    "render",
    "render_component",
    "secret_data",
]
