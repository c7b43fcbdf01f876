"""The node module and the cordon/drain/uncordon/maintenance playbooks through ansible-playbook.

Inventory: the test server's node names (k8s-0, k8s-1) as hosts with connection local; the playbooks talk to the
API from localhost with the server's kubeconfig (kubeforge_kubeconfig).
"""

from __future__ import annotations

import yaml
from node_cluster import SPARE, TARGET

PAIR = 2


def _write(path, data):
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _module_play(cluster, tasks):
    return [
        {
            "name": "node module",
            "hosts": "localhost",
            "gather_facts": False,
            "module_defaults": {"group/kubeforge.cluster.k8s": {"kubeconfig": cluster.kubeconfig}},
            "tasks": tasks,
        }
    ]


def test_module_taints_check_mode_and_idempotence(cluster, run_node_playbook, tmp_path):
    master = {"key": "node-role.kubernetes.io/master", "effect": "NoSchedule"}
    cluster.start_on_target(lambda: cluster.deployment("web", PAIR))
    cluster.wait_running(PAIR)
    cluster.open_spare()
    cluster.call("PATCH", f"/api/v1/nodes/{TARGET}", {"spec": {"taints": [master]}}, "application/merge-patch+json")
    tasks = [
        {
            "name": "untaint",
            "kubeforge.cluster.node": {"all_nodes": True, "taints": [{"key": master["key"], "state": "absent"}]},
        },
        {
            "name": "drain",
            "kubeforge.cluster.node": {"name": TARGET, "state": "drained"},
            "check_mode": True,
        },
    ]
    playbook = _write(tmp_path / "module.yml", _module_play(cluster, tasks))
    before = cluster.pod_uids()

    first = run_node_playbook(cluster, playbook)
    second = run_node_playbook(cluster, playbook)

    assert first.rc == 0, first.stdout + first.stderr
    untaint, drain = first.results("untaint")["localhost"], first.results("drain")["localhost"]
    assert untaint["changed"] is True
    assert [(n["name"], n["changed"]) for n in untaint["nodes"]] == [(TARGET, True), (SPARE, False)]
    assert drain["changed"] is True and len(drain["nodes"][0]["evicted"]) == PAIR
    assert "taints" not in cluster.node()["spec"]
    assert not cluster.node()["spec"].get("unschedulable") and cluster.pod_uids() == before, "check mode changed"
    assert second.rc == 0 and second.results("untaint")["localhost"]["changed"] is False


def test_drain_failure_through_ansible_lists_the_pods(cluster, run_node_playbook, tmp_path):
    cluster.start_on_target(lambda: cluster.deployment("web", PAIR), lambda: cluster.pdb("web", "web", PAIR))
    cluster.wait_running(PAIR)
    cluster.open_spare()
    tasks = [{"name": "drain", "kubeforge.cluster.node": {"name": TARGET, "state": "drained", "timeout": 2}}]

    run = run_node_playbook(cluster, _write(tmp_path / "fail.yml", _module_play(cluster, tasks)))

    result = run.results("drain")["localhost"]
    assert run.rc != 0 and result["failed"] is True
    assert result["msg"].startswith(f"Node/{TARGET}: timed out after 2s draining: 2 pods left, the node stays cordoned")
    assert result["reason"] == "DrainFailed" and result["object"] == f"Node/{TARGET}"
    assert {c["reason"] for c in result["causes"]} == {"DisruptionBudget"}
    assert cluster.node()["spec"]["unschedulable"] is True


