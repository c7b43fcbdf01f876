"""Validation helpers kube-apiserver's rules share (names, labels, ports, pod templates and selectors). Each kind's
own rules are in its file under kinds/; kinds.validate runs them after the generic checks."""

from __future__ import annotations

import json
import re

from . import selectors

SUBDOMAIN_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1035_RE = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_QUALIFIED = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_MAX_SUBDOMAIN = 253
MAX_LABEL = 63
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
# metadata.name rules (kinds/base.py names them): regex, message, length limit. "path-segment" names (RBAC objects,
# APIServices: `system:metrics-server`, `v1.`) only have to be usable as one URL path segment.
_NAME_RULES = {
    "subdomain": (SUBDOMAIN_RE, SUBDOMAIN_MSG, _MAX_SUBDOMAIN),
    "label": (_LABEL, LABEL_MSG, MAX_LABEL),
    "dns1035": (DNS1035_RE, DNS1035_MSG, MAX_LABEL),
}


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


def check_name(rule, name):
    """Causes for metadata.name under ``rule`` (the kind's name_rule)."""
    causes = []
    if not isinstance(name, str) or not name:
        return [("FieldValueRequired", "metadata.name", "Required value: name or generateName is required")]
    if rule == "path-segment":
        return _path_segment_name(name)
    regex, msg, limit = _NAME_RULES[rule]
    if len(name) > limit:
        causes.append(("FieldValueTooLong", "metadata.name", f"Too long: may not be more than {limit} bytes"))
    if not regex.match(name):
        causes.append(invalid_value("metadata.name", name, msg))
    return causes


def check_labels(labels, field):
    causes = []
    for key, value in (labels or {}).items():
        prefix, _sep, short = key.rpartition("/")
        if (
            (prefix and not SUBDOMAIN_RE.match(prefix))
            or not short
            or len(short) > MAX_LABEL
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
        if not isinstance(value, str) or len(value) > MAX_LABEL or (value and not _QUALIFIED.match(value)):
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


def port_range(field, value):
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
                causes += port_range(f"{where}.ports[{p}].containerPort", port.get("containerPort"))
    return causes


def pod_spec_causes(spec, field):
    return _containers(spec, field)


def template_causes(spec, selector_reqs, field="spec"):
    tpl = spec.get("template")
    if not isinstance(tpl, dict):
        return [required(f"{field}.template")]
    labels = (tpl.get("metadata") or {}).get("labels") or {}
    causes = pod_spec_causes(tpl.get("spec") or {}, f"{field}.template.spec")
    causes += check_labels(labels, f"{field}.template.metadata.labels")
    if selector_reqs is not None and not selectors.matches(labels, selector_reqs):
        causes.append(
            invalid_value(f"{field}.template.metadata.labels", labels, "`selector` does not match template `labels`")
        )
    return causes


def selected_workload(obj, old):
    spec = obj.get("spec") or {}
    selector = spec.get("selector")
    if not selector:
        return [required("spec.selector")]
    causes = []
    if not selector.get("matchLabels") and not selector.get("matchExpressions"):
        causes.append(invalid_value("spec.selector", selector, "empty selector is invalid for deployment"))
    if old is not None and (old.get("spec") or {}).get("selector") != selector:
        causes.append(invalid_value("spec.selector", selector, "field is immutable"))
    causes += template_causes(spec, selectors.from_label_selector(selector))
    if isinstance(spec.get("replicas"), int) and spec["replicas"] < 0:
        causes.append(invalid_value("spec.replicas", spec["replicas"], "must be greater than or equal to 0"))
    return causes
