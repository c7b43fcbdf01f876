"""Subresources other than status: scale, eviction (PodDisruptionBudgets), binding, log, token."""

from __future__ import annotations

import copy
import json
import secrets

import yaml

from . import patch, resources, selectors
from .api import APPLY_PATCH, JSON_PATCH, MERGE_PATCH, STRATEGIC_PATCH, now_iso
from .errors import (
    HTTP_BAD_REQUEST,
    HTTP_INTERNAL,
    HTTP_INVALID,
    HTTP_METHOD_NOT_ALLOWED,
    HTTP_TOO_MANY,
    HTTP_UNSUPPORTED_MEDIA,
    ApiError,
    bad_request,
    conflict,
    success_status,
)
from .pdb import is_ready, pdb_status

HTTP_OK = 200
HTTP_CREATED = 201


def parse_yaml(raw):
    try:
        return yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise ValueError(str(exc)) from exc


def handle(api, ctx, method, raw, json_body):
    sub = ctx.subresource
    if sub == "scale" and method in ("GET", "PUT", "PATCH"):
        return _scale(api, ctx, method, raw, json_body)
    if sub == "eviction" and method == "POST":
        return HTTP_CREATED, evict(api, ctx, json_body(raw))
    if sub == "binding" and method == "POST":
        return HTTP_CREATED, _bind(api, ctx, json_body(raw))
    if sub == "log" and method == "GET":
        with api.store.lock:
            api._get(ctx.res, ctx.namespace, ctx.name)
        return HTTP_OK, b""
    if sub == "token" and method == "POST":
        with api.store.lock:
            api._get(ctx.res, ctx.namespace, ctx.name)
        body = json_body(raw)
        return HTTP_CREATED, {
            "kind": "TokenRequest",
            "apiVersion": "authentication.k8s.io/v1",
            "metadata": {"name": ctx.name, "namespace": ctx.namespace},
            "spec": body.get("spec") or {},
            "status": {"token": secrets.token_urlsafe(32), "expirationTimestamp": now_iso()},
        }
    raise ApiError(
        HTTP_METHOD_NOT_ALLOWED, f"the server does not allow this method on the requested resource ({method} {sub})"
    )


# ---- scale ------------------------------------------------------------------------------------


def scale_view(res, obj):
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    selector = spec.get("selector") or {}
    if res.kind == "ReplicationController":
        text = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
    else:
        text = selectors.selector_string(selector)
    meta = obj["metadata"]
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": meta["name"],
            "namespace": meta.get("namespace"),
            "uid": meta["uid"],
            "resourceVersion": meta["resourceVersion"],
            "creationTimestamp": meta["creationTimestamp"],
        },
        "spec": {"replicas": spec.get("replicas", 0)},
        "status": {"replicas": status.get("replicas", 0), "selector": text},
    }


def _scale(api, ctx, method, raw, json_body):
    with api.store.lock:
        old = api._get(ctx.res, ctx.namespace, ctx.name)
        current = scale_view(ctx.res, old)
        if method == "GET":
            return HTTP_OK, current
        ctype = "PUT" if method == "PUT" else ctx.content_type
        wanted = _scale_body(current, ctype, json_body(raw) if method == "PUT" else raw)
        replicas = (wanted.get("spec") or {}).get("replicas")
        want_rv = (wanted.get("metadata") or {}).get("resourceVersion")
        if want_rv and want_rv != old["metadata"]["resourceVersion"]:
            raise conflict(
                ctx.res,
                ctx.name,
                "the object has been modified; please apply your changes to the latest version and try again",
            )
        if not isinstance(replicas, int) or isinstance(replicas, bool):
            raise ApiError(
                HTTP_INVALID,
                f'Scale.autoscaling "{ctx.name}" is invalid: spec.replicas: Invalid value: '
                f"{json.dumps(replicas)}: must be an integer",
                reason="Invalid",
            )
        if replicas < 0:
            raise ApiError(
                HTTP_INVALID,
                f'Scale.autoscaling "{ctx.name}" is invalid: spec.replicas: Invalid value: '
                f"{replicas}: must be greater than or equal to 0",
                reason="Invalid",
                details={
                    "name": ctx.name,
                    "group": "autoscaling",
                    "kind": "Scale",
                    "causes": [
                        {
                            "reason": "FieldValueInvalid",
                            "field": "spec.replicas",
                            # NewInvalid's cause message is the field error's ErrorBody: "Invalid value: ...: ..."
                            "message": f"Invalid value: {replicas}: must be greater than or equal to 0",
                        }
                    ],
                },
            )
        new = copy.deepcopy(api.external(ctx.res, old))
        new["spec"]["replicas"] = replicas
        operation = "Apply" if ctype == APPLY_PATCH else "Update"
        result = api.write_subresource(ctx, old, new, operation)
        return HTTP_OK, scale_view(ctx.res, result)


