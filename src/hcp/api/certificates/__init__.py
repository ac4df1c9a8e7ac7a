"""certificates.hypershift.openshift.io: HyperShift's API group for the control plane's certificates."""
