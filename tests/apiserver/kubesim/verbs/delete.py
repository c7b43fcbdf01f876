"""DELETE and deletecollection: preconditions, propagation policies, graceful pod deletion, finalizers."""

from __future__ import annotations

import copy

from ..errors import HTTP_INVALID, HTTP_NOT_FOUND, ApiError, bad_request, conflict, success_status
from ..request import Ctx, now_iso


class DeleteVerbs:
    """Mixed into Api."""

    def delete(self, ctx, options):
        options = options or {}
        if not isinstance(options, dict):
            raise bad_request("DeleteOptions must be a JSON object")
        with self.store.lock:
            obj = self._get(ctx.res, ctx.namespace, ctx.name)
            self._preconditions(ctx, obj, options.get("preconditions") or {})
            return self.delete_locked(ctx, obj, options)

    def _preconditions(self, ctx, obj, pre):
        meta = obj["metadata"]
        if pre.get("uid") and pre["uid"] != meta["uid"]:
            raise conflict(
                ctx.res,
                ctx.name,
                f"Precondition failed: UID in precondition: {pre['uid']}, UID in object meta: {meta['uid']}",
            )
        if pre.get("resourceVersion") and pre["resourceVersion"] != meta["resourceVersion"]:
            raise conflict(
                ctx.res,
                ctx.name,
                f"Precondition failed: ResourceVersion in precondition: "
                f"{pre['resourceVersion']}, ResourceVersion in object meta: "
                f"{meta['resourceVersion']}",
            )

    def _grace(self, ctx, obj, options):
        grace = options.get("gracePeriodSeconds", ctx.param("gracePeriodSeconds"))
        if grace is None:
            grace = (obj.get("spec") or {}).get("terminationGracePeriodSeconds", 30) if ctx.res.kind == "Pod" else 0
        try:
            return int(grace)
        except (TypeError, ValueError) as exc:
            raise bad_request(f"invalid gracePeriodSeconds {grace!r}") from exc

    def delete_locked(self, ctx, obj, options):
        res = ctx.res
        policy = options.get("propagationPolicy") or ctx.param("propagationPolicy")
        if policy is None and options.get("orphanDependents") is True:
            policy = "Orphan"
        if policy not in (None, "Foreground", "Background", "Orphan"):
            raise ApiError(
                HTTP_INVALID,
                f'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported '
                f'value: "{policy}": supported values: "Foreground", "Background", '
                f'"Orphan", "nil"',
            )
        new = copy.deepcopy(obj)
        meta = new["metadata"]
        finalizers = list(meta.get("finalizers") or [])
        extra = {"Foreground": "foregroundDeletion", "Orphan": "orphan"}.get(policy or "")
        if extra and extra not in finalizers:
            finalizers.append(extra)
        grace = self._grace(ctx, obj, options)
        graceful = (
            res.kind == "Pod"
            and grace > 0
            and (obj.get("spec") or {}).get("nodeName")
            and ((obj.get("status") or {}).get("phase") not in ("Succeeded", "Failed"))
        )
        if res.kind == "Namespace":
            new.setdefault("status", {})["phase"] = "Terminating"
        pending = finalizers or graceful or res.kind == "Namespace"
        if not pending:
            if ctx.dry_run:
                return _success_status(res, obj)
            self._remove(res.key, obj)
            return _success_status(res, obj)
        if meta.get("deletionTimestamp") and meta.get("finalizers") == finalizers:
            if res.kind == "Pod" and graceful:
                return self._shorten_grace(ctx, obj, grace)
            return self.external(res, obj)
        meta["deletionTimestamp"] = meta.get("deletionTimestamp") or now_iso()
        meta["deletionGracePeriodSeconds"] = grace if res.kind == "Pod" else 0
        if finalizers:
            meta["finalizers"] = finalizers
        if ctx.dry_run:
            return self.external(res, new)
        meta["resourceVersion"] = str(self.store.next_rv())
        self.store.put(res.key, new)
        return self.external(res, new)

    def _shorten_grace(self, ctx, obj, grace):
        current = obj["metadata"].get("deletionGracePeriodSeconds", grace)
        if grace >= current or ctx.dry_run:
            return self.external(ctx.res, obj)
        new = copy.deepcopy(obj)
        new["metadata"]["deletionGracePeriodSeconds"] = grace
        new["metadata"]["resourceVersion"] = str(self.store.next_rv())
        self.store.put(ctx.res.key, new)
        return new

    def delete_collection(self, ctx, options):
        listing = self.list(ctx)
        deleted = []
        for item in listing["items"]:
            sub = Ctx(
                ctx.res,
                item["metadata"].get("namespace"),
                item["metadata"]["name"],
                query=ctx.query,
                user_agent=ctx.user_agent,
            )
            try:
                self.delete(sub, options)
            except ApiError as exc:
                if exc.code != HTTP_NOT_FOUND:
                    raise
            deleted.append(item)
        listing["items"] = deleted
        return listing


def _success_status(res, obj):
    meta = obj["metadata"]
    return success_status(details={"name": meta["name"], "group": res.group, "kind": res.plural, "uid": meta["uid"]})
