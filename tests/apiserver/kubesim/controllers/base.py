"""What every controller shares: the work-item interface the manager drives, and the small jobs of a
controller (its owned objects, status writes, pod creation, deletion)."""

from __future__ import annotations

import copy
import json

from .. import resources
from ..common import controller_ref, owner_reference, parse_time, pod_from_template, record_event, stable_hash

HASH_LABEL = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"
DS_HASH = "controller-revision-hash"
BURST = 500
COMPONENTS = {
    "ReplicaSet": "replicaset-controller",
    "ReplicationController": "replication-controller",
    "Job": "job-controller",
    "DaemonSet": "daemonset-controller",
    "StatefulSet": "statefulset-controller",
}


class Controller:
    """One controller. ``route`` turns a store event into work items (tuples whose first element names the
    handler); ``handlers`` maps those names to methods; ``resync`` runs every couple of seconds."""

    def __init__(self, ctl):
        self.ctl, self.api = ctl, ctl.api

    def route(self, key, event, obj):
        del key, event, obj
        return ()

    def handlers(self):
        return {}

    def resync(self):
        return None

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
        for _index in range(min(count, BURST)):
            pod = self.api.system_create(res, pod_from_template(owner, template, generate=generate))
            if pod is not None:
                record_event(
                    self.api,
                    owner,
                    ("Normal", "SuccessfulCreate"),
                    f"Created pod: {pod['metadata']['name']}",
                    COMPONENTS.get(owner["kind"], "controllermanager"),
                )

    def _delete(self, key, obj):
        if not obj["metadata"].get("deletionTimestamp"):
            self.api.system_delete(key, obj)


def owned_item(key, obj, child_key, owner_kind, item):
    """The work item of the controlling owner of ``obj`` (stored under ``child_key``) when it is an ``owner_kind``."""
    ref = controller_ref(obj)
    if key == child_key and ref and ref.get("kind") == owner_kind:
        return [(item, obj["metadata"].get("namespace", ""), ref["name"])]
    return []


def own_item(key, obj, own_key, item):
    """The work item of an object of the controller's own kind."""
    if key == own_key:
        meta = obj["metadata"]
        return [(item, meta.get("namespace", ""), meta["name"])]
    return []


def child_metadata(owner, pod_hash, labels, annotations):
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


def template_hash(template, salt=0):
    clean = copy.deepcopy(template)
    (clean.get("metadata") or {}).get("labels", {}).pop(HASH_LABEL, None)
    return stable_hash(json.dumps(clean, sort_keys=True) + str(salt), 10)


def same_template(a, b):
    a, b = copy.deepcopy(a), copy.deepcopy(b)
    for tpl in (a, b):
        (tpl.get("metadata") or {}).get("labels", {}).pop(HASH_LABEL, None)
    return a == b


def created_ts(obj):
    return parse_ts(obj["metadata"].get("creationTimestamp"))


def parse_ts(text):
    try:
        return parse_time(text)
    except (TypeError, ValueError):
        return 0
