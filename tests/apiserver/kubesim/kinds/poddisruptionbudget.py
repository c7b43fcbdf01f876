"""PodDisruptionBudget: minAvailable xor maxUnavailable (its status is controllers/disruption.py's)."""

from __future__ import annotations

from .. import enums
from ..validation import invalid_value
from .base import Kind, resource


def validate(obj, old):
    del old
    spec = obj.get("spec") or {}
    if "minAvailable" in spec and "maxUnavailable" in spec:
        return [invalid_value("spec", spec, "minAvailable and maxUnavailable cannot be both set")]
    return []


def _enums(spec):
    causes = []
    enums.check_value(causes, spec, "unhealthyPodEvictionPolicy", "spec", enums.UNHEALTHY_POD_EVICTION_POLICIES)
    return causes


KIND = Kind(
    (resource("policy/v1", "PodDisruptionBudget", "poddisruptionbudgets", True, short=["pdb"], subs=["status"]),),
    validate=validate,
    enums=enums.spec_enums(_enums),
)
