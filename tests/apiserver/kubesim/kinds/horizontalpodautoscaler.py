"""HorizontalPodAutoscaler: stored as autoscaling/v2, also served as autoscaling/v1 (converted both ways, the v2
conditions kept in an annotation as upstream does); defaults (minReplicas, behavior, CPU metric); min/max rules."""

from __future__ import annotations

import json

from .. import enums
from ..validation import invalid_value, required
from .base import ALL, Kind, resource


def defaults(obj, allocator=None):
    del allocator
    spec = obj.setdefault("spec", {})
    spec.setdefault("minReplicas", 1)
    if not spec.get("metrics"):
        spec["metrics"] = [
            {
                "type": "Resource",
                "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}},
            }
        ]
    behavior = spec.setdefault("behavior", {})
    up = behavior.setdefault("scaleUp", {})
    up.setdefault("stabilizationWindowSeconds", 0)
    up.setdefault("selectPolicy", "Max")
    up.setdefault(
        "policies",
        [{"type": "Pods", "value": 4, "periodSeconds": 15}, {"type": "Percent", "value": 100, "periodSeconds": 15}],
    )
    down = behavior.setdefault("scaleDown", {})
    down.setdefault("selectPolicy", "Max")
    down.setdefault("policies", [{"type": "Percent", "value": 100, "periodSeconds": 15}])


def validate(obj, old):
    del old
    spec = obj.get("spec") or {}
    causes = []
    if not spec.get("scaleTargetRef"):
        causes.append(required("spec.scaleTargetRef"))
    low, high = spec.get("minReplicas", 1), spec.get("maxReplicas")
    if not isinstance(high, int) or high < 1:
        causes.append(invalid_value("spec.maxReplicas", high, "must be greater than or equal to 1"))
    elif isinstance(low, int) and high < low:
        causes.append(invalid_value("spec.maxReplicas", high, "must be greater than or equal to `minReplicas`"))
    return causes


# ---- autoscaling/v1 <-> autoscaling/v2 -------------------------------------------------------------

_CONDITIONS_ANNOTATION = "autoscaling.alpha.kubernetes.io/conditions"


def from_v1(obj):
    out = json.loads(json.dumps(obj))
    out["apiVersion"] = "autoscaling/v2"
    spec = out.setdefault("spec", {})
    target = spec.pop("targetCPUUtilizationPercentage", None)
    if target is not None:
        spec["metrics"] = [
            {
                "type": "Resource",
                "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": target}},
            }
        ]
    status = out.get("status")
    if isinstance(status, dict):
        current = status.pop("currentCPUUtilizationPercentage", None)
        if current is not None:
            status["currentMetrics"] = [
                {"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": current}}}
            ]
    annotations = out.get("metadata", {}).get("annotations") or {}
    annotations.pop(_CONDITIONS_ANNOTATION, None)
    return out


def to_v1(obj):
    out = json.loads(json.dumps(obj))
    out["apiVersion"] = "autoscaling/v1"
    spec = out.setdefault("spec", {})
    metrics = spec.pop("metrics", None) or []
    spec.pop("behavior", None)
    for metric in metrics:
        target = (metric.get("resource") or {}).get("target") or {}
        if (
            metric.get("type") == "Resource"
            and metric["resource"].get("name") == "cpu"
            and target.get("averageUtilization") is not None
        ):
            spec["targetCPUUtilizationPercentage"] = target["averageUtilization"]
    status = out.setdefault("status", {})
    conditions = status.pop("conditions", None)
    for metric in status.pop("currentMetrics", None) or []:
        current = (metric.get("resource") or {}).get("current") or {}
        if current.get("averageUtilization") is not None:
            status["currentCPUUtilizationPercentage"] = current["averageUtilization"]
    status.setdefault("currentReplicas", 0)
    status.setdefault("desiredReplicas", 0)
    if conditions:
        out["metadata"].setdefault("annotations", {})[_CONDITIONS_ANNOTATION] = json.dumps(conditions)
    return out


def _enums(spec):
    causes = []
    for n, metric in enumerate(spec.get("metrics") or []):
        if not isinstance(metric, dict):
            continue
        enums.check_value(causes, metric, "type", f"spec.metrics[{n}]", enums.METRIC_SOURCE_TYPES)
        for source in ("resource", "containerResource", "pods", "object", "external"):
            target = (metric.get(source) or {}).get("target") if isinstance(metric.get(source), dict) else None
            kind = (target or {}).get("type") if isinstance(target, dict) else None
            if kind not in (None, "") and kind not in enums.METRIC_TARGET_TYPES:
                field = f"spec.metrics[{n}].{source}.target.type"
                message = f"Invalid value: {json.dumps(kind)}: must be either Utilization, Value, or AverageValue"
                causes.append(("FieldValueInvalid", field, message))
    return causes


def _version(gv, **kw):
    return resource(
        gv,
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        True,
        short=["hpa"],
        subs=["status"],
        categories=ALL,
        **kw,
    )


KIND = Kind(
    (_version("autoscaling/v2"), _version("autoscaling/v1", storage="autoscaling/horizontalpodautoscalers")),
    defaults=defaults,
    validate=validate,
    conversions={"v1": (to_v1, from_v1)},
    enums=enums.spec_enums(_enums),
)
