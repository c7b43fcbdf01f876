"""Validation rules kube-apiserver enforces beyond the OpenAPI schema (names, immutability, ports)."""

from __future__ import annotations

import json
import re

from . import enums, selectors

_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_QUALIFIED = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_MAX_SUBDOMAIN = 253
_MAX_LABEL = 63
_MAX_PORT = 65535
SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
    "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
    "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
    "start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
    "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
DNS1035_MSG = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', "
    "regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
)
LABEL_NAME_KINDS = {"Namespace": (_LABEL, LABEL_MSG, _MAX_LABEL), "Service": (_DNS1035, DNS1035_MSG, _MAX_LABEL)}
# Kinds whose names only have to be usable as one URL path segment (`system:metrics-server`, `v1.`).
PATH_SEGMENT_NAME_KINDS = frozenset({"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding", "APIService"})
_MAX_GROUP_PRIORITY = 20000
_MAX_VERSION_PRIORITY = 1000


def _fmt(value):
    return json.dumps(value) if isinstance(value, str) else str(value)


def invalid_value(field, value, msg):
    return ("FieldValueInvalid", field, f"Invalid value: {_fmt(value)}: {msg}")


def required(field):
    return ("FieldValueRequired", field, "Required value")


def forbidden(field, msg):
    return ("FieldValueForbidden", field, f"Forbidden: {msg}")


def _path_segment_name(name):
    if name in (".", ".."):
        return [invalid_value("metadata.name", name, f"may not be '{name}'")]
    return [invalid_value("metadata.name", name, f"may not contain '{c}'") for c in "/%" if c in name]


def check_name(kind, name):
    regex, msg, limit = LABEL_NAME_KINDS.get(kind, (_SUBDOMAIN, SUBDOMAIN_MSG, _MAX_SUBDOMAIN))
    causes = []
    if not isinstance(name, str) or not name:
        return [("FieldValueRequired", "metadata.name", "Required value: name or generateName is required")]
    if kind in PATH_SEGMENT_NAME_KINDS:
        return _path_segment_name(name)
    if len(name) > limit:
        causes.append(("FieldValueTooLong", "metadata.name", f"Too long: may not be more than {limit} bytes"))
    if not regex.match(name):
        causes.append(invalid_value("metadata.name", name, msg))
    return causes


def _check_labels(labels, field):
    causes = []
    for key, value in (labels or {}).items():
        prefix, _sep, short = key.rpartition("/")
        if (
            (prefix and not _SUBDOMAIN.match(prefix))
            or not short
            or len(short) > _MAX_LABEL
            or not _QUALIFIED.match(short)
        ):
            causes.append(
                invalid_value(
                    field,
                    key,
                    "name part must consist of alphanumeric characters, '-', '_' "
                    "or '.', and must start and end with an alphanumeric character",
                )
            )
        if not isinstance(value, str) or len(value) > _MAX_LABEL or (value and not _QUALIFIED.match(value)):
            causes.append(
                invalid_value(
                    f"{field}",
                    value,
                    "a valid label must be an empty string or consist of "
                    "alphanumeric characters, '-', '_' or '.', and must "
                    "start and end with an alphanumeric character",
                )
            )
    return causes


def _port_range(field, value):
    if not isinstance(value, int) or not 1 <= value <= _MAX_PORT:
        return [invalid_value(field, value, "must be between 1 and 65535, inclusive")]
    return []


def _containers(spec, field):
    causes = []
    containers = spec.get("containers")
    if not containers:
        causes.append(required(f"{field}.containers"))
    for key in ("containers", "initContainers"):
        seen = set()
        for n, ctr in enumerate(spec.get(key) or []):
            where = f"{field}.{key}[{n}]"
            if not ctr.get("name"):
                causes.append(required(f"{where}.name"))
            elif not _LABEL.match(ctr["name"]):
                causes.append(invalid_value(f"{where}.name", ctr["name"], LABEL_MSG))
            elif ctr["name"] in seen:
                causes.append(("FieldValueDuplicate", f"{where}.name", f"Duplicate value: {_fmt(ctr['name'])}"))
            seen.add(ctr.get("name"))
            if not ctr.get("image"):
                causes.append(required(f"{where}.image"))
            for p, port in enumerate(ctr.get("ports") or []):
                causes += _port_range(f"{where}.ports[{p}].containerPort", port.get("containerPort"))
    return causes


