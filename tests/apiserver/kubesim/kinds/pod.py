"""Pod: defaults (service account, scheduling, QoS class), the update rules, `kubectl get` columns."""

from __future__ import annotations

import json

from .. import enums
from ..defaults import pod_spec
from ..quantity import quantity_value
from ..validation import forbidden, pod_spec_causes
from .base import ALL, ALWAYS, Kind, resource


def _qos(spec):
    limits, requests = [], []
    for ctr in spec.get("containers") or []:
        res = ctr.get("resources") or {}
        limits.append(res.get("limits") or {})
        requests.append(res.get("requests") or {})
    if not any(limits) and not any(requests):
        return "BestEffort"
    guaranteed = all(
        lim.get(r) and (req.get(r) is None or quantity_value(req[r]) == quantity_value(lim[r]))
        for lim, req in zip(limits, requests)
        for r in ("cpu", "memory")
    )
    return "Guaranteed" if guaranteed else "Burstable"


def defaults(obj, allocator=None):
    del allocator
    spec = obj.setdefault("spec", {})
    pod_spec(spec)
    spec.setdefault("serviceAccountName", "default")
    spec.setdefault("serviceAccount", spec["serviceAccountName"])
    spec.setdefault("priority", 0)
    spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
    tolerations = spec.setdefault("tolerations", [])
    for key in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"):
        if not any(t.get("key") == key for t in tolerations if isinstance(t, dict)):
            tolerations.append({"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300})
    status = obj.setdefault("status", {})
    status.setdefault("phase", "Pending")
    status.setdefault("qosClass", _qos(spec))


_POD_MUTABLE = ("activeDeadlineSeconds", "terminationGracePeriodSeconds")


def _pod_update_view(spec):
    view = json.loads(json.dumps(spec))
    for key in _POD_MUTABLE:
        view.pop(key, None)
    for key in ("containers", "initContainers"):
        for ctr in view.get(key) or []:
            ctr.pop("image", None)
    view.pop("tolerations", None)
    if view.get("nodeName") is None:
        view.pop("nodeName", None)
    return view


def validate(obj, old):
    spec = obj.get("spec") or {}
    causes = pod_spec_causes(spec, "spec")
    if old is not None:
        new_view, old_view = _pod_update_view(spec), _pod_update_view(old.get("spec") or {})
        old_view.pop("nodeName", None) if "nodeName" not in new_view else None
        if new_view != old_view:
            causes.append(
                forbidden(
                    "spec",
                    "pod updates may not change fields other than "
                    "`spec.containers[*].image`,`spec.initContainers[*].image`,"
                    "`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to "
                    "existing tolerations),`spec.terminationGracePeriodSeconds` (allow it "
                    "to be set to 1 if it was previously negative)",
                )
            )
    return causes


def cells(obj):
    statuses = (obj.get("status") or {}).get("containerStatuses") or []
    ready = sum(1 for s in statuses if s.get("ready"))
    total = len((obj.get("spec") or {}).get("containers") or [])
    phase = "Terminating" if obj["metadata"].get("deletionTimestamp") else (obj.get("status") or {}).get("phase")
    return [
        f"{ready}/{total}",
        phase,
        sum(s.get("restartCount", 0) for s in statuses),
        (obj.get("spec") or {}).get("nodeName") or "<none>",
    ]


KIND = Kind(
    (
        resource(
            "v1",
            "Pod",
            "pods",
            True,
            short=["po"],
            subs=["status", "eviction", "binding", "log", "ephemeralcontainers"],
            categories=ALL,
            field_labels=(
                "spec.nodeName",
                "status.phase",
                "status.podIP",
                "spec.serviceAccountName",
                "spec.schedulerName",
                "spec.restartPolicy",
            ),
        ),
    ),
    defaults=defaults,
    validate=validate,
    columns=(("Ready", "string"), ("Status", "string"), ("Restarts", "integer"), ("Node", "string")),
    cells=cells,
    generation=ALWAYS,
    enums=enums.spec_enums(lambda spec: enums.pod_spec(spec, "spec")),
)
