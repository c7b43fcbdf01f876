"""Node: `kubectl get nodes` columns (the status is the node lifecycle controller's, controllers/node_lifecycle.py)."""

from __future__ import annotations

from .base import NEVER, Kind, resource


def defaults(obj, allocator=None):
    del allocator
    obj.setdefault("spec", {})


def cells(obj):
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])
    text = ("Ready" if ready else "NotReady") + (",SchedulingDisabled" if spec.get("unschedulable") else "")
    return [text, "<none>", (status.get("nodeInfo") or {}).get("kubeletVersion", "")]


KIND = Kind(
    (resource("v1", "Node", "nodes", False, short=["no"], subs=["status", "proxy"]),),
    defaults=defaults,
    columns=(("Status", "string"), ("Roles", "string"), ("Version", "string")),
    cells=cells,
    generation=NEVER,
)
