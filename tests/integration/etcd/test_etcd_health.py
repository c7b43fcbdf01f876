"""health.yml's etcd findings (tasks/health_etcd.yml) against a real etcd (Debian's 3.4) run as a kubeadm static pod.

The control plane is localhost with a private root; etcdctl runs only from the "etcd image" through the ctr double.
The cluster part of health.yml reads kubesim; only the etcd findings are asserted here.
"""

from __future__ import annotations

import json
from pathlib import Path

from etcd_cluster import EtcdCluster

REPO = Path(__file__).resolve().parents[3]
PLAYBOOK = REPO / "playbooks" / "health.yml"
SHOW = "Show the findings, worst first"


def _health(ansible_playbook, node, server, **options):
    extra = {
        "health_become": False,
        "health_kubeconfig": str(server.kubeconfig),
        "health_drift": False,
        "health_etcd_timeout": 2,
        "etcd_kubernetes_dir": str(node.k8s),
        "etcd_snapshot_dir": str(node.snapshots),
        "etcd_ctr_path": str(REPO / "tests" / "doubles" / "ctr"),
        **options.pop("extra_vars", {}),
    }
    return ansible_playbook(PLAYBOOK, groups=["control_plane"], extra_vars=extra, env=node.env(), **options)


def _etcd_lines(shown):
    lines = [line.split(" ", 2) for line in shown if line != "no findings"]
    # The object "etcd" also names the snapshot-age finding (not this file's subject).
    return [
        line for line in lines if line[1].startswith("EtcdMember/") or (line[1] == "etcd" and "snapshot" not in line[2])
    ]


def _etcd_findings(run):
    return _etcd_lines(run.task(SHOW).result["msg"])


def _ctr_calls(node):
    return [json.loads(line) for line in node.ctr_log.read_text().splitlines()] if node.ctr_log.exists() else []


def test_a_healthy_member_is_reported_info_and_nothing_changes(ansible_playbook, etcd_node, apiserver_factory):
    server = apiserver_factory()
    members = json.loads(etcd_node.etcdctl("member", "list", "-w", "json"))

    run = _health(ansible_playbook, etcd_node, server)

    assert run.rc == 0, run.stdout[-3000:]
    [finding] = _etcd_findings(run)
    member_id = f"{members['members'][0]['ID']:x}"
    cluster_id = f"{members['header']['cluster_id']:x}"
    assert finding == [
        "info",
        "EtcdMember/cp-0",
        f"healthy, member {member_id} of cluster {cluster_id}, leader {member_id}, 1 member(s), version 3.4.23",
    ]
    assert [call["argv"][-2:] for call in _ctr_calls(etcd_node)] == [
        ["endpoint", "status"],
        ["endpoint", "health"],
        ["member", "list"],
    ]
    assert all(f"--cert={etcd_node.pki}/healthcheck-client.crt" in call["argv"] for call in _ctr_calls(etcd_node))
    assert not [task.name for task in run.tasks if task.changed]
    check = _health(ansible_playbook, etcd_node, server, check=True)
    assert check.rc == 0, check.stdout[-3000:]
    assert not [task.name for task in check.tasks if task.changed]
    assert _etcd_findings(check) == [finding], "check mode did not ask etcd"
    assert "PRIVATE KEY" not in run.output


def test_a_stopped_member_is_reported_critical_by_name(ansible_playbook, etcd_node, apiserver_factory):
    server = apiserver_factory()
    etcd_node.stop()  # etcd stopped, its manifest still in place (a crashed member)

    run = _health(ansible_playbook, etcd_node, server, extra_vars={"health_fail_at": "critical"})

    assert run.rc != 0, "health_fail_at=critical did not fail on a stopped etcd member"
    [finding] = _etcd_findings(run)
    assert finding[:2] == ["critical", "EtcdMember/cp-0"], finding
    assert finding[2].startswith(f"unreachable at {etcd_node.endpoint} from localhost: "), finding
    assert finding[2].endswith(f"Failed to get the status of endpoint {etcd_node.endpoint} (context deadline exceeded)")
    assert [call["argv"][-2:] for call in _ctr_calls(etcd_node)] == [["endpoint", "status"]]
    assert "EtcdMember/cp-0" in run.task("Fail at the chosen severity").msg
    assert not [task.name for task in run.tasks if task.changed]
    # health_etcd=false: etcd is not asked (no ctr call), nothing about it is reported.
    skipped = _health(
        ansible_playbook, etcd_node, server, extra_vars={"health_fail_at": "critical", "health_etcd": False}
    )
    assert skipped.rc == 0, skipped.stdout[-3000:]
    assert _etcd_findings(skipped) == [] and len(_ctr_calls(etcd_node)) == 1


