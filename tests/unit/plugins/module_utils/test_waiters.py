"""wait_for against a scripted server: reads retried through an outage, other errors at once; pod reasons."""

from __future__ import annotations

import pytest
from ansible_collections.kubeforge.cluster.plugins.module_utils.client import ApiClient
from ansible_collections.kubeforge.cluster.plugins.module_utils.discovery import Resource
from ansible_collections.kubeforge.cluster.plugins.module_utils.errors import KubeforgeError
from ansible_collections.kubeforge.cluster.plugins.module_utils.waiters import (
    label_selector_query,
    pod_blocker,
    wait_for,
)

READY_POD = {"kind": "Pod", "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}}
PODS = Resource("", "v1", {"kind": "Pod", "name": "pods", "namespaced": True, "verbs": ["get"]}, ())


def _client(url):
    return ApiClient.from_params({"host": url})


def test_unavailable_reads_are_retried_until_ready(fake_server):
    answers = [(503, {}, {"kind": "Status", "code": 503}), (429, {"Retry-After": "0"}, {}), (200, {}, READY_POD)]
    server = fake_server(lambda *_: answers.pop(0))
    final = wait_for(_client(server.url), [(PODS, "web", "default")], timeout=10, sleep=0.05)
    assert list(final.values()) == [READY_POD]
    assert [r[0] for r in server.requests] == ["GET", "GET", "GET"]


def test_other_errors_fail_at_once(fake_server):
    server = fake_server(lambda *_: (403, {}, {"kind": "Status", "code": 403, "message": "pods is forbidden"}))
    with pytest.raises(KubeforgeError, match=r"^Pod/default/web: pods is forbidden"):
        wait_for(_client(server.url), [(PODS, "web", "default")], timeout=10, sleep=0.05)
    assert len(server.requests) == 1


def test_timeout_names_the_last_connection_error():
    with pytest.raises(KubeforgeError) as caught:
        wait_for(_client("http://127.0.0.1:1"), [(PODS, "web", "default")], timeout=1, sleep=0.2)
    assert str(caught.value).startswith("timed out after 1s waiting for readiness: Pod/default/web: API server ")
    assert str(caught.value).endswith("Connection refused)")


def test_pod_blocker_words():
    unscheduled = {
        "status": {
            "phase": "Pending",
            "conditions": [
                {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": "no nodes available"}
            ],
        }
    }
    assert pod_blocker(unscheduled) == "PodScheduled=False Unschedulable: no nodes available"
    creating = {"status": {"containerStatuses": [{"name": "c", "state": {"waiting": {"reason": "ContainerCreating"}}}]}}
    assert pod_blocker(creating) is None
    crash = {"status": {"containerStatuses": [{"name": "c", "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}}
    assert pod_blocker(crash) == "container c waiting: CrashLoopBackOff"


def test_label_selector_query():
    selector = {
        "matchLabels": {"app": "web", "tier": "fe"},
        "matchExpressions": [
            {"key": "env", "operator": "In", "values": ["a", "b"]},
            {"key": "old", "operator": "DoesNotExist"},
            {"key": "zone", "operator": "Exists"},
        ],
    }
    assert label_selector_query(selector) == "app=web,tier=fe,env in (a,b),!old,zone"
