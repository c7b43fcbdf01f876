"""create and update (PUT), of objects and of their status/scale subresources."""

from __future__ import annotations

import copy
import uuid

from .. import ssa
from ..errors import HTTP_NOT_FOUND, ApiError, already_exists, bad_request


class WriteVerbs:
    """Mixed into Api."""

    def create(self, ctx, body):
        res = ctx.res
        if ctx.subresource:
            raise ApiError(HTTP_NOT_FOUND, "the server could not find the requested resource")
        obj = self.decode(ctx, body)
        meta = obj["metadata"]
        if res.namespaced:
            if meta.get("namespace") and meta["namespace"] != ctx.namespace:
                raise bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request"
                )
            meta["namespace"] = ctx.namespace
        else:
            meta.pop("namespace", None)
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + uuid.uuid4().hex[:5]
        ctx.name = meta.get("name")
        with self.store.lock:
            self._require_namespace(ctx)
            if ctx.name and self.store.get(res.key, meta.get("namespace", ""), ctx.name) is not None:
                raise already_exists(res, ctx.name)
            return self._create_locked(ctx, obj)

    def _create_locked(self, ctx, obj):
        res = ctx.res
        self._stamp_new(obj)
        if "status" in res.subresources and obj.get("kind") not in ("Pod", "Node", "Service"):
            obj.pop("status", None)
        internal = self.internal(res, obj)
        owners = ssa.update_owners(None, self._owned_view(ctx, obj), self.node_of(res), (ctx.manager, "Update", ""))
        return self._commit(ctx, None, internal, owners, res.api_version)

    def _owned_view(self, ctx, obj):
        """The part of obj a write through this endpoint can own."""
        if ctx.subresource == "scale":
            return {"spec": {"replicas": (obj.get("spec") or {}).get("replicas")}}
        if ctx.subresource == "status":
            return {"status": obj.get("status")} if "status" in obj else {}
        if "status" in ctx.res.subresources:
            return {k: v for k, v in obj.items() if k != "status"}
        return obj

    def update(self, ctx, body):
        obj = self.decode(ctx, body)
        meta = obj["metadata"]
        if meta.get("name") and meta["name"] != ctx.name:
            raise bad_request(
                f"the name of the object ({meta['name']}) does not match the name on the URL ({ctx.name})"
            )
        if ctx.res.namespaced and meta.get("namespace") and meta["namespace"] != ctx.namespace:
            raise bad_request("the namespace of the provided object does not match the namespace sent on the request")
        with self.store.lock:
            self._require_namespace(ctx, creating=False)
            old = self._get(ctx.res, ctx.namespace, ctx.name)
            self._check_version(ctx, meta.get("resourceVersion"), old)
            return self._write_locked(ctx, old, obj)

    def _write_locked(self, ctx, old, obj):
        """Store `obj` (external form of the new object) over `old` (stored form)."""
        res = ctx.res
        old_ext = self.external(res, old)
        obj = self._merge_subresource_view(ctx, old_ext, obj)
        obj["metadata"].setdefault("name", ctx.name)
        internal = self.internal(res, copy.deepcopy(obj))
        owners = ssa.update_owners(
            self._owned_view(ctx, old_ext),
            self._owned_view(ctx, obj),
            self.node_of(res),
            (ctx.manager, "Update", ctx.subresource),
            owners=ssa.owner_sets(old_ext),
        )
        result = self._commit(ctx, old, internal, owners, res.api_version)
        self._after_write(ctx, old, result)
        return result

    def write_subresource(self, ctx, old, new_ext, operation):
        """A scale write: `new_ext` is the parent object with the new replica count."""
        res = ctx.res
        old_ext = self.external(res, old)
        me = (ctx.manager, operation, ctx.subresource)
        owners = ssa.owner_sets(old_ext)
        if operation == "Apply":
            owners = [(b, p) for b, p in owners if not (b["manager"] == me[0] and b["operation"] == "Apply")]
            owners = [(b, p - {("f:spec", "f:replicas")}) for b, p in owners]
            owners.append(({"manager": me[0], "operation": "Apply", "subresource": me[2]}, {("f:spec", "f:replicas")}))
        else:
            owners = ssa.update_owners(
                self._owned_view(ctx, old_ext), self._owned_view(ctx, new_ext), self.node_of(res), me, owners=owners
            )
        return self._commit(ctx, old, self.internal(res, new_ext), owners, res.api_version)

    def _merge_subresource_view(self, ctx, old_ext, obj):
        if ctx.subresource == "status":
            merged = copy.deepcopy(old_ext)
            merged["status"] = obj.get("status")
            if merged["status"] is None:
                merged.pop("status")
            return merged
        if "status" in ctx.res.subresources and "status" in old_ext:
            obj["status"] = copy.deepcopy(old_ext["status"])
        elif "status" in ctx.res.subresources:
            obj.pop("status", None)
        return obj

    def _after_write(self, ctx, old, new):
        """Finish a deletion whose finalizers were just removed."""
        meta = new["metadata"]
        if ctx.dry_run or not meta.get("deletionTimestamp") or meta.get("finalizers"):
            return
        if ctx.res.kind == "Pod" and (new.get("spec") or {}).get("nodeName") and old is not None:
            return  # the kubelet simulator removes running pods after their grace period
        self._remove(ctx.res.key, new)

    def _remove(self, key, obj):
        gone = copy.deepcopy(obj)
        gone["metadata"]["resourceVersion"] = str(self.store.next_rv())
        self.store.remove(key, gone)
        return gone
