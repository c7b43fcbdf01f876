# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Logic of kubeforge.cluster.scale and kubeforge.cluster.rollout."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from ansible_collections.kubeforge.cluster.plugins.module_utils.args import TARGET_ARG_SPEC, merge_specs
from ansible_collections.kubeforge.cluster.plugins.module_utils.client import (
    JSON_PATCH,
    MERGE_PATCH,
    STRATEGIC_PATCH,
    api_path,
    default_namespace,
    get_object,
    resource_path,
)
from ansible_collections.kubeforge.cluster.plugins.module_utils.discovery import Discovery
from ansible_collections.kubeforge.cluster.plugins.module_utils.errors import (
    HTTP_CONFLICT,
    KubeforgeError,
    object_ref,
)
from ansible_collections.kubeforge.cluster.plugins.module_utils.manifests import strip_noise, to_yaml
from ansible_collections.kubeforge.cluster.plugins.module_utils.waiters import (
    label_selector_query,
    readiness,
    wait_for,
)

if TYPE_CHECKING:
    from ansible_collections.kubeforge.cluster.plugins.module_utils.client import ApiClient

SCALE_ARGS = merge_specs(
    TARGET_ARG_SPEC,
    namespace={"type": "str"},
    replicas={"type": "int", "required": True},
    current_replicas={"type": "int"},
)

ROLLOUT_ARGS = {
    "name": {"type": "str", "required": True},
    "kind": {"type": "str", "default": "Deployment", "choices": ["Deployment", "DaemonSet", "StatefulSet"]},
    "namespace": {"type": "str"},
    "action": {"type": "str", "default": "status", "choices": ["status", "restart", "undo", "history"]},
    "to_revision": {"type": "int", "default": 0},
}

_REVISION = "deployment.kubernetes.io/revision"
_CHANGE_CAUSE = "kubernetes.io/change-cause"
_RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
_POD_TEMPLATE_HASH = "pod-template-hash"


def _target(module, client, api_version):
    params = module.params
    resource = Discovery(client).resolve(api_version, params["kind"])
    namespace = default_namespace(client, params.get("namespace")) if resource.namespaced else None
    return resource, namespace, get_object(client, resource, params["name"], namespace)


def _wait_ready(module, client, resource, namespace):
    params = module.params
    if params.get("wait") and not module.check_mode:
        return wait_for(client, [(resource, params["name"], namespace)], params["wait_timeout"], params["wait_sleep"])
    return None


def run_scale(module: Any, client: ApiClient) -> dict:
    """Set replicas through the scale subresource (optionally only when the current count matches)."""
    params = module.params
    resource, namespace, _live = _target(module, client, params["api_version"])
    ref = object_ref(resource.kind, namespace, params["name"])
    if "scale" not in resource.subresources:
        raise KubeforgeError(f"{resource.kind} has no scale subresource (kind)", ref=ref)
    path = resource_path(resource, params["name"], namespace, "scale")
    scale = client.request("GET", path)
    current = (scale.get("spec") or {}).get("replicas", 0)
    if params.get("current_replicas") is not None and params["current_replicas"] != current:
        raise KubeforgeError(
            f"current_replicas is {params['current_replicas']} but the live object has {current} replicas; not scaled",
            ref=ref,
        )
    result = {"changed": current != params["replicas"], "replicas": params["replicas"], "previous_replicas": current}
    if module._diff:
        result["diff"] = {
            "before_header": ref,
            "after_header": ref,
            "before": f"replicas: {current}\n",
            "after": f"replicas: {params['replicas']}\n",
        }
    if result["changed"]:
        # PUT with the resourceVersion just read: a concurrent change fails with a conflict instead of being lost.
        body = dict(scale, spec=dict(scale.get("spec") or {}, replicas=params["replicas"]))
        query = {"dryRun": "All"} if module.check_mode else None
        try:
            client.request("PUT", path, body=body, query=query)
        except KubeforgeError as exc:
            if exc.status == HTTP_CONFLICT:
                exc.msg = "the replicas changed while scaling (conflict); run again"
            raise exc.with_ref(ref) from None
    _wait_ready(module, client, resource, namespace)
    return result


def _owned(client, resource_name, owner, namespace):
    """Children of ``owner`` found through its selector: ReplicaSets or ControllerRevisions."""
    selector = label_selector_query((owner.get("spec") or {}).get("selector"))
    items, _page = client.list_all(api_path("apps/v1", resource_name, namespace), {"labelSelector": selector})
    uid = owner["metadata"]["uid"]
    return [
        i for i in items if any(o.get("uid") == uid for o in (i.get("metadata") or {}).get("ownerReferences") or [])
    ]


