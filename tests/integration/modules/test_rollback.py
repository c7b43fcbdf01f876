"""A batch that fails while writing is rolled back: what the call created is deleted, what it changed is put back
(issue 19). The failures are the ones a real server makes only at write time, after the dry-run accepted the
batch: a node port out of range, a node port taken between dry-run and write."""

from __future__ import annotations

import json

from kube_objects import configmap, deployment

HTTP_OK = 200
HTTP_CREATED = 201
HTTP_NOT_FOUND = 404
FREE_NODE_PORT = 31234
SEED_REPLICAS = 2


def _task(definition, name="apply", **options):
    return {"name": name, "kubeforge.cluster.resource": dict(definition=definition, **options)}


def _bad(definition, name="bad batch"):
    return dict(_task(definition, name), ignore_errors=True)


def node_port_service(name, namespace, node_port=None):
    port = {"port": 80, "targetPort": 8080}
    if node_port is not None:
        port["nodePort"] = node_port
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"type": "NodePort", "selector": {"app": name}, "ports": [port]},
    }


def _get(apiserver, namespace, plural, name):
    status, body = apiserver.request("GET", f"/api/v1/namespaces/{namespace}/{plural}/{name}")
    return body if status == HTTP_OK else None


def _our_fields(obj):
    return [m["fieldsV1"] for m in obj["metadata"]["managedFields"] if m["manager"] == "kubeforge"]


def _seed_then_bad(playbook, apiserver, namespace, services):
    """Apply `settings`, then the bad batch [new ConfigMap, changed `settings`, *services]; return the bad task."""
    seed = configmap("settings", namespace, color="blue", size="L")
    changed = configmap("settings", namespace, color="green", extra="x")
    run = playbook([_task([seed], "seed")])
    assert run.rc == 0, run.stdout
    before = _get(apiserver, namespace, "configmaps", "settings")
    run = playbook([_bad([configmap("fresh", namespace, a="1"), changed, *services])])
    bad = run.last
    assert bad.failed, run.stdout
    return before, bad


def _assert_rolled_back(apiserver, namespace, before, message):
    assert f"ConfigMap/{namespace}/fresh (deleted)" in message, message
    assert f"ConfigMap/{namespace}/settings (restored)" in message, message
    assert "ROLLBACK INCOMPLETE" not in message, message
    assert _get(apiserver, namespace, "configmaps", "fresh") is None, "the created ConfigMap must be deleted"
    after = _get(apiserver, namespace, "configmaps", "settings")
    assert after["data"] == {"color": "blue", "size": "L"}, "the changed ConfigMap must have its previous data"
    assert _our_fields(after) == _our_fields(before), "our field manager owns what it owned before the call"


def test_node_port_out_of_range_fails_at_write_and_rolls_back(playbook, apiserver, namespace):
    before, bad = _seed_then_bad(playbook, apiserver, namespace, [node_port_service("np", namespace, 80)])
    message = bad.msg
    assert f"Service/{namespace}/np" in message
    assert "spec.ports[0].nodePort" in message and "provided port is not in the valid range" in message
    assert "nothing was applied" not in message, "the dry-run accepted it: the failure is the write's"
    _assert_rolled_back(apiserver, namespace, before, message)
    assert _get(apiserver, namespace, "services", "np") is None
    assert bad.result["changed"] is False
    assert sorted(bad.result["rolled_back"]) == sorted(
        [f"ConfigMap/{namespace}/fresh (deleted)", f"ConfigMap/{namespace}/settings (restored)"]
    )


def test_node_port_taken_between_dry_run_and_write_rolls_back(playbook, apiserver, namespace):
    # Both Services pass their dry-run (a dry-run allocates nothing); the first write takes the port.
    services = [
        node_port_service("first", namespace, FREE_NODE_PORT),
        node_port_service("second", namespace, FREE_NODE_PORT),
    ]
    before, bad = _seed_then_bad(playbook, apiserver, namespace, services)
    message = bad.msg
    assert "spec.ports[0].nodePort" in message and "provided port is already allocated" in message, message
    _assert_rolled_back(apiserver, namespace, before, message)
    winner = "first" if f"Service/{namespace}/first (deleted)" in message else "second"
    assert f"Service/{namespace}/{winner} (deleted)" in message
    assert _get(apiserver, namespace, "services", "first") is None
    assert _get(apiserver, namespace, "services", "second") is None


