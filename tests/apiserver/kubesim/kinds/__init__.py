"""The kinds kubesim serves: one file per kind with behaviour of its own (its API resources, defaults, validation
and table columns together, as a ``Kind``), kinds/plain.py for kinds that are only their resource.

Adding a kind: a new file defining ``KIND = Kind(...)`` and one line in ``KINDS`` below. The order of ``KINDS`` is
the order of discovery (and of /apis's groups).
"""

from __future__ import annotations

from .. import validation
from . import (
    apiservice,
    cronjob,
    customresourcedefinition,
    daemonset,
    deployment,
    horizontalpodautoscaler,
    job,
    namespace,
    node,
    plain,
    pod,
    poddisruptionbudget,
    podtemplate,
    replicaset,
    replicationcontroller,
    secret,
    service,
    statefulset,
)
from .base import Kind

KINDS = (
    pod.KIND,
    service.KIND,
    plain.ENDPOINTS,
    namespace.KIND,
    node.KIND,
    plain.CONFIGMAP,
    secret.KIND,
    plain.SERVICEACCOUNT,
    replicationcontroller.KIND,
    plain.PERSISTENTVOLUMECLAIM,
    plain.PERSISTENTVOLUME,
    plain.EVENT,
    plain.LIMITRANGE,
    plain.RESOURCEQUOTA,
    podtemplate.KIND,
    plain.BINDING,
    deployment.KIND,
    replicaset.KIND,
    daemonset.KIND,
    statefulset.KIND,
    plain.CONTROLLERREVISION,
    horizontalpodautoscaler.KIND,
    poddisruptionbudget.KIND,
    job.KIND,
    cronjob.KIND,
    plain.ROLE,
    plain.ROLEBINDING,
    plain.CLUSTERROLE,
    plain.CLUSTERROLEBINDING,
    plain.INGRESS,
    plain.NETWORKPOLICY,
    plain.INGRESSCLASS,
    plain.ENDPOINTSLICE,
    plain.LEASE,
    customresourcedefinition.KIND,
    apiservice.KIND,
)
BY_NAME = {kind.name: kind for kind in KINDS}
_UNKNOWN = Kind(())


def of(obj_or_name):
    """The Kind of an object (or of a kind name); a Kind with no behaviour for kinds not served."""
    name = obj_or_name.get("kind") if isinstance(obj_or_name, dict) else obj_or_name
    return BY_NAME.get(name, _UNKNOWN)


def apply_defaults(obj, allocator):
    kind = of(obj)
    if kind.defaults is not None:
        kind.defaults(obj, allocator)


def on_create(obj, now):
    kind = of(obj)
    if kind.on_create is not None:
        kind.on_create(obj, now)


def validate(obj, old):
    """List of (reason, field, message) causes: name, labels, the kind's rules, enumerated fields."""
    kind = of(obj)
    meta = obj.get("metadata") or {}
    causes = validation.check_name(kind.name_rule, meta.get("name"))
    causes += validation.check_labels(meta.get("labels"), "metadata.labels")
    if kind.validate is not None:
        causes += kind.validate(obj, old)
    return causes + (kind.enums(obj) if kind.enums is not None else [])


def to_version(res, obj):
    """The stored object as served by ``res`` (another version of the same storage)."""
    conversion = of(res.kind).conversions.get(res.version)
    return conversion[0](obj) if conversion else obj


def from_version(res, obj):
    """An object received through ``res`` in its stored form."""
    conversion = of(res.kind).conversions.get(res.version)
    return conversion[1](obj) if conversion else obj


def has_generation(obj):
    return of(obj).has_generation(obj)
