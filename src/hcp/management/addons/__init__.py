"""Cluster add-ons of the management cluster: manifests here, values from the cluster config."""

from __future__ import annotations

from pathlib import Path
from string import Template

import yaml

from hcp.upstream import images
from hcp.management.layout import CLUSTER_DOMAIN, DNS_SERVICE_IP, REGISTRY_HOST, ClusterConfig, Layout

MANIFESTS = ("coredns.yaml", "local-path-provisioner.yaml")


def render(layout: Layout, config: ClusterConfig) -> list[dict]:
    """Every add-on object, in apply order."""
    values = {
        "node_ip": config.node_ip,
        "registry_host": REGISTRY_HOST,
        "cluster_domain": CLUSTER_DOMAIN,
        "dns_service_ip": DNS_SERVICE_IP,
        "volumes_dir": str(layout.volumes_dir),
        "image": "",
        "helper_image": images.image("hcp/busybox").ref.on(config.registry),
    }
    documents = []
    for manifest, image in zip(MANIFESTS, ("hcp/coredns", "hcp/local-path-provisioner")):
        values["image"] = images.image(image).ref.on(config.registry)
        text = Template((Path(__file__).parent / manifest).read_text()).substitute(values)
        documents += [document for document in yaml.safe_load_all(text) if document]
    return documents
