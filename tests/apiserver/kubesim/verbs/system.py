"""Writes of the simulated components (controllers, scheduler, kubelet): no HTTP request, the lock held."""

from __future__ import annotations

import uuid

from .. import resources, ssa
from ..request import Ctx, now_iso
from .admission import _comparable


class SystemWrites:
    """Mixed into Api."""

    @staticmethod
    def ctx_for(res, obj, manager="kube-controller-manager"):
        meta = obj["metadata"]
        return Ctx(res, meta.get("namespace"), meta["name"], query={"fieldManager": manager})

    def system_write(self, key, new, manager="kube-controller-manager", subresource="status"):
        """Store a controller's change to an object (caller holds the lock, new is a fresh copy)."""
        res = resources.STORAGE[key]
        old = self.store.get(key, new["metadata"].get("namespace", ""), new["metadata"]["name"])
        if old is None:
            return None
        if _comparable(old) == _comparable(new):
            return old
        owners = ssa.update_owners(
            self._view_for(res, old, subresource),
            self._view_for(res, new, subresource),
            self.node_of(res),
            (manager, "Update", subresource),
            owners=ssa.owner_sets(old),
        )
        new["metadata"]["managedFields"] = ssa.render(
            owners, res.api_version, now_iso(), old["metadata"].get("managedFields")
        )
        new["metadata"]["resourceVersion"] = str(self.store.next_rv())
        self.store.put(key, new)
        return new

    @staticmethod
    def _view_for(res, obj, subresource):
        if subresource == "status":
            return {"status": obj.get("status")} if "status" in obj else {}
        if "status" in res.subresources:
            return {k: v for k, v in obj.items() if k != "status"}
        return obj

    def system_create(self, res, obj, manager="kube-controller-manager"):
        ctx = Ctx(res, obj["metadata"].get("namespace"), obj["metadata"].get("name"), query={"fieldManager": manager})
        with self.store.lock:
            ns = self.store.get("/namespaces", "", ctx.namespace) if res.namespaced else None
            if res.namespaced and (ns is None or ns["metadata"].get("deletionTimestamp")):
                return None
            meta = obj["metadata"]
            if not meta.get("name"):
                meta["name"] = meta["generateName"] + uuid.uuid4().hex[:5]
                ctx.name = meta["name"]
            if self.store.get(res.key, meta.get("namespace", ""), meta["name"]) is not None:
                return None
            return self._create_locked(ctx, obj)

    def system_delete(self, key, obj, grace=None):
        res = resources.STORAGE[key]
        ctx = Ctx(res, obj["metadata"].get("namespace"), obj["metadata"]["name"])
        options = {} if grace is None else {"gracePeriodSeconds": grace}
        with self.store.lock:
            current = self.store.get(key, obj["metadata"].get("namespace", ""), obj["metadata"]["name"])
            if current is None:
                return None
            return self.delete_locked(ctx, current, {**options, "propagationPolicy": "Background"})

    def finish(self, key, obj):
        """Remove an object for good (kubelet after a pod's grace period, GC after finalizers)."""
        with self.store.lock:
            current = self.store.get(key, obj["metadata"].get("namespace", ""), obj["metadata"]["name"])
            if current is not None and current["metadata"]["uid"] == obj["metadata"]["uid"]:
                self._remove(key, current)
