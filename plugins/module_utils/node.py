# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Node operations: cordon and uncordon, labels and taints, and a drain (drain.py).

Layers: node selection and the node patch (labels, taints, ``spec.unschedulable``) here; pod classification and
the drain loop in drain.py. ``run_node`` is the logic of the ``kubeforge.cluster.node`` module.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ansible_collections.kubeforge.cluster.plugins.module_utils.client import MERGE_PATCH, api_path, get_or_none
from ansible_collections.kubeforge.cluster.plugins.module_utils.discovery import Resource
from ansible_collections.kubeforge.cluster.plugins.module_utils.drain import (
    DRAIN_ARG_SPEC,
    DRAIN_DEFAULTS,
    Drainer,
    drain_node,
    node_ref,
)
from ansible_collections.kubeforge.cluster.plugins.module_utils.errors import (
    HTTP_CONFLICT,
    HTTP_NOT_FOUND,
    KubeforgeError,
)
from ansible_collections.kubeforge.cluster.plugins.module_utils.rollback import Undo
from ansible_collections.kubeforge.cluster.plugins.module_utils.waiters import wait_for

if TYPE_CHECKING:
    from ansible_collections.kubeforge.cluster.plugins.module_utils.client import ApiClient

NODES_PATH = api_path("v1", "nodes")
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
SYSTEM_TAINT_PREFIX = "node.kubernetes.io/"
_NODE_RESOURCE = Resource("", "v1", {"kind": "Node", "name": "nodes", "namespaced": False}, ["status"])
_PATCH_ATTEMPTS = 5

# Options of kubeforge.cluster.node besides the connection (documented in plugins/modules/node.yml).
NODE_ARG_SPEC = {
    "name": {"type": "list", "elements": "str", "aliases": ["nodes"]},
    "label_selector": {"type": "str"},
    "all_nodes": {"type": "bool"},
    "state": {"type": "str", "default": "present", "choices": ["present", "cordoned", "drained", "uncordoned"]},
    "labels": {"type": "dict"},
    "taints": {
        "type": "list",
        "elements": "dict",
        "options": {
            "key": {"type": "str", "required": True, "no_log": False},
            "value": {"type": "str"},
            "effect": {"type": "str", "choices": list(TAINT_EFFECTS)},
            "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
        },
    },
    **DRAIN_ARG_SPEC,
    "wait_ready": {"type": "bool", "default": False},
}


# --- paths and references ----------------------------------------------------------------------------
def node_path(name: str) -> str:
    return api_path("v1", "nodes", name=name)


# --- node selection ----------------------------------------------------------------------------------
def select_nodes(
    client: ApiClient, names: list | None = None, label_selector: str | None = None, all_nodes: bool = False
) -> list:
    """The live Node objects named by ``names``, or matching ``label_selector``, or all of them."""
    if names:
        results = client.map(lambda name: get_or_none(client, node_path(name)), names)
        for name, result in zip(names, results):
            if isinstance(result, KubeforgeError):
                raise result.with_ref(node_ref(name))
            if result is None:
                raise KubeforgeError("node not found", status=HTTP_NOT_FOUND, ref=node_ref(name))
        return results
    if label_selector is None and not all_nodes:
        raise KubeforgeError("no nodes selected: set name, label_selector, or all_nodes=true")
    items, _page = client.list_all(NODES_PATH, {"labelSelector": label_selector or None})
    return sorted(items, key=lambda node: node["metadata"]["name"])


# --- labels, taints and schedulability ---------------------------------------------------------------
def node_view(node: dict) -> dict:
    """The parts of a Node this module manages, as shown in results and diffs."""
    return {
        "name": node["metadata"]["name"],
        "unschedulable": bool((node.get("spec") or {}).get("unschedulable")),
        "labels": dict(node["metadata"].get("labels") or {}),
        "taints": [dict(taint) for taint in (node.get("spec") or {}).get("taints") or []],
    }


