"""Watch streams: resume from a resourceVersion, initial events, bookmarks, timeouts, 410 when too old."""

from __future__ import annotations

import json
import time
from types import SimpleNamespace

from . import selectors, tables
from .errors import HTTP_GONE, ApiError, bad_request, invalid
from .validation import forbidden

_DEFAULT_TIMEOUT = 1800
_BOOKMARK_EVERY = 1.0
_INITIAL_END = "k8s.io/initial-events-end"


class _Filter:
    def __init__(self, api, ctx):
        self.api, self.res = api, ctx.res
        self.namespace = ctx.namespace if ctx.res.namespaced else None
        self.labels = selectors.parse_label_selector(ctx.param("labelSelector", ""))
        self.fields = selectors.parse_field_selector(ctx.param("fieldSelector", ""), ctx.res)
        if ctx.name:
            self.fields.append((lambda o: o["metadata"].get("name"), "=", ctx.name))
        self.visible = set()

    def matches(self, obj):
        meta = obj["metadata"]
        if self.namespace is not None and meta.get("namespace") != self.namespace:
            return False
        return selectors.matches(meta.get("labels"), self.labels) and selectors.field_matches(obj, self.fields)

    def event(self, kind, obj):
        """The event a client of this watch sees (None when filtered out)."""
        ident = (obj["metadata"].get("namespace"), obj["metadata"]["name"])
        matched = self.matches(obj)
        if kind == "DELETED":
            if ident in self.visible:
                self.visible.discard(ident)
                return kind, obj
            return None
        if matched:
            out = kind if kind == "ADDED" or ident in self.visible else "ADDED"
            self.visible.add(ident)
            return out, obj
        if ident in self.visible:
            self.visible.discard(ident)
            return "DELETED", obj
        return None


_LIST_OPTIONS = SimpleNamespace(kind="ListOptions", group="meta.k8s.io")


def _watch_list_errors(ctx, watch_list):
    """Field errors of a watch's sendInitialEvents/resourceVersionMatch, as the apiserver's
    validateWatchOptions (apiserver pkg/apis/meta/internalversion/validation) finds them; `watch_list` is the
    WatchList feature gate (--feature-gates WatchList=false models a server without streaming lists)."""
    match, initial = ctx.param("resourceVersionMatch") or "", ctx.param("sendInitialEvents")
    causes = []
    if initial is not None:
        if match != "NotOlderThan":
            causes.append(
                forbidden(
                    "resourceVersionMatch", "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"
                )
            )
        if not watch_list:
            causes.append(
                forbidden(
                    "sendInitialEvents",
                    "sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled",
                )
            )
    elif match:
        causes.append(
            forbidden(
                "resourceVersionMatch",
                "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided",
            )
        )
    return causes


def _params(ctx, watch_list=True):
    try:
        timeout = int(ctx.param("timeoutSeconds") or _DEFAULT_TIMEOUT)
    except ValueError as exc:
        raise bad_request(f"invalid timeoutSeconds: {exc}") from exc
    rv = ctx.param("resourceVersion") or ""
    if rv and not rv.isdigit():
        raise bad_request(f"invalid resource version: {rv}")
    causes = _watch_list_errors(ctx, watch_list)
    if causes:
        raise invalid(_LIST_OPTIONS, "", causes)
    initial = ctx.param("sendInitialEvents") == "true"
    return timeout, rv, initial, ctx.param("allowWatchBookmarks") == "true"


class _Stream:
    def __init__(self, handler, api, res, table=False):
        self.handler, self.api, self.res = handler, api, res
        self.table, self._columns_sent = table, False

    def start(self):
        handler = self.handler
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.send_header("Cache-Control", "no-cache, private")
        handler.end_headers()

    def send(self, kind, obj):
        if kind not in {"ERROR", "BOOKMARK"}:
            obj = self.api.external(self.res, obj)
            if self.table:
                obj = tables.to_table(self.res, obj)
                if self._columns_sent:
                    obj["columnDefinitions"] = []
                self._columns_sent = True
        line = json.dumps({"type": kind, "object": obj}, separators=(",", ":")).encode() + b"\n"
        self.handler.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
        self.handler.wfile.flush()

    def bookmark(self, rv, initial_end=False):
        meta = {"resourceVersion": str(rv)}
        if initial_end:
            meta["annotations"] = {_INITIAL_END: "true"}
        self.send("BOOKMARK", {"kind": self.res.kind, "apiVersion": self.res.api_version, "metadata": meta})

    def end(self):
        self.handler.wfile.write(b"0\r\n\r\n")
        self.handler.wfile.flush()


def serve_watch(handler, api, ctx, table=False):
    timeout, rv, initial, bookmarks = _params(ctx, api.options.get("watch_list", True))
    flt = _Filter(api, ctx)
    store = api.store
    stream = _Stream(handler, api, ctx.res, table)
    with store.lock:
        current = store.rv
        too_old = rv not in ("", "0") and int(rv) < store.oldest_rv()
        if rv in ("", "0") or initial:
            snapshot = store.items(ctx.res.key, flt.namespace)
            position = store.end()
        else:
            snapshot = []
            position = store.position_after(int(rv))
            flt.visible = {
                (o["metadata"].get("namespace"), o["metadata"]["name"])
                for o in store.items(ctx.res.key, flt.namespace)
                if flt.matches(o)
            }
    stream.start()
    if too_old:
        error = ApiError(HTTP_GONE, f"too old resource version: {rv} ({store.oldest_rv()})", reason="Expired")
        stream.send("ERROR", error.status())
        stream.end()
        return
    for obj in snapshot:
        out = flt.event("ADDED", obj)
        if out:
            stream.send(*out)
    if initial and bookmarks:
        stream.bookmark(current, initial_end=True)
    _follow(stream, (ctx.res.key, flt, position), (timeout, bookmarks, handler.server.stopping))
    stream.end()


def _follow(stream, cursor, settings):
    key, flt, position = cursor
    store = stream.api.store
    timeout, bookmarks, stopping = settings
    deadline = time.monotonic() + timeout
    last_sent = time.monotonic()
    while not stopping.is_set():
        left = deadline - time.monotonic()
        if left <= 0:
            return
        with store.lock:
            events, position = store.events_from(position)
            if not events:
                store.changed.wait(min(left, _BOOKMARK_EVERY))
                events, position = store.events_from(position)
            rv = store.rv
        for _rv, event_key, kind, obj in events:
            if event_key != key:
                continue
            out = flt.event(kind, obj)
            if out:
                stream.send(*out)
                last_sent = time.monotonic()
        if bookmarks and time.monotonic() - last_sent >= _BOOKMARK_EVERY:
            stream.bookmark(rv)
            last_sent = time.monotonic()
