"""A HostedCluster and a NodePool as written for HyperShift (platform None), shared by the unit test of API
fidelity and the integration test that applies them to a real API server.

They carry what `hypershift create cluster none --render` writes (HyperShift's defaults included:
`capabilities: {}`, `autoscaling: {}`, `olmCatalogPlacement: management`, `fips: false`) and
many optional fields besides, the HyperShift-only ones among them.
"""

import copy

HOSTED_CLUSTER = {
    "apiVersion": "hypershift.openshift.io/v1beta1",
    "kind": "HostedCluster",
    "metadata": {"name": "fidelity", "namespace": "clusters"},
    "spec": {
        "release": {"image": "registry.example.com/hcp/release:v1.31.0"},
        "clusterID": "1f0b6c5e-3f4a-4c57-9a7d-2f1f3c9a8b10",
        "infraID": "fidelity-x7k2p",
        "channel": "stable-1.31",
        "platform": {"type": "None"},
        "controllerAvailabilityPolicy": "SingleReplica",
        "infrastructureAvailabilityPolicy": "SingleReplica",
        "dns": {"baseDomain": "example.com"},
        "networking": {
            "networkType": "Other",
            "clusterNetwork": [{"cidr": "10.132.0.0/14"}],
            "serviceNetwork": [{"cidr": "172.31.0.0/16"}],
            "machineNetwork": [{"cidr": "192.168.126.0/24"}],
        },
        "etcd": {
            "managementType": "Managed",
            "managed": {"storage": {"type": "PersistentVolume", "persistentVolume": {"size": "8Gi"}}},
        },
        "services": [
            {"service": "APIServer", "servicePublishingStrategy": {"type": "NodePort", "nodePort": {"address": "192.168.126.10"}}},
            {"service": "OAuthServer", "servicePublishingStrategy": {"type": "NodePort", "nodePort": {"address": "192.168.126.10"}}},
            {"service": "Konnectivity", "servicePublishingStrategy": {"type": "NodePort", "nodePort": {"address": "192.168.126.10"}}},
            {"service": "Ignition", "servicePublishingStrategy": {"type": "NodePort", "nodePort": {"address": "192.168.126.10"}}},
        ],
        "pullSecret": {"name": "fidelity-pull-secret"},
        "sshKey": {"name": "fidelity-ssh-key"},
        "issuerURL": "https://kubernetes.default.svc",
        "secretEncryption": {"type": "aescbc", "aescbc": {"activeKey": {"name": "fidelity-etcd-encryption-key"}}},
        "fips": False,
        "olmCatalogPlacement": "management",
        "capabilities": {},
        "autoscaling": {},
        "nodeSelector": {"node-role.kubernetes.io/control-plane": ""},
        "labels": {"team": "platform"},
    },
}
"""What HyperShift's renderer writes for platform None, on a cluster hcp serves: no HyperShift-only setting
asks for anything, so SupportedConfiguration is True."""

