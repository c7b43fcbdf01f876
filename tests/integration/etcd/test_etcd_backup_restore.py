"""etcd_backup.yml and etcd_restore.yml against a real etcd (Debian's 3.4) run as a kubeadm static pod.

The control plane is localhost (connection local) with a private root: its /etc/kubernetes, its etcd PKI and data
directory; etcdctl runs only from the "etcd image" through the ctr double (tests/doubles/ctr).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import time
from pathlib import Path

from etcd_node import flip_a_bit

REPO = Path(__file__).resolve().parents[3]
BACKUP, RESTORE = REPO / "playbooks" / "etcd_backup.yml", REPO / "playbooks" / "etcd_restore.yml"
KEY = "/registry/kubeforge-test/key"
SHA256_BYTES = 32


def _run(ansible_playbook, node, playbook, **extra):
    extra_vars = {
        "ansible_become": False,
        "etcd_kubernetes_dir": str(node.k8s),
        "etcd_snapshot_dir": str(node.snapshots),
        "etcd_ctr_path": str(REPO / "tests" / "doubles" / "ctr"),
    }
    extra_vars.update(extra)
    return ansible_playbook(playbook, groups=["control_plane"], extra_vars=extra_vars, env=node.env())


def _ctr_calls(node):
    return [json.loads(line) for line in node.ctr_log.read_text().splitlines()] if node.ctr_log.exists() else []


def test_backup_then_restore_round_trip(ansible_playbook, etcd_node):
    node = etcd_node
    node.put(KEY, "before-backup")

    backup = _run(ansible_playbook, node, BACKUP, etcd_snapshot_keep=2)

    assert backup.rc == 0, backup.stdout + backup.stderr
    [snapshot] = node.snapshots_taken()
    digest = (node.snapshots / f"{snapshot}.sha256").read_text().split()
    assert digest[1] == snapshot and len(bytes.fromhex(digest[0])) == SHA256_BYTES
    calls = _ctr_calls(node)
    assert [c["argv"][:3] for c in calls] == [
        ["etcdctl", f"--endpoints={node.endpoint}", f"--cacert={node.pki}/ca.crt"]
    ]
    assert calls[0]["namespace"] == "k8s.io" and calls[0]["image"] == "registry.k8s.io/etcd:3.4.23-0"

    node.put(KEY, "after-backup")
    node.put("/registry/kubeforge-test/new", "created-after-backup")
    starts = node.starts

    restore = _run(
        ansible_playbook,
        node,
        RESTORE,
        etcd_restore_snapshot=snapshot,
        etcd_restore_confirm=True,
        etcd_restore_stop_timeout=30,
        etcd_restore_start_timeout=60,
    )

    assert restore.rc == 0, restore.stdout + restore.stderr
    node.wait_healthy()
    assert node.starts == starts + 1, "etcd was not stopped and started by moving its manifest"
    assert node.get(KEY) == "before-backup"
    assert node.get("/registry/kubeforge-test/new") == ""
    assert [p.name for p in node.data_dir.parent.glob("etcd.pre-restore-*")], "the old data directory was not kept"
    restore_call = _ctr_calls(node)[-1]["argv"]
    assert restore_call[:3] == ["etcdctl", "snapshot", "restore"]  # etcd 3.4: no etcdutl in the image
    assert f"--initial-cluster={node.name}=https://127.0.0.1:{node.peer_port}" in restore_call
    assert "PRIVATE KEY" not in restore.output and "PRIVATE KEY" not in backup.output


def test_backups_keep_the_newest_and_their_checksums(ansible_playbook, etcd_node):
    node = etcd_node
    runs = [_run(ansible_playbook, node, BACKUP, etcd_snapshot_keep=2, etcd_snapshot_label=f"run{i}") for i in range(3)]

    assert [r.rc for r in runs] == [0, 0, 0], runs[-1].stdout
    assert [name.split("-")[0] for name in node.snapshots_taken()] == ["run1", "run2"]
    assert sorted(p.name for p in node.snapshots.glob("*.sha256")) == [f"{n}.sha256" for n in node.snapshots_taken()]


def test_restore_refuses_a_damaged_snapshot_before_anything_changes(ansible_playbook, etcd_node):
    node = etcd_node
    node.put(KEY, "before-backup")
    assert _run(ansible_playbook, node, BACKUP).rc == 0
    [snapshot] = node.snapshots_taken()
    flip_a_bit(node.snapshots / snapshot)
    node.put(KEY, "after-backup")
    calls, starts = len(_ctr_calls(node)), node.starts

    restore = _run(ansible_playbook, node, RESTORE, etcd_restore_snapshot=snapshot, etcd_restore_confirm=True)

    assert restore.rc != 0
    assert f"snapshot {snapshot} has sha256" in restore.stdout and "refusing to restore it" in restore.stdout
    assert (node.manifests / "etcd.yaml").exists() and node.starts == starts
    assert len(_ctr_calls(node)) == calls and node.get(KEY) == "after-backup"


def test_bad_requests_are_refused_before_anything_changes(ansible_playbook, etcd_node):
    node = etcd_node
    assert _run(ansible_playbook, node, BACKUP).rc == 0
    [snapshot] = node.snapshots_taken()
    calls = len(_ctr_calls(node))
    cases = [
        (RESTORE, {"etcd_restore_snapshot": snapshot}, "etcd_restore_confirm is not true"),
        (
            RESTORE,
            {"etcd_restore_snapshot": "nosuch.db", "etcd_restore_confirm": True},
            f"nosuch.db (or its .sha256) does not exist. Snapshots there: {snapshot}",
        ),
        (
            RESTORE,
            {"etcd_restore_snapshot": snapshot, "etcd_restore_confirm": True, "etcd_restore_source": "nosuch"},
            "etcd_restore_source nosuch is not a host of the control_plane group",
        ),
        (
            BACKUP,
            {"etcd_backup_host": "nosuch"},
            "etcd_backup_host nosuch: not a host of the inventory's control_plane",
        ),
    ]
    for playbook, extra, message in cases:
        run = _run(ansible_playbook, node, playbook, **extra)
        assert run.rc != 0 and message in " ".join(run.stdout.split()), (message, run.stdout[-3000:])
        assert "Nothing was changed" in run.stdout
    assert len(_ctr_calls(node)) == calls and node.snapshots_taken() == [snapshot] and node.starts == 1


def test_backup_timer_script_takes_snapshots_and_a_second_install_changes_nothing(ansible_playbook, etcd_node):
    node = etcd_node
    script, units = node.root / "kubeforge-etcd-backup", node.root / "systemd"
    units.mkdir()
    timer = {
        "etcd_backup_timer": True,
        "etcd_backup_now": False,
        "etcd_backup_timer_script": str(script),
        "etcd_systemd_dir": str(units),
        "etcd_backup_timer_enable": False,  # no systemd on the test machine: the units are checked as files
        "etcd_backup_timer_schedule": "*-*-* 03:00:00",
        "etcd_snapshot_keep": 2,
    }

    first = _run(ansible_playbook, node, BACKUP, **timer)
    second = _run(ansible_playbook, node, BACKUP, **timer)

    assert first.rc == 0 and second.rc == 0, first.stdout + second.stdout
    assert node.snapshots_taken() == [] and _ctr_calls(node) == [], "etcd_backup_now=false took a snapshot"
    assert first.task("Write the backup script").changed
    assert not [t.name for t in second.tasks if t.changed], "the second install changed something"
    assert "OnCalendar=*-*-* 03:00:00" in (units / "kubeforge-etcd-backup.timer").read_text()
    assert f"ExecStart={script}" in (units / "kubeforge-etcd-backup.service").read_text()
    env = dict(os.environ, **node.env())
    for _timer_run in range(3):  # what the timer's service runs
        subprocess.run([str(script)], env=env, check=True, capture_output=True, timeout=60)
        time.sleep(1.1)  # snapshot names have a one-second resolution
    taken = node.snapshots_taken()
    assert len(taken) == timer["etcd_snapshot_keep"]
    for name in taken:
        digest, listed = (node.snapshots / f"{name}.sha256").read_text().split()
        assert listed == name and digest == hashlib.sha256((node.snapshots / name).read_bytes()).hexdigest()
    assert [c["argv"][-3:-1] for c in _ctr_calls(node)] == [["snapshot", "save"]] * 3
