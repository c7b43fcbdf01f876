"""The scheduler: binds pending pods to a node that fits, else PodScheduled=False with kube-scheduler's words."""

from __future__ import annotations

import copy
from typing import ClassVar

from ..common import is_active, record_event, set_condition
from ..nodes import NO_NODES, UNSCHEDULABLE, node_ready, pod_requests, selects_node, tolerates, untolerated_taint
from ..quantity import quantity_value
from .base import Controller

_RESOLVABLE = ("Insufficient ", "Too many pods")


class Scheduler(Controller):
    ANY: ClassVar[dict] = {"/nodes": "schedule-all"}
    HANDLERS: ClassVar[dict] = {"schedule": "schedule", "schedule-all": "schedule_all"}

    def route(self, key, event, obj):
        items = super().route(key, event, obj)
        if key == "/pods" and not (obj.get("spec") or {}).get("nodeName"):
            items.append(("schedule", obj["metadata"]["namespace"], obj["metadata"]["name"]))
        return items

    def schedule_all(self):
        for pod in self.api.store.items("/pods"):
            if not (pod.get("spec") or {}).get("nodeName"):
                self.schedule(pod["metadata"]["namespace"], pod["metadata"]["name"])

    def _fits(self, pod, node, load):
        """None when `pod` fits `node`, else the reason of the first failing filter plugin (its words)."""
        spec = pod.get("spec") or {}
        tolerations = spec.get("tolerations") or []
        if (node.get("spec") or {}).get("unschedulable") and not tolerates(tolerations, UNSCHEDULABLE):
            return "node(s) were unschedulable"  # NodeUnschedulable plugin
        taint = untolerated_taint(spec, node)
        if taint is None and (not node_ready(node) or node["metadata"].get("deletionTimestamp")):
            # the node lifecycle controller taints a NotReady node node.kubernetes.io/not-ready:NoSchedule
            taint = {"key": "node.kubernetes.io/not-ready", "value": ""}
        if taint is not None:
            return f"node(s) had untolerated taint {{{taint['key']}: {taint.get('value', '')}}}"  # TaintToleration
        if not selects_node(spec, node):
            return "node(s) didn't match Pod's node affinity/selector"  # NodeAffinity
        allocatable = (node.get("status") or {}).get("allocatable") or {}
        used = load.get(node["metadata"]["name"], {"cpu": 0, "memory": 0, "pods": 0})
        want = pod_requests(spec)
        for name in ("cpu", "memory"):
            if name in allocatable and used[name] + want[name] > quantity_value(allocatable[name]):
                return f"Insufficient {name}"  # NodeResourcesFit
        if "pods" in allocatable and used["pods"] + 1 > quantity_value(allocatable["pods"]):
            return "Too many pods"
        return None

    @staticmethod
    def _fit_error(reasons, total):
        def histogram(counts):
            return ", ".join(sorted(f"{n} {why}" for why, n in counts.items()))

        preemption = {}
        for why, n in reasons.items():
            verdict = (
                "No preemption victims found for incoming pod."
                if why.startswith(_RESOLVABLE)
                else "Preemption is not helpful for scheduling."
            )
            preemption[verdict] = preemption.get(verdict, 0) + n
        return (
            f"0/{total} nodes are available: {histogram(reasons)}. "
            f"preemption: 0/{total} nodes are available: {histogram(preemption)}."
        )

    def _load(self):
        load = {}
        for pod in self.api.store.items("/pods"):
            node = (pod.get("spec") or {}).get("nodeName")
            if not node or not is_active(pod):
                continue
            entry = load.setdefault(node, {"cpu": 0, "memory": 0, "pods": 0})
            want = pod_requests(pod.get("spec") or {})
            entry["cpu"] += want["cpu"]
            entry["memory"] += want["memory"]
            entry["pods"] += 1
        return load

    def schedule(self, namespace, name):
        pod = self.api.store.get("/pods", namespace, name)
        if pod is None or (pod.get("spec") or {}).get("nodeName") or pod["metadata"].get("deletionTimestamp"):
            return
        if (pod.get("spec") or {}).get("schedulerName", "default-scheduler") != "default-scheduler":
            return
        nodes = self.api.store.items("/nodes")
        load = self._load()
        reasons, fits = {}, []
        for node in nodes:
            why = self._fits(pod, node, load)
            if why:
                reasons[why] = reasons.get(why, 0) + 1
            else:
                fits.append(node["metadata"]["name"])
        if not fits:
            message = self._fit_error(reasons, len(nodes)) if nodes else NO_NODES
            current = next(
                (c for c in (pod.get("status") or {}).get("conditions") or [] if c.get("type") == "PodScheduled"), {}
            )
            if current.get("message") != message:
                record_event(self.api, pod, ("Warning", "FailedScheduling"), message, "default-scheduler")
            self._status(pod, "False", "Unschedulable", message)
            return
        target = min(fits, key=lambda n: (load.get(n, {}).get("pods", 0), n))
        new = copy.deepcopy(pod)
        new["spec"]["nodeName"] = target
        stored = self.api.system_write("/pods", new, "kube-scheduler", "")
        self._status(stored, "True", "", "")
        record_event(
            self.api,
            stored,
            ("Normal", "Scheduled"),
            f"Successfully assigned {namespace}/{name} to {target}",
            "default-scheduler",
        )

    def _status(self, pod, status, reason, message):
        new = copy.deepcopy(pod)
        conditions = new.setdefault("status", {}).setdefault("conditions", [])
        set_condition(conditions, "PodScheduled", status, reason, message)
        for cond in conditions:
            if cond["type"] == "PodScheduled" and not reason:
                cond.pop("reason", None)
                cond.pop("message", None)
        self.api.system_write("/pods", new, "kube-scheduler", "status")