def pod_spec(spec, field):
    return _containers(spec, field)


def _template(spec, selector_reqs, field="spec"):
    tpl = spec.get("template")
    if not isinstance(tpl, dict):
        return [required(f"{field}.template")]
    labels = (tpl.get("metadata") or {}).get("labels") or {}
    causes = pod_spec(tpl.get("spec") or {}, f"{field}.template.spec")
    causes += _check_labels(labels, f"{field}.template.metadata.labels")
    if selector_reqs is not None and not selectors.matches(labels, selector_reqs):
        causes.append(
            invalid_value(f"{field}.template.metadata.labels", labels, "`selector` does not match template `labels`")
        )
    return causes


def _selected_workload(obj, old):
    spec = obj.get("spec") or {}
    selector = spec.get("selector")
    if not selector:
        return [required("spec.selector")]
    causes = []
    if not selector.get("matchLabels") and not selector.get("matchExpressions"):
        causes.append(invalid_value("spec.selector", selector, "empty selector is invalid for deployment"))
    if old is not None and (old.get("spec") or {}).get("selector") != selector:
        causes.append(invalid_value("spec.selector", selector, "field is immutable"))
    causes += _template(spec, selectors.from_label_selector(selector))
    if isinstance(spec.get("replicas"), int) and spec["replicas"] < 0:
        causes.append(invalid_value("spec.replicas", spec["replicas"], "must be greater than or equal to 0"))
    return causes


def _rc(obj, old):
    del old
    spec = obj.get("spec") or {}
    return _template(spec, [(k, "=", (v,)) for k, v in (spec.get("selector") or {}).items()])


_POD_MUTABLE = ("activeDeadlineSeconds", "terminationGracePeriodSeconds")


def _pod_update_view(spec):
    view = json.loads(json.dumps(spec))
    for key in _POD_MUTABLE:
        view.pop(key, None)
    for key in ("containers", "initContainers"):
        for ctr in view.get(key) or []:
            ctr.pop("image", None)
    view.pop("tolerations", None)
    if view.get("nodeName") is None:
        view.pop("nodeName", None)
    return view


def _pod(obj, old):
    spec = obj.get("spec") or {}
    causes = pod_spec(spec, "spec")
    if old is not None:
        new_view, old_view = _pod_update_view(spec), _pod_update_view(old.get("spec") or {})
        old_view.pop("nodeName", None) if "nodeName" not in new_view else None
        if new_view != old_view:
            causes.append(
                forbidden(
                    "spec",
                    "pod updates may not change fields other than "
                    "`spec.containers[*].image`,`spec.initContainers[*].image`,"
                    "`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to "
                    "existing tolerations),`spec.terminationGracePeriodSeconds` (allow it "
                    "to be set to 1 if it was previously negative)",
                )
            )
    return causes


def _service(obj, old):
    spec = obj.get("spec") or {}
    causes = []
    kind = spec.get("type", "ClusterIP")
    if kind != "ExternalName" and not spec.get("ports") and spec.get("clusterIP") != "None":
        causes.append(required("spec.ports"))
    for n, port in enumerate(spec.get("ports") or []):
        causes += _port_range(f"spec.ports[{n}].port", port.get("port"))
        node_port = port.get("nodePort")
        # Only the port-number check is validation; the node-port range is the allocator's (allocators.py).
        if node_port is not None:
            causes += _port_range(f"spec.ports[{n}].nodePort", node_port)
        if node_port is not None and kind == "ClusterIP":
            causes.append(forbidden(f"spec.ports[{n}].nodePort", "may not be used when `type` is 'ClusterIP'"))
    if len({(p.get("port"), p.get("protocol", "TCP")) for p in spec.get("ports") or []}) < len(spec.get("ports") or []):
        causes.append(("FieldValueDuplicate", "spec.ports", "Duplicate value"))
    old_ip = ((old or {}).get("spec") or {}).get("clusterIP")
    if old is not None and old_ip and spec.get("clusterIP") != old_ip and kind != "ExternalName":
        causes.append(invalid_value("spec.clusterIPs[0]", spec.get("clusterIP"), "may not change once set"))
    return causes