def _history(client, resource, live, namespace):
    """Revisions of a workload, oldest first: ``{revision, change_cause, name, template, patch}``.

    ``patch`` is the PATCH (body, content type) that puts ``template`` back, as kubectl rolls back: the
    ReplicaSet's template (without its pod-template-hash label) replacing the Deployment's whole template (JSON
    patch), the ControllerRevision's ``data`` (a template marked ``$patch: replace``) as a strategic merge patch for
    a DaemonSet or StatefulSet.
    """
    entries = []
    if resource.kind == "Deployment":
        for rs in _owned(client, "replicasets", live, namespace):
            annotations = rs["metadata"].get("annotations") or {}
            if _REVISION not in annotations:
                continue
            template = _template_without_hash((rs.get("spec") or {}).get("template"))
            entries.append(
                _revision(int(annotations[_REVISION]), rs, template, (_replace_template(template), JSON_PATCH))
            )
    else:
        for cr in _owned(client, "controllerrevisions", live, namespace):
            data = cr.get("data") or {}
            stored = ((data.get("spec") or {}).get("template")) or {}
            template = {k: v for k, v in stored.items() if k != "$patch"}
            entries.append(_revision(int(cr.get("revision") or 0), cr, template, (data, STRATEGIC_PATCH)))
    return sorted(entries, key=lambda e: e["revision"])


def _replace_template(template):
    return [{"op": "replace", "path": "/spec/template", "value": template}]


def _revision(number, owned, template, patch):
    return {
        "revision": number,
        "change_cause": (owned["metadata"].get("annotations") or {}).get(_CHANGE_CAUSE),
        "name": owned["metadata"]["name"],
        "template": template,
        "patch": patch,
    }


def _template_without_hash(template):
    template = dict(template or {})
    meta = dict(template.get("metadata") or {})
    labels = {k: v for k, v in (meta.get("labels") or {}).items() if k != _POD_TEMPLATE_HASH}
    meta["labels"] = labels
    template["metadata"] = meta
    return template


def _current_revision(resource, live, history):
    if resource.kind == "Deployment":
        return int(((live.get("metadata") or {}).get("annotations") or {}).get(_REVISION, 0))
    # The DaemonSet and StatefulSet controllers renumber the revision they run to the highest (kubectl relies on it).
    return history[-1]["revision"] if history else 0


def _undo(client, resource, live, namespace, to_revision):
    """The revision to go back to and the PATCH (body, content type) to send; None when the live template is it."""
    ref = object_ref(resource.kind, namespace, live["metadata"]["name"])
    history = _history(client, resource, live, namespace)
    if to_revision:
        target = next((e for e in history if e["revision"] == to_revision), None)
        if target is None:
            known = ", ".join(str(e["revision"]) for e in history) or "none"
            raise KubeforgeError(f"revision {to_revision} not found (to_revision); known revisions: {known}", ref=ref)
    else:
        current = _current_revision(resource, live, history)
        older = [e for e in history if e["revision"] < current]
        if not older:
            raise KubeforgeError("no previous revision to roll back to (to_revision)", ref=ref)
        target = older[-1]
    if target["template"] == (live.get("spec") or {}).get("template"):
        return None, target["revision"]
    return target["patch"], target["revision"]


def run_rollout(module: Any, client: ApiClient) -> dict:
    params = module.params
    resource, namespace, live = _target(module, client, "apps/v1")
    ref = object_ref(resource.kind, namespace, params["name"])
    action = params["action"]
    result = {"changed": False}
    if action == "history":
        history = _history(client, resource, live, namespace)
        result["revisions"] = [{k: e[k] for k in ("revision", "change_cause", "name")} for e in history]
        return result
    patch = None
    if action == "restart":
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        patch = ({"spec": {"template": {"metadata": {"annotations": {_RESTARTED_AT: now}}}}}, MERGE_PATCH)
    elif action == "undo":
        patch, result["revision"] = _undo(client, resource, live, namespace, params["to_revision"])
    if patch is not None:
        query = {"dryRun": "All"} if module.check_mode else None
        try:
            after = client.request(
                "PATCH",
                resource_path(resource, params["name"], namespace),
                body=patch[0],
                query=query,
                content_type=patch[1],
            )
        except KubeforgeError as exc:
            raise exc.with_ref(ref) from None
        result["changed"] = True
        if module._diff:
            result["diff"] = {
                "before_header": ref,
                "after_header": ref,
                "before": to_yaml((strip_noise(live).get("spec") or {}).get("template")),
                "after": to_yaml((strip_noise(after).get("spec") or {}).get("template")),
            }
        live = after
    final = _wait_ready(module, client, resource, namespace)
    if final:
        live = next(iter(final.values()))
    ready, reason = readiness(resource, live, client)
    result.update({"ready": ready, "status": reason})
    return result
