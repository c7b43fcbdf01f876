"""What every controller shares: the work-item interface the manager drives, and the small jobs of a
controller (its owned objects, status writes, pod creation, deletion)."""

from __future__ import annotations

import copy
import json
from typing import ClassVar

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
    handler); ``handlers`` maps those names to methods; ``resync`` runs every couple of seconds.

    Routing is declared (storage keys, e.g. ``apps/deployments``, ``/pods``):
    OBJECT: key -> item, an event of the object itself gives (item, [namespace,] name);
    OWNER: (key, owner kind) -> item, an event of an object whose controller is of that kind gives
    (item, namespace, owner name); NAMESPACE: key -> item, (item, namespace); ANY: key -> item, (item,).
    HANDLERS: item -> the name of the method that handles it (called with the item's other elements).
    """

    OBJECT: ClassVar[dict] = {}
    OWNER: ClassVar[dict] = {}
    NAMESPACE: ClassVar[dict] = {}
    ANY: ClassVar[dict] = {}
    HANDLERS: ClassVar[dict] = {}

    def __init__(self, ctl):
        self.ctl, self.api = ctl, ctl.api

    def route(self, key, event, obj):
        del event
        meta = obj["metadata"]
        ns = meta.get("namespace", "")
        items = []
        if key in self.OBJECT:
            items.append((self.OBJECT[key], *([ns] if ns else []), meta["name"]))
        ref = controller_ref(obj) if self.OWNER else None
        if ref and (key, ref.get("kind")) in self.OWNER:
            items.append((self.OWNER[(key, ref.get("kind"))], ns, ref["name"]))
        if key in self.NAMESPACE:
            items.append((self.NAMESPACE[key], ns))
        if key in self.ANY:
            items.append((self.ANY[key],))
        return items

    def handlers(self):
        return {item: getattr(self, method) for item, method in self.HANDLERS.items()}

    def resync(self):
        return None

    def _live(self, key, namespace, name):
        """The stored object, or None when it is gone or being deleted (nothing for a controller to do)."""
        obj = self.api.store.get(key, namespace, name)
        return None if obj is None or obj["metadata"].get("deletionTimestamp") else obj

    def _each_in(self, key, namespace, handler):
        """Run ``handler(namespace, name)`` for every object stored under ``key`` in ``namespace``."""
        for obj in self.api.store.items(key, namespace):
            handler(namespace, obj["metadata"]["name"])

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
