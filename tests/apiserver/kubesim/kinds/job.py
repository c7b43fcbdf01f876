"""Job: completions/parallelism/backoffLimit defaults, the controller-uid selector and template labels."""

from __future__ import annotations

from .. import enums
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


def job_spec_enums(spec, field="spec"):
    """The template's and ``completionMode`` (a Job's spec, or a CronJob's jobTemplate.spec)."""
    causes = enums.template(spec, field)
    enums.check_value(causes, spec, "completionMode", field, enums.COMPLETION_MODES)
    return causes


KIND = Kind(
    (resource("batch/v1", "Job", "jobs", True, subs=["status"], categories=ALL),),
    defaults=defaults,
    enums=enums.spec_enums(job_spec_enums),
)