HYPERSHIFT_ONLY = {
    "capabilities": {"disabled": ["ImageRegistry", "Console", "Ingress"]},
    "kubeAPIServerDNSName": "api.fidelity.example.com",
    "updateService": "https://updates.example.com/graph",
    "autoscaling": {
        "scaling": "ScaleUpAndScaleDown",
        "maxNodesTotal": 50,
        "maxPodGracePeriod": 600,
        "maxNodeProvisionTime": "15m",
        "podPriorityThreshold": -10,
        "expanders": ["Priority", "LeastWaste"],
        "maxFreeDifferenceRatioPercent": 10,
        "balancingIgnoredLabels": ["topology.ebs.csi.aws.com/zone"],
        "scaleDown": {"delayAfterAddSeconds": 600, "unneededDurationSeconds": 300, "utilizationThresholdPercent": 50},
    },
    "monitoring": {"metricsForwarding": {"mode": "Forward", "metricsSet": "SRE"}},
    "operatorConfiguration": {
        "clusterNetworkOperator": {"disableMultiNetwork": True},
        "ingressOperator": {"endpointPublishingStrategy": {"type": "HostNetwork", "hostNetwork": {"httpPort": 8080}}},
    },
    "imageContentSources": [{"source": "quay.io/openshift", "mirrors": ["mirror.example.com/openshift"]}],
    "additionalTrustBundle": {"name": "fidelity-ca-bundle"},
    "networking": {
        **HOSTED_CLUSTER["spec"]["networking"],
        "apiServer": {"advertiseAddress": "172.20.0.1", "port": 8443, "allowedCIDRBlocks": ["192.168.0.0/16"]},
    },
    "autoNode": {"provisionerConfig": {"name": "Karpenter", "karpenter": {
        "platform": "AWS", "aws": {"roleARN": "arn:aws:iam::123456789012:role/fidelity-karpenter"}}}},
    "secretEncryption": {"type": "kms", "kms": {"provider": "AWS", "aws": {
        "region": "us-east-1",
        "activeKey": {"arn": "arn:aws:kms:us-east-1:123456789012:key/1f0b6c5e-3f4a-4c57-9a7d-2f1f3c9a8b10"},
        "auth": {"awsKms": "arn:aws:iam::123456789012:role/fidelity-kms"},
    }}},
    "configuration": {
        "apiServer": {"audit": {"profile": "WriteRequestBodies"}},
        "featureGate": {"featureSet": ""},
        "image": {
            "allowedRegistriesForImport": [{"domainName": "quay.io"}, {"domainName": "registry.example.com:5000",
                                                                       "insecure": True}],
            "externalRegistryHostnames": ["registry.apps.fidelity.example.com"],
            "additionalTrustedCA": {"name": "registry-cas"},
            "registrySources": {
                "insecureRegistries": ["registry.example.com:5000"],
                "blockedRegistries": ["untrusted.example.com", "*.untrusted.example.org"],
                "containerRuntimeSearchRegistries": ["registry.example.com", "quay.io"],
            },
        },
        "ingress": {
            "domain": "apps.fidelity.example.com",
            "appsDomain": "apps.example.com",
            "componentRoutes": [{"namespace": "openshift-console", "name": "console",
                                 "hostname": "console.example.com",
                                 "servingCertKeyPairSecret": {"name": "console-tls"}}],
            "requiredHSTSPolicies": [{
                "domainPatterns": ["*.apps.example.com"],
                "namespaceSelector": {"matchLabels": {"hsts": "required"}},
                "maxAge": {"smallestMaxAge": 1, "largestMaxAge": 31536000},
                "preloadPolicy": "RequirePreload",
                "includeSubDomainsPolicy": "RequireIncludeSubDomains",
            }],
            "loadBalancer": {"platform": {"type": "AWS", "aws": {"type": "NLB"}}},
        },
        "network": {
            "serviceNodePortRange": "30000-32767",
            "externalIP": {"policy": {"allowedCIDRs": ["192.168.132.0/24"]}, "autoAssignCIDRs": ["192.168.132.0/24"]},
            "networkDiagnostics": {"mode": "All", "sourcePlacement": {
                "nodeSelector": {"kubernetes.io/os": "linux"},
                "tolerations": [{"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"}]}},
        },
        "oauth": {
            "identityProviders": [
                {"name": "htpasswd", "mappingMethod": "claim", "type": "HTPasswd",
                 "htpasswd": {"fileData": {"name": "htpass-secret"}}},
                {"name": "github", "mappingMethod": "claim", "type": "GitHub",
                 "github": {"clientID": "fidelity", "clientSecret": {"name": "github-secret"},
                            "organizations": ["example"]}},
                {"name": "keycloak", "mappingMethod": "claim", "type": "OpenID",
                 "openID": {"clientID": "fidelity", "clientSecret": {"name": "oidc-secret"},
                            "issuer": "https://keycloak.example.com/realms/fidelity",
                            "claims": {"preferredUsername": ["preferred_username"], "name": ["name"],
                                       "email": ["email"], "groups": ["groups"]},
                            "extraScopes": ["email", "profile"]}},
            ],
            "tokenConfig": {"accessTokenMaxAgeSeconds": 86400, "accessTokenInactivityTimeout": "10m"},
            "templates": {"login": {"name": "login-template"}},
        },
        "operatorhub": {"disableAllDefaultSources": True, "sources": [{"name": "redhat-operators", "disabled": False}]},
        "proxy": {
            "httpProxy": "http://proxy.example.com:3128",
            "httpsProxy": "http://proxy.example.com:3128",
            "noProxy": ".cluster.local,.svc,10.0.0.0/16",
            "readinessEndpoints": ["http://www.google.com"],
            "trustedCA": {"name": "proxy-ca"},
        },
        "scheduler": {"profile": "HighNodeUtilization", "defaultNodeSelector": "node-role.kubernetes.io/worker=",
                      "mastersSchedulable": False, "policy": {"name": ""}},
    },
}
"""HyperShift fields hcp accepts and reports, each set to something that would matter (and, among them, settings
hcp honours: the audit profile, the feature set, serviceNodePortRange)."""

UNHONOURED = [
    "spec.capabilities", "spec.kubeAPIServerDNSName", "spec.updateService", "spec.autoscaling",
    "spec.monitoring.metricsForwarding",
    "spec.operatorConfiguration", "spec.imageContentSources", "spec.additionalTrustBundle",
    "spec.networking.apiServer.advertiseAddress", "spec.networking.apiServer.port",
    "spec.networking.apiServer.allowedCIDRBlocks", "spec.autoNode", "spec.secretEncryption.kms",
    "spec.configuration.image", "spec.configuration.ingress", "spec.configuration.network.externalIP",
    "spec.configuration.network.networkDiagnostics", "spec.configuration.oauth", "spec.configuration.operatorhub",
    "spec.configuration.proxy", "spec.configuration.scheduler",
]
"""The paths SupportedConfiguration names for HYPERSHIFT_ONLY, in the order it names them."""


def hosted_cluster_with_hypershift_only_fields(name: str = "fidelity-full") -> dict:
    """HOSTED_CLUSTER with every HyperShift-only field set (networkType Other, as disableMultiNetwork needs;
    secretEncryption of type kms, with AWS KMS, instead of aescbc)."""
    cluster = copy.deepcopy(HOSTED_CLUSTER)
    cluster["metadata"]["name"] = name
    cluster["spec"].update(copy.deepcopy(HYPERSHIFT_ONLY))
    return cluster


NODE_POOL = {
    "apiVersion": "hypershift.openshift.io/v1beta1",
    "kind": "NodePool",
    "metadata": {"name": "fidelity-workers", "namespace": "clusters"},
    "spec": {
        "clusterName": "fidelity",
        "release": {"image": "registry.example.com/hcp/release:v1.31.0"},
        "replicas": 2,
        "platform": {"type": "None"},
        "arch": "amd64",
        "management": {
            "upgradeType": "Replace",
            "autoRepair": False,
            "replace": {"strategy": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
        },
        "nodeDrainTimeout": "5m",
        "nodeVolumeDetachTimeout": "2m",
        "nodeLabels": {"pool": "workers"},
        "taints": [{"key": "dedicated", "value": "workers", "effect": "NoSchedule"}],
    },
}
