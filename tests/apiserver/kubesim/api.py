"""API semantics independent of HTTP: create/get/list/update/patch/delete, admission, ownership."""

from __future__ import annotations

import base64
import copy
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone

import yaml

from . import kinds, patch, resources, schema, selectors, ssa
from .allocators import Allocator
from .errors import (
    HTTP_BAD_REQUEST,
    HTTP_FORBIDDEN,
    HTTP_GONE,
    HTTP_INVALID,
    HTTP_NOT_FOUND,
    HTTP_UNSUPPORTED_MEDIA,
    ApiError,
    already_exists,
    bad_request,
    conflict,
    invalid,
    not_found,
    success_status,
)
from .faults import Faults
from .store import Store

_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"
APPLY_PATCH_CBOR = "application/apply-patch+cbor"
PATCH_TYPES = (JSON_PATCH, MERGE_PATCH, STRATEGIC_PATCH, APPLY_PATCH)
_SYSTEM_META = (
    "uid",
    "creationTimestamp",
    "resourceVersion",
    "generation",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "selfLink",
)


def now_iso():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Ctx:
    """One request's parameters."""

    res: resources.Resource
    namespace: str | None = None
    name: str | None = None
    subresource: str = ""
    query: dict = field(default_factory=dict)
    user_agent: str = ""
    content_type: str = ""
    warnings: list = field(default_factory=list)

    def param(self, key, default=None):
        return self.query.get(key, default)

    @property
    def dry_run(self):
        return self.query.get("dryRun") == "All"

    @property
    def manager(self):
        explicit = self.query.get("fieldManager")
        if explicit:
            return explicit
        agent = self.user_agent.split("/", 1)[0].strip()
        return agent or "unknown"

    @property
    def validation_mode(self):
        return self.query.get("fieldValidation") or "Warn"