def _fault(apiserver, rules):
    """kubesim test hook (kubesim/faults.py): delete objects right after a given write, as someone else would."""
    body = configmap("kubesim-faults", "kube-system", rules=json.dumps(rules))
    path = "/api/v1/namespaces/kube-system/configmaps/kubesim-faults"
    apiserver.request("DELETE", path)
    status, answer = apiserver.request("POST", "/api/v1/namespaces/kube-system/configmaps", body)
    assert status == HTTP_CREATED, answer


def test_rollback_that_cannot_complete_is_reported_object_by_object_and_rerun_converges(playbook, apiserver, namespace):
    service = f"services/{namespace}/np"
    _fault(
        apiserver,
        [
            {"after_write": service, "delete": f"configmaps/{namespace}/settings"},
            {"after_write": service, "delete": f"configmaps/{namespace}/fresh"},
        ],
    )
    _before, bad = _seed_then_bad(playbook, apiserver, namespace, [node_port_service("np", namespace, 80)])
    message = bad.msg
    assert "spec.ports[0].nodePort" in message
    assert f"ConfigMap/{namespace}/fresh (created, already deleted by someone else)" in message, message
    assert (
        f"ROLLBACK INCOMPLETE, left behind: ConfigMap/{namespace}/settings: deleted by someone else after this call "
        "changed it, left absent" in message
    ), message
    assert bad.result["changed"] is True
    assert bad.result["not_rolled_back"] == [
        f"ConfigMap/{namespace}/settings: deleted by someone else after this call changed it, left absent"
    ]

    fixed = [
        configmap("fresh", namespace, a="1"),
        configmap("settings", namespace, color="green", extra="x"),
        node_port_service("np", namespace),
    ]
    run = playbook([_task(fixed, "fixed"), _task(fixed, "fixed again")])
    assert run.rc == 0, run.stdout
    assert run.tasks[0].changed and not run.tasks[1].changed
    assert _get(apiserver, namespace, "configmaps", "settings")["data"] == {"color": "green", "extra": "x"}


def test_created_namespace_and_its_objects_are_rolled_back(playbook, apiserver, namespace):
    extra = f"{namespace}-rb"
    batch = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": extra}},
        configmap("inside", extra, a="1"),
        node_port_service("np", extra, 80),
    ]
    run = playbook([_bad(batch)])
    message = run.last.msg
    assert run.last.failed and "spec.ports[0].nodePort" in message, run.stdout
    assert f"Namespace/{extra} (deleted)" in message and f"ConfigMap/{extra}/inside (deleted)" in message, message
    status, body = apiserver.request("GET", f"/api/v1/namespaces/{extra}")
    assert status == HTTP_NOT_FOUND or body["status"]["phase"] == "Terminating"


def test_changed_deployment_in_the_failing_stage_gets_its_template_back(playbook, apiserver, namespace):
    # The Deployment is written in the same stage as the Service; its controller writes status meanwhile.
    run = playbook([_task([deployment("web", namespace, replicas=SEED_REPLICAS, image="nginx:1.25")], "seed")])
    assert run.rc == 0, run.stdout
    changed = deployment("web", namespace, image="nginx:1.27", replicas=3)
    run = playbook([_bad([changed, node_port_service("np", namespace, 80)])])
    assert run.last.failed and f"Deployment/{namespace}/web (restored)" in run.last.msg, run.last.msg
    status, live = apiserver.request("GET", f"/apis/apps/v1/namespaces/{namespace}/deployments/web")
    assert status == HTTP_OK
    assert live["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.25"
    assert live["spec"]["replicas"] == SEED_REPLICAS
