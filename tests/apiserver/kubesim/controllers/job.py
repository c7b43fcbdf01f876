"""Job controller: pods run to completion, Complete or Failed (BackoffLimitExceeded)."""

from __future__ import annotations

import copy
from typing import ClassVar

from ..api import now_iso
from ..common import condition, is_active, is_ready, set_condition
from .base import Controller


class JobController(Controller):
    OBJECT: ClassVar[dict] = {"batch/jobs": "job"}
    OWNER: ClassVar[dict] = {("/pods", "Job"): "job"}
    HANDLERS: ClassVar[dict] = {"job": "job"}

    def job(self, namespace, name):
        job = self._live("batch/jobs", namespace, name)
        if job is None:
            return
        spec = job["spec"]
        status = copy.deepcopy(job.get("status") or {})
        if condition(job, "Complete") or condition(job, "Failed") or spec.get("suspend"):
            return
        pods = self._owned("/pods", job)
        succeeded = sum(1 for p in pods if (p.get("status") or {}).get("phase") == "Succeeded")
        failed = sum(1 for p in pods if (p.get("status") or {}).get("phase") == "Failed")
        active = [p for p in pods if is_active(p)]
        completions = spec.get("completions", 1)
        if failed > spec.get("backoffLimit", 6):
            self._fail_job(job, status, active, (succeeded, failed))
            return
        want = min(spec.get("parallelism", 1), completions - succeeded - len(active))
        if want > 0:
            self._create_pods(job, spec["template"], want, generate=f"{name}-")
        status.setdefault("startTime", now_iso())
        status.update(
            active=len([p for p in self._owned("/pods", job) if is_active(p)]),
            succeeded=succeeded,
            failed=failed,
            ready=sum(1 for p in active if is_ready(p)),
            terminating=0,
            uncountedTerminatedPods={},
        )
        for field in ("active", "succeeded", "failed"):
            if not status[field]:
                status.pop(field)
        if succeeded >= completions:
            now = now_iso()
            conditions = status.setdefault("conditions", [])
            set_condition(
                conditions,
                "SuccessCriteriaMet",
                "True",
                "CompletionsReached",
                "Reached expected number of succeeded pods",
            )
            set_condition(
                conditions, "Complete", "True", "CompletionsReached", "Reached expected number of succeeded pods"
            )
            status["completionTime"] = now
            status.pop("active", None)
        self._write_status("batch/jobs", job, status)

    def _fail_job(self, job, status, active, counts):
        for pod in active:
            self._delete("/pods", pod)
        conditions = status.setdefault("conditions", [])
        message = "Job has reached the specified backoff limit"
        set_condition(conditions, "FailureTarget", "True", "BackoffLimitExceeded", message)
        set_condition(conditions, "Failed", "True", "BackoffLimitExceeded", message)
        status.update(failed=counts[1], active=0, ready=0, terminating=0, uncountedTerminatedPods={})
        status.pop("active")
        if counts[0]:
            status["succeeded"] = counts[0]
        self._write_status("batch/jobs", job, status)