class Api:
    def __init__(self, options=None):
        self.options = options or {}
        self.store = Store()
        self.allocator = Allocator(self.store)
        self.faults = Faults(self)
        self.hooks = []  # callables(obj) run inside the lock after each stored write
        self.started = time.time()
        self._uid_lock = threading.Lock()

    # ---- conversion -------------------------------------------------------------------------
    @staticmethod
    def external(res, obj):
        return kinds.to_version(res, obj)

    @staticmethod
    def internal(res, obj):
        return kinds.from_version(res, obj)

    # ---- helpers ----------------------------------------------------------------------------
    def _get(self, res, namespace, name):
        obj = self.store.get(res.key, namespace if res.namespaced else "", name)
        if obj is None:
            raise not_found(res, name)
        return obj

    def _require_namespace(self, ctx, creating=True):
        if not ctx.res.namespaced:
            return
        ns = self.store.get("/namespaces", "", ctx.namespace)
        if ns is None:
            raise not_found(resources.core("namespaces"), ctx.namespace)
        if creating and ns["metadata"].get("deletionTimestamp"):
            # NamespaceLifecycle admission: errors.NewForbidden(resource, name, ...) plus a NamespaceTerminating cause
            res = ctx.res
            raise ApiError(
                HTTP_FORBIDDEN,
                f'{res.plural}{"." + res.group if res.group else ""} "{ctx.name or ""}" is forbidden: unable to '
                f"create new content in namespace {ctx.namespace} because it is being terminated",
                details={
                    "name": ctx.name or "",
                    "group": res.group,
                    "kind": res.plural,
                    "causes": [
                        {
                            "reason": "NamespaceTerminating",
                            "message": f"namespace {ctx.namespace} is being terminated",
                            "field": "metadata.namespace",
                        }
                    ],
                },
            )

    def decode(self, ctx, body):
        """Check the body's type, drop/complain about unknown fields, normalise quantities."""
        if not isinstance(body, dict):
            raise bad_request(
                f"the object provided is unrecognized (must be of type {ctx.res.kind}): body is not a JSON object"
            )
        kind, api_version = body.get("kind"), body.get("apiVersion")
        if not kind or not api_version:
            missing = "Kind" if not kind else "APIVersion"
            raise bad_request(f"Object '{missing}' is missing in '{json.dumps(body)[:200]}'")
        if (kind, api_version) != (ctx.res.kind, ctx.res.api_version):
            raise bad_request(
                f"the API version in the data ({api_version}) does not match the expected API "
                f"version ({ctx.res.api_version})"
                if api_version != ctx.res.api_version
                else f"the object provided is unrecognized (must be of type {ctx.res.kind}): kind {kind}"
            )
        if not isinstance(body.get("metadata", {}), dict):
            raise bad_request(
                f'{ctx.res.kind} in version "{ctx.res.version}" cannot be handled as a '
                f"{ctx.res.kind}: metadata must be an object"
            )
        node = schema.root(ctx.res.definition)
        walk = schema.Walk(prune=True)
        out = walk.value(body, {"$ref": "#/$defs/" + ctx.res.definition} if node else None, "")
        if walk.type_errors:
            path, wanted, value = walk.type_errors[0]
            raise bad_request(
                f'{ctx.res.kind} in version "{ctx.res.version}" cannot be handled as a '
                f"{ctx.res.kind}: json: cannot unmarshal {type(value).__name__} into Go struct "
                f"field {path} of type {wanted}"
            )
        self._unknown_fields(ctx, walk.unknown)
        out.setdefault("metadata", {})
        if out.get("kind") == "Secret":
            _check_base64(ctx.res, out.get("data"))
        return out

    @staticmethod
    def _unknown_fields(ctx, unknown):
        if not unknown:
            return
        mode = ctx.validation_mode
        if mode == "Strict":
            raise bad_request("strict decoding error: " + ", ".join(f'unknown field "{p}"' for p in unknown))
        if mode == "Warn":
            ctx.warnings.extend(f'unknown field "{p}"' for p in unknown)

    def node_of(self, res):
        return {"$ref": "#/$defs/" + res.definition} if schema.root(res.definition) else None

    # ---- reads ------------------------------------------------------------------------------
    def get(self, ctx):
        with self.store.lock:
            return self.external(ctx.res, self._get(ctx.res, ctx.namespace, ctx.name))

    def list(self, ctx):
        res = ctx.res
        label_reqs = selectors.parse_label_selector(ctx.param("labelSelector", ""))
        field_reqs = selectors.parse_field_selector(ctx.param("fieldSelector", ""), res)
        limit = int(ctx.param("limit") or 0)
        token = ctx.param("continue")
        start = self._decode_continue(token) if token else None
        with self.store.lock:
            rv = self.store.rv
            items = self.store.items(res.key, ctx.namespace if res.namespaced else None)
        out = []
        remaining = 0
        for obj in items:
            meta = obj["metadata"]
            if start is not None and (meta.get("namespace", ""), meta["name"]) <= start:
                continue
            if not selectors.matches(meta.get("labels"), label_reqs) or not selectors.field_matches(obj, field_reqs):
                continue
            if limit and len(out) >= limit:
                remaining += 1
                continue
            out.append(obj)
        body = {"kind": res.list_kind, "apiVersion": res.api_version, "metadata": {"resourceVersion": str(rv)}}
        if remaining:
            last = out[-1]["metadata"]
            body["metadata"]["continue"] = self._encode_continue(rv, last.get("namespace", ""), last["name"])
            body["metadata"]["remainingItemCount"] = remaining
        body["items"] = [self._list_item(res, obj) for obj in out]
        return body

    def _list_item(self, res, obj):
        item = self.external(res, obj)
        if "kind" in item:
            item = {k: v for k, v in item.items() if k not in ("kind", "apiVersion")}
        return item

    @staticmethod
    def _encode_continue(rv, namespace, name):
        raw = json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": [namespace, name]})
        return base64.urlsafe_b64encode(raw.encode()).decode()

    def _decode_continue(self, token):
        try:
            data = json.loads(base64.urlsafe_b64decode(token.encode()))
            start = tuple(data["start"])
            rv = int(data["rv"])
        except (ValueError, KeyError, TypeError) as exc:
            raise bad_request(f"continue key is not valid: {exc}") from exc
        if rv < self.store.oldest_rv():
            raise ApiError(
                HTTP_GONE,
                "The provided continue parameter is too old to display a consistent list "
                "result. You can start a new list without the continue parameter.",
                reason="Expired",
            )
        return start

    # ---- writes -----------------------------------------------------------------------------
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
        meta = obj["metadata"]
        for key in _SYSTEM_META:
            meta.pop(key, None)
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = now_iso()
        if kinds.has_generation(obj):
            meta["generation"] = 1
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
            want_rv = meta.get("resourceVersion")
            if want_rv and want_rv != old["metadata"]["resourceVersion"]:
                raise conflict(
                    ctx.res,
                    ctx.name,
                    "the object has been modified; please apply your changes to the latest version and try again",
                )
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

    # ---- patch ------------------------------------------------------------------------------
    def patch(self, ctx, content_type, raw):
        if content_type not in PATCH_TYPES:
            raise ApiError(
                HTTP_UNSUPPORTED_MEDIA,
                f"the body of the request was in an unknown format - accepted "
                f"media types include: {', '.join(PATCH_TYPES)}, "
                f"{APPLY_PATCH_CBOR}",
            )
        body = _parse_patch(content_type, raw)
        if content_type == APPLY_PATCH:
            return self.apply(ctx, body)
        with self.store.lock:
            old = self._get(ctx.res, ctx.namespace, ctx.name)
            old_ext = self.external(ctx.res, old)
            if content_type == JSON_PATCH:
                patched = patch.json_patch(old_ext, body)
            elif content_type == MERGE_PATCH:
                if not isinstance(body, dict):
                    raise bad_request("json: cannot unmarshal array into Go value of type map[string]interface {}")
                patched = patch.merge_patch(old_ext, body)
            else:
                patched = patch.strategic_merge(old_ext, body, self.node_of(ctx.res))
            want_rv = (body.get("metadata") or {}).get("resourceVersion") if isinstance(body, dict) else None
            if want_rv and want_rv != old["metadata"]["resourceVersion"]:
                raise conflict(
                    ctx.res,
                    ctx.name,
                    "the object has been modified; please apply your changes to the latest version and try again",
                )
            obj = self.decode(ctx, patched)
            if obj["metadata"].get("name") != ctx.name:
                raise bad_request("metadata.name: Invalid value: the name of the object does not match the URL")
            return self._write_locked(ctx, old, obj)

    def apply(self, ctx, body):
        if not ctx.query.get("fieldManager"):
            raise bad_request("PATCH, application/apply-patch+yaml requests must specify a fieldManager")
        if ctx.param("force") not in (None, "true", "false"):
            raise bad_request("force parameter must be true or false")
        applied = self.decode(ctx, body)
        meta = applied["metadata"]
        if meta.get("name") not in (None, ctx.name):
            raise bad_request(
                f"the name of the object ({meta.get('name')}) does not match the name on the URL ({ctx.name})"
            )
        if ctx.res.namespaced and meta.get("namespace") not in (None, ctx.namespace):
            raise bad_request("the namespace of the provided object does not match the namespace sent on the request")
        with self.store.lock:
            self._require_namespace(ctx, creating=False)
            old = self.store.get(ctx.res.key, ctx.namespace if ctx.res.namespaced else "", ctx.name)
            if old is None and ctx.subresource:
                raise not_found(ctx.res, ctx.name)
            if old is None:
                self._require_namespace(ctx)
            want_rv = meta.get("resourceVersion")
            if want_rv and (old is None or want_rv != old["metadata"]["resourceVersion"]):
                raise conflict(
                    ctx.res,
                    ctx.name,
                    "the object has been modified; please apply your changes to the latest version and try again",
                )
            return self._apply_locked(ctx, old, applied)

    def _apply_locked(self, ctx, old, applied):
        res = ctx.res
        old_ext = self.external(res, old) if old is not None else None
        me = (ctx.manager, "Apply", ctx.subresource)
        view = self._owned_view(ctx, applied)
        view.setdefault("metadata", {}).update({"name": ctx.name})
        merged, owners = ssa.apply(old_ext, view, me, ctx.param("force") == "true", self.node_of(res))
        merged["apiVersion"], merged["kind"] = res.api_version, res.kind
        merged["metadata"]["name"] = ctx.name
        if res.namespaced:
            merged["metadata"]["namespace"] = ctx.namespace
        for base, _paths in owners:
            if base.get("manager") == me[0] and base.get("operation") == "Apply":
                base["apiVersion"] = res.api_version
        if old is None:
            internal = self.internal(res, merged)
            meta = internal["metadata"]
            for key in _SYSTEM_META:
                meta.pop(key, None)
            meta["uid"] = str(uuid.uuid4())
            meta["creationTimestamp"] = now_iso()
            if kinds.has_generation(internal):
                meta["generation"] = 1
            return self._commit(ctx, None, internal, owners, res.api_version)
        merged = self._merge_subresource_view(ctx, old_ext, merged) if ctx.subresource else merged
        if not ctx.subresource and "status" in res.subresources and "status" in old_ext:
            merged["status"] = copy.deepcopy(old_ext["status"])
        result = self._commit(ctx, old, self.internal(res, merged), owners, res.api_version)
        self._after_write(ctx, old, result)
        return result

    # ---- delete -----------------------------------------------------------------------------
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

    # ---- internal writes used by the controllers ----------------------------------------------
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


