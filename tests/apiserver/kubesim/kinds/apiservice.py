"""APIService: `<version>.<group>` names pointing at a Service or at kube-apiserver itself (a local APIService is
Available from its creation; a remote one gets its conditions from controllers/apiservice.py)."""

from __future__ import annotations

from ..validation import (
    DNS1035_MSG,
    DNS1035_RE,
    MAX_LABEL,
    SUBDOMAIN_MSG,
    SUBDOMAIN_RE,
    invalid_value,
    port_range,
    required,
)
from .base import NEVER, PATH_SEGMENT, Kind, resource

_MAX_GROUP_PRIORITY = 20000
_MAX_VERSION_PRIORITY = 1000
APISERVICE_PORT = 443
# The condition a local APIService (spec.service unset: served by kube-apiserver itself) carries.
LOCAL_AVAILABLE = ("Available", "True", "Local", "Local APIServices are always available")


def defaults(obj, allocator=None):
    del allocator
    service = (obj.get("spec") or {}).get("service")
    if isinstance(service, dict):
        service.setdefault("port", APISERVICE_PORT)


def on_create(obj, now):
    """What registry strategies set on a new object besides defaults: a local APIService is Available at once
    (a remote one gets its conditions from the availability controller)."""
    if not (obj.get("spec") or {}).get("service"):
        ctype, status, reason, message = LOCAL_AVAILABLE
        condition = {"type": ctype, "status": status, "lastTransitionTime": now, "reason": reason, "message": message}
        obj["status"] = {"conditions": [condition]}


def _priority(spec, key, limit):
    value = spec.get(key) or 0
    if not isinstance(value, int) or not 0 < value <= limit:
        return [invalid_value(f"spec.{key}", value, f"must be positive and at most {limit}")]
    return []


def _apiservice_service(spec):
    service = spec.get("service")
    causes = []
    if not service:
        if spec.get("caBundle"):
            causes.append(invalid_value("spec.caBundle", "<bytes>", "a local APIService may not have a caBundle"))
        if spec.get("insecureSkipTLSVerify"):
            causes.append(
                invalid_value("spec.insecureSkipTLSVerify", True, "a local APIService may not skip TLS verification")
            )
        return causes
    for key in ("namespace", "name"):
        if not service.get(key):
            causes.append(required(f"spec.service.{key}"))
    if service.get("port") is not None:
        causes += port_range("spec.service.port", service["port"])
    if spec.get("insecureSkipTLSVerify") and spec.get("caBundle"):
        causes.append(invalid_value("spec.insecureSkipTLSVerify", True, "may not be true when caBundle is set"))
    return causes


def validate(obj, old):
    """An APIService is named `<version>.<group>` and points at a Service (or at kube-apiserver itself)."""
    del old
    spec = obj.get("spec") or {}
    group, version = spec.get("group") or "", spec.get("version") or ""
    causes = []
    name = obj["metadata"].get("name")
    if name != f"{version}.{group}":
        causes.append(invalid_value("metadata.name", name, f"must be {version}.{group}"))
    if not version:
        causes.append(required("spec.version"))
    elif not DNS1035_RE.match(version) or len(version) > MAX_LABEL:
        causes.append(invalid_value("spec.version", version, DNS1035_MSG))
    if not group and version != "v1":
        causes.append(invalid_value("spec.group", group, "only v1 may have an empty group (the core API)"))
    elif group and not SUBDOMAIN_RE.match(group):
        causes.append(invalid_value("spec.group", group, SUBDOMAIN_MSG))
    causes += _priority(spec, "groupPriorityMinimum", _MAX_GROUP_PRIORITY)
    causes += _priority(spec, "versionPriority", _MAX_VERSION_PRIORITY)
    return causes + _apiservice_service(spec)


def cells(obj):
    ref = (obj.get("spec") or {}).get("service")
    available = next(
        (c for c in (obj.get("status") or {}).get("conditions") or [] if c.get("type") == "Available"), None
    )
    if available is None:
        text = "Unknown"
    elif available.get("status") == "True":
        text = "True"
    else:
        text = f"{available.get('status')} ({available.get('reason')})"
    return [f"{ref.get('namespace')}/{ref.get('name')}" if ref else "Local", text]


KIND = Kind(
    (
        resource(
            "apiregistration.k8s.io/v1",
            "APIService",
            "apiservices",
            False,
            subs=["status"],
            categories=("api-extensions",),
        ),
    ),
    defaults=defaults,
    validate=validate,
    columns=(("Service", "string"), ("Available", "string")),
    cells=cells,
    name_rule=PATH_SEGMENT,
    generation=NEVER,
    on_create=on_create,
)
