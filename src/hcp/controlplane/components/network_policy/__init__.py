"""network-policy: the control-plane namespace's NetworkPolicies (network-policies.yaml) and adapter."""
