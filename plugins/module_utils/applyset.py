# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ApplySet bookkeeping (kubectl's parent Secret, its kinds and namespaces) and prune of old members."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from ansible_collections.kubeforge.cluster.plugins.module_utils.apply_items import Item, delete_item
from ansible_collections.kubeforge.cluster.plugins.module_utils.client import (
    APPLY_PATCH,
    api_path,
    get_or_none,
    resource_path,
)
from ansible_collections.kubeforge.cluster.plugins.module_utils.discovery import split_api_version
from ansible_collections.kubeforge.cluster.plugins.module_utils.errors import KubeforgeError, object_ref, run_parallel

if TYPE_CHECKING:
    from ansible_collections.kubeforge.cluster.plugins.module_utils.client import ApiClient
    from ansible_collections.kubeforge.cluster.plugins.module_utils.discovery import Discovery

APPLYSET_PART_OF = "applyset.kubernetes.io/part-of"
APPLYSET_ID = "applyset.kubernetes.io/id"
APPLYSET_TOOLING = "applyset.kubernetes.io/tooling"
APPLYSET_KINDS = "applyset.kubernetes.io/contains-group-kinds"
APPLYSET_NAMESPACES = "applyset.kubernetes.io/additional-namespaces"
TOOLING = "kubeforge/v1"


def applyset_id(name: str, namespace: str) -> str:
    """ApplySet id of a parent Secret, as kubectl computes it."""
    digest = hashlib.sha256((f"{name}.{namespace}.Secret.").encode()).digest()
    return "applyset-{}-v1".format(base64.urlsafe_b64encode(digest).decode().rstrip("="))


def _recorded(previous):
    annotations = ((previous or {}).get("metadata") or {}).get("annotations") or {}
    kinds = {k for k in (annotations.get(APPLYSET_KINDS) or "").split(",") if k}
    namespaces = {n for n in (annotations.get(APPLYSET_NAMESPACES) or "").split(",") if n}
    return kinds, namespaces


def _group_kind(item):
    if item.resource:
        return item.resource.group_kind
    return "{}.{}".format(item.kind, split_api_version(item.body["apiVersion"])[0])


class ApplySet:
    """The apply set of one call: parent Secret ``name`` in ``namespace``, written with ``field_manager``."""

    def __init__(
        self, client: ApiClient, discovery: Discovery, name: str, namespace: str, options: dict | None
    ) -> None:
        self.client = client
        self.discovery = discovery
        self.options = options  # apply.BatchOptions
        self.name = name
        self.namespace = namespace
        self.id = applyset_id(name, namespace)
        self.previous = None
        self.kinds = set()
        self.namespaces = set()
        self.changed = False

    def summary(self) -> dict:
        return {"name": self.name, "namespace": self.namespace, "id": self.id}

    def _parent_body(self, group_kinds, namespaces):
        extra = sorted(ns for ns in namespaces if ns and ns != self.namespace)
        return {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {
                "name": self.name,
                "namespace": self.namespace,
                "labels": {APPLYSET_ID: self.id},
                "annotations": {
                    APPLYSET_TOOLING: TOOLING,
                    APPLYSET_KINDS: ",".join(sorted(group_kinds)),
                    APPLYSET_NAMESPACES: ",".join(extra),
                },
            },
        }

    def _write_parent(self, group_kinds, namespaces, previous):
        body = self._parent_body(group_kinds, namespaces)
        if previous is not None:
            old = (previous.get("metadata") or {}).get("annotations") or {}
            if all(old.get(k) == v for k, v in body["metadata"]["annotations"].items()):
                return
        self.changed = True
        if self.options.check_mode:
            return
        path = api_path("v1", "secrets", self.namespace, self.name)
        query = {"fieldManager": self.options.field_manager, "force": "true"}
        try:
            self.client.request("PATCH", path, body=body, query=query, content_type=APPLY_PATCH)
        except KubeforgeError as exc:
            ref = object_ref("Secret", self.namespace, self.name)
            raise exc.with_ref(f"apply set parent {ref}") from None

    def read_parent(self) -> dict | None:
        """The live parent Secret (None when there is none yet); one that is not this set's parent fails."""
        live = get_or_none(self.client, api_path("v1", "secrets", self.namespace, self.name))
        if live is None:
            return None
        meta = live.get("metadata") or {}
        if (meta.get("labels") or {}).get(APPLYSET_ID) != self.id:
            raise KubeforgeError(
                f"Secret {self.namespace}/{self.name} exists but is not the parent of apply set {self.name} "
                f"(label {APPLYSET_ID})"
            )
        tooling = (meta.get("annotations") or {}).get(APPLYSET_TOOLING)
        if tooling and not tooling.startswith("kubeforge/"):
            raise KubeforgeError(f"apply set {self.name} is managed by {tooling}, not kubeforge")
        return live

    def begin(self, items: list) -> Callable:
        """Read and check the parent; return the step that records the union of its old and the call's kinds and
        namespaces in it, to run before the objects are written (kubectl's ApplySet order)."""
        self.previous = self.read_parent()
        old_kinds, old_namespaces = _recorded(self.previous)
        kinds = {_group_kind(i) for i in items}
        namespaces = {i.namespace for i in items if i.namespace}
        self.kinds = old_kinds | kinds
        self.namespaces = old_namespaces | namespaces | {self.namespace}

        def _record():
            self._write_parent(kinds | old_kinds, namespaces | old_namespaces, self.previous)

        return _record

    def prune(self, items: list) -> list:
        """Delete the members of the set that ``items`` no longer declare; return them (action ``pruned``)."""
        keep = {i.key for i in items}
        known = {i.resource.group_kind: i.resource for i in items if i.resource is not None}
        selector = f"{APPLYSET_PART_OF}={self.id}"
        lists = []
        for group_kind in sorted(self.kinds):
            resource = known.get(group_kind) or self.discovery.resolve_group_kind(group_kind)
            if resource is None:
                continue
            for namespace in sorted(self.namespaces) if resource.namespaced else [None]:
                lists.append((resource, namespace))

        def _list(entry):
            resource, namespace = entry
            objs, _page = self.client.list_all(resource_path(resource, None, namespace), {"labelSelector": selector})
            return resource, objs

        candidates = []
        for outcome in self.client.map(_list, lists, self.options.workers):
            if isinstance(outcome, KubeforgeError):
                raise outcome
            resource, objs = outcome
            for listed in objs:
                obj = dict(listed, apiVersion=resource.api_version, kind=resource.kind)
                meta = obj.get("metadata") or {}
                item = Item(obj, resource, meta.get("name"), meta.get("namespace"))
                if item.key not in keep:
                    item.live = obj
                    candidates.append(item)

        query = {"propagationPolicy": "Background"}
        if self.options.check_mode:
            query["dryRun"] = "All"

        def _delete(item):
            delete_item(self.client, item, query)
            item.action = "pruned"

        failed = ("to prune", "the apply set still lists their kinds")
        run_parallel(self.client, _delete, candidates, self.options.workers, failed)
        return candidates

    def finish(self, items: list) -> None:
        """Record exactly the call's kinds and namespaces (after prune: the old ones are gone)."""
        kinds = {i.resource.group_kind for i in items}
        namespaces = {i.namespace for i in items if i.namespace}
        previous = self.previous if self.options.check_mode else self.read_parent()
        self._write_parent(kinds, namespaces, previous)
