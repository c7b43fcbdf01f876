# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Logic of kubeforge.cluster.resource_info: get or list objects, optionally waiting for them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ansible_collections.kubeforge.cluster.plugins.module_utils.client import (
    default_namespace,
    get_or_none,
    resource_path,
)
from ansible_collections.kubeforge.cluster.plugins.module_utils.discovery import Discovery
from ansible_collections.kubeforge.cluster.plugins.module_utils.errors import KubeforgeError
from ansible_collections.kubeforge.cluster.plugins.module_utils.manifests import redact
from ansible_collections.kubeforge.cluster.plugins.module_utils.waiters import wait_for

if TYPE_CHECKING:
    from ansible_collections.kubeforge.cluster.plugins.module_utils.client import ApiClient

INFO_ARGS = {
    "api_version": {"type": "str", "default": "v1"},
    "kind": {"type": "str", "required": True},
    "name": {"type": "str"},
    "namespace": {"type": "str"},
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


def _clean(obj, params):
    if not params.get("keep_managed_fields"):
        meta = dict(obj.get("metadata") or {})
        meta.pop("managedFields", None)
        obj = dict(obj, metadata=meta)
    return obj if params.get("reveal_secrets") else redact(obj)


def run_info(module: Any, client: ApiClient) -> dict:
    params = module.params
    resource = Discovery(client).resolve(params["api_version"], params["kind"])
    namespace = None
    if resource.namespaced and not params["all_namespaces"]:
        namespace = default_namespace(client, params.get("namespace"))
    if params.get("name"):
        if params["all_namespaces"]:
            raise KubeforgeError(
                "name and all_namespaces=true cannot be combined: a name is looked up in one namespace"
            )
        live = get_or_none(client, resource_path(resource, params["name"], namespace))
        items = [] if live is None else [live]
    else:
        query = {
            "labelSelector": ",".join(params["label_selectors"]),
            "fieldSelector": ",".join(params["field_selectors"]),
        }
        items, _page = client.list_all(resource_path(resource, None, namespace), query)
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
    api_version = resource.api_version
    resources = [_clean(dict(item, apiVersion=api_version, kind=resource.kind), params) for item in items]
    return {"changed": False, "resources": resources, "api_found": True}
