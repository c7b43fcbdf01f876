"""Namespace: the `kubernetes` finalizer and `kubernetes.io/metadata.name` label, DNS label names."""

from __future__ import annotations

from .base import LABEL, NEVER, Kind, resource


def defaults(obj, allocator=None):
    del allocator
    obj["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = obj["metadata"]["name"]
    obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
    obj.setdefault("status", {}).setdefault("phase", "Active")


KIND = Kind(
    (
        resource(
            "v1",
            "Namespace",
            "namespaces",
            False,
            short=["ns"],
            subs=["status", "finalize"],
            verbs=("create", "delete", "get", "list", "patch", "update", "watch"),
        ),
    ),
    defaults=defaults,
    columns=(("Status", "string"),),
    cells=lambda obj: [(obj.get("status") or {}).get("phase")],
    name_rule=LABEL,
    generation=NEVER,
)
