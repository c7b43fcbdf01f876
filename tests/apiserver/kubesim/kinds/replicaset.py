"""ReplicaSet: one replica by default; selector rules; `kubectl get` columns."""

from __future__ import annotations

from .. import enums
from ..defaults import template
from ..validation import selected_workload
from .base import ALL, Kind, resource


def defaults(obj, allocator=None):
    del allocator
    spec = obj.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    template(spec)


def cells(obj):
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    return [spec.get("replicas", 0), status.get("replicas", 0), status.get("readyReplicas", 0)]


KIND = Kind(
    (resource("apps/v1", "ReplicaSet", "replicasets", True, short=["rs"], subs=["scale", "status"], categories=ALL),),
    defaults=defaults,
    validate=selected_workload,
    columns=(("Desired", "integer"), ("Current", "integer"), ("Ready", "integer")),
    cells=cells,
    enums=enums.spec_enums(enums.template),
)
