"""`hcp create cluster|nodepool kwok` are all or nothing: validated first, and what a failed run made is removed.

The fake API server refuses an object the way a schema, CEL rule or admission
policy would (422), in the dry run or only for real; the tests check what the
user sees (progress lines, the one error line, the exit code) and what exists
afterwards.
"""

from __future__ import annotations

import pytest

from hcp.api.names import AUTO_CREATED_LABEL
from hcp.api.v1beta1.nodepool import MAX_NODE_POOL_REPLICAS
from tests.unit.cli import world

ADDRESS = ["--api-server-address", "10.0.0.2"]
CREATE = ["create", "cluster", "kwok", "--name", "demo", *ADDRESS]
REFUSAL = ('HostedCluster.hypershift.openshift.io "demo" is invalid: spec.dns.baseDomain: Invalid value: '
           '"bad": must be a DNS name')
REMOVED = ["removed NodePool clusters/demo", "removed Secret clusters/demo-etcd-encryption-key",
           "removed Secret clusters/demo-pull-secret", "removed Namespace clusters"]


def nothing_of_demo(api) -> None:
    assert api.names("HostedCluster") == []
    assert api.names("NodePool") == []
    assert api.names("Secret") == []


def test_a_refusal_in_the_dry_run_creates_nothing(hcp, api):
    api.add(world.namespace("clusters"))
    api.refuse("HostedCluster", "demo", REFUSAL)
    result = hcp(*CREATE)
    assert result.code == 1
    assert result.error == (f"error: the API server refused HostedCluster clusters/demo (server-side dry run): "
                            f"{REFUSAL}; nothing was created")
    assert not [line for line in result.progress if line.startswith(("created", "removed"))]
    nothing_of_demo(api)
    assert not [write for write in api.writes if not write[-1]], "a real write before the dry run passed"


def test_every_object_is_validated_before_the_first_is_created(hcp, api):
    api.add(world.namespace("clusters"))
    result = hcp(*CREATE, "--generate-ssh")
    assert result.code == 0, result.err
    dry = [(plural, name) for _, plural, _, name, dry_run in api.writes if dry_run]
    real = [(plural, name) for _, plural, _, name, dry_run in api.writes if not dry_run]
    assert dry == real == [("secrets", "demo-pull-secret"), ("secrets", "demo-ssh-key"),
                           ("secrets", "demo-etcd-encryption-key"), ("nodepools", "demo"), ("hostedclusters", "demo")]
    assert api.writes.index(("POST", "secrets", "clusters", "demo-pull-secret", False)) == len(dry)


def test_a_new_namespace_is_created_to_validate_in_and_removed_after_a_refusal(hcp, api):
    api.refuse("NodePool", "demo", 'NodePool.hypershift.openshift.io "demo" is invalid: spec.replicas: Invalid value')
    result = hcp(*CREATE)
    assert result.code == 1
    assert result.progress == ["created Namespace clusters (needed before the objects in it can be validated)",
                               "removed Namespace clusters"]
    assert result.error == ('error: the API server refused NodePool clusters/demo (server-side dry run): '
                            'NodePool.hypershift.openshift.io "demo" is invalid: spec.replicas: Invalid value; '
                            'everything this run had created was removed')
    assert api.names("Namespace") == []
    nothing_of_demo(api)


def test_a_failure_at_the_last_step_removes_what_the_run_made(hcp, api):
    api.refuse("HostedCluster", "demo", "admission webhook denied the request: quota exceeded", dry_run=False)
    result = hcp(*CREATE)
    assert result.code == 1
    # One line per removed object, newest first, then the error line.
    assert [line.split("] ", 1)[1] for line in result.err.splitlines()[-5:-1]] == REMOVED
    assert result.error == ("error: the API server refused HostedCluster clusters/demo: admission webhook denied "
                            "the request: quota exceeded; everything this run had created was removed")
    assert api.names("Namespace") == []
    nothing_of_demo(api)


def test_what_existed_before_is_kept(hcp, api):
    api.add(world.namespace("clusters"))
    api.add(world.secret("demo-pull-secret", "clusters", {".dockerconfigjson": "{}"}, {AUTO_CREATED_LABEL: "demo"}))
    api.add(world.secret("unrelated", "clusters", {"a": "b"}))
    api.refuse("HostedCluster", "demo", "denied", dry_run=False)
    result = hcp(*CREATE)
    assert result.code == 1
    assert "updated existing Secret clusters/demo-pull-secret" in result.progress
    assert [line for line in result.progress if line.startswith("removed")] == REMOVED[:2]
    assert api.names("Namespace") == ["clusters"]
    assert api.names("Secret") == ["clusters/demo-pull-secret", "clusters/unrelated"]
    assert api.names("NodePool") == []


def test_a_cluster_created_meanwhile_is_reported_as_existing_after_removing_the_rest(hcp, api):
    api.add(world.namespace("clusters"))
    api.refuse("HostedCluster", "demo", 'hostedclusters "demo" already exists', dry_run=False, code=409)
    result = hcp(*CREATE)
    assert result.code == 1
    assert [line for line in result.progress if line.startswith("removed")] == REMOVED[:3]
    assert result.error.startswith("error: HostedCluster clusters/demo already exists; get its kubeconfig with ")


def test_what_cannot_be_removed_is_named(hcp, api):
    api.refuse("HostedCluster", "demo", "denied", dry_run=False)
    api.refuse("Secret", "demo-pull-secret", 'secrets "demo-pull-secret" is forbidden: no', methods=("DELETE",),
               code=403)
    result = hcp(*CREATE)
    assert result.code == 1
    assert result.progress[-4:] == [*REMOVED[:2],
                                    'could not remove Secret clusters/demo-pull-secret: secrets "demo-pull-secret" '
                                    'is forbidden: no',
                                    "removed Namespace clusters"]
    assert result.error == ("error: the API server refused HostedCluster clusters/demo: denied; could not remove "
                            "what this run created, left behind: Secret clusters/demo-pull-secret")


