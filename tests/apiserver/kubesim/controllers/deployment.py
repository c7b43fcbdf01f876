"""Deployment controller: a ReplicaSet per pod template, rolled by the strategy; revision history."""

from __future__ import annotations

import copy
from typing import ClassVar

from .. import resources
from ..common import available_since, int_or_percent, is_active, now_ts, record_event, set_timed_condition
from .base import HASH_LABEL, REVISION, Controller, child_metadata, same_template, template_hash
from .deployment_status import DeploymentStatus


class DeploymentController(DeploymentStatus, Controller):
    OBJECT: ClassVar[dict] = {"apps/deployments": "deploy"}
    OWNER: ClassVar[dict] = {("apps/replicasets", "Deployment"): "deploy"}
    HANDLERS: ClassVar[dict] = {"deploy": "deployment"}

    def deployment(self, namespace, name):
        dep = self._live("apps/deployments", namespace, name)
        if dep is None:
            return
        spec = dep.get("spec") or {}
        owned = self._owned("apps/replicasets", dep)
        new_rs = next((rs for rs in owned if same_template(rs["spec"].get("template"), spec.get("template"))), None)
        olds = [rs for rs in owned if rs is not new_rs]
        if spec.get("paused"):
            self._deployment_status(dep, new_rs, olds)
            return
        new_rs = self._ensure_new_rs(dep, new_rs, olds)
        if new_rs is None:
            return
        if (spec.get("strategy") or {}).get("type") == "Recreate":
            self._recreate(dep, new_rs, olds)
        else:
            self._rolling(dep, new_rs, olds)
        self._cleanup(dep, olds)
        new_rs = self.api.store.get("apps/replicasets", namespace, new_rs["metadata"]["name"])
        olds = [self.api.store.get("apps/replicasets", namespace, rs["metadata"]["name"]) for rs in olds]
        self._deployment_status(dep, new_rs, [rs for rs in olds if rs is not None])

    def _ensure_new_rs(self, dep, new_rs, olds):
        revisions = [int((rs["metadata"].get("annotations") or {}).get(REVISION, "0")) for rs in olds]
        top = max(revisions, default=0)
        spec = dep["spec"]
        if new_rs is None:
            template = copy.deepcopy(spec["template"])
            pod_hash = template_hash(template, (dep.get("status") or {}).get("collisionCount", 0))
            template.setdefault("metadata", {}).setdefault("labels", {})[HASH_LABEL] = pod_hash
            selector = copy.deepcopy(spec["selector"])
            selector.setdefault("matchLabels", {})[HASH_LABEL] = pod_hash
            labels = dict(template["metadata"]["labels"])
            rs = {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "metadata": child_metadata(dep, pod_hash, labels, self._rs_annotations(dep, top + 1)),
                "spec": {
                    "replicas": 0,
                    "selector": selector,
                    "template": template,
                    **({"minReadySeconds": spec["minReadySeconds"]} if spec.get("minReadySeconds") else {}),
                },
            }
            created = self.api.system_create(resources.apps("replicasets"), rs)
            if created is not None:
                self._set_revision(
                    dep, top + 1, "NewReplicaSetCreated", f'Created new replica set "{rs["metadata"]["name"]}"'
                )
            return created
        current = int((new_rs["metadata"].get("annotations") or {}).get(REVISION, "0"))
        if current <= top:
            new = copy.deepcopy(new_rs)
            annotations = new["metadata"].setdefault("annotations", {})
            history = [a for a in (annotations.get("deployment.kubernetes.io/revision-history") or "").split(",") if a]
            annotations["deployment.kubernetes.io/revision-history"] = ",".join([*history, str(current)])
            annotations.update(self._rs_annotations(dep, top + 1))
            new_rs = self.api.system_write("apps/replicasets", new, "kube-controller-manager", "")
        self._set_revision(dep, max(current, top + 1) if current <= top else current, None, None)
        return new_rs

    @staticmethod
    def _rs_annotations(dep, revision):
        spec = dep["spec"]
        surge = int_or_percent(
            ((spec.get("strategy") or {}).get("rollingUpdate") or {}).get("maxSurge", 0), spec.get("replicas", 1), True
        )
        return {
            REVISION: str(revision),
            "deployment.kubernetes.io/desired-replicas": str(spec.get("replicas", 1)),
            "deployment.kubernetes.io/max-replicas": str(spec.get("replicas", 1) + surge),
        }

    def _set_revision(self, dep, revision, reason, message):
        current = self.api.store.get("apps/deployments", dep["metadata"]["namespace"], dep["metadata"]["name"])
        new = copy.deepcopy(current)
        new["metadata"].setdefault("annotations", {})[REVISION] = str(revision)
        if reason:
            conditions = new.setdefault("status", {}).setdefault("conditions", [])
            set_timed_condition(conditions, "Progressing", "True", reason, message)
        self.api.system_write("apps/deployments", new, "kube-controller-manager", "")

    def _scale_rs(self, rs, replicas, dep):
        if rs["spec"].get("replicas") == replicas:
            return rs
        verb = "up" if replicas > rs["spec"].get("replicas", 0) else "down"
        record_event(
            self.api,
            dep,
            ("Normal", "ScalingReplicaSet"),
            f"Scaled {verb} replica set {rs['metadata']['name']} from {rs['spec'].get('replicas', 0)} to {replicas}",
            "deployment-controller",
        )
        new = copy.deepcopy(rs)
        new["spec"]["replicas"] = replicas
        annotations = new["metadata"].setdefault("annotations", {})
        revision = annotations.get(REVISION)
        annotations.update(self._rs_annotations(dep, revision or 1))
        if revision:
            annotations[REVISION] = revision
        return self.api.system_write("apps/replicasets", new, "kube-controller-manager", "")

    def _available(self, rs, min_ready):
        now = now_ts()
        count = 0
        for pod in self._owned("/pods", rs):
            if is_active(pod) and available_since(pod, min_ready, now) is True:
                count += 1
        return count

    def _rolling(self, dep, new_rs, olds):
        spec = dep["spec"]
        replicas = spec.get("replicas", 1)
        rolling = (spec.get("strategy") or {}).get("rollingUpdate") or {}
        surge = int_or_percent(rolling.get("maxSurge", "25%"), replicas, True)
        unavailable = int_or_percent(rolling.get("maxUnavailable", "25%"), replicas, False)
        if surge == 0 and unavailable == 0:
            unavailable = 1
        min_ready = spec.get("minReadySeconds", 0)
        all_rs = [new_rs, *olds]
        total = sum(rs["spec"].get("replicas", 0) for rs in all_rs)
        new_count = new_rs["spec"].get("replicas", 0)
        if not any(rs["spec"].get("replicas", 0) for rs in olds):
            self._scale_rs(new_rs, replicas, dep)
            return
        if new_count < replicas:
            room = min(replicas + surge - total, replicas - new_count)
            if room > 0:
                new_rs = self._scale_rs(new_rs, new_count + room, dep)
        available = sum(self._available(rs, min_ready) for rs in all_rs)
        can_remove = available - (replicas - unavailable)
        for rs in sorted(olds, key=lambda r: int((r["metadata"].get("annotations") or {}).get(REVISION, "0"))):
            count = rs["spec"].get("replicas", 0)
            if count == 0:
                continue
            unhealthy = count - self._available(rs, min_ready)
            cut = min(count, max(unhealthy, 0) + max(can_remove, 0))
            if cut > 0:
                self._scale_rs(rs, count - cut, dep)
                can_remove -= max(cut - unhealthy, 0)

    def _recreate(self, dep, new_rs, olds):
        for rs in olds:
            self._scale_rs(rs, 0, dep)
        if any(self._owned("/pods", rs) for rs in olds):
            return
        self._scale_rs(new_rs, dep["spec"].get("replicas", 1), dep)

    def _cleanup(self, dep, olds):
        limit = dep["spec"].get("revisionHistoryLimit", 10)
        idle = [
            rs for rs in olds if rs["spec"].get("replicas", 0) == 0 and not (rs.get("status") or {}).get("replicas")
        ]
        idle.sort(key=lambda r: int((r["metadata"].get("annotations") or {}).get(REVISION, "0")))
        for rs in idle[: max(len(idle) - limit, 0)]:
            self._delete("apps/replicasets", rs)
