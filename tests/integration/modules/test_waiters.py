"""Every waiter of kubeforge.cluster.resource, on a private server without controllers: a helper thread plays
the controllers by writing each object's status, so readiness is reached exactly when the test says so."""

from __future__ import annotations

import datetime
import re
import threading
import time

import pytest

HTTP_OK = 200
MERGE = "application/merge-patch+json"
NAMESPACE = "waiters"
READY_AFTER = 1.5


def _workload(api_version, kind, name, spec_extra=None, pod_in_template=True):
    labels = {"app": name}
    pod = {"containers": [{"name": "c", "image": "busybox"}]}
    spec = {"selector": {"matchLabels": labels}} if api_version == "apps/v1" or kind == "Job" else {}
    if kind == "ReplicationController":
        spec = {"selector": labels}
    if pod_in_template:
        if kind == "Job":
            pod["restartPolicy"] = "Never"
            spec = {}
        spec["template"] = {"metadata": {"labels": labels}, "spec": pod}
    spec.update(spec_extra or {})
    return {"apiVersion": api_version, "kind": kind, "metadata": {"name": name, "namespace": NAMESPACE}, "spec": spec}


def _objects():
    return [
        _workload("apps/v1", "Deployment", "deploy", {"replicas": 2}),
        _workload("apps/v1", "ReplicaSet", "rs", {"replicas": 2}),
        _workload("v1", "ReplicationController", "rc", {"replicas": 2}),
        _workload("apps/v1", "DaemonSet", "ds"),
        _workload("apps/v1", "StatefulSet", "sts", {"replicas": 1, "serviceName": "sts"}),
        _workload("batch/v1", "Job", "job"),
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "pod", "namespace": NAMESPACE},
            "spec": {"containers": [{"name": "c", "image": "busybox"}]},
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "svc", "namespace": NAMESPACE},
            "spec": {"selector": {"app": "deploy"}, "ports": [{"port": 80}]},
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "lb", "namespace": NAMESPACE},
            "spec": {"type": "LoadBalancer", "selector": {"app": "deploy"}, "ports": [{"port": 80}]},
        },
        {
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "hpa", "namespace": NAMESPACE},
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "deploy"},
                "maxReplicas": 3,
            },
        },
    ]


def _ready_status(obj):
    generation = obj["metadata"].get("generation", 1)
    replicated = {"observedGeneration": generation, "replicas": 2, "readyReplicas": 2, "availableReplicas": 2}
    statuses = {
        "Deployment": dict(replicated, updatedReplicas=2),
        "ReplicaSet": replicated,
        "ReplicationController": replicated,
        "DaemonSet": {
            "observedGeneration": generation,
            "desiredNumberScheduled": 1,
            "currentNumberScheduled": 1,
            "updatedNumberScheduled": 1,
            "numberAvailable": 1,
            "numberReady": 1,
            "numberMisscheduled": 0,
        },
        "StatefulSet": {
            "observedGeneration": generation,
            "replicas": 1,
            "readyReplicas": 1,
            "updatedReplicas": 1,
            "currentRevision": "sts-1",
            "updateRevision": "sts-1",
        },
        "Job": {"succeeded": 1, "conditions": [{"type": "Complete", "status": "True"}]},
        "Pod": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]},
        "Service": {"loadBalancer": {"ingress": [{"ip": "192.0.2.10"}]}},
        "HorizontalPodAutoscaler": {
            "currentReplicas": 2,
            "desiredReplicas": 2,
            "conditions": [{"type": "ScalingActive", "status": "False", "reason": "FailedGetResourceMetric"}],
        },
    }
    return statuses[obj["kind"]]


def _path(obj):
    plural = {
        "Deployment": "deployments",
        "ReplicaSet": "replicasets",
        "DaemonSet": "daemonsets",
        "StatefulSet": "statefulsets",
        "Job": "jobs",
        "ReplicationController": "replicationcontrollers",
        "Pod": "pods",
        "Service": "services",
        "HorizontalPodAutoscaler": "horizontalpodautoscalers",
    }[obj["kind"]]
    prefix = "/api/v1" if obj["apiVersion"] == "v1" else f"/apis/{obj['apiVersion']}"
    return f"{prefix}/namespaces/{NAMESPACE}/{plural}/{obj['metadata']['name']}"


