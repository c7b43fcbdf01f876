"""Garbage collector: ownerReferences, background deletion of dependents, foreground and orphan finalizers."""

from __future__ import annotations

import copy
from typing import ClassVar

from .. import resources
from .base import Controller


class GarbageCollector(Controller):
    """ownerReferences: background deletion of dependents, foreground and orphan finalizers."""

    def route(self, key, event, obj):
        meta = obj["metadata"]
        ns, name = meta.get("namespace", ""), meta["name"]
        out = []
        if event == "DELETED":
            out.append(("gc-deleted", key, ns, meta["uid"]))
            for ref in meta.get("ownerReferences") or []:
                owner_key = resources.KEY_BY_KIND.get(ref.get("kind"))
                if owner_key:
                    owner_ns = ns if resources.STORAGE[owner_key].namespaced else ""
                    out.append(("gc-finalize", owner_key, owner_ns, ref.get("name")))
        elif meta.get("deletionTimestamp") and meta.get("finalizers"):
            out.append(("gc-finalize", key, ns, name))
        return out

    HANDLERS: ClassVar[dict] = {"gc-deleted": "deleted", "gc-finalize": "finalize"}

    def _dependents(self, uid, namespace):
        del namespace
        return self.api.store.dependents(uid)

    def _owner_alive(self, ref, namespace):
        store = self.api.store
        for key, res in resources.STORAGE.items():
            if res.kind != ref.get("kind"):
                continue
            owner = store.get(key, namespace if res.namespaced else "", ref.get("name"))
            if owner is not None and owner["metadata"]["uid"] == ref.get("uid"):
                return True
        return False

    def deleted(self, key, namespace, uid):
        del key
        for dep_key, dep in self._dependents(uid, namespace):
            refs = dep["metadata"].get("ownerReferences") or []
            alive = [
                r for r in refs if r.get("uid") != uid and self._owner_alive(r, dep["metadata"].get("namespace", ""))
            ]
            if alive:
                new = copy.deepcopy(dep)
                new["metadata"]["ownerReferences"] = [r for r in refs if r.get("uid") != uid]
                self.api.system_write(dep_key, new, "garbage-collector", "")
            elif not dep["metadata"].get("deletionTimestamp"):
                self.api.system_delete(dep_key, dep)

    def finalize(self, key, namespace, name):
        obj = self.api.store.get(key, namespace, name)
        if obj is None or not obj["metadata"].get("deletionTimestamp"):
            return
        finalizers = obj["metadata"].get("finalizers") or []
        uid = obj["metadata"]["uid"]
        if "orphan" in finalizers:
            for dep_key, dep in self._dependents(uid, namespace):
                new = copy.deepcopy(dep)
                new["metadata"]["ownerReferences"] = [
                    r for r in dep["metadata"].get("ownerReferences") or [] if r.get("uid") != uid
                ]
                if not new["metadata"]["ownerReferences"]:
                    new["metadata"].pop("ownerReferences")
                self.api.system_write(dep_key, new, "garbage-collector", "")
            self._drop_finalizer(key, obj, "orphan")
        elif "foregroundDeletion" in finalizers:
            dependents = self._dependents(uid, namespace)
            for dep_key, dep in dependents:
                if not dep["metadata"].get("deletionTimestamp"):
                    self._delete_foreground(dep_key, dep)
            if not dependents:
                self._drop_finalizer(key, obj, "foregroundDeletion")

    def _delete_foreground(self, key, obj):
        res = resources.STORAGE[key]
        ctx = self.api.ctx_for(res, obj)
        self.api.delete_locked(ctx, obj, {"propagationPolicy": "Foreground"})

    def _drop_finalizer(self, key, obj, finalizer):
        new = copy.deepcopy(obj)
        rest = [f for f in new["metadata"].get("finalizers") or [] if f != finalizer]
        if rest:
            new["metadata"]["finalizers"] = rest
            self.api.system_write(key, new, "garbage-collector", "")
            return
        new["metadata"].pop("finalizers", None)
        if key == "/pods" and (new.get("spec") or {}).get("nodeName"):
            self.api.system_write(key, new, "garbage-collector", "")
            return
        self.api.finish(key, obj)
