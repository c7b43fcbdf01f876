"""DaemonSet: RollingUpdate maxUnavailable 1 / maxSurge 0 by default; selector rules (no replicas)."""

from __future__ import annotations

from .. import enums
from ..defaults import rolling_update, template
from ..validation import selected_workload
from .base import ALL, Kind, resource


def defaults(obj, allocator=None):
    del allocator
    spec = obj.setdefault("spec", {})
    rolling = rolling_update(spec, "updateStrategy")
    if rolling is not None:
        rolling.setdefault("maxUnavailable", 1)
        rolling.setdefault("maxSurge", 0)
    spec.setdefault("revisionHistoryLimit", 10)
    template(spec)


def validate(obj, old):
    spec = obj.get("spec") or {}
    return selected_workload({"spec": {**spec, "replicas": 0}}, old)


def update_strategy_enums(spec):
    """The template's and ``spec.updateStrategy.type`` (DaemonSet and StatefulSet)."""
    causes = enums.template(spec)
    enums.check_value(causes, spec.get("updateStrategy"), "type", "spec.updateStrategy", enums.UPDATE_STRATEGIES)
    return causes


KIND = Kind(
    (resource("apps/v1", "DaemonSet", "daemonsets", True, short=["ds"], subs=["status"], categories=ALL),),
    defaults=defaults,
    validate=validate,
    enums=enums.spec_enums(update_strategy_enums),
)
