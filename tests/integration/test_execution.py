"""Where an API module's logic runs: inside its action plugin on the controller when the task's host is the
controller, else as a module sent to the host (AnsiballZ). The module path is what every remote host gets."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "modules"))
from kube_objects import configmap

SECRET_VALUE = "loop_secret_0a7d31"  # searched for in every output
HTTP_OK = 200


def _modules_sent(tmp_path):
    """AnsiballZ payloads left behind (ANSIBLE_KEEP_REMOTE_FILES) = modules that ran as processes."""
    return sorted(p.name for p in (tmp_path / "remote-tmp").rglob("AnsiballZ_*.py"))


def _env(tmp_path):
    return {"ANSIBLE_KEEP_REMOTE_FILES": "1", "ANSIBLE_REMOTE_TMP": str(tmp_path / "remote-tmp")}


def _loop_task(namespace):
    return {
        "name": "loop",
        "kubeforge.cluster.resource": {"definition": "{{ item }}"},
        "loop": [configmap(f"item-{i}", namespace, index=str(i)) for i in range(5)],
    }


def test_local_host_runs_in_process_and_loop_is_idempotent(playbook, namespace, tmp_path):
    secret = {
        "name": "secret",
        "kubeforge.cluster.secret": {"name": "loop-secret", "namespace": namespace, "literals": {"pw": SECRET_VALUE}},
    }
    run = playbook([_loop_task(namespace), secret, _loop_task(namespace)], env=_env(tmp_path), diff=True)
    assert run.rc == 0, run.stdout
    first, created, again = run.tasks
    assert [item["changed"] for item in first.result["results"]] == [True] * 5
    assert created.changed
    assert [item["changed"] for item in again.result["results"]] == [False] * 5
    assert _modules_sent(tmp_path) == []
    assert SECRET_VALUE not in run.output


@pytest.mark.parametrize(
    ("how", "expected"),
    [
        ({"in_process": False}, "AnsiballZ_resource.py"),
        ({"task": {"environment": {"HTTPS_PROXY": ""}}}, "AnsiballZ_resource.py"),
    ],
    ids=["switched-off", "environment"],
)
def test_module_is_sent_when_the_controller_cannot_stand_in(playbook, namespace, tmp_path, how, expected):
    task = {"name": "apply", "kubeforge.cluster.resource": {"definition": configmap("sent", namespace)}}
    task.update(how.get("task", {}))
    run = playbook([task], env=_env(tmp_path), in_process=how.get("in_process"), vars=how.get("vars"))
    assert run.rc == 0, run.stdout
    assert run.last.changed
    assert expected in _modules_sent(tmp_path)


def test_async_task_is_sent_as_a_module(playbook, namespace, tmp_path):
    """``async`` needs a process on the host, so the module is sent. Polled here with async_status rather than
    ``poll: 1``: ansible-core's async_wrapper returns "started" after waiting at most 2.5 s for its daemon
    (modules/async_wrapper.py, ``retries = 25`` x ``ipc_watcher.poll(0.1)``), so on a loaded machine the first poll
    can come before the job file exists and async_status answers "could not find job" (modules/async_status.py).
    Retrying that one answer is what a user on a busy host does too; every other failure still fails the test."""
    start = {
        "name": "apply",
        "kubeforge.cluster.resource": {"definition": configmap("sent", namespace)},
        "async": 120,
        "poll": 0,
        "register": "job",
    }
    wait = {
        "name": "wait",
        "ansible.builtin.async_status": {"jid": "{{ job.ansible_job_id }}"},
        "register": "done",
        "until": "done is finished and done.msg | default('') != 'could not find job'",
        "failed_when": "done is failed and done.msg | default('') != 'could not find job'",
        "retries": 60,
        "delay": 1,
    }
    run = playbook([start, wait], env=_env(tmp_path))
    assert run.rc == 0, run.stdout
    assert run.last.result.get("msg") != "could not find job", run.stdout
    assert run.last.changed
    assert "AnsiballZ_resource.py" in _modules_sent(tmp_path)


def test_switch_is_templated(playbook, namespace, tmp_path):
    task = {"name": "apply", "kubeforge.cluster.resource": {"definition": configmap("templated", namespace)}}
    switch = {"kubeforge_cluster_in_process": "{{ 1 == 1 }}"}
    run = playbook([task], env=_env(tmp_path), in_process=False, vars=switch)  # play vars beat inventory vars
    assert run.rc == 0, run.stdout
    assert _modules_sent(tmp_path) == []


def test_delegated_to_localhost_from_a_remote_host_runs_in_process(playbook, apiserver, namespace, tmp_path):
    """A play on a remote host (unreachable here: 192.0.2.0/24 is TEST-NET-1) with the API task delegated to
    localhost: the task runs on the controller, in-process, and never contacts the remote host."""
    task = {
        "name": "apply",
        "kubeforge.cluster.resource": {"definition": configmap("delegated", namespace)},
        "delegate_to": "localhost",
    }
    remote = "remote-1 ansible_host=192.0.2.1 ansible_connection=ssh ansible_ssh_timeout=1"
    run = playbook([task], env=_env(tmp_path), play_hosts="remote-1", inventory_lines=[remote])
    assert run.rc == 0, run.stdout
    assert '"changed": true' in run.stdout
    status, _body = apiserver.request("GET", f"/api/v1/namespaces/{namespace}/configmaps/delegated")
    assert status == HTTP_OK
    assert _modules_sent(tmp_path) == []


def test_both_paths_give_the_same_result(playbook, namespace, tmp_path):
    task = {"name": "apply", "kubeforge.cluster.resource": {"definition": configmap("same", namespace, a="1")}}
    bad = {"name": "bad", "kubeforge.cluster.scale": {"kind": "Deployment", "bogus": 1}, "ignore_errors": True}
    in_process = playbook([task, bad], diff=True)
    as_module = playbook([task, bad], diff=True, in_process=False)
    assert in_process.rc == 0 and as_module.rc == 0, in_process.stdout + as_module.stdout
    assert in_process.tasks[0].changed and not as_module.tasks[0].changed
    assert in_process.tasks[1].msg == as_module.tasks[1].msg
    assert "missing required arguments" in in_process.tasks[1].msg
    noise = {"failed", "invocation", "diff", "objects"}
    assert set(in_process.tasks[0].result) - noise == set(as_module.tasks[0].result) - noise
    assert in_process.tasks[0].result["objects"][0]["action"] == "created"
    assert as_module.tasks[0].result["objects"][0]["action"] == "unchanged"
