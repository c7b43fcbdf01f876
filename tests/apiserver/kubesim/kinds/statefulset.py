"""StatefulSet: OrderedReady, partition 0, PVC retention defaults; selector rules."""

from __future__ import annotations

from .. import enums
from ..defaults import rolling_update, template
from ..validation import selected_workload
from .base import ALL, Kind, resource
from .daemonset import update_strategy_enums


def defaults(obj, allocator=None):
    del allocator
    spec = obj.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    spec.setdefault("podManagementPolicy", "OrderedReady")
    rolling = rolling_update(spec, "updateStrategy")
    if rolling is not None:
        rolling.setdefault("partition", 0)
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("persistentVolumeClaimRetentionPolicy", {"whenDeleted": "Retain", "whenScaled": "Retain"})
    template(spec)


def _enums(spec):
    causes = update_strategy_enums(spec)
    enums.check_value(causes, spec, "podManagementPolicy", "spec", enums.POD_MANAGEMENT_POLICIES)
    return causes


KIND = Kind(
    (
        resource(
            "apps/v1", "StatefulSet", "statefulsets", True, short=["sts"], subs=["scale", "status"], categories=ALL
        ),
    ),
    defaults=defaults,
    validate=selected_workload,
    enums=enums.spec_enums(_enums),
)
