"""kube-controller-manager: templates (kube-controller-manager.yaml) and adapter."""
