# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""not_ready: the workloads of a ``kubeforge.cluster.resource_info`` lookup (looped, or with ``objects``) not ready yet.

Readiness is the waiters' own (plugins/module_utils/waiters.py ``readiness``, what ``wait: true`` polls for), so a
play can skip a wait whose objects the lookup already found ready: ready is ready. A workload that was not found,
whose kind's check needs the API, or whose check says it can never get ready counts as not ready (the wait then
reports it as before).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ansible.errors import AnsibleFilterError
from ansible_collections.kubeforge.cluster.plugins.module_utils.discovery import Resource
from ansible_collections.kubeforge.cluster.plugins.module_utils.errors import KubeforgeError
from ansible_collections.kubeforge.cluster.plugins.module_utils.waiters import readiness


class _NoClient:
    """Stands in for the API client: a readiness check that would read more from the API cannot answer here."""

    def __getattr__(self, name):
        raise KubeforgeError(f"readiness needs the API ({name})")


def _ready(obj: Mapping) -> bool:
    group, _slash, version = str(obj.get("apiVersion", "")).rpartition("/")
    resource = Resource(group, version, {"kind": obj.get("kind"), "name": ""}, [])
    try:
        return readiness(resource, dict(obj), _NoClient())[0]
    except KubeforgeError:
        return False


def not_ready(results: Iterable[Mapping], items: Iterable | None = None) -> list:
    """The item of each result whose one object is missing or not ready: the loop result's ``item``, or with
    ``items`` (the list whose entries the results answer, in order: resource_info's ``objects``) that entry."""
    try:
        results = list(results)
        entries = [r["item"] for r in results] if items is None else list(items)
        if len(entries) != len(results):
            raise AnsibleFilterError(f"not_ready: {len(results)} results for {len(entries)} items")
        return [
            entry
            for entry, r in zip(entries, results)
            if len(r.get("resources") or []) != 1 or not _ready(r["resources"][0])
        ]
    except (KeyError, TypeError, AttributeError) as exc:
        message = f"not_ready: expects the results of a resource_info lookup, got {exc!r}"
        raise AnsibleFilterError(message) from exc


class FilterModule:
    """kubeforge.cluster filters."""

    def filters(self):
        return {"not_ready": not_ready}
