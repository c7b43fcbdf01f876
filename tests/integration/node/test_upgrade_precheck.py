"""upgrade.yml's checks before it touches a node, against the API test server (no kubeadm, no packages: the run
stops before the per-node plays) and tasks/upgrade_pending.yml, which decides where a re-run resumes.

Inventory: control_plane k8s-1, workers k8s-0 (the last node in upgrade order, where the workloads run); both
connection local. The cluster's kube-system/kubeadm-config says v1.37.0, as does every kubelet of the test server.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml
from node_cluster import SPARE, TARGET

REPO = Path(__file__).resolve().parents[3]
UPGRADE = REPO / "playbooks" / "upgrade.yml"
PENDING = str(REPO / "playbooks" / "tasks" / "upgrade_pending.yml")
CURRENT, TARGET_VERSION = "v1.37.0", "v1.37.1"
LABEL = "kubeforge.cluster/upgrade"
PAIR = 2


def _inventory_lines():
    local = f"ansible_connection=local ansible_python_interpreter={sys.executable}"
    return [f"{SPARE} {local}", f"{TARGET} {local}", "[control_plane]", SPARE, "[workers]", TARGET]


@pytest.fixture
def kubeadm_cluster(cluster):
    config = {"apiVersion": "kubeadm.k8s.io/v1beta4", "kind": "ClusterConfiguration", "kubernetesVersion": CURRENT}
    cluster.create(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "kubeadm-config", "namespace": "kube-system"},
            "data": {"ClusterConfiguration": yaml.safe_dump(config)},
        }
    )
    return cluster


def _set_node(cluster, name, version, label=None):
    status = {"status": {"nodeInfo": {"kubeletVersion": version}}}
    cluster.call("PATCH", f"/api/v1/nodes/{name}/status", status, "application/merge-patch+json")
    patch = {"metadata": {"labels": {LABEL: label}}}
    cluster.call("PATCH", f"/api/v1/nodes/{name}", patch, "application/merge-patch+json")


def test_a_blocking_budget_on_the_last_node_stops_the_upgrade_before_any_cordon(kubeadm_cluster, ansible_playbook):
    cluster = kubeadm_cluster
    cluster.start_on_target(lambda: cluster.deployment("web", PAIR), lambda: cluster.pdb("web", "web", PAIR))
    cluster.wait_running(PAIR)
    cluster.open_spare()

    run = ansible_playbook(
        UPGRADE,
        inventory_lines=_inventory_lines(),
        extra_vars={
            "upgrade_kubernetes_version": TARGET_VERSION,
            "upgrade_admin_conf": cluster.kubeconfig,
            "ansible_become": False,
        },
    )

    assert run.rc != 0
    message = " ".join(run.stdout.split())
    assert f"Upgrading to {TARGET_VERSION}, in this order: {SPARE}, {TARGET}" in message
    assert "Draining would be blocked, so nothing was cordoned or changed." in message
    assert f"{TARGET}: pod default/web-" in message and "blocked by PodDisruptionBudget default/web" in message
    assert "Read the etcd static pod manifest" not in run.stdout, "the snapshot ran before the pre-check"
    for name in (SPARE, TARGET):
        node = cluster.node(name)
        assert not node["spec"].get("unschedulable") and LABEL not in node["metadata"].get("labels", {})
    assert len(cluster.pods()) == PAIR


def _pending(cluster, ansible_playbook):
    task = {"ansible.builtin.include_tasks": PENDING}
    play_vars = {"upgrade_kubernetes_version": TARGET_VERSION, "upgrade_admin_conf": cluster.kubeconfig}
    run = ansible_playbook(
        [task, {"ansible.builtin.debug": {"var": "upgrade_pending"}, "name": "pending"}],
        inventory_lines=_inventory_lines(),
        play_hosts=SPARE,
        vars=play_vars,
    )
    assert run.rc == 0, run.stdout
    return run.stdout.split('"upgrade_pending": ')[1].split("]")[0]


def test_resume_starts_at_the_first_node_not_done(kubeadm_cluster, ansible_playbook):
    cluster = kubeadm_cluster

    assert yaml.safe_load(_pending(cluster, ansible_playbook) + "]") == [SPARE, TARGET]

    _set_node(cluster, SPARE, TARGET_VERSION)
    assert yaml.safe_load(_pending(cluster, ansible_playbook) + "]") == [TARGET]

    # interrupted between the kubelet restart and the uncordon: the version is right, the label is still there
    _set_node(cluster, SPARE, TARGET_VERSION, label=TARGET_VERSION)
    _set_node(cluster, TARGET, TARGET_VERSION)
    assert yaml.safe_load(_pending(cluster, ansible_playbook) + "]") == [SPARE]

    _set_node(cluster, SPARE, TARGET_VERSION)
    assert yaml.safe_load(_pending(cluster, ansible_playbook) + "]") == []
