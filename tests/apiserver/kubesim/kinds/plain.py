"""Kinds that are only their API resource: stored and served, with the generic defaults and validation (name,
labels) and the generic table columns (Name, Age). A kind with behaviour of its own gets a file of its own."""

from __future__ import annotations

from .base import NEVER, PATH_SEGMENT, simple

ENDPOINTS = simple("v1", "Endpoints", "endpoints", True, short=["ep"])
CONFIGMAP = simple("v1", "ConfigMap", "configmaps", True, short=["cm"])
SERVICEACCOUNT = simple("v1", "ServiceAccount", "serviceaccounts", True, short=["sa"], subs=["token"])
PERSISTENTVOLUMECLAIM = simple(
    "v1", "PersistentVolumeClaim", "persistentvolumeclaims", True, short=["pvc"], subs=["status"], generation=NEVER
)
PERSISTENTVOLUME = simple(
    "v1", "PersistentVolume", "persistentvolumes", False, short=["pv"], subs=["status"], generation=NEVER
)
EVENT = simple(
    "v1", "Event", "events", True, short=["ev"], field_labels=["type", "involvedObject.name", "involvedObject.kind"]
)
LIMITRANGE = simple("v1", "LimitRange", "limitranges", True, short=["limits"], generation=NEVER)
RESOURCEQUOTA = simple(
    "v1", "ResourceQuota", "resourcequotas", True, short=["quota"], subs=["status"], generation=NEVER
)
BINDING = simple("v1", "Binding", "bindings", True, verbs=("create",))
CONTROLLERREVISION = simple("apps/v1", "ControllerRevision", "controllerrevisions", True)
# RBAC names only have to be usable as one URL path segment (`system:metrics-server`).
ROLE = simple("rbac.authorization.k8s.io/v1", "Role", "roles", True, name_rule=PATH_SEGMENT)
ROLEBINDING = simple("rbac.authorization.k8s.io/v1", "RoleBinding", "rolebindings", True, name_rule=PATH_SEGMENT)
CLUSTERROLE = simple("rbac.authorization.k8s.io/v1", "ClusterRole", "clusterroles", False, name_rule=PATH_SEGMENT)
CLUSTERROLEBINDING = simple(
    "rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "clusterrolebindings", False, name_rule=PATH_SEGMENT
)
INGRESS = simple("networking.k8s.io/v1", "Ingress", "ingresses", True, short=["ing"], subs=["status"])
NETWORKPOLICY = simple("networking.k8s.io/v1", "NetworkPolicy", "networkpolicies", True, short=["netpol"])
INGRESSCLASS = simple("networking.k8s.io/v1", "IngressClass", "ingressclasses", False)
ENDPOINTSLICE = simple("discovery.k8s.io/v1", "EndpointSlice", "endpointslices", True)
LEASE = simple("coordination.k8s.io/v1", "Lease", "leases", True, generation=NEVER)
