"""playbooks/tasks/version_guard.yml (site.yml, add_node.yml): an inventory older than the running cluster is refused.

The first control plane is localhost; the cluster is a private API test server with kube-system/kubeadm-config at
v1.37.0 and a Node whose kubelet reports v1.37.0 (what the test server's kubelet reports).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
GUARD = str(REPO / "playbooks" / "tasks" / "version_guard.yml")
CLUSTER_VERSION = "v1.37.0"
# A Python on which `import yaml` fails, as on a host where PyYAML is not installed yet.
NO_YAML_PYTHON = """#!{python}
import runpy
import sys

sys.modules["yaml"] = None
if len(sys.argv) > 1:
    sys.argv = sys.argv[1:]
    runpy.run_path(sys.argv[0], run_name="__main__")
else:
    exec(compile(sys.stdin.read(), "<stdin>", "exec"), {{"__name__": "__main__"}})
"""
READ = "Read kube-system/kubeadm-config and the nodes (no admin kubeconfig on the first control plane = no cluster yet)"
REFUSE = "Refuse a downgrade"


@pytest.fixture
def cluster(apiserver_factory, ansible_playbook):
    server = apiserver_factory()
    config = {
        "apiVersion": "kubeadm.k8s.io/v1beta4",
        "kind": "ClusterConfiguration",
        "kubernetesVersion": CLUSTER_VERSION,
    }
    objects = [
        {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "cp-0"}},
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "kubeadm-config", "namespace": "kube-system"},
            "data": {"ClusterConfiguration": yaml.safe_dump(config)},
        },
    ]
    setup = ansible_playbook([{"kubeforge.cluster.resource": {"definition": objects}}], kubeconfig=server.kubeconfig)
    assert setup.rc == 0, setup.stdout
    return server


def _guard(ansible_playbook, kubeconfig, versions):
    task = {"ansible.builtin.include_tasks": GUARD, "vars": {"kubeforge_guard_versions": versions}}
    return ansible_playbook(
        [task],
        groups=["control_plane"],
        extra_vars={"ansible_become": False, "kubeforge_guard_kubeconfig": str(kubeconfig)},
    )


def test_an_older_inventory_is_refused_naming_the_versions(cluster, ansible_playbook):
    run = _guard(
        ansible_playbook,
        cluster.kubeconfig,
        {"kube_packages_kubernetes_version": "1.36.4", "control_plane_kubernetes_version": CLUSTER_VERSION},
    )

    assert run.rc != 0
    message = " ".join(run.stdout.split())
    assert "The inventory would downgrade the running cluster:" in message
    assert (
        "kube_packages_kubernetes_version 1.36.4 is older than kube-system/kubeadm-config kubernetesVersion (v1.37.0)"
        in message
    )
    assert "kube_packages_kubernetes_version 1.36.4 is older than the kubelet of node cp-0 (v1.37.0)" in message
    assert "control_plane_kubernetes_version" not in message.split("downgrade the running cluster:")[1]
    assert "Nothing was changed" in message


@pytest.mark.parametrize("version", ["1.37.0", "v1.37.0", "1.38.1"])
def test_the_same_or_a_newer_inventory_passes(cluster, ansible_playbook, version):
    run = _guard(ansible_playbook, cluster.kubeconfig, {"kube_packages_kubernetes_version": version})

    assert run.rc == 0, run.stdout


def test_no_cluster_yet_nothing_is_read(ansible_playbook, tmp_path):
    """No admin kubeconfig: the one read reports it (no stat task before it) and the guard passes."""
    run = _guard(ansible_playbook, tmp_path / "no-admin.conf", {"kube_packages_kubernetes_version": "1.30.0"})

    assert run.rc == 0, run.stdout
    read = run.task(READ).result
    assert read["kubeconfig_found"] is False and not read.get("failed")
    assert [entry["resources"] for entry in read["objects"]] == [[], []]
    assert run.task(REFUSE).result.get("skipped") is True
    assert [task.action for task in run.tasks].count("kubeforge.cluster.resource_info") == 1
    assert "ansible.builtin.stat" not in [task.action for task in run.tasks]


def test_a_fresh_host_without_pyyaml_is_no_cluster(ansible_playbook, tmp_path):
    """A fresh first control plane has no PyYAML yet (the control_plane role installs it later): the read, run as a
    module there, still says no cluster."""
    python = tmp_path / "python-without-yaml"
    python.write_text(NO_YAML_PYTHON.format(python=sys.executable))
    python.chmod(0o755)
    task = {
        "ansible.builtin.include_tasks": GUARD,
        "vars": {"kubeforge_guard_versions": {"kube_packages_kubernetes_version": "1.30.0"}},
    }
    run = ansible_playbook(
        [task],
        groups=["control_plane"],
        in_process=False,
        extra_vars={
            "ansible_become": False,
            "ansible_python_interpreter": str(python),
            "kubeforge_guard_kubeconfig": str(tmp_path / "no-admin.conf"),
        },
    )

    assert run.rc == 0, run.stdout
    assert run.task(READ).result["kubeconfig_found"] is False


def test_a_cluster_that_does_not_answer_is_not_taken_for_no_cluster(cluster, ansible_playbook):
    """An admin kubeconfig whose API server does not answer fails the guard (it is not taken for no cluster)."""
    kubeconfig = cluster.kubeconfig
    cluster.stop_apiserver()
    run = _guard(ansible_playbook, kubeconfig, {"kube_packages_kubernetes_version": "1.30.0"})

    assert run.rc != 0
    assert run.task(READ).failed
