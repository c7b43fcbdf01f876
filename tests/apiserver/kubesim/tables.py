"""Server-side printing (meta.k8s.io/v1 Table) as kubectl asks for it with `Accept: ...;as=Table`: Name, the
kind's own columns (its file under kinds/), Age."""

from __future__ import annotations

from datetime import datetime, timezone

from . import kinds

_TWO_MINUTES = 120


def _age(obj):
    created = obj.get("metadata", {}).get("creationTimestamp")
    if not created:
        return "<unknown>"
    then = datetime.strptime(created, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    seconds = int((datetime.now(timezone.utc) - then).total_seconds())
    return f"{seconds}s" if seconds < _TWO_MINUTES else f"{seconds // 60}m"


def to_table(res, body):
    items = body.get("items") if body.get("kind", "").endswith("List") else [body]
    kind = kinds.of(res.kind)
    extra = kind.columns
    columns = [{"name": "Name", "type": "string", "format": "name", "description": "Name", "priority": 0}]
    columns += [{"name": n, "type": t, "format": "", "description": n, "priority": 0} for n, t in extra]
    columns.append({"name": "Age", "type": "string", "format": "", "description": "Age", "priority": 0})
    rows = []
    for item in items:
        meta = item.get("metadata") or {}
        partial = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": meta}
        rows.append({"cells": [meta.get("name"), *kind.cells(item), _age(item)], "object": partial})
    out = {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {}, "columnDefinitions": columns, "rows": rows}
    list_meta = body.get("metadata") if items is not None and body.get("kind", "").endswith("List") else None
    if list_meta:
        out["metadata"] = {k: v for k, v in list_meta.items() if k in ("resourceVersion", "continue")}
    return out
