"""resource_info, scale and rollout against the API test server."""

from __future__ import annotations

import pytest
from kube_objects import deployment
from kubesim.helpers import wait_for

HTTP_OK = 200
HTTP_NOT_FOUND = 404
HTTP_CREATED = 201
REPLICAS = 3
INITIAL_REPLICAS = 2
RC_TARGET = 2
MERGE = "application/merge-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
CHANGE_CAUSE = "kubernetes.io/change-cause"
SECOND_REVISION = 2
RENUMBERED_REVISION = 3  # revision 1 after rolling back to it
BARE_NS = "rollouts"


def _apply(objects):
    return {"name": "setup", "kubeforge.cluster.resource": {"definition": objects}}


def test_resource_info_get_list_selectors_and_all_namespaces(playbook, namespace):
    cms = [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": f"cm-{i}", "namespace": namespace, "labels": {"app": "a" if i % 2 else "b"}},
        }
        for i in range(4)
    ]
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s", "namespace": namespace},
        "stringData": {"token": "shh-very-secret-value"},
    }
    run = playbook(
        [
            _apply([*cms, secret]),
            {
                "name": "get",
                "kubeforge.cluster.resource_info": {"kind": "ConfigMap", "name": "cm-1", "namespace": namespace},
            },
            {
                "name": "missing",
                "kubeforge.cluster.resource_info": {"kind": "ConfigMap", "name": "nope", "namespace": namespace},
            },
            {
                "name": "selected",
                "kubeforge.cluster.resource_info": {
                    "kind": "configmaps",
                    "namespace": namespace,
                    "label_selectors": ["app=a"],
                },
            },
            {
                "name": "everywhere",
                "kubeforge.cluster.resource_info": {
                    "kind": "ConfigMap",
                    "all_namespaces": True,
                    "field_selectors": [f"metadata.namespace={namespace}"],
                },
            },
            {
                "name": "secret",
                "kubeforge.cluster.resource_info": {"kind": "Secret", "name": "s", "namespace": namespace},
            },
        ]
    )
    assert run.rc == 0, run.stdout
    get = run.task("get").result["resources"]
    assert [r["metadata"]["name"] for r in get] == ["cm-1"]
    assert "managedFields" not in get[0]["metadata"]
    assert run.task("missing").result["resources"] == []
    assert sorted(r["metadata"]["name"] for r in run.task("selected").result["resources"]) == ["cm-1", "cm-3"]
    everywhere = {r["metadata"]["name"] for r in run.task("everywhere").result["resources"]}
    assert {"cm-0", "cm-1", "cm-2", "cm-3"} <= everywhere
    assert run.task("secret").result["resources"][0]["data"] == {"token": "<redacted>"}
    assert "shh-very-secret-value" not in run.output
    assert not any(t.changed for t in run.tasks[1:])


def test_scale_idempotent_precondition_and_check_mode(playbook, apiserver, namespace):
    scale = {"name": "hello-deploy", "namespace": namespace, "replicas": REPLICAS}
    run = playbook(
        [
            _apply([deployment("hello-deploy", namespace)]),
            {"name": "scale", "kubeforge.cluster.scale": scale},
            {"name": "again", "kubeforge.cluster.scale": scale},
            {
                "name": "precondition",
                "ignore_errors": True,
                "kubeforge.cluster.scale": dict(scale, replicas=5, current_replicas=1),
            },
            {"name": "missing", "ignore_errors": True, "kubeforge.cluster.scale": dict(scale, name="helo-deploy")},
        ]
    )
    # named like every other module's errors: Kind/namespace/name: ...
    assert run.task("missing").msg == f"Deployment/{namespace}/helo-deploy: not found (name)"
    assert run.task("missing").result["status"] == HTTP_NOT_FOUND
    assert run.task("scale").changed and run.task("scale").result["previous_replicas"] == INITIAL_REPLICAS
    assert not run.task("again").changed
    precondition = run.task("precondition")
    assert precondition.failed and "current_replicas is 1 but the live object has 3 replicas" in precondition.msg
    path = f"/apis/apps/v1/namespaces/{namespace}/deployments/hello-deploy"
    check = playbook([{"kubeforge.cluster.scale": dict(scale, replicas=7)}], check=True, diff=True)
    assert check.last.changed and check.last.diff[0]["after"] == "replicas: 7\n"
    assert apiserver.request("GET", path)[1]["spec"]["replicas"] == REPLICAS


