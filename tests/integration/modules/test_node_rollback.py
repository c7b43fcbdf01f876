"""kubeforge.cluster.node patches several nodes in one call: when one patch fails, the nodes already patched get
their labels, taints and schedulability back (issue 19)."""

from __future__ import annotations

import json

import pytest
from kube_objects import configmap

HTTP_CREATED = 201
POOL = {"pool": "rollback"}
TAINT = {"key": "dedicated", "value": "batch", "effect": "NoSchedule"}


@pytest.fixture
def apiserver(apiserver_factory):
    """A private server: this test deletes a node, which must not disturb other tests."""
    return apiserver_factory()


def _node(apiserver, name):
    return apiserver.request("GET", f"/api/v1/nodes/{name}")[1]


def _task(**args):
    return {"name": "nodes", "kubeforge.cluster.node": dict(label_selector="pool=rollback", **args)}


def test_failed_node_patch_restores_the_nodes_already_patched_and_rerun_converges(playbook, apiserver):
    first, second = apiserver.add_nodes(2, "rb", labels=POOL)
    before = _node(apiserver, first)
    rules = [{"after_write": f"nodes//{first}", "delete": f"nodes//{second}"}]  # someone removes the 2nd node
    status, body = apiserver.request(
        "POST",
        "/api/v1/namespaces/kube-system/configmaps",
        configmap("kubesim-faults", "kube-system", rules=json.dumps(rules)),
    )
    assert status == HTTP_CREATED, body
    wanted = {"state": "cordoned", "labels": {"tier": "batch"}, "taints": [TAINT]}
    run = playbook([dict(_task(**wanted), ignore_errors=True)])
    failed = run.last
    assert failed.failed, run.stdout
    assert f"Node/{second}" in failed.msg and "not found" in failed.msg, failed.msg
    assert f"rolled back: Node/{first} (restored)" in failed.msg, failed.msg
    after = _node(apiserver, first)
    assert after["metadata"]["labels"] == before["metadata"]["labels"]
    assert not after["spec"].get("unschedulable") and not after["spec"].get("taints")

    apiserver.add_nodes(1, "rb-again", labels=POOL)
    run = playbook([_task(**wanted), _task(**wanted)])
    assert run.rc == 0, run.stdout
    assert run.tasks[0].changed and not run.tasks[1].changed
    assert _node(apiserver, first)["spec"]["unschedulable"] is True
