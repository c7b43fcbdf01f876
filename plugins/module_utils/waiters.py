# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Readiness of objects per kind, and a poller that waits for a batch of objects."""

from __future__ import annotations

import time

from ansible_collections.kubeforge.cluster.plugins.module_utils.client import resource_path
from ansible_collections.kubeforge.cluster.plugins.module_utils.errors import HTTP_NOT_FOUND, KubeforgeError


def _conditions(obj):
    return {c.get("type"): c for c in (obj.get("status") or {}).get("conditions") or [] if isinstance(c, dict)}


def _generation_seen(obj):
    status = obj.get("status") or {}
    generation = (obj.get("metadata") or {}).get("generation")
    observed = status.get("observedGeneration")
    if generation is not None and (observed is None or observed < generation):
        return f"the controller has not observed generation {generation} yet (observed {observed})"
    return None


def _deployment(obj, _client):
    pending = _generation_seen(obj)
    if pending:
        return False, pending
    status = obj.get("status") or {}
    progressing = _conditions(obj).get("Progressing") or {}
    if progressing.get("reason") == "ProgressDeadlineExceeded":
        raise KubeforgeError("rollout failed: progress deadline exceeded ({})".format(progressing.get("message", "")))
    want = (obj.get("spec") or {}).get("replicas", 1)
    updated = status.get("updatedReplicas") or 0
    total = status.get("replicas") or 0
    available = status.get("availableReplicas") or 0
    if updated < want:
        return False, f"{updated} of {want} replicas updated"
    if total > updated:
        return False, f"{total - updated} old replicas pending termination"
    if available < updated:
        return False, f"{available} of {updated} updated replicas available"
    return True, "rolled out"


def _replicated(obj, _client):
    pending = _generation_seen(obj)
    if pending:
        return False, pending
    want = (obj.get("spec") or {}).get("replicas", 1)
    ready = (obj.get("status") or {}).get("readyReplicas") or 0
    if ready < want:
        return False, f"{ready} of {want} replicas ready"
    return True, "ready"


def _statefulset(obj, client):
    ready, reason = _replicated(obj, client)
    if not ready:
        return ready, reason
    status = obj.get("status") or {}
    want = (obj.get("spec") or {}).get("replicas", 1)
    strategy = ((obj.get("spec") or {}).get("updateStrategy") or {}).get("type", "RollingUpdate")
    if strategy == "RollingUpdate":
        if (status.get("updatedReplicas") or 0) < want:
            return False, f"{status.get('updatedReplicas') or 0} of {want} replicas updated"
        if status.get("updateRevision") and status.get("currentRevision") != status.get("updateRevision"):
            return False, "revision {} not rolled out yet".format(status.get("updateRevision"))
    return True, "rolled out"


def _daemonset(obj, _client):
    pending = _generation_seen(obj)
    if pending:
        return False, pending
    status = obj.get("status") or {}
    desired = status.get("desiredNumberScheduled") or 0
    updated = status.get("updatedNumberScheduled") or 0
    available = status.get("numberAvailable") or 0
    if updated < desired:
        return False, f"{updated} of {desired} pods updated"
    if available < desired:
        return False, f"{available} of {desired} pods available"
    return True, "rolled out"


def _pod(obj, _client):
    status = obj.get("status") or {}
    if status.get("phase") in ("Failed",):
        raise KubeforgeError("pod failed: %s" % (status.get("message") or status.get("reason") or "phase Failed"))
    ready = _conditions(obj).get("Ready") or {}
    if ready.get("status") == "True":
        return True, "ready"
    return False, "not Ready (phase {})".format(status.get("phase", "Pending"))


def _job(obj, _client):
    conditions = _conditions(obj)
    if (conditions.get("Failed") or {}).get("status") == "True":
        raise KubeforgeError(
            "job failed: %s" % (conditions["Failed"].get("message") or conditions["Failed"].get("reason"))
        )
    if (conditions.get("Complete") or {}).get("status") == "True":
        return True, "complete"
    status = obj.get("status") or {}
    return False, f"not complete ({status.get('succeeded') or 0} succeeded, {status.get('active') or 0} active)"


