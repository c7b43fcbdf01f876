"""playbooks/health.yml against kubesim (issue 15 item 1, the part built so far): a clean cluster reports nothing
above "info"; injected drift - a node under memory pressure with another kubelet version, a crash-looping pod in
kube-system, a PodDisruptionBudget that allows no disruption - is reported exactly, worst first; the run changes
nothing (check mode gives the same report); health.json/health.md are written; health_fail_at fails the play."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from kubesim.helpers import deployment

HTTP_CREATED = 201
HTTP_OK = 200
REPO = Path(__file__).resolve().parents[2]
PLAYBOOK = REPO / "playbooks" / "health.yml"
VERSION = "v1.37.0"  # what kubesim's simulated kubelets report
MERGE = "application/merge-patch+json"
SHOW = "Show the findings, worst first"


def _post(server, path, body):
    status, answer = server.request("POST", path, body)
    assert status == HTTP_CREATED, answer


def _deployment(name, replicas, labels, annotations=None):
    body = deployment(name, replicas, image="busybox:1.36", labels=labels)
    if annotations:
        body["spec"]["template"]["metadata"]["annotations"] = annotations
    return body


@pytest.fixture
def cluster(apiserver_factory):
    server = apiserver_factory()
    server.add_nodes(2, "node")
    return server


def _run(ansible_playbook, tmp_path, server, **options):
    extra = {
        "health_kubeconfig": str(server.kubeconfig),
        "health_become": False,
        "health_kubernetes_version": VERSION,
        "health_report_dir": str(tmp_path / "report"),
        **options.pop("extra_vars", {}),
    }
    (tmp_path / "report").mkdir(exist_ok=True)
    return ansible_playbook(PLAYBOOK, groups=["control_plane"], extra_vars=extra, **options)


def _findings(run):
    return [line.split(" ", 2) for line in run.task(SHOW).result["msg"] if line != "no findings"]


def _wait_pdb_blocked(server, path):
    for _attempt in range(100):
        _status, pdb = server.request("GET", path)
        status = pdb.get("status") or {}
        if status.get("expectedPods") and status.get("disruptionsAllowed") == 0:
            return
        time.sleep(0.1)
    raise AssertionError(f"the PDB never settled: {pdb.get('status')}")


def test_clean_cluster_reports_nothing_above_info(ansible_playbook, tmp_path, cluster):
    run = _run(ansible_playbook, tmp_path, cluster, extra_vars={"health_fail_at": "warning"})
    assert run.rc == 0, run.stdout[-3000:]
    assert _findings(run) == []
    assert not any(task.changed for task in run.tasks if task.name != "Write health.json and health.md")
    report = json.loads((tmp_path / "report" / "health.json").read_text())
    assert report == {"worst": None, "findings": []}


def test_drift_is_reported_worst_first(ansible_playbook, tmp_path, cluster):
    # A node under memory pressure whose kubelet reports another version.
    status = {
        "status": {
            "conditions": [
                {"type": "Ready", "status": "True", "reason": "KubeletReady"},
                {"type": "MemoryPressure", "status": "True", "reason": "KubeletHasInsufficientMemory"},
            ],
            "nodeInfo": {"kubeletVersion": "v1.36.4"},
        }
    }
    code, answer = cluster.request("PATCH", "/api/v1/nodes/node-1/status", status, content_type=MERGE)
    assert code == HTTP_OK, answer
    # A crash-looping kube-system workload and a PodDisruptionBudget that allows no disruption.
    crash = {"kubesim.kubeforge.io/exit-code": "1"}
    _post(
        cluster,
        "/apis/apps/v1/namespaces/kube-system/deployments",
        _deployment("dns", 1, {"a": "dns"}, crash),
    )
    _post(cluster, "/apis/apps/v1/namespaces/default/deployments", _deployment("web", 2, {"app": "web"}))
    pdb = {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"minAvailable": 2, "selector": {"matchLabels": {"app": "web"}}},
    }
    _post(cluster, "/apis/policy/v1/namespaces/default/poddisruptionbudgets", pdb)
    _wait_pdb_blocked(cluster, "/apis/policy/v1/namespaces/default/poddisruptionbudgets/web")

    def settled():
        run = _run(ansible_playbook, tmp_path, cluster)
        assert run.rc == 0, run.stdout[-3000:]
        return _findings(run)

    findings = settled()
    for _attempt in range(5):  # the crash loop shows once kubesim's kubelet restarted the container
        if any(f[0] == "critical" for f in findings):
            break
        findings = settled()
    severities = [f[0] for f in findings]
    assert severities == sorted(severities, key=["critical", "warning", "info"].index), findings
    objects = {(f[0], f[1]) for f in findings}
    dns_pod = next(f[1] for f in findings if f[1].startswith("Pod/kube-system/dns-"))
    assert objects == {
        ("critical", dns_pod),
        ("warning", "Node/node-1"),
        ("warning", "PodDisruptionBudget/default/web"),
    }, findings
    messages = {f[2] for f in findings}
    assert "not Ready (CrashLoopBackOff)" in messages
    assert "MemoryPressure (KubeletHasInsufficientMemory)" in messages
    assert "kubelet v1.36.4, the cluster is v1.37.0" in messages
    pdb_line = next(f[2] for f in findings if f[1] == "PodDisruptionBudget/default/web")
    assert pdb_line.startswith("allows no disruption now (2 healthy, 2 required): a drain of node-")
    report = json.loads((tmp_path / "report" / "health.json").read_text())
    assert report["worst"] == "critical"
    assert "| critical | workloads |" in (tmp_path / "report" / "health.md").read_text()

    again = _run(ansible_playbook, tmp_path, cluster)
    assert not any(task.changed for task in again.tasks), "a second run with the same findings changed something"
    check = _run(ansible_playbook, tmp_path, cluster, check=True)
    assert _findings(check) == _findings(again)

    failing = _run(ansible_playbook, tmp_path, cluster, extra_vars={"health_fail_at": "warning"})
    assert failing.rc != 0
    assert failing.task("Fail at the chosen severity").msg.startswith("4 finding(s) at or above warning: ")


def test_bad_severity_is_refused(ansible_playbook, tmp_path, cluster):
    run = _run(ansible_playbook, tmp_path, cluster, extra_vars={"health_fail_at": "severe"})
    assert run.rc != 0
    assert run.task("Check the request").msg == "health_fail_at must be one of critical, warning, info (is 'severe')."