def test_scale_replication_controller(playbook, apiserver, namespace):
    rc = {
        "apiVersion": "v1",
        "kind": "ReplicationController",
        "metadata": {"name": "hello-rc", "namespace": namespace},
        "spec": {
            "replicas": 5,
            "selector": {"app": "hello-rc"},
            "template": {
                "metadata": {"labels": {"app": "hello-rc"}},
                "spec": {"containers": [{"name": "hello-pod", "image": "ganeshhp/docker-ci:latest"}]},
            },
        },
    }
    run = playbook(
        [
            _apply([rc]),
            {
                "kubeforge.cluster.scale": {
                    "api_version": "v1",
                    "kind": "ReplicationController",
                    "name": "hello-rc",
                    "namespace": namespace,
                    "current_replicas": 5,
                    "replicas": RC_TARGET,
                }
            },
        ]
    )
    assert run.rc == 0 and run.last.changed, run.stdout
    status, body = apiserver.request("GET", f"/api/v1/namespaces/{namespace}/replicationcontrollers/hello-rc")
    assert status == HTTP_OK and body["spec"]["replicas"] == RC_TARGET


@pytest.fixture
def bare_server(apiserver_factory):
    """A server without controllers: the test writes the ReplicaSets a Deployment controller would."""
    server = apiserver_factory("--no-controllers")
    server.request(
        "POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": BARE_NS}}
    )
    return server


def _replicaset(deploy, revision, image, cause=None):
    template = {
        "metadata": {"labels": {"app": "hello-deploy", "pod-template-hash": f"h{revision}"}},
        "spec": {"containers": [{"name": "web", "image": image}]},
    }
    annotations = {"deployment.kubernetes.io/revision": str(revision)}
    if cause:
        annotations["kubernetes.io/change-cause"] = cause
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": f"hello-deploy-h{revision}",
            "namespace": BARE_NS,
            "labels": {"app": "hello-deploy", "pod-template-hash": f"h{revision}"},
            "annotations": annotations,
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "name": "hello-deploy",
                    "uid": deploy["metadata"]["uid"],
                    "controller": True,
                }
            ],
        },
        "spec": {
            "replicas": 0,
            "selector": {"matchLabels": {"app": "hello-deploy", "pod-template-hash": f"h{revision}"}},
            "template": template,
        },
    }


