# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Logic of kubeforge.cluster.resource_info: get or list objects, optionally waiting for them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ansible_collections.kubeforge.cluster.plugins.module_utils.args import BATCH_ARG_SPEC, spec_defaults
from ansible_collections.kubeforge.cluster.plugins.module_utils.client import (
    default_namespace,
    get_or_none,
    resource_path,
)
from ansible_collections.kubeforge.cluster.plugins.module_utils.discovery import Discovery
from ansible_collections.kubeforge.cluster.plugins.module_utils.errors import KubeforgeError, run_parallel
from ansible_collections.kubeforge.cluster.plugins.module_utils.manifests import redact
from ansible_collections.kubeforge.cluster.plugins.module_utils.waiters import wait_for

if TYPE_CHECKING:
    from ansible_collections.kubeforge.cluster.plugins.module_utils.client import ApiClient
    from ansible_collections.kubeforge.cluster.plugins.module_utils.discovery import Resource

# What one read names; an entry of ``objects`` takes ``api_version`` and ``namespace`` from the options when unset.
_QUERY_FIELDS = ("api_version", "kind", "namespace", "name")

INFO_ARGS = {
    "api_version": {"type": "str", "default": "v1"},
    "kind": {"type": "str"},
    "name": {"type": "str"},
    "namespace": {"type": "str"},
    "objects": {"type": "list", "elements": "dict", "options": {field: {"type": "str"} for field in _QUERY_FIELDS}},
    "missing_kubeconfig": {"type": "str", "default": "fail", "choices": ["fail", "report"]},
    "all_namespaces": {"type": "bool", "default": False},
    "label_selectors": {"type": "list", "elements": "str", "default": []},
    "field_selectors": {"type": "list", "elements": "str", "default": []},
    "wait_condition": {
        "type": "dict",
        "options": {"type": {"type": "str", "required": True}, "status": {"type": "str", "default": "True"}},
    },
    "reveal_secrets": {"type": "bool", "default": False},
    "keep_managed_fields": {"type": "bool", "default": False},
}
# How the options of INFO_ARGS go together (AnsibleModule's keyword arguments).
INFO_RULES = {
    "required_one_of": [("kind", "objects")],
    "mutually_exclusive": [("kind", "objects"), ("name", "objects")],
    "required_if": [("missing_kubeconfig", "report", ("kubeconfig",))],
}
# Options that shape a single read and are refused with ``objects`` (each entry is one get or one plain list).
_SINGLE_ONLY = ("wait", "all_namespaces", "label_selectors", "field_selectors")


def _clean(obj, params):
    if not params.get("keep_managed_fields"):
        meta = dict(obj.get("metadata") or {})
        meta.pop("managedFields", None)
        obj = dict(obj, metadata=meta)
    return obj if params.get("reveal_secrets") else redact(obj)


def _queries(params: dict) -> list | None:
    """The reads ``objects`` asks for (None without it), checked before any request: each entry with its
    ``api_version`` and ``namespace`` filled from the options, a bad entry refused naming it and the field."""
    if params.get("objects") is None:
        return None
    combined = [option for option in _SINGLE_ONLY if params.get(option)]
    if combined:
        raise KubeforgeError(
            f"objects cannot be combined with {', '.join(combined)}: each entry is one object by name or one kind "
            "listed in its namespace; use one task per read for selectors, all_namespaces or wait"
        )
    queries = []
    for index, entry in enumerate(params["objects"]):
        given = {field: value for field, value in entry.items() if value is not None}
        query = {"api_version": params["api_version"], "namespace": params.get("namespace"), **given}
        empty = [field for field in _QUERY_FIELDS if field in given and not given[field]]
        if empty or not query.get("kind"):
            problem = f"{empty[0]} is empty" if empty else "kind is required"
            raise KubeforgeError(f"objects[{index}] {given}: {problem}; nothing was read")
        queries.append({field: query.get(field) for field in _QUERY_FIELDS})
    return queries


def _read(client: ApiClient, params: dict, resource: Resource, query: dict) -> tuple[list, str | None]:
    """The objects of one read (the named one, or every one of the kind) and the namespace read from."""
    namespace = None
    if resource.namespaced and not params["all_namespaces"]:
        namespace = default_namespace(client, query.get("namespace"))
    if query.get("name"):
        if params["all_namespaces"]:
            raise KubeforgeError(
                "name and all_namespaces=true cannot be combined: a name is looked up in one namespace"
            )
        live = get_or_none(client, resource_path(resource, query["name"], namespace))
        return ([] if live is None else [live]), namespace
    selectors = {
        "labelSelector": ",".join(params["label_selectors"]),
        "fieldSelector": ",".join(params["field_selectors"]),
    }
    items, _page = client.list_all(resource_path(resource, None, namespace), selectors)
    return items, namespace


def _returned(items: list, resource: Resource, params: dict) -> list:
    return [_clean(dict(item, apiVersion=resource.api_version, kind=resource.kind), params) for item in items]


def _read_objects(client: ApiClient, params: dict, queries: list) -> list:
    """One result per query, in order: ``{object, resources, api_found}``. The kinds are resolved first (an
    unknown kind fails before any object is read), then the objects are read in parallel."""
    discovery = Discovery(client)
    resolved = []
    for index, query in enumerate(queries):
        try:
            resolved.append((index, query, discovery.resolve(query["api_version"], query["kind"])))
        except KubeforgeError as exc:
            raise exc.with_ref(f"objects[{index}]") from None

    def _one(read):
        index, query, resource = read
        try:
            items = _read(client, params, resource, query)[0]
        except KubeforgeError as exc:
            raise exc.with_ref(f"objects[{index}]") from None
        return {"object": query, "resources": _returned(items, resource, params), "api_found": True}

    workers = min(len(resolved), spec_defaults(BATCH_ARG_SPEC)["workers"])
    return run_parallel(client, _one, resolved, workers, ("to be read", "nothing was changed"))


def _no_cluster(params: dict, queries: list | None) -> dict:
    """The result when ``missing_kubeconfig=report`` found no kubeconfig file: nothing was asked."""
    result = {"changed": False, "kubeconfig_found": False, "api_found": False}
    if queries is None:
        return dict(result, resources=[])
    return dict(result, objects=[{"object": query, "resources": [], "api_found": False} for query in queries])


def run_info(module: Any, client: ApiClient | None) -> dict:
    """resource_info; ``client`` is None when ``missing_kubeconfig=report`` found no kubeconfig (runner.run_logic)."""
    params = module.params
    queries = _queries(params)
    if client is None:
        return _no_cluster(params, queries)
    found = {"kubeconfig_found": True} if params["missing_kubeconfig"] == "report" else {}
    if queries is not None:
        return {"changed": False, "api_found": True, "objects": _read_objects(client, params, queries), **found}
    resource = Discovery(client).resolve(params["api_version"], params["kind"])
    items, namespace = _read(client, params, resource, params)
    if params.get("wait") and not module.check_mode:
        condition = params.get("wait_condition")
        if params.get("name"):
            targets = [(resource, params["name"], namespace)]
        else:
            targets = [(resource, i["metadata"]["name"], i["metadata"].get("namespace")) for i in items]
        final = wait_for(
            client,
            targets,
            params["wait_timeout"],
            params["wait_sleep"],
            condition=(condition["type"], condition["status"]) if condition else None,
        )
        items = list(final.values())
    return {"changed": False, "resources": _returned(items, resource, params), "api_found": True, **found}
