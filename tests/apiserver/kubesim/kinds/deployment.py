"""Deployment: RollingUpdate 25%/25%, history and progress deadline defaults; selector rules; columns."""

from __future__ import annotations

from .. import enums
from ..defaults import rolling_update, template
from ..validation import selected_workload
from .base import ALL, Kind, resource


def defaults(obj, allocator=None):
    del allocator
    spec = obj.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    rolling = rolling_update(spec, "strategy")
    if rolling is not None:
        rolling.setdefault("maxUnavailable", "25%")
        rolling.setdefault("maxSurge", "25%")
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    template(spec)


def _enums(spec):
    causes = enums.template(spec)
    enums.check_value(causes, spec.get("strategy"), "type", "spec.strategy", enums.DEPLOYMENT_STRATEGIES)
    return causes


def cells(obj):
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    return [
        f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 0)}",
        status.get("updatedReplicas", 0),
        status.get("availableReplicas", 0),
    ]


KIND = Kind(
    (
        resource(
            "apps/v1", "Deployment", "deployments", True, short=["deploy"], subs=["scale", "status"], categories=ALL
        ),
    ),
    defaults=defaults,
    validate=selected_workload,
    columns=(("Ready", "string"), ("Up-to-date", "integer"), ("Available", "integer")),
    cells=cells,
    enums=enums.spec_enums(_enums),
)
