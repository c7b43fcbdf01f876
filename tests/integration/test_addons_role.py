"""roles/addons against kubesim: metrics-server is applied from the first control plane (localhost here), waited
for until its APIService is Available, then re-applied without change; check mode predicts and writes nothing."""

from __future__ import annotations

import json

import pytest
import yaml

HTTP_OK = 200
HTTP_NOT_FOUND = 404
CONTROL_PLANE_GROUP = "control_plane"  # addons_control_plane_group's default
APISERVICE = "/apis/apiregistration.k8s.io/v1/apiservices/v1beta1.metrics.k8s.io"
OBJECTS = {
    "Deployment": "/apis/apps/v1/namespaces/kube-system/deployments/metrics-server",
    "Service": "/api/v1/namespaces/kube-system/services/metrics-server",
    "ServiceAccount": "/api/v1/namespaces/kube-system/serviceaccounts/metrics-server",
    "ClusterRole": "/apis/rbac.authorization.k8s.io/v1/clusterroles/system:metrics-server",
    "ClusterRoleBinding": "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/metrics-server:system:auth-delegator",
    "APIService": APISERVICE,
}
ROLE_TASK = "kubeforge.cluster.addons : Install metrics-server and wait for it"


def _playbook(tmp_path, kubeconfig):
    play = {
        "name": "Add-ons on the control plane",
        "hosts": "localhost",
        "gather_facts": False,
        "vars": {"addons_kubeconfig": str(kubeconfig), "addons_wait_timeout": 60},
        "roles": ["kubeforge.cluster.addons"],
    }
    path = tmp_path / "addons.yml"
    path.write_text(yaml.safe_dump([play], sort_keys=False))
    return path


def _run(playbook, tmp_path, server, **options):
    """The ``playbook`` fixture (tests/integration/conftest.py) on a playbook file; localhost is also in the
    control-plane group the role delegates to."""
    run = playbook(_playbook(tmp_path, server.kubeconfig), groups=[CONTROL_PLANE_GROUP], **options)
    assert run.rc == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return run


def _changed_count(run):
    stats = json.loads(run.stdout[run.stdout.find("{") :])["stats"]
    return stats["localhost"]["changed"]


@pytest.fixture
def cluster(apiserver_factory):
    """A private server (metrics-server lives in kube-system and its APIService is cluster-scoped) with one
    Linux node for the simulated kubelet to run the metrics-server pod on."""
    server = apiserver_factory()
    server.add_nodes(1, "cp")
    return server


def test_metrics_server_installs_waits_and_is_idempotent(playbook, tmp_path, cluster):
    first = _run(playbook, tmp_path, cluster)
    task = first.task(ROLE_TASK)
    assert task.changed and not task.failed
    applied = {(o["kind"], o["name"]) for o in task.result["objects"]}
    assert ("APIService", "v1beta1.metrics.k8s.io") in applied
    for kind, path in OBJECTS.items():
        status, _body = cluster.request("GET", path)
        assert status == HTTP_OK, f"{kind} missing: {path}"
    _status, deploy = cluster.request("GET", OBJECTS["Deployment"])
    assert deploy["status"]["availableReplicas"] == 1, "the task returned before metrics-server rolled out"
    assert deploy["spec"]["template"]["spec"]["containers"][0]["image"] == (
        "registry.k8s.io/metrics-server/metrics-server:v0.7.2"
    )
    _status, apiservice = cluster.request("GET", APISERVICE)
    available = {c["type"]: c for c in apiservice["status"]["conditions"]}["Available"]
    assert (available["status"], available["reason"]) == ("True", "Passed")
    ended = task.duration[0][: len("2026-01-01T00:00:00")]
    assert available["lastTransitionTime"][: len(ended)] <= ended, "the task returned before the APIService was up"
    assert apiservice["spec"]["service"] == {"name": "metrics-server", "namespace": "kube-system", "port": 443}

    second = _run(playbook, tmp_path, cluster)
    assert not second.task(ROLE_TASK).changed
    assert _changed_count(second) == 0


def test_check_mode_predicts_and_writes_nothing(playbook, tmp_path, apiserver_factory):
    server = apiserver_factory()
    run = _run(playbook, tmp_path, server, check=True)
    task = run.task(ROLE_TASK)
    assert task.changed and not task.failed
    assert _changed_count(run) == 1
    for kind, path in OBJECTS.items():
        status, _body = server.request("GET", path)
        assert status == HTTP_NOT_FOUND, f"check mode created the {kind}"


def test_wait_names_the_unavailable_apiservice(playbook, tmp_path, apiserver_factory):
    """No node: the metrics-server pod stays Pending, so the wait times out on the Deployment and on the
    APIService, whose condition reason is reported."""
    server = apiserver_factory()
    run = playbook(
        _playbook(tmp_path, server.kubeconfig), groups=[CONTROL_PLANE_GROUP], extra_vars={"addons_wait_timeout": 3}
    )
    task = run.task(ROLE_TASK)
    assert task.failed and task.changed
    assert task.msg.startswith("timed out after 3s waiting for readiness: "), task.msg
    assert "APIService/v1beta1.metrics.k8s.io: not available (MissingEndpoints: " in task.msg
    assert "Deployment/kube-system/metrics-server: " in task.msg
