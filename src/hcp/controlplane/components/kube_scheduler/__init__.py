"""kube-scheduler: templates (kube-scheduler.yaml) and adapter."""
