# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What an apply call is made of: write stages, the checked objects (Item) and their diffs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ansible_collections.kubeforge.cluster.plugins.module_utils.client import resource_path
from ansible_collections.kubeforge.cluster.plugins.module_utils.discovery import split_api_version
from ansible_collections.kubeforge.cluster.plugins.module_utils.errors import (
    HTTP_NOT_FOUND,
    KubeforgeError,
    batch_error,
    describe_object,
    object_ref,
)
from ansible_collections.kubeforge.cluster.plugins.module_utils.manifests import redact, strip_noise, to_yaml

if TYPE_CHECKING:
    from ansible_collections.kubeforge.cluster.plugins.module_utils.client import ApiClient
    from ansible_collections.kubeforge.cluster.plugins.module_utils.discovery import Discovery, Resource

# Write stages: objects of one stage go in parallel, stages one after the other (deletion in reverse).
_STAGES = (
    ("Namespace",),
    ("CustomResourceDefinition",),
    (
        "PriorityClass",
        "StorageClass",
        "PersistentVolume",
        "ResourceQuota",
        "LimitRange",
        "ServiceAccount",
        "Secret",
        "ConfigMap",
        "PersistentVolumeClaim",
        "ClusterRole",
        "Role",
        "ClusterRoleBinding",
        "RoleBinding",
        "NetworkPolicy",
        "IngressClass",
    ),
    (
        "Service",
        "Pod",
        "ReplicationController",
        "ReplicaSet",
        "Deployment",
        "StatefulSet",
        "DaemonSet",
        "Job",
        "CronJob",
    ),
    ("HorizontalPodAutoscaler", "PodDisruptionBudget", "Ingress", "Endpoints", "EndpointSlice"),
)
_BUILTIN_GROUPS = (
    "",
    "apps",
    "batch",
    "autoscaling",
    "policy",
    "networking.k8s.io",
    "rbac.authorization.k8s.io",
    "storage.k8s.io",
    "scheduling.k8s.io",
    "apiextensions.k8s.io",
    "discovery.k8s.io",
)
_STAGE_OF = {kind: index for index, kinds in enumerate(_STAGES) for kind in kinds}
# Namespaces and CRDs (stages 0 and 1) are written before the objects that may live in them.
FIRST_LATE_STAGE = 2


def stage_of(kind: str, group: str) -> int:
    """Write stage of a kind: Namespaces, then CRDs, then config, workloads, dependants, custom resources."""
    if group in _BUILTIN_GROUPS and kind in _STAGE_OF:
        return _STAGE_OF[kind]
    return len(_STAGES)


class Item:
    """One object of a batch and what happened to it."""

    __slots__ = ("action", "body", "deferred", "dry", "fetched", "live", "name", "namespace", "resource", "result")

    def __init__(self, body: dict, resource: Resource, name: str, namespace: str | None) -> None:
        self.body = body
        self.resource = resource
        self.name = name
        self.namespace = namespace
        self.live = None
        self.dry = None
        self.result = None
        self.action = None
        self.deferred = False
        self.fetched = False  # live state read (live is None when the object does not exist)

    @property
    def kind(self) -> str:
        return self.body["kind"]

    @property
    def ref(self) -> str:
        return object_ref(self.kind, self.namespace, self.name)

    @property
    def key(self) -> tuple:
        group = split_api_version(self.body["apiVersion"])[0]
        return group, self.kind, self.namespace or "", self.name

    @property
    def stage(self) -> int:
        return stage_of(self.kind, split_api_version(self.body["apiVersion"])[0])

    def path(self, with_name: bool = True) -> str:
        return resource_path(self.resource, self.name if with_name else None, self.namespace)

    def summary(self) -> dict:
        out = {"apiVersion": self.body["apiVersion"], "kind": self.kind, "name": self.name, "action": self.action}
        if self.namespace:
            out["namespace"] = self.namespace
        obj = self.result or self.dry or self.live
        if obj:
            out["uid"] = (obj.get("metadata") or {}).get("uid")
            out["resourceVersion"] = (obj.get("metadata") or {}).get("resourceVersion")
        return out


def comparable(obj: dict, manager: str) -> tuple:
    """What an apply by ``manager`` can change: the object without status and server bookkeeping, plus the
    manager's own managedFields entries (other managers' entries move whenever controllers write status)."""
    meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in ("resourceVersion", "managedFields")}
    owned = [
        {k: v for k, v in entry.items() if k != "time"}
        for entry in (obj.get("metadata") or {}).get("managedFields") or []
        if entry.get("manager") == manager
    ]
    body = {k: v for k, v in obj.items() if k not in ("status", "metadata")}
    return body, meta, sorted(owned, key=lambda e: (e.get("operation", ""), e.get("subresource", "")))


