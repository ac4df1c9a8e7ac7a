"""ignition-server: hands out the join payload of the cluster's NodePools (HyperShift's ignition-server role).

Rendered for every hosted cluster whose machines are real (platform other
than KWOK, whose Nodes hcp makes itself). The server is hcp's own code
(hcp.ignition.server) in the operator's image; the kubelet it hands out is
the release's, copied from the release's kubelet image at start. What the
join script needs to know about the cluster is in its ConfigMap: the
published API endpoint, the server's own published URL (spec.services
Ignition), the cluster DNS address and the registry mirrors through which
nodes pull the release's images. Tokens and certificates come from Secrets,
and each pool's labels and taints from ConfigMap `nodepool-registration`
(hcp.dataplane.registration), mounted, so that a rotated token or a changed
pool is served without a restart.

Its TLS takes spec.configuration.apiServer.tlsSecurityProfile as --tls-min-version
and --tls-ciphers (hcp.controlplane.tls_flags; neither when unset): TLS 1.2 or
1.3 and the profile's TLS 1.2 suites, which OpenSSL takes in the profile's own
names. OpenSSL's default security level allows neither TLS 1.0 and 1.1 nor 3DES:
those SupportedConfiguration reports.
"""

from __future__ import annotations

import json
from typing import Any

from hcp.api.v1beta1.networking import ServiceType
from hcp.api.v1beta1.platform import PlatformType
from hcp.api.validation import pool_platforms_served
from hcp.controlplane.components.component import (
    adapt_pod,
    container,
    load,
    set_config_hash,
)
from hcp.controlplane.components.sizing import default_requests
from hcp.controlplane.components.contract import Component
from hcp.controlplane.context import RenderContext, dns_service_ip
from hcp.controlplane.pki import CLUSTER_DOMAIN
from hcp.controlplane.publishing import publish
from hcp.controlplane.tls_flags import ignition_tls_args, tls_security_profile
from hcp.ignition.server import settings_document

NAME = "ignition-server"
SERVICE = "ignition-server"
TLS_SECRET = "ignition-server-tls"
CONFIG_KEY = "config.json"


def enabled(ctx: RenderContext) -> bool:
    """Machines that join (platforms None and Container) are what the ignition server is for."""
    return PlatformType.NONE in pool_platforms_served(ctx.hcp.spec.platform.type)


def render(ctx: RenderContext) -> list[dict[str, Any]]:
    if not enabled(ctx):
        return []
    templates = load(__package__, "ignition-server.yaml")
    service = templates[f"Service/{SERVICE}"]
    publish(ctx, service, ServiceType.IGNITION)
    objects: list[dict[str, Any]] = [service]
    if ctx.ignition_endpoint is None or not ctx.operator_image:
        # Not published yet (the Service is applied first to learn its endpoint), or an operator that
        # does not know its own image (run outside its Deployment): nothing to serve.
        return objects

    config = templates[f"ConfigMap/{SERVICE}"]
    document = settings_document(
        cluster=f"{ctx.hcp.metadata.namespace}/{ctx.hcp.metadata.name}",
        api_server_url=ctx.api_endpoint.url, ignition_url=ctx.ignition_endpoint.url,
        kubernetes_version=ctx.kubernetes_version, cluster_dns=dns_service_ip(ctx.hcp),
        cluster_domain=CLUSTER_DOMAIN, pause_image=ctx.image("pause"), mirrors=list(ctx.registry_mirrors),
    )
    config["data"] = {CONFIG_KEY: json.dumps(document, indent=2, sort_keys=True)}

    deployment = templates[f"Deployment/{NAME}"]
    pod = deployment["spec"]["template"]
    adapt_pod(ctx, pod, component=NAME, replicas=1)
    set_config_hash(ctx, pod, config["data"])  # also rolls the pod when a certificate it reads at start is renewed
    main = container(pod["spec"], NAME)
    main["image"] = ctx.operator_image
    main["resources"] = default_requests(NAME, NAME)
    main["command"] += ignition_tls_args(tls_security_profile(ctx))
    kubelet = container(pod["spec"], "kubelet")
    kubelet["image"] = ctx.image("kubelet")
    kubelet["resources"] = default_requests(NAME, "kubelet")
    return [*objects, config, deployment]


# Its Deployment is rendered once the server's own endpoint is published and the operator knows its image;
# until then it has nothing to wait for.
COMPONENT = Component(NAME, render, workloads=(("Deployment", NAME),), depends_on=("kube-apiserver",),
                      enabled=enabled)
