"""playbooks/tasks/wait_readyz.yml: after the static pods restart, wait for the API server's /readyz, not a pause.

The apiserver_root fixture (conftest.py): a local HTTPS server answers /readyz with 500 (what kube-apiserver answers
while a readiness check fails) to the first requests, then 200; the kube-apiserver manifest under the private root
names it with --advertise-address and --secure-port, as kubeadm writes them.
"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
TASKS = str(REPO / "playbooks" / "tasks" / "wait_readyz.yml")
NOT_READY_ANSWERS = 2
HTTP_OK, HTTP_NOT_READY = 200, 500


def test_waits_until_readyz_answers_200(ansible_playbook, apiserver_root):
    root, handler = apiserver_root

    run = ansible_playbook(
        [{"ansible.builtin.include_tasks": TASKS}],
        extra_vars={"etcd_kubernetes_dir": str(root / "etc" / "kubernetes"), "kubeforge_readyz_timeout": 60},
    )

    assert run.rc == 0, run.stdout
    assert handler.paths == ["/readyz"] * (NOT_READY_ANSWERS + 1), "the wait ended before /readyz answered 200"
    assert run.task("Wait for /readyz of the API server").result["status"] == HTTP_OK


def test_fails_when_readyz_never_answers_200(ansible_playbook, apiserver_root):
    root, handler = apiserver_root
    handler.not_ready_answers = 1000

    run = ansible_playbook(
        [{"ansible.builtin.include_tasks": TASKS}],
        extra_vars={"etcd_kubernetes_dir": str(root / "etc" / "kubernetes"), "kubeforge_readyz_timeout": 4},
    )

    assert run.rc != 0
    assert run.task("Wait for /readyz of the API server").result["status"] == HTTP_NOT_READY


def test_nothing_to_wait_for_without_an_apiserver_manifest(ansible_playbook, tmp_path):
    run = ansible_playbook(
        [{"ansible.builtin.include_tasks": TASKS}], extra_vars={"etcd_kubernetes_dir": str(tmp_path)}
    )

    assert run.rc == 0, run.stdout
    assert run.task("Wait for /readyz of the API server").result.get("skipped") is True
