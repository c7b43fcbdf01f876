"""etcd_backup.yml and etcd_restore.yml on a three-member etcd (issue 15 item 2, "single- or multi-member"): three
control planes cp-0..cp-2 (connection local, private roots), one real etcd cluster (Debian's 3.4) joined as kubeadm
joins control planes (etcd_cluster.py); etcdctl/etcdutl only from the etcd image through the ctr double.

etcd's recovery guide (https://etcd.io/docs/v3.5/op-guide/recovery/, "Restoring a cluster"): every member restores
the same snapshot with its own --name and peer URL and the whole --initial-cluster; the restore overwrites the member
ID and cluster ID, so the members start a new logical cluster, with the snapshot's data.
"""

from __future__ import annotations

from pathlib import Path

from etcd_node import flip_a_bit

REPO = Path(__file__).resolve().parents[3]
BACKUP, RESTORE = REPO / "playbooks" / "etcd_backup.yml", REPO / "playbooks" / "etcd_restore.yml"
KEY = "/registry/kubeforge-test/key"


def _run(ansible_playbook, cluster, playbook, **extra):
    return ansible_playbook(
        playbook, inventory_lines=cluster.inventory_lines(), extra_vars=extra or None, env=cluster.env()
    )


def _restore(ansible_playbook, cluster, snapshot):
    return _run(
        ansible_playbook,
        cluster,
        RESTORE,
        etcd_restore_snapshot=snapshot,
        etcd_restore_confirm=True,
        etcd_restore_stop_timeout=30,
        etcd_restore_start_timeout=60,
    )


def test_a_three_member_cluster_is_restored_into_one_new_cluster(ansible_playbook, etcd_cluster):
    cluster = etcd_cluster
    first = cluster.nodes[0]
    first.put(KEY, "before-backup")
    before = cluster.member_list(first)

    backup = _run(ansible_playbook, cluster, BACKUP)

    assert backup.rc == 0, backup.stdout[-3000:] + backup.stderr[-3000:]
    [snapshot] = first.snapshots_taken()
    first.put(KEY, "after-backup")
    first.put("/registry/kubeforge-test/new", "created-after-backup")
    starts = [node.starts for node in cluster.nodes]

    restore = _restore(ansible_playbook, cluster, snapshot)

    assert restore.rc == 0, restore.stdout[-5000:] + restore.stderr[-2000:]
    for node in cluster.nodes:
        node.wait_healthy()
    assert [node.starts for node in cluster.nodes] == [n + 1 for n in starts], "not every member was restarted"
    after = [cluster.member_list(node) for node in cluster.nodes]
    # One cluster: every member lists the same three, by the same names and peer URLs as before.
    assert len({answer["header"]["cluster_id"] for answer in after}) == 1
    names = sorted((m["name"], tuple(m["peerURLs"])) for m in after[0]["members"])
    assert names == sorted((m["name"], tuple(m["peerURLs"])) for m in before["members"])
    assert [sorted(m["name"] for m in answer["members"]) for answer in after] == [["cp-0", "cp-1", "cp-2"]] * 3
    assert not any(m.get("isLearner") for m in after[0]["members"])
    # A new logical cluster (the recovery guide): another cluster ID than the one backed up.
    assert after[0]["header"]["cluster_id"] != before["header"]["cluster_id"]
    # Member IDs come from the peer URLs and the cluster token (etcd's default: kubeadm sets none): cp-0's is what
    # `kubeadm init` bootstrapped it with; the joined members had IDs with a time in them, now new ones.
    ids_before = {m["name"]: m["ID"] for m in before["members"]}
    ids_after = {m["name"]: m["ID"] for m in after[0]["members"]}
    assert [ids_after[n] == ids_before[n] for n in ("cp-0", "cp-1", "cp-2")] == [True, False, False]
    # The snapshot's data on every member, read from each one (serializable: its own copy, not the leader's).
    for node in cluster.nodes:
        assert node.etcdctl("get", "--consistency=s", "--print-value-only", KEY).strip() == "before-backup"
        assert node.etcdctl("get", "--consistency=s", "/registry/kubeforge-test/new").strip() == ""
        assert [p.name for p in node.data_dir.parent.glob("etcd.pre-restore-*")], node.name
        assert (node.snapshots / snapshot).exists(), f"{node.name} has no copy of the snapshot"
    restores = [call for call in cluster.ctr_calls() if call["argv"][1:3] == ["snapshot", "restore"]]
    initial = ",".join(f"{n.name}={n.peer_url}" for n in cluster.nodes)
    assert sorted(next(a for a in call["argv"] if a.startswith("--name=")) for call in restores) == [
        "--name=cp-0",
        "--name=cp-1",
        "--name=cp-2",
    ]
    assert all(f"--initial-cluster={initial}" in call["argv"] for call in restores), restores
    assert "PRIVATE KEY" not in restore.output
    assert not list(cluster.controller_tmp.glob("kubeforge-etcd-restore*")), "a copy of the snapshot was left behind"


def test_a_damaged_snapshot_is_refused_before_any_member_changes(ansible_playbook, etcd_cluster):
    cluster = etcd_cluster
    first = cluster.nodes[0]
    first.put(KEY, "before-backup")
    assert _run(ansible_playbook, cluster, BACKUP).rc == 0
    [snapshot] = first.snapshots_taken()
    flip_a_bit(first.snapshots / snapshot)
    first.put(KEY, "after-backup")
    calls, starts = len(cluster.ctr_calls()), [node.starts for node in cluster.nodes]
    before = cluster.member_list(first)

    restore = _restore(ansible_playbook, cluster, snapshot)

    assert restore.rc != 0
    assert f"snapshot {snapshot} has sha256" in restore.stdout and "refusing to restore it" in restore.stdout
    assert len(cluster.ctr_calls()) == calls, "etcdctl ran after the refusal"
    assert [node.starts for node in cluster.nodes] == starts
    for node in cluster.nodes:
        assert (node.manifests / "etcd.yaml").exists(), f"{node.name}'s etcd manifest was moved"
        assert not list(node.data_dir.parent.glob("etcd.pre-restore-*")), node.name
        assert node.etcdctl("get", "--consistency=s", "--print-value-only", KEY).strip() == "after-backup"
    assert [node.snapshots_taken() for node in cluster.nodes[1:]] == [[], []], "the snapshot was copied"
    assert cluster.member_list(first) == before
