"""Pure parts of the apply layer: write order, apply-set ids, batch errors, readiness per kind."""

from __future__ import annotations

import base64
import hashlib

import pytest
from ansible_collections.kubeforge.cluster.plugins.module_utils import apply_items, applyset, errors, waiters
from ansible_collections.kubeforge.cluster.plugins.module_utils.discovery import Resource
from ansible_collections.kubeforge.cluster.plugins.module_utils.errors import KubeforgeError


def test_namespaces_and_crds_first_custom_resources_last():
    kinds = [
        ("Widget", "example.com"),
        ("Deployment", "apps"),
        ("ConfigMap", ""),
        ("CustomResourceDefinition", "apiextensions.k8s.io"),
        ("HorizontalPodAutoscaler", "autoscaling"),
        ("Namespace", ""),
    ]
    ordered = sorted(kinds, key=lambda k: apply_items.stage_of(*k))
    assert ordered == [
        ("Namespace", ""),
        ("CustomResourceDefinition", "apiextensions.k8s.io"),
        ("ConfigMap", ""),
        ("Deployment", "apps"),
        ("HorizontalPodAutoscaler", "autoscaling"),
        ("Widget", "example.com"),
    ]
    assert apply_items.stage_of("Deployment", "example.com") == apply_items.stage_of("Widget", "example.com")


def test_applyset_id_follows_the_kubectl_scheme():
    digest = hashlib.sha256(b"app.web.Secret.").digest()
    expected = "applyset-" + base64.urlsafe_b64encode(digest).decode().rstrip("=") + "-v1"
    assert applyset.applyset_id("app", "web") == expected
    assert applyset.applyset_id("app", "web") != applyset.applyset_id("app", "other")


def test_batch_error_names_every_object():
    first = KubeforgeError(
        "bad replicas", status=422, causes=[{"field": "spec.replicas", "message": "must be int"}], ref="Deployment/ns/a"
    )
    second = KubeforgeError("unknown field", status=400, ref="Service/ns/b")
    error = errors.batch_error([first, second], "validation", "nothing was applied")
    text = str(error)
    assert text.startswith("2 objects failed validation; nothing was applied:")
    assert "- Deployment/ns/a: bad replicas (spec.replicas: must be int)" in text
    assert "- Service/ns/b: unknown field" in text
    assert error.causes == [{"field": "spec.replicas", "message": "must be int", "object": "Deployment/ns/a"}]


def test_comparison_ignores_status_and_other_managers():
    live = {
        "kind": "Deployment",
        "metadata": {
            "name": "a",
            "resourceVersion": "1",
            "managedFields": [
                {"manager": "kubeforge", "operation": "Apply", "time": "t1", "fieldsV1": {"f:spec": {}}},
                {"manager": "kube-controller-manager", "operation": "Update", "subresource": "status", "time": "t1"},
            ],
        },
        "spec": {"replicas": 2},
        "status": {"replicas": 1},
    }
    dry = {
        "kind": "Deployment",
        "metadata": {
            "name": "a",
            "resourceVersion": "2",
            "managedFields": [
                {"manager": "kube-controller-manager", "operation": "Update", "subresource": "status", "time": "t2"},
                {"manager": "kubeforge", "operation": "Apply", "time": "t1", "fieldsV1": {"f:spec": {}}},
            ],
        },
        "spec": {"replicas": 2},
        "status": {"replicas": 2},
    }
    assert apply_items.comparable(dry, "kubeforge") == apply_items.comparable(live, "kubeforge")
    dry["spec"]["replicas"] = 3
    assert apply_items.comparable(dry, "kubeforge") != apply_items.comparable(live, "kubeforge")


def _resource(group, kind):
    return Resource(group, "v1", {"name": kind.lower() + "s", "kind": kind, "namespaced": True}, ())


@pytest.mark.parametrize(
    ("kind", "group", "obj", "ready"),
    [
        (
            "Deployment",
            "apps",
            {
                "metadata": {"generation": 2},
                "spec": {"replicas": 3},
                "status": {"observedGeneration": 2, "replicas": 3, "updatedReplicas": 3, "availableReplicas": 3},
            },
            True,
        ),
        (
            "Deployment",
            "apps",
            {
                "metadata": {"generation": 2},
                "spec": {"replicas": 3},
                "status": {"observedGeneration": 2, "replicas": 4, "updatedReplicas": 3, "availableReplicas": 3},
            },
            False,
        ),
        (
            "Deployment",
            "apps",
            {
                "metadata": {"generation": 3},
                "spec": {"replicas": 1},
                "status": {"observedGeneration": 2, "replicas": 1, "updatedReplicas": 1, "availableReplicas": 1},
            },
            False,
        ),
        ("ReplicationController", "", {"spec": {"replicas": 2}, "status": {"readyReplicas": 1}}, False),
        ("Pod", "", {"status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}}, True),
        ("Job", "batch", {"status": {"active": 1}}, False),
        (
            "HorizontalPodAutoscaler",
            "autoscaling",
            {"status": {"conditions": [{"type": "ScalingActive", "status": "Unknown"}]}},
            False,
        ),
        (
            "DaemonSet",
            "apps",
            {"status": {"desiredNumberScheduled": 2, "updatedNumberScheduled": 2, "numberAvailable": 2}},
            True,
        ),
        ("ConfigMap", "", {}, True),
        ("APIService", "apiregistration.k8s.io", {"status": {}}, False),
        (
            "APIService",
            "apiregistration.k8s.io",
            {"status": {"conditions": [{"type": "Available", "status": "False", "reason": "MissingEndpoints"}]}},
            False,
        ),
        (
            "APIService",
            "apiregistration.k8s.io",
            {"status": {"conditions": [{"type": "Available", "status": "True", "reason": "Passed"}]}},
            True,
        ),
    ],
)
def test_readiness(kind, group, obj, ready):
    assert waiters.readiness(_resource(group, kind), obj, None)[0] is ready


def test_apiservice_not_available_names_the_reason():
    missing = {
        "status": {
            "conditions": [
                {
                    "type": "Available",
                    "status": "False",
                    "reason": "MissingEndpoints",
                    "message": "no ready endpoint",
                }
            ]
        }
    }
    ready, reason = waiters.readiness(_resource("apiregistration.k8s.io", "APIService"), missing, None)
    assert not ready
    assert reason == "not available (MissingEndpoints: no ready endpoint)"


def test_failed_job_and_stalled_deployment_fail_fast():
    failed = {"status": {"conditions": [{"type": "Failed", "status": "True", "message": "BackoffLimitExceeded"}]}}
    with pytest.raises(KubeforgeError, match="job failed: BackoffLimitExceeded"):
        waiters.readiness(_resource("batch", "Job"), failed, None)
    stalled = {
        "metadata": {"generation": 1},
        "status": {
            "observedGeneration": 1,
            "conditions": [
                {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded", "message": "too slow"}
            ],
        },
    }
    with pytest.raises(KubeforgeError, match="progress deadline exceeded"):
        waiters.readiness(_resource("apps", "Deployment"), stalled, None)