def _service(obj, client):
    spec = obj.get("spec") or {}
    if spec.get("type") == "ExternalName" or not spec.get("selector"):
        return True, "no selector"
    meta = obj["metadata"]
    path = "/api/v1/namespaces/{}/endpoints/{}".format(meta["namespace"], meta["name"])
    try:
        endpoints = client.request("GET", path)
    except KubeforgeError as exc:
        if exc.status == HTTP_NOT_FOUND:
            return False, "no endpoints yet"
        raise
    if not any(subset.get("addresses") for subset in (endpoints or {}).get("subsets") or []):
        return False, "no ready endpoints"
    if spec.get("type") == "LoadBalancer" and not ((obj.get("status") or {}).get("loadBalancer") or {}).get("ingress"):
        return False, "load balancer has no ingress yet"
    return True, "endpoints ready"


def _hpa(obj, _client):
    active = _conditions(obj).get("ScalingActive") or {}
    if active.get("status") in ("True", "False"):
        return True, "ScalingActive={}".format(active["status"])
    return False, "ScalingActive condition unknown"


def _crd(obj, _client):
    if (_conditions(obj).get("Established") or {}).get("status") == "True":
        return True, "established"
    return False, "not established"


def _apiservice(obj, _client):
    available = _conditions(obj).get("Available") or {}
    if available.get("status") == "True":
        return True, "available"
    if not available:
        return False, "Available condition not reported yet"
    return False, "not available ({}: {})".format(available.get("reason"), available.get("message", ""))


def _namespace(obj, _client):
    phase = (obj.get("status") or {}).get("phase")
    return phase in (None, "Active"), f"phase {phase}"


_READINESS = {
    ("apps", "Deployment"): _deployment,
    ("apps", "ReplicaSet"): _replicated,
    ("", "ReplicationController"): _replicated,
    ("apps", "StatefulSet"): _statefulset,
    ("apps", "DaemonSet"): _daemonset,
    ("", "Pod"): _pod,
    ("batch", "Job"): _job,
    ("", "Service"): _service,
    ("autoscaling", "HorizontalPodAutoscaler"): _hpa,
    ("apiextensions.k8s.io", "CustomResourceDefinition"): _crd,
    ("", "Namespace"): _namespace,
    ("apiregistration.k8s.io", "APIService"): _apiservice,
}


def readiness(resource, obj, client):
    """``(ready, reason)`` of a live object of ``resource``; raises KubeforgeError when it can never get ready."""
    check = _READINESS.get((resource.group, resource.kind))
    if check is None:
        return True, "exists"
    return check(obj, client)


def _ref(resource, name, namespace):
    return f"{resource.kind}/{namespace}/{name}" if namespace else f"{resource.kind}/{name}"


def wait_for(client, targets, timeout, sleep=1.0, **options):
    """Poll until every target is ready (or gone when ``absent``); fail naming what is not ready on timeout.

    ``targets`` is a list of ``(resource, name, namespace)``. ``condition`` is an optional
    ``(type, status)`` pair that replaces the per-kind readiness. Returns the final live objects.
    """
    absent, condition = options.get("absent", False), options.get("condition")
    deadline = time.monotonic() + timeout
    pending = {(r.group, r.kind, n, ns): (r, n, ns) for r, n, ns in targets}
    final = {}
    reasons = {}

    def _check(key):
        resource, name, namespace = pending[key]
        try:
            obj = client.request("GET", resource_path(resource, name, namespace))
        except KubeforgeError as exc:
            if exc.status == HTTP_NOT_FOUND:
                return (True, "deleted", None) if absent else (False, "does not exist yet", None)
            raise exc.with_ref(_ref(resource, name, namespace)) from None
        if absent:
            return False, "still exists", obj
        if condition:
            found = _conditions(obj).get(condition[0]) or {}
            if found.get("status") == condition[1]:
                return True, "condition met", obj
            return False, "condition {} is {}".format(condition[0], found.get("status", "not set")), obj
        try:
            ready, reason = readiness(resource, obj, client)
        except KubeforgeError as exc:
            raise exc.with_ref(_ref(resource, name, namespace)) from None
        return ready, reason, obj

    while pending:
        keys = list(pending)
        for key, outcome in zip(keys, client.map(_check, keys)):
            if isinstance(outcome, KubeforgeError):
                raise outcome
            ready, reason, obj = outcome
            if ready:
                final[key] = obj
                del pending[key]
            else:
                reasons[key] = reason
        if not pending:
            break
        if time.monotonic() + sleep > deadline:
            what = "; ".join(
                "{}: {}".format(_ref(r, n, ns), reasons.get(k, "not ready"))
                for k, (r, n, ns) in sorted(pending.items(), key=lambda kv: str(kv[0]))
            )
            raise KubeforgeError(
                "timed out after {}s waiting for {}: {}".format(timeout, "deletion" if absent else "readiness", what),
                reason="Timeout",
            )
        time.sleep(sleep)
    return final
