"""What the `hcp` commands do to hosted clusters, apart from the command line.

`objects` builds the HostedCluster, NodePool and Secrets `hcp create` applies;
`lifecycle` applies them, waits for them and destroys them; `kubeconfig`
reads the admin kubeconfigs; `dump` gathers diagnostics (the must-gather).
All of it talks to clusters through `kube.Kube`.
"""
