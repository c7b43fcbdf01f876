"""ReplicationController: selector and labels default to the template's labels; equality-based selector."""

from __future__ import annotations

from .. import enums
from ..defaults import template
from ..validation import template_causes
from .base import ALL, Kind, resource


def defaults(obj, allocator=None):
    del allocator
    spec = obj.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels")
    if labels and not spec.get("selector"):
        spec["selector"] = dict(labels)
    if labels and not obj["metadata"].get("labels"):
        obj["metadata"]["labels"] = dict(labels)
    template(spec)


def validate(obj, old):
    del old
    spec = obj.get("spec") or {}
    return template_causes(spec, [(k, "=", (v,)) for k, v in (spec.get("selector") or {}).items()])


KIND = Kind(
    (
        resource(
            "v1",
            "ReplicationController",
            "replicationcontrollers",
            True,
            short=["rc"],
            subs=["scale", "status"],
            categories=ALL,
        ),
    ),
    defaults=defaults,
    validate=validate,
    enums=enums.spec_enums(enums.template),
)
