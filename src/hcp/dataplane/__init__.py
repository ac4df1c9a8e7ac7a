"""What the control plane keeps inside each hosted cluster (HyperShift's hosted-cluster-config-operator role).

For now: node identity and trust. The node-bootstrap RBAC (`rbac`), one
rotating bootstrap token per NodePool whose machines join by themselves
(`tokens`), and the approval of kubelet serving certificates (`csr`), all kept
by one level-triggered controller per hosted cluster (`controller`), which
reaches the hosted API server through its admin kubeconfig (`access`).
Node client certificates are approved by the hosted kube-controller-manager
itself (its csrapproving controller), as the RBAC here allows.
"""
