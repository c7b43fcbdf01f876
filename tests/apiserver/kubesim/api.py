"""API semantics independent of HTTP: create/get/list/update/patch/delete, admission, ownership."""

from __future__ import annotations

import base64
import json
import threading
import time

from . import kinds, resources, schema
from .allocators import Allocator
from .errors import HTTP_FORBIDDEN, HTTP_INVALID, ApiError, bad_request, conflict, not_found
from .faults import Faults
from .request import APPLY_PATCH, JSON_PATCH, MERGE_PATCH, STRATEGIC_PATCH, Ctx, now_iso
from .store import Store
from .verbs.admission import Admission
from .verbs.delete import DeleteVerbs
from .verbs.patch import PatchVerbs
from .verbs.read import ReadVerbs
from .verbs.system import SystemWrites
from .verbs.write import WriteVerbs


class Api(ReadVerbs, WriteVerbs, PatchVerbs, DeleteVerbs, SystemWrites, Admission):
    """API semantics independent of HTTP. The verbs live in verbs/ (one file each: read, write, patch, delete, the
    components' system writes, and the admission every write goes through); this class holds the store and the
    helpers they share."""

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

    @staticmethod
    def _check_version(ctx, want_rv, old):
        """A write naming metadata.resourceVersion must name the stored one (409 Conflict otherwise)."""
        if want_rv and (old is None or want_rv != old["metadata"]["resourceVersion"]):
            raise conflict(
                ctx.res,
                ctx.name,
                "the object has been modified; please apply your changes to the latest version and try again",
            )

    def node_of(self, res):
        return {"$ref": "#/$defs/" + res.definition} if schema.root(res.definition) else None


def _check_base64(res, data):
    for key, value in (data or {}).items():
        try:
            base64.b64decode(value or "", validate=True)
        except (ValueError, TypeError) as exc:
            raise bad_request(
                f'{res.kind} in version "{res.version}" cannot be handled as a {res.kind}: '
                f"illegal base64 data in data.{key}"
            ) from exc


__all__ = ["APPLY_PATCH", "HTTP_INVALID", "JSON_PATCH", "MERGE_PATCH", "STRATEGIC_PATCH", "Api", "Ctx", "now_iso"]
