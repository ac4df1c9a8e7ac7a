"""kube-apiserver: templates (kube-apiserver.yaml) and adapter."""
