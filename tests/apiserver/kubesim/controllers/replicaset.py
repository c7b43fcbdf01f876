"""ReplicaSet and ReplicationController controllers: keep ``spec.replicas`` pods, report their status."""

from __future__ import annotations

from typing import ClassVar

from ..common import available_since, is_active, is_ready, now_ts
from .base import Controller, created_ts


class ReplicaSetController(Controller):
    OBJECT: ClassVar[dict] = {"apps/replicasets": "rs", "/replicationcontrollers": "rc"}
    OWNER: ClassVar[dict] = {("/pods", "ReplicaSet"): "rs", ("/pods", "ReplicationController"): "rc"}
    HANDLERS: ClassVar[dict] = {"rs": "replicaset", "rc": "replicaset"}

    def replicaset(self, namespace, name):
        for key in ("apps/replicasets", "/replicationcontrollers"):
            obj = self.api.store.get(key, namespace, name)
            if obj is not None:
                self._sync_replicas(key, obj)

    def _sync_replicas(self, key, rs):
        if rs["metadata"].get("deletionTimestamp"):
            return
        spec = rs.get("spec") or {}
        pods = self._owned("/pods", rs)
        active = [p for p in pods if is_active(p)]
        want = spec.get("replicas", 1)
        if len(active) < want:
            self._create_pods(rs, spec.get("template") or {}, want - len(active))
        elif len(active) > want:
            ranked = sorted(
                active, key=lambda p: (bool((p.get("spec") or {}).get("nodeName")), is_ready(p), -created_ts(p))
            )
            for pod in ranked[: len(active) - want]:
                self._delete("/pods", pod)
        pods = self._owned("/pods", rs)
        self._rs_status(key, rs, pods)

    def _rs_status(self, key, rs, pods):
        spec = rs.get("spec") or {}
        active = [p for p in pods if is_active(p)]
        now = now_ts()
        min_ready = spec.get("minReadySeconds", 0)
        available = 0
        for pod in active:
            since = available_since(pod, min_ready, now)
            if since is True:
                available += 1
            elif since is not None:
                self.ctl.after(since + 0.01, ("rs", rs["metadata"]["namespace"], rs["metadata"]["name"]))
        labels = (spec.get("template") or {}).get("metadata", {}).get("labels") or {}
        status = {
            "replicas": len(active),
            "fullyLabeledReplicas": sum(
                1 for p in active if all((p["metadata"].get("labels") or {}).get(k) == v for k, v in labels.items())
            ),
            "readyReplicas": sum(1 for p in active if is_ready(p)),
            "availableReplicas": available,
            "observedGeneration": rs["metadata"].get("generation", 1),
        }
        terminating = sum(1 for p in pods if p["metadata"].get("deletionTimestamp"))
        if terminating and key == "apps/replicasets":
            status["terminatingReplicas"] = terminating
        for field in ("readyReplicas", "availableReplicas", "fullyLabeledReplicas"):
            if not status[field] and key == "apps/replicasets":
                status.pop(field)
        self._write_status(key, rs, status)
