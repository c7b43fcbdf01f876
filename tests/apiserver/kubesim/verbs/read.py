"""get and list (label and field selectors, limit/continue)."""

from __future__ import annotations

import base64
import json

from .. import selectors
from ..errors import HTTP_GONE, ApiError, bad_request


class ReadVerbs:
    """Mixed into Api."""

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
