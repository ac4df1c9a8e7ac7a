"""etcd: templates (etcd.yaml) and adapter."""