def test_rollout_history_undo_restart_status(playbook, bare_server):
    path = f"/apis/apps/v1/namespaces/{BARE_NS}/deployments/hello-deploy"
    target = {"name": "hello-deploy", "namespace": BARE_NS}
    setup = playbook(
        [_apply([deployment("hello-deploy", BARE_NS, image="nginx:1.26")])], kubeconfig=bare_server.kubeconfig
    )
    assert setup.rc == 0, setup.stdout
    deploy = bare_server.request("GET", path)[1]
    for revision, image in ((1, "nginx:1.25"), (2, "nginx:1.26")):
        bare_server.request(
            "POST",
            f"/apis/apps/v1/namespaces/{BARE_NS}/replicasets",
            _replicaset(deploy, revision, image, "image update" if image == "nginx:1.26" else None),
        )
    bare_server.request("PATCH", path, {"metadata": {"annotations": {"deployment.kubernetes.io/revision": "2"}}}, MERGE)
    run = playbook(
        [
            {"name": "history", "kubeforge.cluster.rollout": dict(target, action="history")},
            {"name": "undo", "kubeforge.cluster.rollout": dict(target, action="undo")},
            {"name": "undo again", "kubeforge.cluster.rollout": dict(target, action="undo", to_revision=1)},
            {
                "name": "bad revision",
                "ignore_errors": True,
                "kubeforge.cluster.rollout": dict(target, action="undo", to_revision=9),
            },
            {"name": "restart", "kubeforge.cluster.rollout": dict(target, action="restart")},
            {"name": "undo restart", "kubeforge.cluster.rollout": dict(target, action="undo", to_revision=1)},
            {"name": "status", "kubeforge.cluster.rollout": target},
        ],
        kubeconfig=bare_server.kubeconfig,
        diff=True,
    )
    history = run.task("history").result["revisions"]
    assert [(h["revision"], h["change_cause"]) for h in history] == [(1, None), (2, "image update")]
    undo = run.task("undo")
    assert undo.changed and undo.result["revision"] == 1
    assert "nginx:1.26" in undo.diff[0]["before"] and "nginx:1.25" in undo.diff[0]["after"]
    assert not run.task("undo again").changed
    assert "revision 9 not found (to_revision); known revisions: 1, 2" in run.task("bad revision").msg
    assert run.task("restart").changed
    assert "kubectl.kubernetes.io/restartedAt" in run.task("restart").diff[0]["after"]
    # Undo replaces the whole pod template with the revision's, as kubectl does: the restart annotation goes too.
    assert run.task("undo restart").changed
    live = bare_server.request("GET", path)[1]
    assert live["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.25"
    assert "kubectl.kubernetes.io/restartedAt" not in (live["spec"]["template"]["metadata"].get("annotations") or {})
    status = run.task("status")
    assert not status.changed and status.result["ready"] is False
    assert "not observed generation" in status.result["status"]


def _workload(kind, name, namespace):
    labels = {"app": name}
    spec = {
        "selector": {"matchLabels": labels},
        "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "web", "image": "nginx:1.25"}]}},
    }
    if kind == "StatefulSet":
        spec.update(replicas=1, serviceName=name, podManagementPolicy="Parallel")
    meta = {"name": name, "namespace": namespace, "annotations": {CHANGE_CAUSE: "nginx 1.25"}}
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": meta, "spec": spec}


def _images(apiserver, namespace, name):
    """{revision: image} of the workload's ControllerRevisions."""
    path = f"/apis/apps/v1/namespaces/{namespace}/controllerrevisions?labelSelector=app%3D{name}"
    items = apiserver.request("GET", path)[1]["items"]
    return {cr["revision"]: cr["data"]["spec"]["template"]["spec"]["containers"][0]["image"] for cr in items}


def _history_is(apiserver, namespace, name, expected):
    def recorded():
        return _images(apiserver, namespace, name) == expected

    recorded.__name__ = f"revisions {expected}"
    wait_for(recorded)


@pytest.mark.parametrize(("kind", "plural"), [("DaemonSet", "daemonsets"), ("StatefulSet", "statefulsets")])
def test_rollout_history_undo_daemonset_statefulset(playbook, apiserver, namespace, kind, plural):
    path = f"/apis/apps/v1/namespaces/{namespace}/{plural}/hello"
    target = {"name": "hello", "namespace": namespace, "kind": kind}
    status, first = apiserver.request("POST", path.rsplit("/", 1)[0], _workload(kind, "hello", namespace))
    assert status == HTTP_CREATED, first
    _history_is(apiserver, namespace, "hello", {1: "nginx:1.25"})
    # Revision 2 also annotates the pod template: undo must drop it (the revision's template replaces the live one).
    update = {
        "metadata": {"annotations": {CHANGE_CAUSE: "nginx 1.26"}},
        "spec": {
            "template": {
                "metadata": {"annotations": {"note": "v2"}},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.26"}]},
            }
        },
    }
    assert apiserver.request("PATCH", path, update, STRATEGIC)[0] == HTTP_OK
    _history_is(apiserver, namespace, "hello", {1: "nginx:1.25", 2: "nginx:1.26"})
    second = apiserver.request("GET", path)[1]

    check = playbook(
        [
            {"name": "undo", "kubeforge.cluster.rollout": dict(target, action="undo")},
            {"name": "undo to current", "kubeforge.cluster.rollout": dict(target, action="undo", to_revision=2)},
        ],
        check=True,
        diff=True,
    )
    assert check.rc == 0, check.stdout
    undo = check.task("undo")
    assert undo.changed and undo.result["revision"] == 1
    assert "nginx:1.26" in undo.diff[0]["before"] and "nginx:1.25" in undo.diff[0]["after"]
    assert not check.task("undo to current").changed
    live = apiserver.request("GET", path)[1]
    assert live["spec"]["template"] == second["spec"]["template"]
    assert live["metadata"]["resourceVersion"] == second["metadata"]["resourceVersion"]

    run = playbook(
        [
            {"name": "history", "kubeforge.cluster.rollout": dict(target, action="history")},
            {
                "name": "bad revision",
                "ignore_errors": True,
                "kubeforge.cluster.rollout": dict(target, action="undo", to_revision=9),
            },
            {"name": "undo", "kubeforge.cluster.rollout": dict(target, action="undo")},
        ],
        diff=True,
    )
    history = run.task("history").result["revisions"]
    assert [(h["revision"], h["change_cause"]) for h in history] == [(1, "nginx 1.25"), (2, "nginx 1.26")]
    bad = run.task("bad revision")
    assert bad.failed and f"{kind}/{namespace}/hello" in bad.msg
    assert "revision 9 not found (to_revision); known revisions: 1, 2" in bad.msg
    undo = run.task("undo")
    assert undo.changed and undo.result["revision"] == 1
    assert "nginx:1.26" in undo.diff[0]["before"] and "nginx:1.25" in undo.diff[0]["after"]
    assert apiserver.request("GET", path)[1]["spec"]["template"] == first["spec"]["template"]

    # Like kubectl: the controller renumbers revision 1 to 3; the previous revision is now 2.
    _history_is(apiserver, namespace, "hello", {2: "nginx:1.26", 3: "nginx:1.25"})
    again = playbook(
        [
            {
                "name": "undo again",
                "kubeforge.cluster.rollout": dict(target, action="undo", to_revision=RENUMBERED_REVISION),
            },
            {"name": "undo to previous", "kubeforge.cluster.rollout": dict(target, action="undo")},
        ]
    )
    assert again.rc == 0, again.stdout
    assert not again.task("undo again").changed and again.task("undo again").result["revision"] == RENUMBERED_REVISION
    previous = again.task("undo to previous")
    assert previous.changed and previous.result["revision"] == SECOND_REVISION
    assert apiserver.request("GET", path)[1]["spec"]["template"] == second["spec"]["template"]
