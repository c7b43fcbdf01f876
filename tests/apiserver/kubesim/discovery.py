"""Discovery documents: /version, /api, /apis, /api/v1, /apis/<group>/<version>."""

from __future__ import annotations

from . import resources

VERSION = {
    "major": "1",
    "minor": "37",
    "emulationMajor": "1",
    "emulationMinor": "37",
    "minCompatibilityMajor": "1",
    "minCompatibilityMinor": "36",
    "gitVersion": "v1.37.0-kubesim",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2026-01-01T00:00:00Z",
    "goVersion": "go1.25.0",
    "compiler": "gc",
    "platform": "linux/amd64",
}


def api_versions():
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}],
    }


def _group(name):
    versions = [{"groupVersion": f"{name}/{v}", "version": v} for v in resources.GROUP_VERSIONS[name]]
    return {"name": name, "versions": versions, "preferredVersion": versions[0]}


def api_group_list():
    groups = [_group(name) for name in resources.GROUP_VERSIONS if name]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group(name):
    if name not in resources.GROUP_VERSIONS or not name:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group(name)}


def _entries(res):
    out = [
        {
            "name": res.plural,
            "singularName": res.singular,
            "namespaced": res.namespaced,
            "kind": res.kind,
            "verbs": list(res.verbs),
            **({"shortNames": list(res.short_names)} if res.short_names else {}),
            **({"categories": list(res.categories)} if res.categories else {}),
            "storageVersionHash": res.kind[:8],
        }
    ]
    for sub in res.subresources:
        entry = {
            "name": f"{res.plural}/{sub}",
            "singularName": "",
            "namespaced": res.namespaced,
            "kind": res.kind,
            "verbs": list(resources.subresource_verbs(sub)),
        }
        if sub == "scale":
            entry.update(group="autoscaling", version="v1", kind="Scale")
        elif sub == "eviction":
            entry.update(group="policy", version="v1", kind="Eviction")
        elif sub == "binding":
            entry["kind"] = "Binding"
        elif sub == "token":
            entry.update(group="authentication.k8s.io", version="v1", kind="TokenRequest")
        elif sub == "proxy":
            entry["kind"] = {"Pod": "PodProxyOptions", "Node": "NodeProxyOptions"}.get(res.kind, "ServiceProxyOptions")
        elif sub == "log":
            entry["kind"] = "Pod"
        out.append(entry)
    return out


def resource_list(group, version):
    table = resources.BY_GV.get((group, version))
    if table is None:
        return None
    items = []
    for res in table.values():
        items.extend(_entries(res))
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group}/{version}" if group else version,
        "resources": items,
    }


AGGREGATED_TYPE = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"


def _aggregated_resource(res):
    entry = {
        "resource": res.plural,
        "responseKind": {"group": res.group, "version": res.version, "kind": res.kind},
        "scope": "Namespaced" if res.namespaced else "Cluster",
        "singularResource": res.singular,
        "verbs": list(res.verbs),
    }
    if res.short_names:
        entry["shortNames"] = list(res.short_names)
    if res.categories:
        entry["categories"] = list(res.categories)
    subs = []
    for sub in _entries(res)[1:]:
        subs.append(
            {
                "subresource": sub["name"].split("/", 1)[1],
                "verbs": sub["verbs"],
                "responseKind": {
                    "group": sub.get("group", res.group),
                    "version": sub.get("version", res.version),
                    "kind": sub["kind"],
                },
            }
        )
    if subs:
        entry["subresources"] = subs
    return entry


def aggregated(core):
    """apidiscovery.k8s.io/v2 APIGroupDiscoveryList for /api (core=True) or /apis."""
    items = []
    for group, versions in resources.GROUP_VERSIONS.items():
        if (group == "") != core:
            continue
        items.append(
            {
                "metadata": {"name": group, "creationTimestamp": None},
                "versions": [
                    {
                        "version": v,
                        "freshness": "Current",
                        "resources": [_aggregated_resource(r) for r in resources.BY_GV[(group, v)].values()],
                    }
                    for v in versions
                ],
            }
        )
    return {"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {}, "items": items}
