"""PATCH: JSON, merge and strategic merge patches, and server-side apply."""

from __future__ import annotations

import copy
import json

import yaml

from .. import patch, ssa
from ..errors import HTTP_BAD_REQUEST, HTTP_UNSUPPORTED_MEDIA, ApiError, bad_request, not_found
from ..request import (
    APPLY_PATCH,
    APPLY_PATCH_CBOR,
    JSON_PATCH,
    MERGE_PATCH,
    PATCH_TYPES,
)

_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class PatchVerbs:
    """Mixed into Api."""

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
            self._check_version(ctx, want_rv, old)
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
            self._check_version(ctx, meta.get("resourceVersion"), old)
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
            self._stamp_new(internal)
            return self._commit(ctx, None, internal, owners, res.api_version)
        merged = self._merge_subresource_view(ctx, old_ext, merged) if ctx.subresource else merged
        if not ctx.subresource and "status" in res.subresources and "status" in old_ext:
            merged["status"] = copy.deepcopy(old_ext["status"])
        result = self._commit(ctx, old, self.internal(res, merged), owners, res.api_version)
        self._after_write(ctx, old, result)
        return result


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
