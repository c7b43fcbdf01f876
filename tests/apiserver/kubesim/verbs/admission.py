"""What every write goes through: defaults, validation (with a Service's allocation), ownership, storage."""

from __future__ import annotations

import uuid

from .. import kinds, resources, ssa
from ..errors import invalid
from ..request import SYSTEM_META, now_iso


class Admission:
    """Mixed into Api."""

    @staticmethod
    def _stamp_new(obj):
        """The system metadata of a new object: a client's values dropped, uid, creationTimestamp, generation."""
        meta = obj["metadata"]
        for key in SYSTEM_META:
            meta.pop(key, None)
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = now_iso()
        if kinds.has_generation(obj):
            meta["generation"] = 1

    def _commit(self, ctx, old, new, owners, api_version):
        """Default, validate, record ownership and store (unless dry-run or nothing changed)."""
        res = ctx.res
        storage = resources.STORAGE[res.key]
        new["apiVersion"], new["kind"] = storage.api_version, storage.kind
        if new["kind"] == "Service" and old is not None:
            _drop_type_dependent(new, old)
        kinds.apply_defaults(new, self.allocator)
        if old is None:
            kinds.on_create(new, now_iso())
        causes = self._validate(ctx, new, old)
        if causes:
            if not ctx.dry_run:
                self.faults.after_write(res, new)
            raise invalid(res, new["metadata"].get("name"), causes)
        previous = (old or {}).get("metadata", {}).get("managedFields")
        rendered = ssa.render(owners, api_version, now_iso(), previous)
        if rendered:
            new["metadata"]["managedFields"] = rendered
        else:
            new["metadata"].pop("managedFields", None)
        if old is not None:
            self._carry_system_meta(old, new)
            if _comparable(old) == _comparable(new):
                return old
        if ctx.dry_run:
            if old is None:
                new["metadata"].pop("resourceVersion", None)
            return new
        new["metadata"]["resourceVersion"] = str(self.store.next_rv())
        self.store.put(res.key, new)
        for hook in self.hooks:
            hook(res.key, new)
        self.faults.after_write(res, new)
        return new

    def _validate(self, ctx, new, old):
        """A Service's allocation runs before validation on create, after it on update (see allocators)."""
        if new.get("kind") != "Service":
            return kinds.validate(new, old)
        if old is None:
            return self.allocator.allocate(new, old, ctx.dry_run) or kinds.validate(new, old)
        return kinds.validate(new, old) or self.allocator.allocate(new, old, ctx.dry_run)

    @staticmethod
    def _carry_system_meta(old, new):
        meta, old_meta = new["metadata"], old["metadata"]
        for key in ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "name", "namespace"):
            if key in old_meta:
                meta[key] = old_meta[key]
            else:
                meta.pop(key, None)
        meta["resourceVersion"] = old_meta.get("resourceVersion")
        if "generation" in old_meta:
            changed = {k: v for k, v in old.items() if k not in ("metadata", "status")} != {
                k: v for k, v in new.items() if k not in ("metadata", "status")
            }
            meta["generation"] = old_meta["generation"] + (1 if changed else 0)


def _comparable(obj):
    out = dict(obj)
    meta = dict(out.get("metadata") or {})
    meta.pop("resourceVersion", None)
    meta["managedFields"] = [{k: v for k, v in e.items() if k != "time"} for e in meta.get("managedFields") or []]
    out["metadata"] = meta
    return out


def _drop_type_dependent(new, old):
    """Changing a Service to ClusterIP releases the node ports it had (as the Service strategy does)."""
    spec, old_spec = new.get("spec") or {}, old.get("spec") or {}
    if spec.get("type", "ClusterIP") not in ("ClusterIP", "ExternalName"):
        return
    if old_spec.get("type") not in ("NodePort", "LoadBalancer"):
        return
    allocated = {p.get("nodePort") for p in old_spec.get("ports") or []}
    for port in spec.get("ports") or []:
        if port.get("nodePort") in allocated:
            port.pop("nodePort")
    spec.pop("externalTrafficPolicy", None)