def _comparable(obj):
    out = dict(obj)
    meta = dict(out.get("metadata") or {})
    meta.pop("resourceVersion", None)
    meta["managedFields"] = [{k: v for k, v in e.items() if k != "time"} for e in meta.get("managedFields") or []]
    out["metadata"] = meta
    return out


def _success_status(res, obj):
    meta = obj["metadata"]
    return success_status(details={"name": meta["name"], "group": res.group, "kind": res.plural, "uid": meta["uid"]})


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


def _check_base64(res, data):
    for key, value in (data or {}).items():
        try:
            base64.b64decode(value or "", validate=True)
        except (ValueError, TypeError) as exc:
            raise bad_request(
                f'{res.kind} in version "{res.version}" cannot be handled as a {res.kind}: '
                f"illegal base64 data in data.{key}"
            ) from exc


def _parse_patch(content_type, raw):
    if content_type == APPLY_PATCH:
        return _yaml(raw)
    try:
        return json.loads(raw or b"null")
    except ValueError as exc:
        raise ApiError(HTTP_BAD_REQUEST, f"error decoding patch: {exc}") from exc


def _yaml(raw):
    text = (raw or b"").lstrip()
    if text[:1] == b"{":
        try:
            return json.loads(text)  # JSON is YAML: the common case, parsed fast
        except ValueError:
            pass
    try:
        body = yaml.load(raw or b"", Loader=_YAML_LOADER)
    except yaml.YAMLError as exc:
        raise ApiError(HTTP_BAD_REQUEST, f"error decoding YAML: {exc}") from exc
    if not isinstance(body, dict):
        raise ApiError(HTTP_BAD_REQUEST, "error decoding YAML: object expected")
    return body


__all__ = ["HTTP_INVALID", "Api", "Ctx"]
