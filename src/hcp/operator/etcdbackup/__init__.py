"""HCPEtcdBackup: one-shot etcd backups of hosted control planes, taken by a Job beside etcd.

- `job`: the Job (and the copy of the credentials Secret it mounts), rendered from an
  HCPEtcdBackup and its HostedControlPlane (pure);
- `outcome`: what a Job and its Pod say happened: running, stored (the upload's report),
  or failed (the line that says why) (pure);
- `decide`: the backup's status and the next step from everything observed (pure);
- `controller`: reads the world, applies the decision.
"""
