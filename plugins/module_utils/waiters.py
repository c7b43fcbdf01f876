# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Readiness of objects per kind, and a poller that waits for a batch of objects."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from ansible_collections.kubeforge.cluster.plugins.module_utils.client import api_path, get_or_none, resource_path
from ansible_collections.kubeforge.cluster.plugins.module_utils.errors import (
    KubeforgeError,
    object_ref,
)

if TYPE_CHECKING:
    from ansible_collections.kubeforge.cluster.plugins.module_utils.client import ApiClient
    from ansible_collections.kubeforge.cluster.plugins.module_utils.discovery import Resource


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
    endpoints = get_or_none(client, api_path("v1", "endpoints", meta["namespace"], meta["name"]))
    if endpoints is None:
        return False, "no endpoints yet"
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


def readiness(resource: Resource, obj: dict | None, client: ApiClient) -> tuple[bool, str | None]:
    """``(ready, reason)`` of a live object of ``resource``; raises KubeforgeError when it can never get ready."""
    check = _READINESS.get((resource.group, resource.kind))
    if check is None:
        return True, "exists"
    return check(obj, client)


# --- why pods are not ready -----------------------------------------------------------------------------
_STARTING = frozenset(("ContainerCreating", "PodInitializing"))
_POD_OWNERS = frozenset(("Deployment", "ReplicaSet", "ReplicationController", "StatefulSet", "DaemonSet", "Job"))


