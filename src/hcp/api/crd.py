"""Generate apiextensions.k8s.io/v1 CustomResourceDefinitions from the API models.

`python -m hcp.api.crd` prints every CRD as multi-document YAML.
"""

import sys
from typing import Any

import yaml

from hcp.api.base import KubeObject
from hcp.api.structural import structural_schema
from hcp.api.certificates.v1alpha1 import CertificateRevocationRequest
from hcp.api.v1beta1 import KINDS

SERVED_KINDS = (*KINDS, CertificateRevocationRequest)
"""Every kind hcp serves: hypershift.openshift.io/v1beta1's, then certificates.hypershift.openshift.io/v1alpha1's."""


def custom_resource_definition(kind: type[KubeObject]) -> dict[str, Any]:
    """The CRD serving `kind`: names, schema, subresources and printer columns."""
    group, version = kind.model_fields["api_version"].default.split("/")
    kind_name = kind.model_fields["kind"].default
    info = kind.resource

    names: dict[str, Any] = {
        "plural": info.plural,
        "singular": info.singular,
        "kind": kind_name,
        "listKind": f"{kind_name}List",
    }
    if info.short_names:
        names["shortNames"] = list(info.short_names)
    if info.categories:
        names["categories"] = list(info.categories)

    subresources: dict[str, Any] = {}
    if "status" in kind.model_fields:
        subresources["status"] = {}
    if info.scale:
        subresources["scale"] = {
            "specReplicasPath": info.scale.spec_replicas_path,
            "statusReplicasPath": info.scale.status_replicas_path,
        }
        if info.scale.label_selector_path:
            subresources["scale"]["labelSelectorPath"] = info.scale.label_selector_path

    served_version: dict[str, Any] = {
        "name": version,
        "served": True,
        "storage": True,
        "schema": {"openAPIV3Schema": structural_schema(kind)},
        "subresources": subresources,
    }
    if info.printer_columns:
        served_version["additionalPrinterColumns"] = [
            {
                "name": column.name,
                "type": column.type,
                "jsonPath": column.json_path,
                **({"description": column.description} if column.description else {}),
                **({"priority": column.priority} if column.priority else {}),
            }
            for column in info.printer_columns
        ]

    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{info.plural}.{group}"},
        "spec": {
            "group": group,
            "names": names,
            "scope": info.scope,
            "versions": [served_version],
        },
    }


def crds() -> list[dict[str, Any]]:
    """The CRDs of every kind hcp serves."""
    return [custom_resource_definition(kind) for kind in SERVED_KINDS]


def render_yaml(documents: list[dict[str, Any]]) -> str:
    """Multi-document YAML with sorted keys, so output is stable across runs."""
    return yaml.safe_dump_all(documents, sort_keys=True, default_flow_style=False, width=120)


def main() -> None:
    sys.stdout.write(render_yaml(crds()))


if __name__ == "__main__":
    main()
