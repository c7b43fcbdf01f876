"""Server-side printing (meta.k8s.io/v1 Table) as kubectl asks for it with `Accept: ...;as=Table`."""

from __future__ import annotations

from datetime import datetime, timezone

_TWO_MINUTES = 120
_COLUMNS = {
    "Pod": [("Ready", "string"), ("Status", "string"), ("Restarts", "integer"), ("Node", "string")],
    "Deployment": [("Ready", "string"), ("Up-to-date", "integer"), ("Available", "integer")],
    "ReplicaSet": [("Desired", "integer"), ("Current", "integer"), ("Ready", "integer")],
    "Node": [("Status", "string"), ("Roles", "string"), ("Version", "string")],
    "Service": [("Type", "string"), ("Cluster-IP", "string"), ("Ports", "string")],
    "Namespace": [("Status", "string")],
    "APIService": [("Service", "string"), ("Available", "string")],
}


def _age(obj):
    created = obj.get("metadata", {}).get("creationTimestamp")
    if not created:
        return "<unknown>"
    then = datetime.strptime(created, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    seconds = int((datetime.now(timezone.utc) - then).total_seconds())
    return f"{seconds}s" if seconds < _TWO_MINUTES else f"{seconds // 60}m"


def _pod(obj):
    statuses = (obj.get("status") or {}).get("containerStatuses") or []
    ready = sum(1 for s in statuses if s.get("ready"))
    total = len((obj.get("spec") or {}).get("containers") or [])
    phase = "Terminating" if obj["metadata"].get("deletionTimestamp") else (obj.get("status") or {}).get("phase")
    return [
        f"{ready}/{total}",
        phase,
        sum(s.get("restartCount", 0) for s in statuses),
        (obj.get("spec") or {}).get("nodeName") or "<none>",
    ]


def _deployment(obj):
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    return [
        f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 0)}",
        status.get("updatedReplicas", 0),
        status.get("availableReplicas", 0),
    ]


def _replicaset(obj):
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    return [spec.get("replicas", 0), status.get("replicas", 0), status.get("readyReplicas", 0)]


def _node(obj):
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])
    text = ("Ready" if ready else "NotReady") + (",SchedulingDisabled" if spec.get("unschedulable") else "")
    return [text, "<none>", (status.get("nodeInfo") or {}).get("kubeletVersion", "")]


def _service(obj):
    spec = obj.get("spec") or {}
    ports = ",".join(f"{p.get('port')}/{p.get('protocol', 'TCP')}" for p in spec.get("ports") or [])
    return [spec.get("type"), spec.get("clusterIP"), ports or "<none>"]


def _apiservice(obj):
    ref = (obj.get("spec") or {}).get("service")
    available = next(
        (c for c in (obj.get("status") or {}).get("conditions") or [] if c.get("type") == "Available"), None
    )
    if available is None:
        text = "Unknown"
    elif available.get("status") == "True":
        text = "True"
    else:
        text = f"{available.get('status')} ({available.get('reason')})"
    return [f"{ref.get('namespace')}/{ref.get('name')}" if ref else "Local", text]


_CELLS = {
    "Pod": _pod,
    "Deployment": _deployment,
    "ReplicaSet": _replicaset,
    "Node": _node,
    "Service": _service,
    "Namespace": lambda o: [(o.get("status") or {}).get("phase")],
    "APIService": _apiservice,
}


def _cells(kind, obj):
    maker = _CELLS.get(kind)
    return maker(obj) if maker else []


def to_table(res, body):
    items = body.get("items") if body.get("kind", "").endswith("List") else [body]
    extra = _COLUMNS.get(res.kind, [])
    columns = [{"name": "Name", "type": "string", "format": "name", "description": "Name", "priority": 0}]
    columns += [{"name": n, "type": t, "format": "", "description": n, "priority": 0} for n, t in extra]
    columns.append({"name": "Age", "type": "string", "format": "", "description": "Age", "priority": 0})
    rows = []
    for item in items:
        meta = item.get("metadata") or {}
        partial = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": meta}
        rows.append({"cells": [meta.get("name"), *_cells(res.kind, item), _age(item)], "object": partial})
    out = {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {}, "columnDefinitions": columns, "rows": rows}
    list_meta = body.get("metadata") if items is not None and body.get("kind", "").endswith("List") else None
    if list_meta:
        out["metadata"] = {k: v for k, v in list_meta.items() if k in ("resourceVersion", "continue")}
    return out
