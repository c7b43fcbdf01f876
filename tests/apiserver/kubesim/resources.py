"""The API resources the server serves (discovery data and storage keys)."""

from __future__ import annotations

from dataclasses import dataclass, field

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
SUB_VERBS = ("get", "patch", "update")


@dataclass(frozen=True)
class Resource:
    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool
    short_names: tuple = ()
    subresources: tuple = ()
    categories: tuple = ()
    verbs: tuple = ALL_VERBS
    storage: str = ""  # group/plural of the stored form when several versions share storage
    definition: str = ""
    singular: str = field(default="")

    @property
    def api_version(self):
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def key(self):
        return self.storage or f"{self.group}/{self.plural}"

    @property
    def list_kind(self):
        return f"{self.kind}List"


# Groups whose OpenAPI definitions do not live under io.k8s.api.<group>.
_DEF_PACKAGES = {
    "apiregistration.k8s.io": "io.k8s.kube-aggregator.pkg.apis.apiregistration",
    "apiextensions.k8s.io": "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions",
}


def _def_prefix(group, version):
    if group in _DEF_PACKAGES:
        return f"{_DEF_PACKAGES[group]}.{version}"
    short = {"": "core", "rbac.authorization.k8s.io": "rbac"}.get(group, group.split(".")[0])
    return f"io.k8s.api.{short}.{version}"


def _r(gv, kind, plural, namespaced, **kw):
    group, _sep, version = gv.rpartition("/")
    short, subs = kw.pop("short", ()), kw.pop("subs", ())
    return Resource(
        group=group,
        version=version,
        kind=kind,
        plural=plural,
        namespaced=namespaced,
        short_names=tuple(short),
        subresources=tuple(subs),
        definition=f"{_def_prefix(group, version)}.{kind}",
        singular=kind.lower(),
        **kw,
    )


_ALL = ("all",)
RESOURCES = [
    _r(
        "v1",
        "Pod",
        "pods",
        True,
        short=["po"],
        subs=["status", "eviction", "binding", "log", "ephemeralcontainers"],
        categories=_ALL,
    ),
    _r("v1", "Service", "services", True, short=["svc"], subs=["status", "proxy"], categories=_ALL),
    _r("v1", "Endpoints", "endpoints", True, short=["ep"]),
    _r(
        "v1",
        "Namespace",
        "namespaces",
        False,
        short=["ns"],
        subs=["status", "finalize"],
        verbs=("create", "delete", "get", "list", "patch", "update", "watch"),
    ),
    _r("v1", "Node", "nodes", False, short=["no"], subs=["status", "proxy"]),
    _r("v1", "ConfigMap", "configmaps", True, short=["cm"]),
    _r("v1", "Secret", "secrets", True),
    _r("v1", "ServiceAccount", "serviceaccounts", True, short=["sa"], subs=["token"]),
    _r(
        "v1",
        "ReplicationController",
        "replicationcontrollers",
        True,
        short=["rc"],
        subs=["scale", "status"],
        categories=_ALL,
    ),
    _r("v1", "PersistentVolumeClaim", "persistentvolumeclaims", True, short=["pvc"], subs=["status"]),
    _r("v1", "PersistentVolume", "persistentvolumes", False, short=["pv"], subs=["status"]),
    _r("v1", "Event", "events", True, short=["ev"]),
    _r("v1", "LimitRange", "limitranges", True, short=["limits"]),
    _r("v1", "ResourceQuota", "resourcequotas", True, short=["quota"], subs=["status"]),
    _r("v1", "PodTemplate", "podtemplates", True),
    _r("v1", "Binding", "bindings", True, verbs=("create",)),
    _r("apps/v1", "Deployment", "deployments", True, short=["deploy"], subs=["scale", "status"], categories=_ALL),
    _r("apps/v1", "ReplicaSet", "replicasets", True, short=["rs"], subs=["scale", "status"], categories=_ALL),
    _r("apps/v1", "DaemonSet", "daemonsets", True, short=["ds"], subs=["status"], categories=_ALL),
    _r("apps/v1", "StatefulSet", "statefulsets", True, short=["sts"], subs=["scale", "status"], categories=_ALL),
    _r("apps/v1", "ControllerRevision", "controllerrevisions", True),
    _r(
        "autoscaling/v2",
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        True,
        short=["hpa"],
        subs=["status"],
        categories=_ALL,
    ),
    _r(
        "autoscaling/v1",
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        True,
        short=["hpa"],
        subs=["status"],
        categories=_ALL,
        storage="autoscaling/horizontalpodautoscalers",
    ),
    _r("policy/v1", "PodDisruptionBudget", "poddisruptionbudgets", True, short=["pdb"], subs=["status"]),
    _r("batch/v1", "Job", "jobs", True, subs=["status"], categories=_ALL),
    _r("batch/v1", "CronJob", "cronjobs", True, short=["cj"], subs=["status"], categories=_ALL),
    _r("rbac.authorization.k8s.io/v1", "Role", "roles", True),
    _r("rbac.authorization.k8s.io/v1", "RoleBinding", "rolebindings", True),
    _r("rbac.authorization.k8s.io/v1", "ClusterRole", "clusterroles", False),
    _r("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "clusterrolebindings", False),
    _r("networking.k8s.io/v1", "Ingress", "ingresses", True, short=["ing"], subs=["status"]),
    _r("networking.k8s.io/v1", "NetworkPolicy", "networkpolicies", True, short=["netpol"]),
    _r("networking.k8s.io/v1", "IngressClass", "ingressclasses", False),
    _r("discovery.k8s.io/v1", "EndpointSlice", "endpointslices", True),
    _r("coordination.k8s.io/v1", "Lease", "leases", True),
    # Stored and Established (crds.py); the custom resources they define are not served (discovery does not
    # list their groups, so a client gets "no kind" for them, as from an API server without the CRD).
    _r(
        "apiextensions.k8s.io/v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        False,
        short=["crd", "crds"],
        subs=["status"],
        categories=("api-extensions",),
    ),
    _r(
        "apiregistration.k8s.io/v1",
        "APIService",
        "apiservices",
        False,
        subs=["status"],
        categories=("api-extensions",),
    ),
]

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
