"""Node: `kubectl get nodes` columns (the status is the node lifecycle controller's, controllers/node_lifecycle.py)."""

from __future__ import annotations

from .. import enums
from .base import NEVER, Kind, resource


def defaults(obj, allocator=None):
    del allocator
    obj.setdefault("spec", {})


def cells(obj):
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])
    text = ("Ready" if ready else "NotReady") + (",SchedulingDisabled" if spec.get("unschedulable") else "")
    return [text, "<none>", (status.get("nodeInfo") or {}).get("kubeletVersion", "")]


def _enums(spec):
    causes = []
    for n, taint in enumerate(spec.get("taints") or []):
        enums.check_value(causes, taint, "effect", f"spec.taints[{n}]", enums.TAINT_EFFECTS)
    return causes


KIND = Kind(
    (
        resource(
            "v1", "Node", "nodes", False, short=["no"], subs=["status", "proxy"], field_labels=["spec.unschedulable"]
        ),
    ),
    defaults=defaults,
    columns=(("Status", "string"), ("Roles", "string"), ("Version", "string")),
    cells=cells,
    generation=NEVER,
    enums=enums.spec_enums(_enums),
)