def _resource_version(obj):
    return ((obj or {}).get("metadata") or {}).get("resourceVersion")


def resource_version(obj: dict | None) -> str | None:
    """``metadata.resourceVersion`` of an object (None for None)."""
    return ((obj or {}).get("metadata") or {}).get("resourceVersion")


def delete_item(client: ApiClient, item: Item, query: dict) -> dict | None:
    """DELETE the item's object; the server's answer (``{}`` when empty), or None when it was already gone."""
    try:
        return client.request("DELETE", item.path(), query=query) or {}
    except KubeforgeError as exc:
        if exc.status == HTTP_NOT_FOUND:
            return None
        raise exc.with_ref(item.ref) from None


def _shape_problem(index, manifest, where):
    """KubeforgeError naming the missing fields of a manifest, or None."""
    if not isinstance(manifest, dict):
        return KubeforgeError(f"object {index} is not a mapping")
    missing = [f for f in ("apiVersion", "kind") if not isinstance(manifest.get(f), str) or not manifest.get(f)]
    meta = manifest.get("metadata")
    if not isinstance(meta, dict) or not meta.get("name"):
        missing.append("metadata.name")
    if missing:
        return KubeforgeError(f"object {index} ({where}): " + ", ".join(missing) + " missing")
    return None


def _batch_crds(manifests):
    """(group, kind) of the CustomResourceDefinitions declared among ``manifests``."""
    return {
        ((m.get("spec") or {}).get("group"), ((m.get("spec") or {}).get("names") or {}).get("kind"))
        for m in manifests
        if isinstance(m, dict) and m.get("kind") == "CustomResourceDefinition"
    }


def prepare_items(
    discovery: Discovery, manifests: list, namespace: str, labels: dict, allow_deferred: bool = True
) -> list:
    """Check each manifest, resolve its kind, fill in its namespace (``namespace`` by default) and ``labels``;
    every problem reported at once. Items come back in write-stage order."""
    failures, items, seen = [], [], {}
    batch_crds = _batch_crds(manifests)
    for index, manifest in enumerate(manifests):
        where = describe_object(manifest) or f"object {index}"
        problem = _shape_problem(index, manifest, where)
        if problem:
            failures.append(problem)
            continue
        api_version, kind = manifest["apiVersion"], manifest["kind"]
        deferred = False
        try:
            resource = discovery.resolve(api_version, kind)
        except KubeforgeError as exc:
            if not allow_deferred or (split_api_version(api_version)[0], kind) not in batch_crds:
                failures.append(exc.with_ref(where))
                continue
            resource, deferred = None, True
        if resource is not None and resource.kind != kind:
            failures.append(KubeforgeError(f"kind must be the exact kind {resource.kind}, not {kind}", ref=where))
            continue
        item = _item(manifest, resource, namespace, labels)
        item.deferred = deferred
        if item.key in seen:
            failures.append(
                KubeforgeError(f"declared twice in one call (objects {seen[item.key]} and {index})", ref=item.ref)
            )
            continue
        seen[item.key] = index
        items.append(item)
    if failures:
        raise batch_error(failures, "validation", "nothing was applied")
    items.sort(key=lambda i: i.stage)
    return items


def _item(manifest, resource, default_namespace, extra_labels):
    """Item for a checked manifest: namespace filled in (or dropped for cluster-scoped kinds), labels added."""
    meta = dict(manifest["metadata"])
    namespaced = resource.namespaced if resource is not None else True
    namespace = (meta.get("namespace") or default_namespace) if namespaced else None
    if namespace:
        meta["namespace"] = namespace
    else:
        meta.pop("namespace", None)
    if extra_labels:
        meta["labels"] = dict(meta.get("labels") or {}, **extra_labels)
    return Item(dict(manifest, metadata=meta), resource, meta["name"], namespace)


def diffs(items: list) -> list:
    """Ansible diff entries (before/after YAML, Secrets redacted) of the items that changed."""
    out = []
    for item in items:
        if item.action in ("unchanged", "absent"):
            continue
        before = strip_noise(item.live) if item.live else None
        after = None if item.action in ("deleted", "pruned") else strip_noise(item.result or item.dry)
        out.append(
            {
                "before_header": item.ref,
                "after_header": item.ref,
                "before": to_yaml(redact(before)) if before else "",
                "after": to_yaml(redact(after, before)) if after else "",
            }
        )
    return out
