"""The API resources the server serves (discovery data and storage keys), looked up by group/version/plural, kind
or storage key. Declared per kind under kinds/."""

from __future__ import annotations

from .kinds import KINDS
from .kinds.base import ALL_VERBS, SUB_VERBS, Resource

__all__ = ["ALL_VERBS", "RESOURCES", "SUB_VERBS", "Resource"]

# Every served resource, in discovery order (each kind's file under kinds/ declares its resources).
RESOURCES = [res for kind in KINDS for res in kind.resources]

# Preferred version first within each group, in the order /apis lists groups.
GROUP_VERSIONS = {}
for _res in RESOURCES:
    GROUP_VERSIONS.setdefault(_res.group, [])
    if _res.version not in GROUP_VERSIONS[_res.group]:
        GROUP_VERSIONS[_res.group].append(_res.version)

BY_GV = {}
for _res in RESOURCES:
    BY_GV.setdefault((_res.group, _res.version), {})[_res.plural] = _res

BY_KIND = {(_res.group, _res.version, _res.kind): _res for _res in RESOURCES}
# Stored form of each storage key (the preferred version).
STORAGE = {}
for _res in RESOURCES:
    STORAGE.setdefault(_res.key, _res)


def lookup(group, version, plural):
    return BY_GV.get((group, version), {}).get(plural)


def by_kind(api_version, kind):
    group, _sep, version = api_version.rpartition("/")
    return BY_KIND.get((group, version, kind))


def core(plural):
    return BY_GV[("", "v1")][plural]


def apps(plural):
    return BY_GV[("apps", "v1")][plural]


def subresource_verbs(sub):
    return {
        "eviction": ("create",),
        "binding": ("create",),
        "token": ("create",),
        "log": ("get",),
        "proxy": ("create", "delete", "get", "patch", "update"),
        "finalize": ("update",),
    }.get(sub, SUB_VERBS)


KEY_BY_KIND = {}
for _res in RESOURCES:
    KEY_BY_KIND.setdefault(_res.kind, _res.key)
