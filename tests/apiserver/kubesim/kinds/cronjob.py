"""CronJob: concurrency policy, history limits and the job template's pod defaults (no CronJob controller)."""

from __future__ import annotations

from .. import enums
from ..defaults import template
from .base import ALL, Kind, resource
from .job import job_spec_enums


def defaults(obj, allocator=None):
    del allocator
    spec = obj.setdefault("spec", {})
    spec.setdefault("concurrencyPolicy", "Allow")
    spec.setdefault("suspend", False)
    spec.setdefault("successfulJobsHistoryLimit", 3)
    spec.setdefault("failedJobsHistoryLimit", 1)
    job_spec = spec.setdefault("jobTemplate", {}).setdefault("spec", {})
    template(job_spec)


def _enums(spec):
    causes = job_spec_enums((spec.get("jobTemplate") or {}).get("spec") or {}, "spec.jobTemplate.spec")
    enums.check_value(causes, spec, "concurrencyPolicy", "spec", enums.CONCURRENCY_POLICIES)
    return causes


KIND = Kind(
    (resource("batch/v1", "CronJob", "cronjobs", True, short=["cj"], subs=["status"], categories=ALL),),
    defaults=defaults,
    enums=enums.spec_enums(_enums),
)
