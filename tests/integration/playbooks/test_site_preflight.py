"""site.yml stops on bad input before anything changes: ansible-playbook against local-connection hosts.

Every case runs the real playbook. A failing check must name the setting, and no task of the plays after the
checks (host preparation and later) may have run.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
SITE = ROOT / "playbooks" / "site.yml"
LATER_PLAYS = ("kubeforge.cluster.host_prep", "kubeforge.cluster.control_plane : Run kubeadm init", "kubeadm join")

pytestmark = pytest.mark.slow


def _inventory(tmp_path, control_planes=("kube-master",), workers=("kubenode-1", "kubenode-2"), extra=None):
    local = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    groups = {}
    if control_planes:
        groups["control_plane"] = {"hosts": {name: dict(local) for name in control_planes}}
    if workers:
        groups["workers"] = {"hosts": {name: dict(local) for name in workers}}
    inventory = {"all": {"children": groups, "vars": {"cluster_preflight_reachability": False, **(extra or {})}}}
    path = tmp_path / "hosts.yml"
    path.write_text(yaml.safe_dump(inventory))
    return path


def _run(inventory, *args):
    env = dict(os.environ)
    env.setdefault("ANSIBLE_COLLECTIONS_PATH", str(ROOT / ".venv" / "collections"))
    env.update(ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_RETRY_FILES_ENABLED="0")
    cmd = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory), str(SITE), *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=str(ROOT), timeout=300, check=False)


def _assert_stopped_early(run, *phrases):
    out = run.stdout + run.stderr
    assert run.returncode != 0, out
    for phrase in phrases:
        assert phrase in out, out
    for marker in LATER_PLAYS:
        assert "TASK [" + marker not in out, out


def test_valid_settings_pass_the_checks(tmp_path):
    run = _run(_inventory(tmp_path), "--tags", "preflight")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "failed=0" in run.stdout
    assert "changed=1" not in run.stdout


def test_no_control_plane_host(tmp_path):
    run = _run(_inventory(tmp_path, control_planes=()), "--tags", "preflight")
    _assert_stopped_early(run, "the group 'control_plane' has no host")


def test_even_number_of_etcd_members(tmp_path):
    run = _run(_inventory(tmp_path, control_planes=("cp-1", "cp-2")), "--tags", "preflight")
    _assert_stopped_early(run, "has 2 hosts", "odd number of members")


@pytest.mark.parametrize(
    ("extra", "phrases"),
    [
        (
            {"control_plane_service_subnet": "10.244.128.0/20"},
            ["inconsistent subnets", "control_plane_pod_subnet 10.244.0.0/16 overlaps control_plane_service_subnet"],
        ),
        (
            {"cni_pod_subnet": "192.168.0.0/16"},
            ["inconsistent subnets: cni_pod_subnet 192.168.0.0/16 differs from control_plane_pod_subnet 10.244.0.0/16"],
        ),
        ({"control_plane_pod_subnet": "10.244.0.0"}, ["control_plane_pod_subnet: not a network in CIDR notation"]),
        ({"cni_plugin": "weave"}, ["cni_plugin: unknown network add-on 'weave'", "supported: flannel"]),
        ({"control_plane_kubernetes_version": "1.34"}, ["control_plane_kubernetes_version must look like v1.34.2"]),
        (
            {"control_plane_kubernetes_version": "v1.36.4", "kube_packages_kubernetes_version": "1.37.1"},
            ["inconsistent versions: kube_packages_kubernetes_version 1.37.1", "must have the same minor version"],
        ),
    ],
    ids=["pod-overlaps-service", "cni-differs-from-kubeadm", "not-a-cidr", "unknown-add-on", "bad-version", "skew"],
)
def test_bad_settings(tmp_path, extra, phrases):
    run = _run(_inventory(tmp_path, extra=extra), "--tags", "preflight")
    _assert_stopped_early(run, *phrases)


def test_host_in_both_groups(tmp_path):
    run = _run(_inventory(tmp_path, workers=("kube-master", "kubenode-1")), "--tags", "preflight")
    _assert_stopped_early(run, "kube-master in both 'control_plane' and 'workers'")


def test_unreachable_package_source_stops_with_the_offline_option(tmp_path):
    sources = [
        {"name": "Kubernetes package source", "url": "http://127.0.0.1:9/deb/"},
        {"name": "image registry", "url": "http://127.0.0.1:9/v2/"},
    ]
    inventory = _inventory(
        tmp_path, extra={"cluster_preflight_reachability": True, "cluster_preflight_sources": sources}
    )
    run = _run(inventory, "--tags", "preflight")
    _assert_stopped_early(
        run,
        "preflight: Kubernetes package source and image registry unreachable from kube-master",
        "http://127.0.0.1:9/deb/",
        "docs/offline.md",
        "Nothing was changed",
    )