def test_what_stays_terminating_is_named(hcp, api, clock, monkeypatch):
    delete = api.delete
    # A NodePool whose finalizer nobody removes (no operator): deleting it leaves it, being deleted.
    monkeypatch.setattr(api, "delete", lambda key: None if key[0] == "nodepools" else delete(key))
    api.add(world.namespace("clusters"))
    api.refuse("HostedCluster", "demo", "denied", dry_run=False)
    result = hcp(*CREATE)
    assert result.code == 1
    assert result.progress[-3:] == ["NodePool clusters/demo is still being deleted", *REMOVED[1:3]]
    assert result.error == ("error: the API server refused HostedCluster clusters/demo: denied; could not remove "
                            "what this run created, left behind: NodePool clusters/demo (still being deleted)")
    assert clock.now > 60


def test_an_object_replaced_meanwhile_is_not_removed(hcp, api, monkeypatch):
    refused = api._refused

    def replace_then_refuse(method, kind, name, dry_run):
        """Someone deletes the run's Secret and makes their own of the same name just before the last step."""
        if kind == "HostedCluster" and not dry_run:
            secret = api.get("Secret", "demo-pull-secret", "clusters")
            api.add({**secret, "metadata": {**secret["metadata"], "uid": "someone-elses"}})
        return refused(method, kind, name, dry_run)
    monkeypatch.setattr(api, "_refused", replace_then_refuse)
    api.add(world.namespace("clusters"))
    api.refuse("HostedCluster", "demo", "denied", dry_run=False)
    result = hcp(*CREATE)
    assert result.code == 1
    assert result.progress[-3:] == [*REMOVED[:2],
                                    "kept Secret clusters/demo-pull-secret: it was replaced by an object this run "
                                    "did not create"]
    assert api.get("Secret", "demo-pull-secret", "clusters")["metadata"]["uid"] == "someone-elses"


def test_create_nodepool_is_validated_first_too(hcp, api):
    api.add(world.namespace("clusters"))
    api.add(world.hosted_cluster(available=True))
    api.refuse("NodePool", "big", 'NodePool.hypershift.openshift.io "big" is invalid: spec: Invalid value')
    result = hcp("create", "nodepool", "kwok", "--cluster-name", "demo", "--name", "big")
    assert result.code == 1
    assert result.err == ('error: the API server refused NodePool clusters/big (server-side dry run): '
                          'NodePool.hypershift.openshift.io "big" is invalid: spec: Invalid value; '
                          'nothing was created\n')
    assert api.names("NodePool") == []


def test_create_nodepool_dry_runs_then_creates(hcp, api):
    api.add(world.namespace("clusters"))
    api.add(world.hosted_cluster(available=True))
    result = hcp("create", "nodepool", "kwok", "--cluster-name", "demo", "--name", "big")
    assert result.code == 0, result.err
    assert api.writes == [("POST", "nodepools", "clusters", "big", True),
                          ("POST", "nodepools", "clusters", "big", False)]
    assert result.progress == ["validated 1 object with a server-side dry run", "created NodePool clusters/big"]


@pytest.mark.parametrize(("args", "message"), [
    (["--node-drain-timeout", "-5m"], "Error: Invalid value for '--node-drain-timeout': '-5m' is negative"),
    (["--cpu", "-4"], "Error: Invalid value for '--cpu': '-4' is negative"),
    (["--memory", "-1Gi"], "Error: Invalid value for '--memory': '-1Gi' is negative"),
    (["--etcd-storage-size", "-1Gi"], "Error: Invalid value for '--etcd-storage-size': '-1Gi' is negative"),
    (["--timeout", "-1s"], "Error: Invalid value for '--timeout': '-1s' is negative"),
    (["--node-pool-replicas", str(MAX_NODE_POOL_REPLICAS + 1)],
     f"Error: Invalid value for '--node-pool-replicas': {MAX_NODE_POOL_REPLICAS + 1} is not in the range "
     f"-1<=x<={MAX_NODE_POOL_REPLICAS}."),
])
def test_create_cluster_refuses_negative_and_too_large_values(hcp, api, args, message):
    result = hcp(*CREATE, *args)
    assert result.code == 2
    assert result.err.splitlines()[-1].startswith(message), result.err
    assert api.writes == []


@pytest.mark.parametrize(("args", "message"), [
    (["--node-count", str(MAX_NODE_POOL_REPLICAS + 1)],
     f"Error: Invalid value for '--node-count': {MAX_NODE_POOL_REPLICAS + 1} is not in the range "
     f"0<=x<={MAX_NODE_POOL_REPLICAS}."),
    (["--cpu", "-4"], "Error: Invalid value for '--cpu': '-4' is negative"),
    (["--node-drain-timeout", "-1h"], "Error: Invalid value for '--node-drain-timeout': '-1h' is negative"),
])
def test_create_nodepool_refuses_negative_and_too_large_values(hcp, api, args, message):
    result = hcp("create", "nodepool", "kwok", "--cluster-name", "demo", "--name", "big", *args)
    assert result.code == 2
    assert result.err.splitlines()[-1].startswith(message), result.err
    assert api.writes == []


def test_the_largest_node_pool_is_accepted(hcp, api):
    result = hcp(*CREATE, "--node-pool-replicas", str(MAX_NODE_POOL_REPLICAS))
    assert result.code == 0, result.err
    assert api.get("NodePool", "demo", "clusters")["spec"]["replicas"] == MAX_NODE_POOL_REPLICAS