def _play_controllers(server, objects, stop, record):
    """READY_AFTER seconds after every object exists, write ready statuses and the Service endpoints.

    ``record["ready_from"]`` is when the first of those writes started: a task that waits cannot end before it.
    """
    created = None
    while not stop.is_set():
        time.sleep(0.2)
        lives = [server.request("GET", _path(obj)) for obj in objects]
        if any(status != HTTP_OK for status, _live in lives):
            continue
        created = created or time.monotonic()
        if time.monotonic() - created >= READY_AFTER:
            break
    else:
        return
    record["ready_from"] = datetime.datetime.now(datetime.timezone.utc)
    for obj, (_status, live) in zip(objects, lives):
        server.request("PATCH", _path(obj) + "/status", {"status": _ready_status(live)}, MERGE)
    endpoints = {
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {"name": "svc", "namespace": NAMESPACE},
        "subsets": [{"addresses": [{"ip": "10.0.0.5"}], "ports": [{"port": 80}]}],
    }
    server.request("POST", f"/api/v1/namespaces/{NAMESPACE}/endpoints", endpoints)
    server.request(
        "POST",
        f"/api/v1/namespaces/{NAMESPACE}/endpoints",
        dict(endpoints, metadata={"name": "lb", "namespace": NAMESPACE}),
    )


@pytest.fixture
def bare_server(apiserver_factory):
    server = apiserver_factory("--no-controllers")
    server.request(
        "POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}
    )
    return server


def test_every_waiter_and_the_timeout_message(playbook, bare_server):
    objects = _objects()
    stop = threading.Event()
    record = {}
    helper = threading.Thread(target=_play_controllers, args=(bare_server, objects, stop, record), daemon=True)
    helper.start()
    stuck = _workload("apps/v1", "Deployment", "stuck", {"replicas": 1})
    try:
        run = playbook(
            [
                {
                    "name": "all ready",
                    "kubeforge.cluster.resource": {
                        "definition": objects,
                        "wait": True,
                        "wait_timeout": 60,
                        "wait_sleep": 0.3,
                    },
                },
                {
                    "name": "info condition",
                    "kubeforge.cluster.resource_info": {
                        "kind": "Pod",
                        "name": "pod",
                        "namespace": NAMESPACE,
                        "wait": True,
                        "wait_timeout": 5,
                        "wait_condition": {"type": "Ready"},
                    },
                },
                {
                    "name": "info condition timeout",
                    "ignore_errors": True,
                    "kubeforge.cluster.resource_info": {
                        "kind": "Pod",
                        "name": "pod",
                        "namespace": NAMESPACE,
                        "wait": True,
                        "wait_timeout": 1,
                        "wait_sleep": 0.2,
                        "wait_condition": {"type": "Ready", "status": "False"},
                    },
                },
                {
                    "name": "never ready",
                    "ignore_errors": True,
                    "kubeforge.cluster.resource": {
                        "definition": [stuck],
                        "wait": True,
                        "wait_timeout": 2,
                        "wait_sleep": 0.5,
                    },
                },
            ],
            kubeconfig=bare_server.kubeconfig,
        )
    finally:
        stop.set()
        helper.join(10)
    ready, info, info_timeout, never = run.tasks
    assert not info.failed and info.result["resources"][0]["status"]["phase"] == "Running"
    assert info_timeout.msg == (
        f"timed out after 1s waiting for readiness: Pod/{NAMESPACE}/pod: condition Ready is True"
    )
    assert not ready.failed, ready.msg
    assert ready.changed
    end = datetime.datetime.fromisoformat(ready.duration[0].replace("Z", "+00:00"))
    assert end >= record["ready_from"], "the task returned before the objects were ready"
    assert never.failed and never.changed, "the Deployment was created before the wait timed out"
    assert never.msg == (
        f"timed out after 2s waiting for readiness: Deployment/{NAMESPACE}/stuck: "
        "the controller has not observed generation 1 yet (observed None)"
    )


PAUSE = "registry.k8s.io/pause:3.10"
OUTAGE = 5.0  # longer than the client's own retries of one request (about 3 s)


