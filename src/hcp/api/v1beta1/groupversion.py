"""The API group and version hcp serves, identical to HyperShift's."""

GROUP = "hypershift.openshift.io"
VERSION = "v1beta1"
API_VERSION = f"{GROUP}/{VERSION}"
