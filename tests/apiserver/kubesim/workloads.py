"""Workload controllers: ReplicaSet, ReplicationController, Deployment, DaemonSet, StatefulSet, Job,
Endpoints/EndpointSlices, HorizontalPodAutoscaler and PodDisruptionBudget status."""

from __future__ import annotations

import copy
import json

from . import resources, selectors
from .api import now_iso
from .common import (
    available_since,
    condition,
    controller_ref,
    int_or_percent,
    is_active,
    is_ready,
    now_ts,
    owner_reference,
    parse_time,
    pod_from_template,
    record_event,
    set_condition,
    set_timed_condition,
    stable_hash,
)
from .nodes import selects_node, taints_tolerated
from .pdb import pdb_status

HASH_LABEL = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"
DS_HASH = "controller-revision-hash"
_OWNED = {"ReplicaSet": "rs", "ReplicationController": "rc", "DaemonSet": "ds", "Job": "job", "StatefulSet": "sts"}
_KEY_ITEM = {
    "apps/replicasets": "rs",
    "/replicationcontrollers": "rc",
    "apps/deployments": "deploy",
    "apps/daemonsets": "ds",
    "batch/jobs": "job",
    "apps/statefulsets": "sts",
    "/services": "endpoints",
    "autoscaling/horizontalpodautoscalers": "hpa",
    "policy/poddisruptionbudgets": "pdb",
}
_DS_TOLERATIONS = [
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/memory-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/pid-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"},
]
_BURST = 500
_COMPONENTS = {
    "ReplicaSet": "replicaset-controller",
    "ReplicationController": "replication-controller",
    "Job": "job-controller",
    "DaemonSet": "daemonset-controller",
    "StatefulSet": "statefulset-controller",
}


def _child_metadata(owner, pod_hash, labels, annotations):
    """Metadata of an object a controller makes for ``owner``: ``<owner>-<hash>``, in its namespace, owned by it."""
    meta = {
        "name": f"{owner['metadata']['name']}-{pod_hash}",
        "namespace": owner["metadata"]["namespace"],
        "labels": labels,
        "ownerReferences": [owner_reference(owner)],
    }
    if annotations:
        meta["annotations"] = annotations
    return meta


def _template_hash(template, salt=0):
    clean = copy.deepcopy(template)
    (clean.get("metadata") or {}).get("labels", {}).pop(HASH_LABEL, None)
    return stable_hash(json.dumps(clean, sort_keys=True) + str(salt), 10)


def _same_template(a, b):
    a, b = copy.deepcopy(a), copy.deepcopy(b)
    for tpl in (a, b):
        (tpl.get("metadata") or {}).get("labels", {}).pop(HASH_LABEL, None)
    return a == b


