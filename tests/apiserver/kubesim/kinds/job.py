"""Job: completions/parallelism/backoffLimit defaults, the controller-uid selector and template labels."""

from __future__ import annotations

from ..defaults import template
from .base import ALL, Kind, resource


def defaults(obj, allocator=None):
    del allocator
    spec = obj.setdefault("spec", {})
    spec.setdefault("parallelism", 1)
    spec.setdefault("completions", 1)
    spec.setdefault("backoffLimit", 6)
    spec.setdefault("completionMode", "NonIndexed")
    spec.setdefault("suspend", False)
    spec.setdefault("podReplacementPolicy", "TerminatingOrFailed")
    uid = obj["metadata"].get("uid", "")
    spec.setdefault("selector", {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}})
    tpl = spec.setdefault("template", {})
    labels = tpl.setdefault("metadata", {}).setdefault("labels", {})
    labels.setdefault("batch.kubernetes.io/controller-uid", uid)
    labels.setdefault("batch.kubernetes.io/job-name", obj["metadata"]["name"])
    labels.setdefault("controller-uid", uid)
    labels.setdefault("job-name", obj["metadata"]["name"])
    template(spec)


KIND = Kind((resource("batch/v1", "Job", "jobs", True, subs=["status"], categories=ALL),), defaults=defaults)
