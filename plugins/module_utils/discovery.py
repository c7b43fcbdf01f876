# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Map (apiVersion, kind) to API resources, with the answers cached on disk per server and group/version."""

from __future__ import annotations

import json
import os
import re
import tempfile
import threading
import time
from typing import TYPE_CHECKING

from ansible_collections.kubeforge.cluster.plugins.module_utils.client import get_or_none
from ansible_collections.kubeforge.cluster.plugins.module_utils.errors import KubeforgeError

if TYPE_CHECKING:
    from ansible_collections.kubeforge.cluster.plugins.module_utils.client import ApiClient

CACHE_TTL = 6 * 3600

# apiVersions removed from Kubernetes, with what replaces them (kind -> apiVersion; "*" for every kind).
_REPLACED = {
    "extensions/v1beta1": {
        "Deployment": "apps/v1",
        "DaemonSet": "apps/v1",
        "ReplicaSet": "apps/v1",
        "Ingress": "networking.k8s.io/v1",
        "NetworkPolicy": "networking.k8s.io/v1",
        "PodSecurityPolicy": None,
    },
    "apps/v1beta1": {"*": "apps/v1"},
    "apps/v1beta2": {"*": "apps/v1"},
    "batch/v1beta1": {"CronJob": "batch/v1"},
    "autoscaling/v2beta1": {"HorizontalPodAutoscaler": "autoscaling/v2"},
    "autoscaling/v2beta2": {"HorizontalPodAutoscaler": "autoscaling/v2"},
    "policy/v1beta1": {"PodDisruptionBudget": "policy/v1"},
    "networking.k8s.io/v1beta1": {"Ingress": "networking.k8s.io/v1", "IngressClass": "networking.k8s.io/v1"},
    "rbac.authorization.k8s.io/v1beta1": {"*": "rbac.authorization.k8s.io/v1"},
    "apiextensions.k8s.io/v1beta1": {"CustomResourceDefinition": "apiextensions.k8s.io/v1"},
    "admissionregistration.k8s.io/v1beta1": {"*": "admissionregistration.k8s.io/v1"},
    "storage.k8s.io/v1beta1": {"*": "storage.k8s.io/v1"},
    "scheduling.k8s.io/v1beta1": {"PriorityClass": "scheduling.k8s.io/v1"},
}


def replacement_hint(api_version: str, kind: str) -> str:
    """Sentence naming the apiVersion that replaces a removed one, or ''."""
    table = _REPLACED.get(api_version) or {}
    if kind in table or "*" in table:
        new = table.get(kind, table.get("*"))
        if new is None:
            return f" {api_version} {kind} was removed from Kubernetes without a replacement."
        extra = " (apps/v1 also requires spec.selector matching the pod template labels)" if new == "apps/v1" else ""
        return f" {new} replaces it: set apiVersion: {new}{extra}."
    return ""


class Resource:
    """One API resource: where its objects live and what they support."""

    __slots__ = ("group", "kind", "namespaced", "plural", "short_names", "singular", "subresources", "verbs", "version")

    def __init__(self, group: str, version: str, entry: dict, subresources: list) -> None:
        self.group = group
        self.version = version
        self.kind = entry["kind"]
        self.plural = entry["name"]
        self.singular = entry.get("singularName") or self.kind.lower()
        self.namespaced = bool(entry.get("namespaced"))
        self.verbs = frozenset(entry.get("verbs") or [])
        self.short_names = tuple(entry.get("shortNames") or [])
        self.subresources = frozenset(subresources)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_kind(self) -> str:
        """``Kind.group`` (``Kind`` for the core group), as ApplySet annotations spell it."""
        return f"{self.kind}.{self.group}" if self.group else self.kind

    def __repr__(self):
        return f"Resource({self.api_version} {self.plural})"


def split_api_version(api_version: str) -> tuple[str, str]:
    if "/" in api_version:
        group, version = api_version.split("/", 1)
        return group, version
    return "", api_version


def default_cache_dir() -> str:
    return os.environ.get("KUBEFORGE_DISCOVERY_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "kubeforge", "discovery"
    )


