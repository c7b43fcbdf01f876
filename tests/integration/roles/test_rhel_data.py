"""Rocky/Alma 9 paths, which cannot run here (no RHEL-family test host on this machine): the data they render.

- containerd: the Docker CE repository, as Docker's install guide for CentOS/RHEL writes docker-ce.repo
  (baseurl https://download.docker.com/linux/centos/$releasever/$basearch/stable, gpgkey .../linux/centos/gpg).
- kube_packages: firewalld ports per node kind from kubernetes.io "Ports and Protocols" plus Flannel's 8472/udp.
The role files are loaded as they are and rendered by ansible-playbook.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.slow


def _render(tmp_path, files, expressions, hosts=("cp1", "w1")):
    """Load the role files on local hosts cp1 (control_plane) and w1 (workers); return {host: {name: value}}."""
    local = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    inventory = {
        "all": {
            "children": {
                "control_plane": {"hosts": {hosts[0]: local}},
                "workers": {"hosts": {hosts[1]: local}},
            }
        }
    }
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump(inventory))
    out = tmp_path / "out"
    out.mkdir()
    play = [
        {
            "hosts": "all",
            "gather_facts": False,
            "tasks": [{"ansible.builtin.include_vars": {"file": str(ROOT / f)}} for f in files]
            + [
                {
                    "ansible.builtin.copy": {
                        "content": "{{ {" + ", ".join(f"'{k}': kf_{k}" for k in expressions) + "} | to_json }}",
                        "dest": str(out) + "/{{ inventory_hostname }}.json",
                        "mode": "0644",
                    },
                    "vars": {f"kf_{k}": v for k, v in expressions.items()},
                }
            ],
        }
    ]
    (tmp_path / "play.yml").write_text(yaml.safe_dump(play))
    env = dict(os.environ, ANSIBLE_NOCOLOR="1")
    env.setdefault("ANSIBLE_COLLECTIONS_PATH", str(ROOT / ".venv" / "collections"))
    cmd = [
        str(Path(sys.executable).parent / "ansible-playbook"),
        "-i",
        str(tmp_path / "hosts.yml"),
        str(tmp_path / "play.yml"),
    ]
    run = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    return {h: json.loads((out / f"{h}.json").read_text()) for h in hosts}


def _expressions_of(task_file, module):
    """The arguments of the first task of ``task_file`` that uses ``module``."""
    tasks = yaml.safe_load((ROOT / task_file).read_text())
    return next(task[module] for task in tasks if module in task)


def test_docker_repository_for_containerd_io(tmp_path):
    args = _expressions_of("roles/containerd/tasks/install-package-RedHat.yml", "ansible.builtin.yum_repository")
    rendered = _render(
        tmp_path, ["roles/containerd/defaults/main.yml"], {"baseurl": args["baseurl"], "gpgkey": args["gpgkey"]}
    )
    assert rendered["cp1"]["baseurl"] == "https://download.docker.com/linux/centos/$releasever/$basearch/stable"
    assert rendered["cp1"]["gpgkey"] == "https://download.docker.com/linux/centos/gpg"
    assert args["gpgcheck"] is True
    assert yaml.safe_load((ROOT / "roles/containerd/vars/RedHat.yml").read_text())["containerd_os_packages"] == [
        "containerd.io"
    ]


def _task_named(task_file, name):
    """A task of ``task_file`` (blocks included) by its name."""
    pending = list(yaml.safe_load((ROOT / task_file).read_text()))
    while pending:
        task = pending.pop(0)
        if task.get("name") == name:
            return task
        pending.extend(task.get("block", []))
    raise AssertionError(f"{task_file}: no task named {name!r}")


def test_firewalld_ports_per_node_kind(tmp_path):
    task = _task_named("roles/kube_packages/tasks/node-RedHat.yml", "Open the missing ports permanently and now")
    assert task["ansible.builtin.command"] == "firewall-cmd --permanent --add-port={{ item }}"
    assert task["notify"] == "Reload firewalld"
    assert "kube_packages_firewalld_open.stdout.split()" in task["loop"], "only the ports not open yet"
    rendered = _render(
        tmp_path,
        ["roles/kube_packages/defaults/main.yml", "roles/kube_packages/vars/main.yml"],
        {"ports": "{{ kube_packages_node_ports }}"},
    )
    assert rendered["cp1"]["ports"] == ["6443/tcp", "2379-2380/tcp", "10250/tcp", "10257/tcp", "10259/tcp", "8472/udp"]
    assert rendered["w1"]["ports"] == ["10250/tcp", "30000-32767/tcp", "8472/udp"]


def test_selinux_permissive_task():
    now = _task_named("roles/kube_packages/tasks/node-RedHat.yml", "Put SELinux in permissive mode now")
    assert now["ansible.builtin.command"] == "setenforce 0"
    assert "kube_packages_getenforce.stdout | default('') | trim == 'Enforcing'" in now["when"]
    boot = _task_named("roles/kube_packages/tasks/node-RedHat.yml", "Keep SELinux permissive after a reboot")
    assert boot["ansible.builtin.lineinfile"] == {
        "path": "/etc/selinux/config",
        "regexp": "^SELINUX=",
        "line": "SELINUX=permissive",
    }
