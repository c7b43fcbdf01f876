"""Pods that cannot start say why in kube-scheduler's and the kubelet's words (see kubesim/nodes.py,
controllers/scheduler.py and controllers/container_states.py for sources)."""

from __future__ import annotations

from kubesim import helpers

NS = "default"
PREEMPTION_NOT_HELPFUL = "Preemption is not helpful for scheduling."


def _pod(name, image="registry.k8s.io/pause:3.10", **spec):
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"containers": [{"name": "c", "image": image}], **spec},
    }


def _scheduled(server, name):
    _status, pod = server.request("GET", f"/api/v1/namespaces/{NS}/pods/{name}")
    cond = next((c for c in pod["status"].get("conditions", []) if c["type"] == "PodScheduled"), None)
    return cond if cond and cond["status"] == "False" else None


def test_scheduler_messages(apiserver_factory):
    server = apiserver_factory()
    base = f"/api/v1/namespaces/{NS}/pods"
    server.request("POST", base, _pod("nowhere"))
    cond = helpers.wait_for(lambda: _scheduled(server, "nowhere"), timeout=30)
    # schedule_one.go: an empty cluster is ErrNoNodesAvailable, reported as Unschedulable
    assert (cond["reason"], cond["message"]) == ("Unschedulable", "no nodes available to schedule pods")
    server.add_nodes(1, "cp", taints=[{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}])
    server.add_nodes(1, "cordoned")
    server.request(
        "PATCH", "/api/v1/nodes/cordoned-0", {"spec": {"unschedulable": True}}, "application/merge-patch+json"
    )
    server.request("POST", base, _pod("picky", nodeSelector={"disk": "ssd"}))
    cond = helpers.wait_for(
        lambda: (c := _scheduled(server, "picky")) and c["message"].startswith("0/2") and c, timeout=30
    )
    assert cond["message"] == (
        "0/2 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, "
        f"1 node(s) were unschedulable. preemption: 0/2 nodes are available: 2 {PREEMPTION_NOT_HELPFUL}."
    )


def test_image_that_cannot_be_pulled(apiserver_factory):
    server = apiserver_factory()
    server.add_nodes(1, "w")
    server.request("POST", f"/api/v1/namespaces/{NS}/pods", _pod("pull", image="busybox:does-not-exist"))

    def waiting():
        _status, pod = server.request("GET", f"/api/v1/namespaces/{NS}/pods/pull")
        statuses = pod["status"].get("containerStatuses") or [{}]
        return statuses[0].get("state", {}).get("waiting")

    state = helpers.wait_for(waiting, timeout=30)
    error = (
        'rpc error: code = NotFound desc = failed to pull and unpack image "docker.io/library/busybox:does-not-exist": '
        'failed to resolve reference "docker.io/library/busybox:does-not-exist": '
        "docker.io/library/busybox:does-not-exist: not found"
    )
    assert state == {
        "reason": "ImagePullBackOff",
        "message": f'Back-off pulling image "busybox:does-not-exist": ErrImagePull: {error}',
    }
    _status, events = server.request("GET", f"/api/v1/namespaces/{NS}/events?fieldSelector=involvedObject.name%3Dpull")
    failed = [e for e in events["items"] if e["reason"] == "Failed"]
    assert [(e["type"], e["message"]) for e in failed] == [
        ("Warning", f'Failed to pull image "busybox:does-not-exist": {error}')
    ]
