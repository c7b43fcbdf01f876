"""HorizontalPodAutoscaler controller: min/max replicas enforced without metrics (kubesim has none)."""

from __future__ import annotations

import copy
from typing import ClassVar

from ..api import now_iso
from ..common import set_condition
from .base import Controller


class HpaController(Controller):
    OBJECT: ClassVar[dict] = {"autoscaling/horizontalpodautoscalers": "hpa"}
    HANDLERS: ClassVar[dict] = {"hpa": "hpa"}

    def resync(self):
        for hpa in self.api.store.items("autoscaling/horizontalpodautoscalers"):
            self.hpa(hpa["metadata"]["namespace"], hpa["metadata"]["name"])

    def hpa(self, namespace, name):
        hpa = self.api.store.get("autoscaling/horizontalpodautoscalers", namespace, name)
        if hpa is None:
            return
        spec = hpa["spec"]
        ref = spec.get("scaleTargetRef") or {}
        key = {
            "Deployment": "apps/deployments",
            "ReplicaSet": "apps/replicasets",
            "StatefulSet": "apps/statefulsets",
            "ReplicationController": "/replicationcontrollers",
        }.get(ref.get("kind"))
        target = self.api.store.get(key, namespace, ref.get("name")) if key else None
        status = copy.deepcopy(hpa.get("status") or {})
        conditions = status.setdefault("conditions", [])
        if target is None:
            set_condition(
                conditions,
                "AbleToScale",
                "False",
                "FailedGetScale",
                f"the HPA controller was unable to get the target's current scale: "
                f'{(ref.get("kind") or "").lower()}s/scale "{ref.get("name")}" not found',
            )
            status.setdefault("currentReplicas", 0)
            status.setdefault("desiredReplicas", 0)
            self._write_status("autoscaling/horizontalpodautoscalers", hpa, status)
            return
        current = (target.get("spec") or {}).get("replicas", 1)
        low, high = spec.get("minReplicas", 1), spec.get("maxReplicas", 1)
        desired = min(max(current, low), high)
        status.update(
            observedGeneration=hpa["metadata"].get("generation", 1),
            currentReplicas=(target.get("status") or {}).get("replicas", 0),
            desiredReplicas=desired,
        )
        if current == 0 and low != 0:
            status["desiredReplicas"] = 0
            set_condition(
                conditions,
                "ScalingActive",
                "False",
                "ScalingDisabled",
                "scaling is disabled since the replica count of the target is zero",
            )
        elif desired != current:
            self._rescale(key, target, desired)
            status["lastScaleTime"] = now_iso()
            set_condition(
                conditions,
                "AbleToScale",
                "True",
                "SucceededRescale",
                f"the HPA controller was able to update the target scale to {desired}",
            )
            set_condition(
                conditions,
                "ScalingLimited",
                "True",
                "TooFewReplicas" if desired == low else "TooManyReplicas",
                "the desired replica count is "
                + ("less" if desired == low else "more")
                + " than the "
                + ("minimum" if desired == low else "maximum")
                + " replica count",
            )
        else:
            set_condition(
                conditions, "AbleToScale", "True", "ReadyForNewScale", "recommended size matches current size"
            )
            metric = next((m.get("type") for m in spec.get("metrics") or []), "Resource")
            set_condition(
                conditions,
                "ScalingActive",
                "False",
                "FailedGetResourceMetric" if metric == "Resource" else f"FailedGet{metric}Metric",
                "the HPA was unable to compute the replica count: failed to get cpu utilization: unable "
                "to get metrics for resource cpu: unable to fetch metrics from resource metrics API: the "
                "server could not find the requested resource (get pods.metrics.k8s.io) (kubesim has no "
                "metrics source)",
            )
        conditions.sort(key=lambda c: ["AbleToScale", "ScalingActive", "ScalingLimited"].index(c["type"]))
        self._write_status("autoscaling/horizontalpodautoscalers", hpa, status)

    def _rescale(self, key, target, desired):
        new = copy.deepcopy(target)
        new["spec"]["replicas"] = desired
        self.api.system_write(key, new, "horizontal-pod-autoscaler", "scale")