def _pdb(obj, old):
    del old
    spec = obj.get("spec") or {}
    if "minAvailable" in spec and "maxUnavailable" in spec:
        return [invalid_value("spec", spec, "minAvailable and maxUnavailable cannot be both set")]
    return []


def _hpa(obj, old):
    del old
    spec = obj.get("spec") or {}
    causes = []
    if not spec.get("scaleTargetRef"):
        causes.append(required("spec.scaleTargetRef"))
    low, high = spec.get("minReplicas", 1), spec.get("maxReplicas")
    if not isinstance(high, int) or high < 1:
        causes.append(invalid_value("spec.maxReplicas", high, "must be greater than or equal to 1"))
    elif isinstance(low, int) and high < low:
        causes.append(invalid_value("spec.maxReplicas", high, "must be greater than or equal to `minReplicas`"))
    return causes


def _daemonset(obj, old):
    spec = obj.get("spec") or {}
    causes = _selected_workload({"spec": {**spec, "replicas": 0}}, old)
    return causes


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
        causes += _port_range("spec.service.port", service["port"])
    if spec.get("insecureSkipTLSVerify") and spec.get("caBundle"):
        causes.append(invalid_value("spec.insecureSkipTLSVerify", True, "may not be true when caBundle is set"))
    return causes


def _apiservice(obj, old):
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
    elif not _DNS1035.match(version) or len(version) > _MAX_LABEL:
        causes.append(invalid_value("spec.version", version, DNS1035_MSG))
    if not group and version != "v1":
        causes.append(invalid_value("spec.group", group, "only v1 may have an empty group (the core API)"))
    elif group and not _SUBDOMAIN.match(group):
        causes.append(invalid_value("spec.group", group, SUBDOMAIN_MSG))
    causes += _priority(spec, "groupPriorityMinimum", _MAX_GROUP_PRIORITY)
    causes += _priority(spec, "versionPriority", _MAX_VERSION_PRIORITY)
    return causes + _apiservice_service(spec)


def _crd(obj, old):
    """apiextensions-apiserver's ValidateCustomResourceDefinition, the parts a manifest can get wrong by hand:
    the name is `<spec.names.plural>.<spec.group>`, the scope is Cluster or Namespaced, exactly one version is
    the storage version (staging/src/k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/validation)."""
    del old
    spec = obj.get("spec") or {}
    names = spec.get("names") or {}
    causes = []
    name = obj["metadata"].get("name")
    if name != "{}.{}".format(names.get("plural", ""), spec.get("group", "")):
        causes.append(invalid_value("metadata.name", name, 'must be spec.names.plural+"."+spec.group'))
    if spec.get("scope") not in ("Cluster", "Namespaced"):
        causes.append(invalid_value("spec.scope", spec.get("scope"), 'must be "Cluster" or "Namespaced"'))
    versions = spec.get("versions") or []
    if not versions:
        causes.append(required("spec.versions"))
    elif sum(1 for v in versions if v.get("storage")) != 1:
        stored = [v.get("name") for v in versions if v.get("storage")]
        causes.append(invalid_value("spec.versions", stored, "must have exactly one version marked as storage version"))
    return causes


RULES = {
    "CustomResourceDefinition": _crd,
    "Deployment": _selected_workload,
    "ReplicaSet": _selected_workload,
    "StatefulSet": _selected_workload,
    "DaemonSet": _daemonset,
    "ReplicationController": _rc,
    "Pod": _pod,
    "Service": _service,
    "PodDisruptionBudget": _pdb,
    "HorizontalPodAutoscaler": _hpa,
    "APIService": _apiservice,
}


def validate(obj, old):
    """List of (reason, field, message) causes."""
    meta = obj.get("metadata") or {}
    causes = check_name(obj.get("kind"), meta.get("name"))
    causes += _check_labels(meta.get("labels"), "metadata.labels")
    rule = RULES.get(obj.get("kind"))
    if rule is not None:
        causes += rule(obj, old)
    return causes + enums.check(obj)