class Discovery:
    """Resolves kinds through the discovery endpoints of one server, caching each group/version on disk.

    Cache layout: ``<cache_dir>/<host_port>/<group or core>/<version>.json`` (like kubectl's
    ``~/.kube/cache/discovery``), valid for 6 hours and refetched as soon as a kind is not found in it.
    """

    def __init__(self, client: ApiClient, cache_dir: str | None = None, ttl: float = CACHE_TTL) -> None:
        self.client = client
        self.ttl = ttl
        server_key = re.sub(r"[^A-Za-z0-9.-]", "_", f"{client.hostname}_{client.port}{client.base_path}")
        self.cache_dir = os.path.join(cache_dir or default_cache_dir(), server_key)
        self._memory = {}
        self._lock = threading.Lock()

    def _cache_file(self, group, version):
        return os.path.join(self.cache_dir, group or "core", version + ".json")

    def _read_cache(self, group, version):
        path = self._cache_file(group, version)
        try:
            if time.time() - os.path.getmtime(path) > self.ttl:
                return None
            with open(path, encoding="utf-8") as handle:
                return json.load(handle)
        except (OSError, ValueError):
            return None

    def _write_cache(self, group, version, data):
        path = self._cache_file(group, version)
        try:
            os.makedirs(os.path.dirname(path), mode=0o750, exist_ok=True)
            handle, temp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(data, out)
            os.replace(temp, path)
        except OSError:
            return  # a read-only home only costs speed

    def _fetch(self, group, version):
        data = get_or_none(self.client, f"/apis/{group}/{version}" if group else f"/api/{version}")
        if data is None:
            return None
        resources = [
            {k: e.get(k) for k in ("name", "kind", "namespaced", "verbs", "shortNames", "singularName")}
            for e in (data or {}).get("resources") or []
        ]
        self._write_cache(group, version, resources)
        return resources

    def _group_version(self, group, version, refresh=False):
        key = (group, version)
        with self._lock:
            if not refresh and key in self._memory:
                return self._memory[key]
        entries = None if refresh else self._read_cache(group, version)
        if entries is None:
            entries = self._fetch(group, version)
        table = None
        if entries is not None:
            table = {}
            subresources = {}
            for entry in entries:
                name = entry["name"]
                if "/" in name:
                    base, sub = name.split("/", 1)
                    subresources.setdefault(base, []).append(sub)
            for entry in entries:
                if "/" not in entry["name"]:
                    table[entry["name"]] = Resource(group, version, entry, subresources.get(entry["name"], ()))
        with self._lock:
            self._memory[key] = table
        return table

    @staticmethod
    def _match(table, kind):
        lowered = kind.lower()
        exact = [r for r in table.values() if r.kind == kind]
        if exact:
            return exact[0]
        for resource in table.values():
            if (
                lowered in (resource.kind.lower(), resource.plural, resource.singular)
                or lowered in resource.short_names
            ):
                return resource
        return None

    def preferred_version(self, group: str) -> str | None:
        """Preferred version of an API group ('v1' for the core group), or None when it is not served."""
        if not group:
            return "v1"
        data = get_or_none(self.client, f"/apis/{group}")
        return ((data or {}).get("preferredVersion") or {}).get("version")

    def resolve_group_kind(self, group_kind: str) -> Resource | None:
        """Resource for ``Kind.group`` (``Kind`` for the core group) in the group's preferred version, or None."""
        kind, _dot, group = group_kind.partition(".")
        version = self.preferred_version(group)
        if version is None:
            return None
        try:
            return self.resolve(f"{group}/{version}" if group else version, kind)
        except KubeforgeError:
            return None

    def resolve(self, api_version: str, kind: str) -> Resource:
        """Resource for ``(apiVersion, kind)``; ``kind`` may also be a plural, singular or short name."""
        if not api_version or not kind:
            raise KubeforgeError("apiVersion and kind are both required")
        group, version = split_api_version(str(api_version))
        table = self._group_version(group, version)
        found = self._match(table, kind) if table else None
        if found is None:
            table = self._group_version(group, version, refresh=True)
            found = self._match(table, kind) if table else None
        if found is not None:
            return found
        hint = replacement_hint(api_version, kind)
        if table is None:
            raise KubeforgeError(
                f"apiVersion {api_version} is not served by the API server {self.client.server}.{hint}",
                reason="NotFound",
            )
        raise KubeforgeError(
            "kind {} is not served in apiVersion {} by the API server {} (known kinds: {}).{}".format(
                kind, api_version, self.client.server, ", ".join(sorted(r.kind for r in table.values())), hint
            ),
            reason="NotFound",
        )