class Workloads:
    def __init__(self, ctl):
        self.ctl, self.api = ctl, ctl.api
        self.handlers = {
            "rs": self.replicaset,
            "rc": self.replicaset,
            "deploy": self.deployment,
            "ds": self.daemonset,
            "ds-all": self.daemonset_all,
            "job": self.job,
            "sts": self.statefulset,
            "endpoints": self.endpoints,
            "endpoints-ns": self.endpoints_ns,
            "hpa": self.hpa,
            "pdb": self.pdb,
            "pdb-ns": self.pdb_ns,
        }

    # ---- routing ----------------------------------------------------------------------------
    def route(self, key, event, obj):
        del event
        meta = obj["metadata"]
        ns = meta.get("namespace", "")
        item = _KEY_ITEM.get(key)
        if item:
            yield (item, ns, meta["name"])
        ref = controller_ref(obj)
        if key == "/pods":
            if ref and ref.get("kind") in _OWNED:
                yield (_OWNED[ref["kind"]], ns, ref["name"])
            yield ("endpoints-ns", ns)
            yield ("pdb-ns", ns)
        elif key == "apps/replicasets" and ref and ref.get("kind") == "Deployment":
            yield ("deploy", ns, ref["name"])
        elif key == "apps/controllerrevisions" and ref and ref.get("kind") in ("DaemonSet", "StatefulSet"):
            yield (_OWNED[ref["kind"]], ns, ref["name"])

    def dispatch(self, item):
        handler = self.handlers.get(item[0])
        if handler is not None:
            handler(*item[1:])

    def resync(self):
        for hpa in self.api.store.items("autoscaling/horizontalpodautoscalers"):
            self.hpa(hpa["metadata"]["namespace"], hpa["metadata"]["name"])

    # ---- helpers ----------------------------------------------------------------------------
    def _owned(self, key, owner):
        uid = owner["metadata"]["uid"]
        return [
            o for k, o in self.api.store.dependents(uid) if k == key and (controller_ref(o) or {}).get("uid") == uid
        ]

    def _write_status(self, key, obj, status):
        if obj.get("status") == status:
            return obj
        new = copy.deepcopy(obj)
        new["status"] = status
        return self.api.system_write(key, new, "kube-controller-manager", "status")

    def _create_pods(self, owner, template, count, generate=None):
        res = resources.core("pods")
        for _index in range(min(count, _BURST)):
            pod = self.api.system_create(res, pod_from_template(owner, template, generate=generate))
            if pod is not None:
                record_event(
                    self.api,
                    owner,
                    ("Normal", "SuccessfulCreate"),
                    f"Created pod: {pod['metadata']['name']}",
                    _COMPONENTS.get(owner["kind"], "controllermanager"),
                )

    def _delete(self, key, obj):
        if not obj["metadata"].get("deletionTimestamp"):
            self.api.system_delete(key, obj)

    # ---- ControllerRevisions (DaemonSet and StatefulSet history) ----------------------------------
    def _record_revision(self, owner, pod_hash):
        """Make the ControllerRevision of the owner's template the newest, as the DaemonSet and StatefulSet
        controllers do: create it (revision = highest + 1, the owner's annotations copied) or renumber the one of
        a template seen before (a rollback); then delete the oldest beyond spec.revisionHistoryLimit. ``data`` is
        the patch that puts the template back: ``{"spec": {"template": {..., "$patch": "replace"}}}``."""
        template = copy.deepcopy(owner["spec"].get("template") or {})
        data = {"spec": {"template": {**template, "$patch": "replace"}}}
        history = self._owned("apps/controllerrevisions", owner)
        top = max((h.get("revision", 0) for h in history), default=0)
        current = next((h for h in history if h.get("data") == data), None)
        if current is None:
            labels = dict((template.get("metadata") or {}).get("labels") or {})
            labels[DS_HASH] = pod_hash
            annotations = dict(owner["metadata"].get("annotations") or {})
            body = {
                "apiVersion": "apps/v1",
                "kind": "ControllerRevision",
                "metadata": _child_metadata(owner, pod_hash, labels, annotations),
                "data": data,
                "revision": top + 1,
            }
            current = self.api.system_create(resources.apps("controllerrevisions"), body)
        elif current.get("revision", 0) < top:
            renumbered = copy.deepcopy(current)
            renumbered["revision"] = top + 1
            current = self.api.system_write("apps/controllerrevisions", renumbered, "kube-controller-manager", "")
        olds = sorted(
            (h for h in history if current is None or h["metadata"]["uid"] != current["metadata"]["uid"]),
            key=lambda h: h.get("revision", 0),
        )
        excess = len(olds) - owner["spec"].get("revisionHistoryLimit", 10)
        for old in olds[: max(excess, 0)]:
            self._delete("apps/controllerrevisions", old)

    # ---- ReplicaSet / ReplicationController -------------------------------------------------------
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
                active, key=lambda p: (bool((p.get("spec") or {}).get("nodeName")), is_ready(p), -_created(p))
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

    # ---- Deployment -------------------------------------------------------------------------
    def deployment(self, namespace, name):
        dep = self.api.store.get("apps/deployments", namespace, name)
        if dep is None or dep["metadata"].get("deletionTimestamp"):
            return
        spec = dep.get("spec") or {}
        owned = self._owned("apps/replicasets", dep)
        new_rs = next((rs for rs in owned if _same_template(rs["spec"].get("template"), spec.get("template"))), None)
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
            pod_hash = _template_hash(template, (dep.get("status") or {}).get("collisionCount", 0))
            template.setdefault("metadata", {}).setdefault("labels", {})[HASH_LABEL] = pod_hash
            selector = copy.deepcopy(spec["selector"])
            selector.setdefault("matchLabels", {})[HASH_LABEL] = pod_hash
            labels = dict(template["metadata"]["labels"])
            rs = {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "metadata": _child_metadata(dep, pod_hash, labels, self._rs_annotations(dep, top + 1)),
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
        if last and now_ts() - _ts(last) > deadline:
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

    # ---- DaemonSet --------------------------------------------------------------------------
    def daemonset_all(self):
        for ds in self.api.store.items("apps/daemonsets"):
            self.daemonset(ds["metadata"]["namespace"], ds["metadata"]["name"])

    def _ds_template(self, ds):
        template = copy.deepcopy(ds["spec"].get("template") or {})
        pod_hash = _template_hash(template)
        template.setdefault("metadata", {}).setdefault("labels", {})[DS_HASH] = pod_hash
        spec = template.setdefault("spec", {})
        tolerations = spec.setdefault("tolerations", [])
        for tol in _DS_TOLERATIONS:
            if tol not in tolerations:
                tolerations.append(dict(tol))
        return template, pod_hash

    def daemonset(self, namespace, name):
        ds = self.api.store.get("apps/daemonsets", namespace, name)
        if ds is None or ds["metadata"].get("deletionTimestamp"):
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
            by_node.setdefault(_ds_node(pod), []).append(pod)
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
        on = {_ds_node(p) for p in pods}
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

    # ---- StatefulSet ------------------------------------------------------------------------
    def statefulset(self, namespace, name):
        sts = self.api.store.get("apps/statefulsets", namespace, name)
        if sts is None or sts["metadata"].get("deletionTimestamp"):
            return
        want = sts["spec"].get("replicas", 1)
        template = copy.deepcopy(sts["spec"].get("template") or {})
        pod_hash = _template_hash(template)
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

    # ---- Job --------------------------------------------------------------------------------
    def job(self, namespace, name):
        job = self.api.store.get("batch/jobs", namespace, name)
        if job is None or job["metadata"].get("deletionTimestamp"):
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

    # ---- Endpoints / EndpointSlices -------------------------------------------------------------
    def endpoints_ns(self, namespace):
        for svc in self.api.store.items("/services", namespace):
            self.endpoints(namespace, svc["metadata"]["name"])

    def endpoints(self, namespace, name):
        store = self.api.store
        svc = store.get("/services", namespace, name)
        if svc is None or svc["metadata"].get("deletionTimestamp"):
            old = store.get("/endpoints", namespace, name)
            if old is not None and (svc is None):
                self.api.finish("/endpoints", old)
            return
        selector = (svc.get("spec") or {}).get("selector")
        if not selector:
            return
        reqs = [(k, "=", (v,)) for k, v in selector.items()]
        pods = [
            p
            for p in store.items("/pods", namespace)
            if selectors.matches(p["metadata"].get("labels"), reqs) and (p.get("status") or {}).get("podIP")
        ]
        self._endpoints(svc, pods)
        self._slice(svc, pods)

    @staticmethod
    def _ports(svc, pod):
        out = []
        for port in (svc.get("spec") or {}).get("ports") or []:
            target = port.get("targetPort", port.get("port"))
            if isinstance(target, str):
                target = next(
                    (
                        cp.get("containerPort")
                        for c in (pod.get("spec") or {}).get("containers") or []
                        for cp in c.get("ports") or []
                        if cp.get("name") == target
                    ),
                    None,
                )
            if target is None:
                continue
            entry = {"port": target, "protocol": port.get("protocol", "TCP")}
            if port.get("name"):
                entry["name"] = port["name"]
            out.append(entry)
        return out

    @staticmethod
    def _ref(pod):
        return {
            "kind": "Pod",
            "namespace": pod["metadata"]["namespace"],
            "name": pod["metadata"]["name"],
            "uid": pod["metadata"]["uid"],
        }

    def _endpoints(self, svc, pods):
        subsets = {}
        for pod in pods:
            if pod["metadata"].get("deletionTimestamp"):
                continue
            ports = self._ports(svc, pod)
            key = json.dumps(ports, sort_keys=True)
            subset = subsets.setdefault(key, {"ports": ports})
            address = {
                "ip": pod["status"]["podIP"],
                "nodeName": pod["spec"].get("nodeName"),
                "targetRef": self._ref(pod),
            }
            subset.setdefault("addresses" if is_ready(pod) else "notReadyAddresses", []).append(address)
        meta = svc["metadata"]
        body = {
            "apiVersion": "v1",
            "kind": "Endpoints",
            "metadata": {
                "name": meta["name"],
                "namespace": meta["namespace"],
                "labels": dict(meta.get("labels") or {}),
            },
        }
        if subsets:
            body["subsets"] = list(subsets.values())
        self._upsert("/endpoints", body, "endpoint-controller")

    def _slice(self, svc, pods):
        meta = svc["metadata"]
        endpoints = []
        ports = []
        for pod in pods:
            terminating = bool(pod["metadata"].get("deletionTimestamp"))
            ready = is_ready(pod) and not terminating
            endpoints.append(
                {
                    "addresses": [pod["status"]["podIP"]],
                    "conditions": {"ready": ready, "serving": is_ready(pod), "terminating": terminating},
                    "nodeName": pod["spec"].get("nodeName"),
                    "targetRef": self._ref(pod),
                }
            )
            ports = ports or self._ports(svc, pod)
        labels = {
            **(meta.get("labels") or {}),
            "kubernetes.io/service-name": meta["name"],
            "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
        }
        body = {
            "apiVersion": "discovery.k8s.io/v1",
            "kind": "EndpointSlice",
            "metadata": {
                "name": f"{meta['name']}-{stable_hash(meta['uid'], 5)}",
                "namespace": meta["namespace"],
                "labels": labels,
                "ownerReferences": [owner_reference(svc)],
            },
            "addressType": "IPv4",
            "endpoints": endpoints,
            "ports": [{"name": p.get("name", ""), **p} for p in ports],
        }
        self._upsert("discovery.k8s.io/endpointslices", body, "endpointslice-controller.k8s.io")

    def _upsert(self, key, body, manager):
        meta = body["metadata"]
        old = self.api.store.get(key, meta["namespace"], meta["name"])
        res = resources.STORAGE[key]
        if old is None:
            self.api.system_create(res, body, manager)
            return
        new = copy.deepcopy(old)
        for field, value in body.items():
            if field != "metadata":
                new[field] = value
        for field in ("subsets",):
            if field not in body:
                new.pop(field, None)
        new["metadata"]["labels"] = meta.get("labels") or {}
        self.api.system_write(key, new, manager, "")

    # ---- HorizontalPodAutoscaler ------------------------------------------------------------
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

    # ---- PodDisruptionBudget ----------------------------------------------------------------
    def pdb_ns(self, namespace):
        for pdb in self.api.store.items("policy/poddisruptionbudgets", namespace):
            self.pdb(namespace, pdb["metadata"]["name"])

    def pdb(self, namespace, name):
        pdb = self.api.store.get("policy/poddisruptionbudgets", namespace, name)
        if pdb is None or pdb["metadata"].get("deletionTimestamp"):
            return
        status = pdb_status(self.api, pdb)
        old = pdb.get("status") or {}
        if old.get("conditions") and old["conditions"][0].get("status") == status["conditions"][0]["status"]:
            status["conditions"][0]["lastTransitionTime"] = old["conditions"][0].get("lastTransitionTime")
        elif status["conditions"][0]["lastTransitionTime"].startswith("1970"):
            status["conditions"][0]["lastTransitionTime"] = now_iso()
        self._write_status("policy/poddisruptionbudgets", pdb, status)


def _created(obj):
    return _ts(obj["metadata"].get("creationTimestamp"))


def _ts(text):
    try:
        return parse_time(text)
    except (TypeError, ValueError):
        return 0


def _ds_node(pod):
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
