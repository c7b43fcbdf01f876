"""playbooks/tasks/system_workloads.yml (the end of site.yml) against kubesim: it passes only when every named
workload of kube-system and the add-ons exists and is ready; a crash-looping kube-proxy or a missing CoreDNS fails
the play naming it (issue 14 A5: site.yml ended "ok" with kube-proxy in CrashLoopBackOff on every node)."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

HTTP_CREATED = 201
REPO = Path(__file__).resolve().parents[2]
TASKS = REPO / "playbooks" / "tasks" / "system_workloads.yml"
CHECK_FOUND = "Check that each of them exists"
LOOKUP = "Look up the cluster's own workloads"
WAIT = "Wait for the ones that are not ready yet"
CHECK_READY = "Check that they are ready"
CRASH = {"kubesim.kubeforge.io/exit-code": "1"}  # kubesim's kubelet: the container exits 1 -> CrashLoopBackOff

EXPECTED = [
    {"kind": "DaemonSet", "namespace": "kube-system", "name": "kube-proxy", "source": "kubeadm (addon/kube-proxy)"},
    {"kind": "Deployment", "namespace": "kube-system", "name": "coredns", "source": "kubeadm (addon/coredns)"},
    {"kind": "DaemonSet", "namespace": "kube-flannel", "name": "kube-flannel-ds", "source": "cni_plugin flannel"},
]


def _daemonset(namespace, name, annotations=None):
    labels = {"k8s-app": name}
    template = {"metadata": {"labels": labels}, "spec": {"containers": [{"name": name, "image": f"{name}:v1"}]}}
    if annotations:
        template["metadata"]["annotations"] = annotations
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"selector": {"matchLabels": labels}, "template": template},
    }


def _deployment(namespace, name, replicas):
    body = _daemonset(namespace, name)
    body["kind"] = "Deployment"
    body["spec"]["replicas"] = replicas
    return body


def _create(server, body):
    group = "/apis/apps/v1" if body["apiVersion"] == "apps/v1" else "/api/v1"
    plural = {"DaemonSet": "daemonsets", "Deployment": "deployments", "Namespace": "namespaces"}[body["kind"]]
    path = (
        f"{group}/namespaces/{body['metadata']['namespace']}/{plural}"
        if body["kind"] != "Namespace"
        else ("/api/v1/namespaces")
    )
    status, answer = server.request("POST", path, body)
    assert status == HTTP_CREATED, answer


@pytest.fixture
def cluster(apiserver_factory):
    """Two Linux nodes and kube-flannel's namespace; the workloads are added by each test."""
    server = apiserver_factory()
    server.add_nodes(2, "node")
    _create(server, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kube-flannel"}})
    return server


def _run(ansible_playbook, tmp_path, server, timeout=30, workloads=None, **options):
    play = {
        "name": "The cluster's own workloads",
        "hosts": "localhost",
        "gather_facts": False,
        "vars": {
            "cluster_system_kubeconfig": str(server.kubeconfig),
            "cluster_system_workloads": copy.deepcopy(EXPECTED if workloads is None else workloads),
            "cluster_system_workloads_timeout": timeout,
        },
        "tasks": [{"name": "Wait for the workloads", "ansible.builtin.include_tasks": str(TASKS)}],
    }
    path = tmp_path / "workloads.yml"
    path.write_text(yaml.safe_dump([play], sort_keys=False))
    return ansible_playbook(path, groups=["control_plane"], **options)


def test_ready_workloads_pass_and_change_nothing(ansible_playbook, tmp_path, cluster):
    _create(cluster, _daemonset("kube-system", "kube-proxy"))
    _create(cluster, _deployment("kube-system", "coredns", 2))
    _create(cluster, _daemonset("kube-flannel", "kube-flannel-ds"))
    run = _run(ansible_playbook, tmp_path, cluster)
    assert run.rc == 0, run.stdout[-3000:]
    # Waited for what the lookup did not find ready yet (kubesim's controllers may already have rolled some out).
    waited = run.task(WAIT).result.get("results", [])
    assert {r["item"]["name"] for r in waited} <= {"kube-proxy", "coredns", "kube-flannel-ds"}
    assert all(len(r["resources"]) == 1 and not r.get("msg") for r in waited)
    assert not any(task.changed for task in run.tasks)
    # The lookup is one resource_info run with objects (not one run per workload), one result per workload in order.
    lookup = run.task(LOOKUP).result
    assert "results" not in lookup
    read = [(e["object"]["kind"], e["object"]["namespace"], e["object"]["name"]) for e in lookup["objects"]]
    assert read == [(w["kind"], w["namespace"], w["name"]) for w in EXPECTED]
    assert [[r["metadata"]["name"] for r in e["resources"]] for e in lookup["objects"]] == [
        [w["name"]] for w in EXPECTED
    ]


def test_crash_looping_kube_proxy_fails_naming_it(ansible_playbook, tmp_path, cluster):
    _create(cluster, _daemonset("kube-system", "kube-proxy", CRASH))
    _create(cluster, _deployment("kube-system", "coredns", 2))
    _create(cluster, _daemonset("kube-flannel", "kube-flannel-ds", CRASH))
    run = _run(ansible_playbook, tmp_path, cluster, timeout=4)
    assert run.rc != 0
    check = run.task(CHECK_READY)
    assert check.failed
    assert check.msg.startswith("not ready: DaemonSet/kube-system/kube-proxy (kubeadm (addon/kube-proxy)): "), check.msg
    assert "waiting for readiness: DaemonSet/kube-system/kube-proxy: 0 of 2 pods available" in check.msg
    # One deadline for all: the second broken workload only got what was left of it.
    assert "DaemonSet/kube-flannel/kube-flannel-ds (cni_plugin flannel): timed out after 1s" in check.msg
    assert "coredns" not in check.msg


def test_missing_workload_fails_before_waiting(ansible_playbook, tmp_path, cluster):
    _create(cluster, _daemonset("kube-system", "kube-proxy"))
    _create(cluster, _daemonset("kube-flannel", "kube-flannel-ds"))
    run = _run(ansible_playbook, tmp_path, cluster)
    assert run.rc != 0
    check = run.task(CHECK_FOUND)
    assert check.failed
    assert (
        check.msg == "missing in the cluster: Deployment/kube-system/coredns (created by kubeadm (addon/coredns))."
    ), check.msg
    assert WAIT not in [task.name for task in run.tasks]


def test_check_mode_reads_nothing_and_passes(ansible_playbook, tmp_path, cluster):
    run = _run(ansible_playbook, tmp_path, cluster, check=True)
    assert run.rc == 0, run.stdout[-3000:]
    assert not any(task.changed for task in run.tasks)


def test_workloads_the_lookup_finds_ready_are_not_waited_for_and_the_others_still_fail_by_name(
    ansible_playbook, tmp_path, cluster
):
    """A healthy cluster runs no wait (the lookup found everything ready: ready is ready); a workload that is not
    ready is still waited for and named, and only it."""
    server = cluster
    proxy = {
        "kind": "DaemonSet",
        "namespace": "kube-system",
        "name": "kube-proxy",
        "source": "kubeadm (addon/kube-proxy)",
    }
    dns = {"kind": "Deployment", "namespace": "kube-system", "name": "coredns", "source": "kubeadm (addon/coredns)"}
    _create(server, _daemonset("kube-system", "kube-proxy"))
    _create(server, _deployment("kube-system", "coredns", 1))
    first = _run(ansible_playbook, tmp_path, server, workloads=[proxy, dns])
    assert first.rc == 0, first.stdout[-3000:]

    healthy = _run(ansible_playbook, tmp_path, server, workloads=[proxy, dns])
    assert healthy.rc == 0, healthy.stdout[-3000:]
    assert healthy.task(WAIT).result.get("skipped") is True  # the lookup found both ready: no wait
    assert healthy.task(WAIT).result.get("results", []) == []

    broken = {"kind": "DaemonSet", "namespace": "kube-system", "name": "broken", "source": "cni_plugin manifest"}
    _create(server, _daemonset("kube-system", "broken", CRASH))
    run = _run(ansible_playbook, tmp_path, server, timeout=3, workloads=[proxy, broken, dns])
    assert run.rc != 0
    assert [r["item"]["name"] for r in run.task(WAIT).result["results"]] == ["broken"]
    check = run.task(CHECK_READY)
    assert check.msg.startswith("not ready: DaemonSet/kube-system/broken (cni_plugin manifest): "), check.msg
    assert "kube-proxy" not in check.msg and "coredns" not in check.msg