def _scale_body(current, ctype, body):
    if ctype == "PUT":
        return body
    if ctype == JSON_PATCH:
        return patch.json_patch(current, json.loads(body))
    if ctype in (MERGE_PATCH, STRATEGIC_PATCH):
        return patch.merge_patch(current, json.loads(body))
    if ctype == APPLY_PATCH:
        return patch.merge_patch(current, parse_yaml(body))
    raise ApiError(HTTP_UNSUPPORTED_MEDIA, f"the body of the request was in an unknown format ({ctype})")


# ---- binding ----------------------------------------------------------------------------------


def _bind(api, ctx, body):
    target = (body or {}).get("target") or {}
    if not target.get("name"):
        raise bad_request("Binding target name is required")
    name = ctx.name or (body.get("metadata") or {}).get("name")
    pods = resources.core("pods")
    with api.store.lock:
        pod = api._get(pods, ctx.namespace, name)
        if (pod.get("spec") or {}).get("nodeName"):
            raise conflict(pods, name, f'pod {name} is already assigned to node "{pod["spec"]["nodeName"]}"')
        new = copy.deepcopy(pod)
        new["spec"]["nodeName"] = target["name"]
        api.system_write("/pods", new, manager="kube-scheduler", subresource="binding")
    return success_status(HTTP_CREATED)  # the create handler fills in Code 201 of a Status without one


# ---- eviction ---------------------------------------------------------------------------------


def _matching_pdbs(api, pod):
    labels = pod["metadata"].get("labels") or {}
    out = []
    for pdb in api.store.items("policy/poddisruptionbudgets", pod["metadata"]["namespace"]):
        reqs = selectors.from_label_selector((pdb.get("spec") or {}).get("selector"))
        if reqs is not None and reqs and selectors.matches(labels, reqs):
            out.append(pdb)
    return out


def _too_many(message):
    return ApiError(
        HTTP_TOO_MANY,
        "Cannot evict pod as it would violate the pod's disruption budget.",
        details={"causes": [{"reason": "DisruptionBudget", "message": message}]},
    )


def _check_budget(api, pod, ctx):
    pdbs = _matching_pdbs(api, pod)
    if len(pdbs) > 1:
        raise ApiError(
            HTTP_INTERNAL,
            "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.",
        )
    if not pdbs:
        return None
    pdb = pdbs[0]
    status = pdb_status(api, pdb)
    name = pdb["metadata"]["name"]
    healthy = is_ready(pod)
    if not healthy and status["currentHealthy"] >= status["desiredHealthy"] and status["desiredHealthy"] >= 0:
        return None  # IfHealthyBudget: unhealthy pods may go while the budget holds
    if status["disruptionsAllowed"] <= 0:
        raise _too_many(
            f"The disruption budget {name} needs {status['desiredHealthy']} healthy pods "
            f"and has {status['currentHealthy']} currently"
        )
    if ctx.dry_run:
        return None
    new = copy.deepcopy(pdb)
    status["disruptionsAllowed"] -= 1
    status.setdefault("disruptedPods", {})[pod["metadata"]["name"]] = now_iso()
    new["status"] = status
    api.system_write("policy/poddisruptionbudgets", new, manager="kube-apiserver")
    return None


def evict(api, ctx, body):
    if not isinstance(body, dict) or body.get("kind") not in (None, "Eviction"):
        raise bad_request("the body of an eviction must be a policy/v1 Eviction")
    if (body.get("metadata") or {}).get("name") not in (None, ctx.name):
        raise ApiError(HTTP_BAD_REQUEST, "name in URL does not match name in Eviction object")
    options = body.get("deleteOptions") or {}
    if options.get("dryRun") == ["All"]:
        ctx.query["dryRun"] = "All"
    pods = resources.core("pods")
    with api.store.lock:
        pod = api._get(pods, ctx.namespace, ctx.name)
        terminal = (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed", "Pending")
        if not terminal and not pod["metadata"].get("deletionTimestamp"):
            _check_budget(api, pod, ctx)
        delete_ctx = copy.copy(ctx)
        delete_ctx.res, delete_ctx.subresource = pods, ""
        api.delete_locked(delete_ctx, pod, options)
    return success_status(HTTP_CREATED)  # the create handler fills in Code 201 of a Status without one
