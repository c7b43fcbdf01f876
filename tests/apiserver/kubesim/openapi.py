"""OpenAPI v3 documents built from kubernetes-validate's definitions (kubectl reads them to learn that the
server validates fields itself, for `kubectl explain` and for client-side patch metadata).

/openapi/v2 is served by kube-apiserver as protobuf only; it is answered with 404 here and kubectl falls back
to v3.
"""

from __future__ import annotations

import hashlib
import json
import threading

from . import resources, schema
from .errors import HTTP_NOT_FOUND, ApiError

HTTP_OK = 200
_CACHE = {}
_LOCK = threading.Lock()
_SPECIAL = {
    schema.INT_OR_STRING: {"type": "string", "format": "int-or-string", "x-kubernetes-int-or-string": True},
    schema.QUANTITY: {"type": "string", "format": "quantity", "x-kubernetes-int-or-string": True},
}


def _convert(node):
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref":
                out[key] = "#/components/schemas/" + value.rsplit("/", 1)[-1]
            elif key == "type" and isinstance(value, list):
                kept = [v for v in value if v != "null"]
                out[key] = kept[0] if len(kept) == 1 else kept
            else:
                out[key] = _convert(value)
        return out
    if isinstance(node, list):
        return [_convert(v) for v in node]
    return node


def _closure(names):
    defs = schema.definitions()
    seen, todo = set(), list(names)
    while todo:
        name = todo.pop()
        if name in seen or name not in defs:
            continue
        seen.add(name)
        text = json.dumps(defs[name])
        todo.extend(part.split('"', 1)[0] for part in text.split('"$ref": "#/$defs/')[1:])
    return seen


_COMMON = ["dryRun", "fieldManager", "fieldValidation", "pretty"]


def _param(name, required=False, where="query"):
    return {"name": name, "in": where, "required": required, "schema": {"type": "string"}, "uniqueItems": True}


def _operation(res, action, sub="", params=()):
    kind = {"scale": ("autoscaling", "v1", "Scale")}.get(sub, (res.group, res.version, res.kind))
    ref = {"scale": "io.k8s.api.autoscaling.v1.Scale"}.get(sub, res.definition)
    body = {"content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}}
    op = {
        "operationId": f"{action}{res.kind}{sub.title()}",
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": {"group": kind[0], "version": kind[1], "kind": kind[2]},
        "parameters": [_param(p) for p in params],
        "responses": {"200": {"description": "OK", **body}},
    }
    if action in ("post", "put", "patch"):
        op["requestBody"] = (
            body
            if action != "patch"
            else {
                "content": {
                    t: {"schema": {"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Patch"}}
                    for t in (
                        "application/apply-patch+yaml",
                        "application/json-patch+json",
                        "application/merge-patch+json",
                        "application/strategic-merge-patch+json",
                    )
                }
            }
        )
    return op


def _paths(res):
    prefix = f"/api/{res.version}" if not res.group else f"/apis/{res.group}/{res.version}"
    base = f"{prefix}/namespaces/{{namespace}}/{res.plural}" if res.namespaced else f"{prefix}/{res.plural}"
    scope = [_param("namespace", True, "path")] if res.namespaced else []
    name = [*scope, _param("name", True, "path")]
    out = {
        base: {
            "parameters": scope,
            "get": _operation(res, "list", params=("labelSelector", "fieldSelector", "limit", "continue", "watch")),
            "post": _operation(res, "post", params=_COMMON),
        },
        f"{base}/{{name}}": {
            "parameters": name,
            "get": _operation(res, "get"),
            "put": _operation(res, "put", params=_COMMON),
            "patch": _operation(res, "patch", params=(*_COMMON, "force")),
            "delete": _operation(res, "delete", params=("dryRun", "gracePeriodSeconds", "propagationPolicy")),
        },
    }
    for sub in res.subresources:
        if sub in ("status", "scale"):
            out[f"{base}/{{name}}/{sub}"] = {
                "parameters": name,
                "get": _operation(res, "get", sub),
                "put": _operation(res, "put", sub, _COMMON),
                "patch": _operation(res, "patch", sub, (*_COMMON, "force")),
            }
    return out


def _document(group, version):
    table = resources.BY_GV[(group, version)]
    paths = {}
    for res in table.values():
        if "create" in res.verbs and res.verbs != ("create",):
            paths.update(_paths(res))
    wanted = {r.definition for r in table.values()} | {r.definition + "List" for r in table.values()}
    wanted |= {
        "io.k8s.api.autoscaling.v1.Scale",
        "io.k8s.apimachinery.pkg.apis.meta.v1.Patch",
        "io.k8s.apimachinery.pkg.apis.meta.v1.Status",
        "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
    }
    defs = schema.definitions()
    schemas = {}
    for name in sorted(_closure(wanted)):
        schemas[name] = _SPECIAL.get(name) or _convert(defs[name])
    schemas.setdefault("io.k8s.apimachinery.pkg.apis.meta.v1.Patch", {"type": "object"})
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.37.0-kubesim"},
        "paths": paths,
        "components": {"schemas": schemas},
    }


def _gv_path(group, version):
    return f"api/{version}" if not group else f"apis/{group}/{version}"


def _encoded(group, version):
    with _LOCK:
        if (group, version) not in _CACHE:
            data = json.dumps(_document(group, version), separators=(",", ":")).encode()
            _CACHE[(group, version)] = (data, hashlib.sha512(data).hexdigest().upper()[:64])
        return _CACHE[(group, version)]


def _root():
    paths = {}
    for group, version in resources.BY_GV:
        paths[_gv_path(group, version)] = {
            "serverRelativeURL": f"/openapi/v3/{_gv_path(group, version)}?hash={_stable_hash(group, version)}"
        }
    return {"paths": paths}


def _stable_hash(group, version):
    text = json.dumps(sorted(resources.BY_GV[(group, version)]))
    return hashlib.sha256(f"{group}/{version}/{text}/1.37.0".encode()).hexdigest().upper()


_BY_PATH = {f"/openapi/v3/{_gv_path(g, v)}": (g, v) for g, v in resources.BY_GV}


def serve(path, query):
    """(code, body) for a path under /openapi/."""
    del query
    if path == "/openapi/v3":
        return HTTP_OK, _root()
    key = _BY_PATH.get(path)
    if key is not None:
        return HTTP_OK, _encoded(*key)[0]
    raise ApiError(
        HTTP_NOT_FOUND,
        f"the server could not find the requested resource ({path}); /openapi/v2 is "
        "protobuf-only on kube-apiserver and is not served",
    )