def test_cordon_drain_uncordon_playbooks(cluster, run_node_playbook):
    cluster.start_on_target(lambda: cluster.deployment("web", PAIR), lambda: cluster.daemonset("agent"))
    cluster.wait_running(PAIR + 1)
    cluster.open_spare()

    refused = run_node_playbook(cluster, "cordon.yml")
    assert refused.rc != 0 and "Choose the nodes with --limit" in refused.stdout
    assert not cluster.node()["spec"].get("unschedulable") and not cluster.node(SPARE)["spec"].get("unschedulable")

    cordon = run_node_playbook(cluster, "cordon.yml", extra_vars={"kubeforge_nodes": SPARE})
    assert cordon.rc == 0 and cluster.node(SPARE)["spec"]["unschedulable"] is True
    assert not cluster.node()["spec"].get("unschedulable")
    uncordon = run_node_playbook(cluster, "uncordon.yml", limit=SPARE)
    assert uncordon.rc == 0 and not cluster.node(SPARE)["spec"].get("unschedulable")

    drain = run_node_playbook(cluster, "drain.yml", limit=TARGET)
    again = run_node_playbook(cluster, "drain.yml", limit=TARGET)

    assert drain.rc == 0, drain.stdout + drain.stderr
    result = drain.results("Set the Kubernetes node to drained")[TARGET]
    assert result["changed"] is True and len(result["nodes"][0]["evicted"]) == PAIR
    assert [p["metadata"]["labels"]["app"] for p in cluster.pods()] == ["agent"]
    assert again.rc == 0 and again.stats[TARGET]["changed"] == 0


def test_maintenance_one_node_at_a_time(cluster, run_node_playbook, tmp_path):
    cluster.start_on_target(lambda: cluster.deployment("web", PAIR))
    cluster.wait_running(PAIR)
    cluster.open_spare()
    log = tmp_path / "maintenance.log"
    user_tasks = [
        {
            "name": "Read the node being maintained",
            "kubeforge.cluster.node": {"name": "{{ inventory_hostname }}", "kubeconfig": cluster.kubeconfig},
            "delegate_to": "localhost",
            "register": "node_now",
        },
        {
            "name": "Record whether it is cordoned",
            "ansible.builtin.shell": "echo {{ inventory_hostname }} {{ node_now.nodes[0].unschedulable }} >> "
            + str(log),
            "changed_when": True,
        },
    ]
    tasks_file = _write(tmp_path / "user-tasks.yml", user_tasks)

    run = run_node_playbook(
        cluster,
        "maintenance.yml",
        limit=f"{TARGET},{SPARE}",
        extra_vars={"kubeforge_maintenance_tasks": str(tasks_file)},
    )

    assert run.rc == 0, run.stdout + run.stderr
    # serial: each node was cordoned during its own maintenance, the other one was not drained at the same time
    assert log.read_text().split("\n")[:2] == [f"{TARGET} True", f"{SPARE} True"]
    assert not cluster.node()["spec"].get("unschedulable") and not cluster.node(SPARE)["spec"].get("unschedulable")
    assert cluster.pods(SPARE) == [], "the second node's maintenance drained it"


def test_maintenance_dry_runs_every_drain_before_cordoning_anything(cluster, run_node_playbook, tmp_path):
    cluster.start_on_target(lambda: cluster.deployment("web", PAIR), lambda: cluster.pdb("web", "web", PAIR))
    cluster.wait_running(PAIR)
    cluster.open_spare()
    marker = tmp_path / "ran"
    tasks_file = _write(
        tmp_path / "user-tasks.yml",
        [{"name": "Maintenance", "ansible.builtin.file": {"path": str(marker), "state": "touch", "mode": "0644"}}],
    )

    run = run_node_playbook(
        cluster,
        "maintenance.yml",
        limit=f"{TARGET},{SPARE}",
        extra_vars={"kubeforge_maintenance_tasks": str(tasks_file), "kubeforge_node_timeout": 2},
    )

    assert run.rc != 0
    message = " ".join(run.stdout.split())
    assert "Draining would be blocked, so nothing was cordoned or changed." in message
    assert f"{TARGET}: pod default/web-" in message and "PodDisruptionBudget default/web" in message
    assert not marker.exists(), "maintenance tasks ran after a failed pre-check"
    assert not cluster.node()["spec"].get("unschedulable") and not cluster.node(SPARE)["spec"].get("unschedulable")
    assert all(stats.get("changed", 0) == 0 for stats in run.stats.values())
    assert len(cluster.pods()) == PAIR
