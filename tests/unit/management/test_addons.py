from pathlib import Path

from hcp.management import addons
from hcp.management.layout import ClusterConfig, Layout


def test_addons_use_local_images_and_the_node_address():
    config = ClusterConfig(name="t", subnet_index=2)
    documents = addons.render(Layout(Path("/state")), config)
    kinds = {(d["kind"], d["metadata"]["name"]) for d in documents}
    assert ("Deployment", "coredns") in kinds and ("StorageClass", "local-path") in kinds
    deployments = [d for d in documents if d["kind"] == "Deployment"]
    images = [c["image"] for d in deployments for c in d["spec"]["template"]["spec"]["containers"]]
    assert all(i.startswith("registry.hcp.internal:5000/hcp/") for i in images)
    corefile = next(d for d in documents if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "coredns")
    assert "172.30.2.2 registry.hcp.internal" in corefile["data"]["Corefile"]
    storage = next(d for d in documents if d["kind"] == "StorageClass")
    assert storage["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"] == "true"
    dns = next(d for d in documents if d["kind"] == "Service")
    assert dns["spec"]["clusterIP"] == "10.96.0.10"
