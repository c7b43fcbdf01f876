"""StatefulSet controller: ordinal pods, OrderedReady or Parallel, revision history."""

from __future__ import annotations

import copy
from typing import ClassVar

from .. import resources
from ..common import is_active, is_ready, pod_from_template
from .base import DS_HASH, Controller, template_hash
from .revisions import RevisionHistory


class StatefulSetController(RevisionHistory, Controller):
    OBJECT: ClassVar[dict] = {"apps/statefulsets": "sts"}
    OWNER: ClassVar[dict] = {("/pods", "StatefulSet"): "sts", ("apps/controllerrevisions", "StatefulSet"): "sts"}
    HANDLERS: ClassVar[dict] = {"sts": "statefulset"}

    def statefulset(self, namespace, name):
        sts = self._live("apps/statefulsets", namespace, name)
        if sts is None:
            return
        want = sts["spec"].get("replicas", 1)
        template = copy.deepcopy(sts["spec"].get("template") or {})
        pod_hash = template_hash(template)
        revision = f"{name}-{pod_hash}"
        self._record_revision(sts, pod_hash)
        template.setdefault("metadata", {}).setdefault("labels", {})[DS_HASH] = revision
        pods = {p["metadata"]["name"]: p for p in self._owned("/pods", sts)}
        ordered = sts["spec"].get("podManagementPolicy", "OrderedReady") == "OrderedReady"
        for index in range(want):
            pod_name = f"{name}-{index}"
            pod = pods.get(pod_name)
            if pod is None:
                body = pod_from_template(sts, template, name=pod_name)
                body["metadata"]["labels"]["statefulset.kubernetes.io/pod-name"] = pod_name
                body["metadata"]["labels"]["apps.kubernetes.io/pod-index"] = str(index)
                body["spec"].setdefault("hostname", pod_name)
                self.api.system_create(resources.core("pods"), body)
                if ordered:
                    break
            elif ordered and not is_ready(pod):
                break
        for pod_name, pod in sorted(pods.items(), reverse=True):
            if int(pod_name.rsplit("-", 1)[1]) >= want:
                self._delete("/pods", pod)
                if ordered:
                    break
        pods = [p for p in self._owned("/pods", sts) if is_active(p)]
        ready = sum(1 for p in pods if is_ready(p))
        status = {
            "observedGeneration": sts["metadata"].get("generation", 1),
            "replicas": len(pods),
            "readyReplicas": ready,
            "currentReplicas": len(pods),
            "updatedReplicas": len(pods),
            "availableReplicas": ready,
            "currentRevision": revision,
            "updateRevision": revision,
            "collisionCount": 0,
        }
        self._write_status("apps/statefulsets", sts, status)