def _deployment(name, replicas=1, image=PAUSE, **pod_spec):
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "c", "image": image}], **pod_spec},
            },
        },
    }


def _waited(name, objects, timeout, fail_ok=True):
    task = {
        "name": name,
        "kubeforge.cluster.resource": {
            "definition": objects,
            "wait": True,
            "wait_timeout": timeout,
            "wait_sleep": 0.5,
        },
    }
    if fail_ok:
        task["ignore_errors"] = True
    return task


@pytest.fixture
def cluster(apiserver_factory):
    """A private server with controllers and one node."""
    server = apiserver_factory("--ready-delay", "1")
    server.add_nodes(1, "w")
    server.request(
        "POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}
    )
    return server


def test_timeout_names_the_blocking_pod(playbook, cluster):
    """A timed-out wait says why the first unready pod is stuck, in the scheduler's or the kubelet's words."""
    run = playbook(
        [
            _waited("unschedulable", [_deployment("picky", 2, nodeSelector={"disk": "ssd"})], 3),
            _waited("bad image", [_deployment("pull", image="busybox:does-not-exist")], 3),
        ],
        kubeconfig=cluster.kubeconfig,
    )
    picky, pull = run.tasks
    pod = r"pod {}-[a-z0-9]+-[a-z0-9]+: "
    assert re.fullmatch(
        rf"timed out after 3s waiting for readiness: Deployment/{NAMESPACE}/picky: [^;]+; "
        + pod.format("picky")
        + re.escape(
            "PodScheduled=False Unschedulable: 0/1 nodes are available: 1 node(s) didn't match Pod's node "
            "affinity/selector. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.."
        ),  # (the double full stop is kube-scheduler's own)
        picky.msg,
    ), picky.msg
    assert re.fullmatch(
        rf"timed out after 3s waiting for readiness: Deployment/{NAMESPACE}/pull: [^;]+; "
        + pod.format("pull")
        + re.escape('container c waiting: ImagePullBackOff: Back-off pulling image "busybox:does-not-exist": ')
        + "ErrImagePull: .*not found",
        pull.msg,
    ), pull.msg


def test_wait_survives_an_apiserver_restart(playbook, cluster):
    """The API server stops in the middle of a wait and comes back on the same port with the same data: the task
    succeeds. Gone for longer than wait_timeout: the task fails naming the last connection error."""
    moments = {}

    def exists(name):
        try:
            return cluster.request("GET", f"/apis/apps/v1/namespaces/{NAMESPACE}/deployments/{name}")[0] == HTTP_OK
        except OSError:
            return False

    def outages():
        while not exists("restarted"):
            time.sleep(0.05)
        time.sleep(0.3)  # the write is done; the wait has begun (its pods need --ready-delay to be Ready)
        cluster.stop_apiserver()
        moments["down"] = datetime.datetime.now(datetime.timezone.utc)
        time.sleep(OUTAGE)
        cluster.start_apiserver()
        moments["up"] = datetime.datetime.now(datetime.timezone.utc)
        while not exists("gone"):
            time.sleep(0.05)
        cluster.stop_apiserver()  # for good: the second wait cannot end well

    helper = threading.Thread(target=outages, daemon=True)
    helper.start()
    run = playbook(
        [
            _waited("restarted", [_deployment("restarted", 2)], 60, fail_ok=False),
            _waited("gone", [_deployment("gone")], 4),
        ],
        kubeconfig=cluster.kubeconfig,
    )
    helper.join(30)
    restarted, gone = run.tasks
    assert not restarted.failed, restarted.msg
    end = datetime.datetime.fromisoformat(restarted.duration[0].replace("Z", "+00:00"))
    start = datetime.datetime.fromisoformat(restarted.duration[1].replace("Z", "+00:00"))
    assert start < moments["down"] and end > moments["up"], (restarted.duration, moments)
    assert gone.failed and gone.changed
    assert gone.msg.startswith(f"timed out after 4s waiting for readiness: Deployment/{NAMESPACE}/gone: "), gone.msg
    assert f"API server unavailable (cannot reach the API server at {cluster.url}" in gone.msg
    assert gone.msg.endswith("Connection refused)"), gone.msg
