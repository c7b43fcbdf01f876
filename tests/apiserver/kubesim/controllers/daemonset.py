"""DaemonSet controller: one pod per eligible node, rolling update by ``controller-revision-hash``."""

from __future__ import annotations

import copy
from typing import ClassVar

from .. import resources
from ..common import available_since, int_or_percent, is_active, is_ready, now_ts, pod_from_template
from ..nodes import selects_node, taints_tolerated
from .base import DS_HASH, Controller, template_hash
from .revisions import RevisionHistory

_DS_TOLERATIONS = [
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/memory-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/pid-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"},
]


class DaemonSetController(RevisionHistory, Controller):
    OBJECT: ClassVar[dict] = {"apps/daemonsets": "ds"}
    OWNER: ClassVar[dict] = {("/pods", "DaemonSet"): "ds", ("apps/controllerrevisions", "DaemonSet"): "ds"}
    ANY: ClassVar[dict] = {"/nodes": "ds-all"}
    HANDLERS: ClassVar[dict] = {"ds": "daemonset", "ds-all": "daemonset_all"}

    def daemonset_all(self):
        for ds in self.api.store.items("apps/daemonsets"):
            self.daemonset(ds["metadata"]["namespace"], ds["metadata"]["name"])

    def _ds_template(self, ds):
        template = copy.deepcopy(ds["spec"].get("template") or {})
        pod_hash = template_hash(template)
        template.setdefault("metadata", {}).setdefault("labels", {})[DS_HASH] = pod_hash
        spec = template.setdefault("spec", {})
        tolerations = spec.setdefault("tolerations", [])
        for tol in _DS_TOLERATIONS:
            if tol not in tolerations:
                tolerations.append(dict(tol))
        return template, pod_hash

    def daemonset(self, namespace, name):
        ds = self._live("apps/daemonsets", namespace, name)
        if ds is None:
            return
        template, pod_hash = self._ds_template(ds)
        self._record_revision(ds, pod_hash)
        nodes = [n for n in self.api.store.items("/nodes") if not n["metadata"].get("deletionTimestamp")]
        eligible = {
            n["metadata"]["name"]
            for n in nodes
            if selects_node(template["spec"], n) and taints_tolerated(template["spec"], n)
        }
        pods = [p for p in self._owned("/pods", ds) if is_active(p)]
        by_node = {}
        for pod in pods:
            by_node.setdefault(ds_node(pod), []).append(pod)
        for node, node_pods in by_node.items():
            extra = node_pods if node not in eligible else node_pods[1:]
            for pod in extra:
                self._delete("/pods", pod)
        budget = (
            int_or_percent(
                ((ds["spec"].get("updateStrategy") or {}).get("rollingUpdate") or {}).get("maxUnavailable", 1),
                len(eligible),
                False,
            )
            or 1
        )
        unavailable = sum(1 for n in eligible if not any(is_ready(p) for p in by_node.get(n, [])))
        for node in sorted(eligible):
            have = by_node.get(node, [])
            if not have:
                self._create_ds_pod(ds, template, node)
            elif (
                (have[0]["metadata"].get("labels") or {}).get(DS_HASH) != pod_hash
                and unavailable < budget
                and ((ds["spec"].get("updateStrategy") or {}).get("type", "RollingUpdate") == "RollingUpdate")
            ):
                self._delete("/pods", have[0])
                unavailable += 1
        self._ds_status(ds, eligible, pod_hash)

    def _create_ds_pod(self, ds, template, node):
        pod = pod_from_template(ds, template)
        affinity = pod["spec"].setdefault("affinity", {}).setdefault("nodeAffinity", {})
        affinity["requiredDuringSchedulingIgnoredDuringExecution"] = {
            "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}]
        }
        self.api.system_create(resources.core("pods"), pod)

    def _ds_status(self, ds, eligible, pod_hash):
        pods = [p for p in self._owned("/pods", ds) if is_active(p)]
        on = {ds_node(p) for p in pods}
        now = now_ts()
        min_ready = ds["spec"].get("minReadySeconds", 0)
        ready = sum(1 for p in pods if is_ready(p))
        available = sum(1 for p in pods if available_since(p, min_ready, now) is True)
        status = {
            "currentNumberScheduled": len(on & eligible),
            "numberMisscheduled": len(on - eligible - {None}),
            "desiredNumberScheduled": len(eligible),
            "numberReady": ready,
            "observedGeneration": ds["metadata"].get("generation", 1),
            "updatedNumberScheduled": sum(
                1 for p in pods if (p["metadata"].get("labels") or {}).get(DS_HASH) == pod_hash
            ),
            "numberAvailable": available,
            "numberUnavailable": max(len(eligible) - available, 0),
        }
        for field in ("numberAvailable", "numberUnavailable", "updatedNumberScheduled"):
            if not status[field]:
                status.pop(field)
        self._write_status("apps/daemonsets", ds, status)


def ds_node(pod):
    node = (pod.get("spec") or {}).get("nodeName")
    if node:
        return node
    terms = (
        (((pod.get("spec") or {}).get("affinity") or {}).get("nodeAffinity") or {}).get(
            "requiredDuringSchedulingIgnoredDuringExecution"
        )
        or {}
    ).get("nodeSelectorTerms") or []
    for term in terms:
        for field in term.get("matchFields") or []:
            if field.get("key") == "metadata.name" and field.get("values"):
                return field["values"][0]
    return None
