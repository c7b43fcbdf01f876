"""A Deployment's status and its Available/Progressing conditions (ProgressDeadlineExceeded included)."""

from __future__ import annotations

import copy

from ..common import condition, int_or_percent, now_ts, set_timed_condition
from .base import parse_ts


class DeploymentStatus:
    """Mixed into DeploymentController."""

    def _deployment_status(self, dep, new_rs, olds):
        dep = self.api.store.get("apps/deployments", dep["metadata"]["namespace"], dep["metadata"]["name"])
        spec = dep["spec"]
        replicas = spec.get("replicas", 1)
        all_rs = [rs for rs in [new_rs, *olds] if rs is not None]
        stat = [rs.get("status") or {} for rs in all_rs]
        total = sum(s.get("replicas", 0) for s in stat)
        updated = (new_rs.get("status") or {}).get("replicas", 0) if new_rs else 0
        ready = sum(s.get("readyReplicas", 0) for s in stat)
        available = sum(s.get("availableReplicas", 0) for s in stat)
        status = copy.deepcopy(dep.get("status") or {})
        status.update(
            observedGeneration=dep["metadata"].get("generation", 1),
            replicas=total,
            updatedReplicas=updated,
            readyReplicas=ready,
            availableReplicas=available,
            unavailableReplicas=max(total - available, 0),
        )
        for field in ("replicas", "updatedReplicas", "readyReplicas", "availableReplicas", "unavailableReplicas"):
            if not status[field]:
                status.pop(field)
        conditions = status.setdefault("conditions", [])
        unavailable = (
            int_or_percent(
                ((spec.get("strategy") or {}).get("rollingUpdate") or {}).get("maxUnavailable", 0), replicas, False
            )
            if (spec.get("strategy") or {}).get("type") != "Recreate"
            else 0
        )
        if available >= replicas - unavailable:
            set_timed_condition(
                conditions,
                "Available",
                "True",
                "MinimumReplicasAvailable",
                "Deployment has minimum availability.",
            )
        else:
            set_timed_condition(
                conditions,
                "Available",
                "False",
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.",
            )
        self._progress(dep, conditions, new_rs, (updated, total, available, replicas))
        conditions.sort(key=lambda c: {"Available": 0, "Progressing": 1}.get(c["type"], 2))
        self._write_status("apps/deployments", dep, status)

    def _progress(self, dep, conditions, new_rs, counts):
        updated, total, available, replicas = counts
        if new_rs is None or dep["spec"].get("paused"):
            return
        name = new_rs["metadata"]["name"]
        complete = updated == replicas and total == replicas and available >= replicas
        current = condition({"status": {"conditions": conditions}}, "Progressing")
        if complete:
            set_timed_condition(
                conditions,
                "Progressing",
                "True",
                "NewReplicaSetAvailable",
                f'ReplicaSet "{name}" has successfully progressed.',
            )
            return
        deadline = dep["spec"].get("progressDeadlineSeconds", 600)
        if current and current.get("reason") == "ProgressDeadlineExceeded":
            return
        last = current.get("lastUpdateTime") if current else None
        if last and now_ts() - parse_ts(last) > deadline:
            set_timed_condition(
                conditions,
                "Progressing",
                "False",
                "ProgressDeadlineExceeded",
                f'ReplicaSet "{name}" has timed out progressing.',
            )
            return
        if not current or current.get("reason") != "NewReplicaSetCreated":
            set_timed_condition(
                conditions,
                "Progressing",
                "True",
                "ReplicaSetUpdated",
                f'ReplicaSet "{name}" is progressing.',
            )
        self.ctl.after(min(deadline, 5) + 0.5, ("deploy", dep["metadata"]["namespace"], dep["metadata"]["name"]))