def check_taints(taints: list | None) -> None:
    """Validate the ``taints`` option; raises naming the entry and the field."""
    for index, taint in enumerate(taints or []):
        where = f"taints[{index}]"
        if not taint.get("key"):
            raise KubeforgeError(f"{where}.key is required")
        if taint.get("effect") not in (*TAINT_EFFECTS, None):
            raise KubeforgeError(f"{where}.effect must be one of {', '.join(TAINT_EFFECTS)}")
        if taint.get("state", "present") == "present" and not taint.get("effect"):
            raise KubeforgeError(f"{where}.effect is required to add taint {taint['key']}")


def desired_taints(current: list, wanted: list | None) -> list:
    """``current`` taints with the ``wanted`` changes: present taints set by (key, effect), absent ones removed.

    A taint to remove without an effect removes the key with every effect (like ``kubectl taint node key-``).
    """
    result = [dict(taint) for taint in current or []]
    for item in wanted or []:
        key, effect = item["key"], item.get("effect")
        if item.get("state", "present") == "absent":
            result = [t for t in result if not (t.get("key") == key and (effect is None or t.get("effect") == effect))]
            continue
        taint = {"key": key, "effect": effect}
        if item.get("value") not in (None, ""):
            taint["value"] = str(item["value"])
        for index, existing in enumerate(result):
            if existing.get("key") == key and existing.get("effect") == effect:
                if existing.get("value") != taint.get("value"):
                    result[index] = taint
                break
        else:
            result.append(taint)
    return result


def node_patch(
    node: dict, unschedulable: bool | None = None, labels: dict | None = None, taints: list | None = None
) -> dict | None:
    """JSON merge patch that gives ``node`` the wanted state, or ``None`` when it already has it.

    ``unschedulable`` is True/False/None (leave alone); ``labels`` maps keys to a value or ``None`` (remove);
    ``taints`` is the module's list of taint changes. A taint change replaces the whole list, so the patch then
    carries the node's resourceVersion and a concurrent change makes it fail with 409 instead of being lost.
    """
    view = node_view(node)
    patch = {}
    if unschedulable is not None and view["unschedulable"] != unschedulable:
        patch["spec"] = {"unschedulable": True if unschedulable else None}
    label_changes = {}
    for key, value in (labels or {}).items():
        if value is None:
            if key in view["labels"]:
                label_changes[key] = None
        elif view["labels"].get(key) != str(value):
            label_changes[key] = str(value)
    if label_changes:
        patch["metadata"] = {"labels": label_changes}
    if taints:
        new_taints = desired_taints(view["taints"], taints)
        if new_taints != view["taints"]:
            patch.setdefault("spec", {})["taints"] = new_taints or None
            patch.setdefault("metadata", {})["resourceVersion"] = node["metadata"].get("resourceVersion")
    return patch or None


def _system_taint(taint):
    return str(taint.get("key", "")).startswith(SYSTEM_TAINT_PREFIX)


def undo_view(node: dict, keys: list) -> dict:
    """What a rollback compares: the touched label ``keys``, schedulability, and the taints users set (the
    node lifecycle controller adds and removes the node.kubernetes.io/ ones, e.g. on cordon)."""
    view = node_view(node)
    return {
        "labels": {k: view["labels"].get(k) for k in keys},
        "unschedulable": view["unschedulable"],
        "taints": [t for t in view["taints"] if not _system_taint(t)],
    }


def restore_patch(before: dict, after: dict) -> tuple[Callable, Callable]:
    """``(restore, view)`` for a rollback of ``before`` -> ``after``: ``restore(current)`` is the merge patch
    that puts back labels, schedulability and user taints (keeping the controller's current taints)."""
    old, new = node_view(before), node_view(after)
    keys = sorted(k for k in set(old["labels"]) | set(new["labels"]) if old["labels"].get(k) != new["labels"].get(k))
    previous = undo_view(before, keys)

    def restore(current):
        patch = {"spec": {"unschedulable": True if previous["unschedulable"] else None}}
        if keys:
            patch["metadata"] = {"labels": previous["labels"]}
        system = [t for t in node_view(current)["taints"] if _system_taint(t)]
        patch["spec"]["taints"] = previous["taints"] + system or None
        return patch

    return restore, lambda node: undo_view(node, keys)