def label_selector_query(selector: dict | None) -> str:
    """The ``labelSelector`` query text of a LabelSelector (``matchLabels`` and ``matchExpressions``)."""
    selector = selector or {}
    parts = [f"{key}={value}" for key, value in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        key, operator, values = expr.get("key"), expr.get("operator"), ",".join(expr.get("values") or [])
        parts.append(
            {"In": f"{key} in ({values})", "NotIn": f"{key} notin ({values})", "DoesNotExist": f"!{key}"}.get(
                operator, key
            )
        )
    return ",".join(parts)


def pod_blocker(pod: dict) -> str | None:
    """Why ``pod`` is not ready, in the words of the component that reported it (None when nothing says).

    The scheduler's PodScheduled=False condition first, then a container's waiting reason other than the normal
    start-up ones (ImagePullBackOff, ErrImagePull, CrashLoopBackOff, CreateContainerConfigError, ...) or its
    non-zero exit, then the Ready condition's message.
    """
    status = pod.get("status") or {}
    conditions = _conditions(pod)
    scheduled = conditions.get("PodScheduled") or {}
    if scheduled.get("status") == "False":
        return "PodScheduled=False {}: {}".format(scheduled.get("reason") or "", scheduled.get("message") or "")
    for ctr in (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or []):
        state = ctr.get("state") or {}
        waiting, terminated = state.get("waiting") or {}, state.get("terminated") or {}
        if waiting.get("reason") and waiting["reason"] not in _STARTING:
            detail = f": {waiting['message']}" if waiting.get("message") else ""
            return "container {} waiting: {}{}".format(ctr.get("name"), waiting["reason"], detail)
        if terminated.get("exitCode"):
            return "container {} terminated: {} (exit code {})".format(
                ctr.get("name"), terminated.get("reason") or "Error", terminated["exitCode"]
            )
    ready = conditions.get("Ready") or {}
    if ready.get("status") == "False" and ready.get("message"):
        return "Ready=False {}: {}".format(ready.get("reason") or "", ready["message"])
    return None


def _latest_warning(client, pod):
    meta = pod["metadata"]
    path = api_path("v1", "events", meta["namespace"])
    events, _page = client.list_all(path, {"fieldSelector": "involvedObject.name={}".format(meta["name"])})
    warnings = [
        e
        for e in events
        if e.get("type") == "Warning" and (e.get("involvedObject") or {}).get("uid") in (None, meta.get("uid"))
    ]
    if not warnings:
        return None
    last = max(warnings, key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or "")
    return "event {}: {}".format(last.get("reason"), last.get("message"))


def _pod_ready(pod):
    return (_conditions(pod).get("Ready") or {}).get("status") == "True"


def blocking_pod(client: ApiClient, resource: Resource, obj: dict | None) -> str | None:
    """``pod <name>: <why>`` for the first pod (oldest first) that keeps ``obj`` from being ready, or None.

    Looks at the pod itself, or at the pods a workload's selector picks; falls back to the pod's newest Warning
    event. Best effort: a failure to read says nothing.
    """
    if resource.kind == "Pod":
        pods = [obj]
    elif resource.kind in _POD_OWNERS:
        spec = obj.get("spec") or {}
        selector = spec.get("selector") or {}
        if resource.kind == "ReplicationController":
            selector = {"matchLabels": selector or ((spec.get("template") or {}).get("metadata") or {}).get("labels")}
        query = label_selector_query(selector)
        if not query:
            return None
        path = api_path("v1", "pods", obj["metadata"]["namespace"])
        try:
            pods, _page = client.list_all(path, {"labelSelector": query})
        except KubeforgeError:
            return None
    else:
        return None
    unready = [p for p in pods if not _pod_ready(p) and not p["metadata"].get("deletionTimestamp")]
    unready.sort(key=lambda p: (p["metadata"].get("creationTimestamp") or "", p["metadata"]["name"]))
    for pod in unready:
        why = pod_blocker(pod)
        if why is None:
            try:
                why = _latest_warning(client, pod)
            except KubeforgeError:
                why = None
        if why:
            return "pod {}: {}".format(pod["metadata"]["name"], why)
    return None


# --- the poller --------------------------------------------------------------------------------------------
_BACKOFF_MAX = 5.0


def _backoff(sleep, failures, error):
    """Seconds to wait after ``failures`` polls in a row could not read (doubling, honouring Retry-After)."""
    delay = min(sleep * 2 ** (failures - 1), _BACKOFF_MAX)
    return max(delay, float((error.details or {}).get("retryAfterSeconds") or 0))


class _Poll:
    """State of one wait_for call: what is pending, the last reason and live object of each target."""

    def __init__(self, client, targets, absent, condition):
        self.client, self.absent, self.condition = client, absent, condition
        self.pending = {(r.group, r.kind, n, ns): (r, n, ns) for r, n, ns in targets}
        self.final, self.reasons, self.lives = {}, {}, {}

    def probe(self, key):
        """``(ready, reason, live object or None)``; the KubeforgeError in place of the object when the read
        failed in a way worth retrying."""
        resource, name, namespace = self.pending[key]
        try:
            obj = get_or_none(self.client, resource_path(resource, name, namespace), retry=False)
        except KubeforgeError as exc:
            return self._unavailable(exc, object_ref(resource.kind, namespace, name))
        if obj is None:
            return (True, "deleted", None) if self.absent else (False, "does not exist yet", None)
        try:
            ready, reason = self._state(resource, obj)
        except KubeforgeError as exc:
            return self._unavailable(exc, object_ref(resource.kind, namespace, name))
        return ready, reason, obj

    def _state(self, resource, obj):
        if self.absent:
            return False, "still exists"
        if self.condition:
            found = _conditions(obj).get(self.condition[0]) or {}
            if found.get("status") == self.condition[1]:
                return True, "condition met"
            return False, "condition {} is {}".format(self.condition[0], found.get("status", "not set"))
        return readiness(resource, obj, self.client)

    @staticmethod
    def _unavailable(exc, ref):
        if not exc.retryable:
            raise exc.with_ref(ref) from None
        return False, f"API server unavailable ({exc.msg})", exc

    def round(self):
        """Probe every pending target once; returns the last read error worth retrying (None when all read)."""
        keys = list(self.pending)
        unavailable = None
        for key, outcome in zip(keys, self.client.map(self.probe, keys)):
            if isinstance(outcome, KubeforgeError):
                raise outcome
            ready, reason, obj = outcome
            self.reasons[key] = reason
            if isinstance(obj, KubeforgeError):
                unavailable = obj
            elif ready:
                self.final[key] = obj
                del self.pending[key]
            else:
                self.lives[key] = obj
        return unavailable

    def timeout_error(self, timeout, explain):
        what = []
        for key, (resource, name, namespace) in sorted(self.pending.items(), key=lambda kv: str(kv[0])):
            text = "{}: {}".format(object_ref(resource.kind, namespace, name), self.reasons.get(key, "not ready"))
            live = self.lives.get(key)
            blocker = blocking_pod(self.client, resource, live) if explain and live else None
            what.append(f"{text}; {blocker}" if blocker else text)
        return KubeforgeError(
            "timed out after {}s waiting for {}: {}".format(
                timeout, "deletion" if self.absent else "readiness", "; ".join(what)
            ),
            reason="Timeout",
        )


def wait_for(client: ApiClient, targets: list, timeout: float, sleep: float = 1.0, **options) -> list:
    """Poll until every target is ready (or gone when ``absent``); fail naming what is not ready on timeout.

    ``targets`` is a list of ``(resource, name, namespace)``. ``condition`` is an optional
    ``(type, status)`` pair that replaces the per-kind readiness. Returns the final live objects.

    Only reads happen here, so an API server that is briefly away (connection refused or reset, 429, 5xx: a
    control plane restarting) is polled again with back-off until the deadline; the timeout then names the last
    such error. On timeout the first pod blocking each workload is named with the reason its scheduler or kubelet
    gave.
    """
    poll = _Poll(client, targets, options.get("absent", False), options.get("condition"))
    deadline = time.monotonic() + timeout
    failures = 0
    while poll.pending:
        unavailable = poll.round()
        if not poll.pending:
            break
        failures = failures + 1 if unavailable else 0
        now = time.monotonic()
        if now + sleep > deadline:
            raise poll.timeout_error(timeout, explain=not unavailable and not poll.absent)
        time.sleep(min(_backoff(sleep, failures, unavailable) if unavailable else sleep, deadline - now))
    return poll.final
