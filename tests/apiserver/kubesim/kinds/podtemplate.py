"""PodTemplate: its template's pod spec gets the pod spec defaults."""

from __future__ import annotations

from .. import enums
from ..defaults import pod_spec
from .base import Kind, resource


def defaults(obj, allocator=None):
    del allocator
    pod_spec(obj.setdefault("template", {}).setdefault("spec", {}))


KIND = Kind(
    (resource("v1", "PodTemplate", "podtemplates", True),),
    defaults=defaults,
    enums=lambda obj: enums.pod_spec((obj.get("template") or {}).get("spec"), "template.spec"),
)