def reconcile_node(client: ApiClient, node: dict, check_mode: bool = False, **wanted) -> tuple[dict, bool]:
    """Patch ``node`` to the wanted state (see node_patch); returns ``(node after, changed)``.

    Check mode sends the same patch as a server dry-run, so validation errors show up without a change.
    A 409 (the node changed meanwhile) re-reads the node and plans again.
    """
    name = node["metadata"]["name"]
    for _attempt in range(_PATCH_ATTEMPTS):
        patch = node_patch(node, **wanted)
        if patch is None:
            return node, False
        query = {"dryRun": "All"} if check_mode else None
        try:
            return client.request("PATCH", node_path(name), body=patch, query=query, content_type=MERGE_PATCH), True
        except KubeforgeError as exc:
            if exc.status != HTTP_CONFLICT:
                raise exc.with_ref(node_ref(name)) from None
        node = client.get(node_path(name))
    raise KubeforgeError("the node kept changing while being patched; try again", ref=node_ref(name))


# --- module logic ------------------------------------------------------------------------------------
_UNSCHEDULABLE = {"cordoned": True, "drained": True, "uncordoned": False, "present": None}
_DRAIN_OPTIONS = tuple(DRAIN_DEFAULTS)


def wait_nodes_ready(client: ApiClient, names: list | None, timeout: float, sleep: float) -> None:
    """Wait until every node in ``names`` has condition Ready=True (fails naming the nodes that are not)."""
    targets = [(_NODE_RESOURCE, name, None) for name in names]
    wait_for(client, targets, timeout, sleep=sleep, condition=("Ready", "True"))


def run_node(module: Any, client: ApiClient) -> dict:
    """Logic of kubeforge.cluster.node: select nodes, wait for Ready, patch, drain."""
    params = module.params
    check_taints(params.get("taints"))
    nodes = select_nodes(client, params.get("name"), params.get("label_selector"), params.get("all_nodes"))
    names = [node["metadata"]["name"] for node in nodes]
    if params.get("wait_ready") and names:
        wait_nodes_ready(client, names, params["timeout"], params["poll_interval"])
        nodes = select_nodes(client, names)
    state = params["state"]
    wanted = {"unschedulable": _UNSCHEDULABLE[state], "labels": params.get("labels"), "taints": params.get("taints")}
    results, before, after = [], {}, {}
    undo = Undo(client)
    for node in nodes:
        try:
            new, changed = reconcile_node(client, node, check_mode=module.check_mode, **wanted)
        except KubeforgeError as exc:
            if not undo.pending:
                raise
            undo.run()
            raise undo.annotate(exc) from None
        if changed and not module.check_mode:
            name = node["metadata"]["name"]
            undo.add_patched(node_ref(name), node_path(name), new, *restore_patch(node, new))
        before[node["metadata"]["name"]] = node_view(node)
        after[new["metadata"]["name"]] = node_view(new)
        results.append(dict(node_view(new), changed=changed))
    if state == "drained":
        drainer = Drainer(client, {k: params[k] for k in _DRAIN_OPTIONS}, check_mode=module.check_mode)
        for entry in results:
            drained, changed = drain_node(drainer, entry["name"], warn=module.warn)
            entry.update(drained)
            entry["changed"] = entry["changed"] or changed
    result = {"changed": any(entry["changed"] for entry in results), "nodes": results}
    if module._diff:
        result["diff"] = {"before": {"nodes": before}, "after": {"nodes": after}}
    return result