def test_a_learner_and_a_member_without_a_control_plane_are_warnings(ansible_playbook, etcd_node, apiserver_factory):
    server = apiserver_factory()
    etcd_node.etcdctl("member", "add", "spare", "--learner", "--peer-urls=https://127.0.0.1:1")

    run = _health(ansible_playbook, etcd_node, server)

    assert run.rc == 0, run.stdout[-3000:]
    listed = json.loads(etcd_node.etcdctl("member", "list", "-w", "json"))["members"]
    spare = next(m for m in listed if not m.get("name"))
    assert _etcd_findings(run)[:3] == [
        ["warning", "etcd", "2 member(s) ((unstarted), cp-0), the inventory has 1 control plane(s)"],
        ["warning", f"EtcdMember/{spare['ID']:x}", "is a learner (not promoted to a voting member)"],
        ["info", "EtcdMember/cp-0", _etcd_findings(run)[2][2]],
    ]
    assert _etcd_findings(run)[2][2].startswith("healthy, "), _etcd_findings(run)


def _cluster_health(ansible_playbook, cluster, server):
    """health.yml over the cluster's control planes; the findings health.yml showed (on cp-0) and its stats."""
    run = ansible_playbook(
        PLAYBOOK,
        inventory_lines=cluster.inventory_lines(),
        extra_vars={
            "health_become": False,
            "health_kubeconfig": str(server.kubeconfig),
            "health_drift": False,
            "health_etcd_timeout": 2,
        },
        env=cluster.env(),
    )
    assert run.rc == 0, run.stdout[-3000:]
    data = json.loads(run.stdout[run.stdout.find("{") :])
    [shown] = [t["hosts"]["cp-0"]["msg"] for p in data["plays"] for t in p["tasks"] if t["task"]["name"] == SHOW]
    return _etcd_lines(shown), data["stats"]


def test_stopped_members_of_three_are_named_and_the_last_one_has_no_leader(
    ansible_playbook, etcd_cluster, apiserver_factory
):
    server = apiserver_factory()
    one, two = etcd_cluster.nodes[1:]
    one.stop()  # cp-1's etcd down, its manifest in place; the other two keep quorum

    etcd, stats = _cluster_health(ansible_playbook, etcd_cluster, server)

    assert [f[:2] for f in etcd] == [
        ["critical", "EtcdMember/cp-1"],
        ["info", "EtcdMember/cp-0"],
        ["info", "EtcdMember/cp-2"],
    ], etcd
    assert etcd[0][2].startswith(f"unreachable at {one.endpoint} from cp-1: "), etcd
    assert all(", 3 member(s), " in f[2] for f in etcd[1:]), etcd
    assert not [host for host, host_stats in stats.items() if host_stats["changed"]], stats

    two.stop()  # quorum lost: cp-0 still answers its status, without a leader (https://etcd.io/docs/v3.5/metrics/)
    etcd, _stats = _cluster_health(ansible_playbook, etcd_cluster, server)

    assert [f[:2] for f in etcd] == [
        ["critical", "EtcdMember/cp-0"],
        ["critical", "EtcdMember/cp-1"],
        ["critical", "EtcdMember/cp-2"],
    ], etcd
    assert etcd[0][2] == "has no leader (on cp-0)", etcd


def test_control_planes_in_different_etcd_clusters_are_critical(ansible_playbook, tmp_path, apiserver_factory):
    server = apiserver_factory()
    cluster = EtcdCluster(tmp_path / "split", size=2)
    try:
        cluster.create(joined=False)  # two `kubeadm init`s: each control plane has an etcd cluster of its own
        ids = [cluster.member_list(node)["header"]["cluster_id"] for node in cluster.nodes]
        etcd, _stats = _cluster_health(ansible_playbook, cluster, server)
    finally:
        cluster.stop()

    assert etcd[0] == [
        "critical",
        "etcd",
        f"the control planes answer from 2 different etcd clusters: cp-0 in {ids[0]:x}, cp-1 in {ids[1]:x}",
    ], etcd
    assert etcd[1] == ["warning", "etcd", "1 member(s) (cp-0), the inventory has 2 control plane(s)"], etcd
    assert [f[:2] for f in etcd[2:]] == [["info", "EtcdMember/cp-0"], ["info", "EtcdMember/cp-1"]], etcd
