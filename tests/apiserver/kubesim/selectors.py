"""Label selectors (full string syntax and LabelSelector objects) and field selectors."""

from __future__ import annotations

import re

from .errors import bad_request

_TOKEN = re.compile(r"\s*(!=|==|=|\(|\)|,|!|[^\s!=(),]+)")
_KEYWORDS = ("in", "notin")


def _tokens(text):
    pos, out = 0, []
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match:
            raise bad_request(f"unable to parse requirement: invalid label selector {text!r}")
        out.append(match.group(1))
        pos = match.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return out


def _values(tokens, pos):
    if pos >= len(tokens) or tokens[pos] != "(":
        raise bad_request(
            "unable to parse requirement: found '" + (tokens[pos] if pos < len(tokens) else "") + "', expected: '('"
        )
    pos += 1
    values = []
    while pos < len(tokens) and tokens[pos] != ")":
        if tokens[pos] != ",":
            values.append(tokens[pos])
        pos += 1
    if pos >= len(tokens):
        raise bad_request("unable to parse requirement: found '', expected: ')'")
    return values, pos + 1


def parse_label_selector(text):
    """List of (key, op, values) requirements; op in =, !=, in, notin, exists, !exists."""
    tokens = _tokens(text or "")
    reqs, pos = [], 0
    while pos < len(tokens):
        tok = tokens[pos]
        if tok == "!":
            reqs.append((tokens[pos + 1], "!exists", ()))
            pos += 2
        elif pos + 1 < len(tokens) and tokens[pos + 1] in ("=", "==", "!="):
            if pos + 2 >= len(tokens) or tokens[pos + 2] == ",":
                value, step = "", 2
            else:
                value, step = tokens[pos + 2], 3
            reqs.append((tok, "!=" if tokens[pos + 1] == "!=" else "=", (value,)))
            pos += step
        elif pos + 1 < len(tokens) and tokens[pos + 1] in _KEYWORDS:
            op = tokens[pos + 1]
            values, pos = _values(tokens, pos + 2)
            reqs.append((tok, op, tuple(values)))
        else:
            reqs.append((tok, "exists", ()))
            pos += 1
        if pos < len(tokens):
            if tokens[pos] != ",":
                raise bad_request(f"unable to parse requirement: found '{tokens[pos]}', expected: ','")
            pos += 1
    return reqs


def _match_one(labels, req):
    key, op, values = req
    present = key in labels
    if op == "exists":
        return present
    if op == "!exists":
        return not present
    if op == "=":
        return present and labels[key] == values[0]
    if op == "!=":
        return not present or labels[key] != values[0]
    if op == "in":
        return present and labels[key] in values
    return not present or labels[key] not in values


def matches(labels, reqs):
    labels = labels or {}
    return all(_match_one(labels, req) for req in reqs)


def from_label_selector(selector):
    """Requirements from a metav1.LabelSelector object (None matches nothing, {} everything)."""
    if selector is None:
        return None
    reqs = [(k, "=", (v,)) for k, v in (selector.get("matchLabels") or {}).items()]
    ops = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!exists"}
    for expr in selector.get("matchExpressions") or []:
        reqs.append((expr.get("key"), ops.get(expr.get("operator"), "in"), tuple(expr.get("values") or ())))
    return reqs


def selector_string(selector):
    """kubectl-style string form of a LabelSelector (used in scale status)."""
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        op = expr.get("operator")
        if op == "Exists":
            parts.append(expr["key"])
        elif op == "DoesNotExist":
            parts.append("!" + expr["key"])
        else:
            parts.append(f"{expr['key']} {op.lower()} ({','.join(expr.get('values') or [])})")
    return ",".join(parts)


_FIELDS = {
    "metadata.name": lambda o: o["metadata"].get("name"),
    "metadata.namespace": lambda o: o["metadata"].get("namespace"),
    "spec.nodeName": lambda o: (o.get("spec") or {}).get("nodeName") or "",
    "status.phase": lambda o: (o.get("status") or {}).get("phase") or "",
    "spec.unschedulable": lambda o: str(bool((o.get("spec") or {}).get("unschedulable"))).lower(),
    "type": lambda o: o.get("type") or "",
    "involvedObject.name": lambda o: (o.get("involvedObject") or {}).get("name") or "",
    "involvedObject.kind": lambda o: (o.get("involvedObject") or {}).get("kind") or "",
    "status.podIP": lambda o: (o.get("status") or {}).get("podIP") or "",
    "spec.serviceAccountName": lambda o: (o.get("spec") or {}).get("serviceAccountName") or "",
    "spec.schedulerName": lambda o: (o.get("spec") or {}).get("schedulerName") or "",
    "spec.restartPolicy": lambda o: (o.get("spec") or {}).get("restartPolicy") or "",
}
_GENERIC = ("metadata.name", "metadata.namespace")


def parse_field_selector(text, res):
    """List of (getter, op, value); unsupported fields are a 400 as on a real server."""
    reqs = []
    allowed = (*_GENERIC, *res.field_labels)
    for part in filter(None, (p.strip() for p in (text or "").split(","))):
        match = re.match(r"^([^!=]+?)\s*(!=|==|=)\s*(.*)$", part)
        if not match:
            raise bad_request(f"invalid selector: '{text}'; can't understand '{part}'")
        field, op, value = match.groups()
        if field not in allowed:
            raise bad_request(f"field label not supported: {field}")
        reqs.append((_FIELDS[field], "!=" if op == "!=" else "=", value))
    return reqs


def field_matches(obj, reqs):
    for getter, op, value in reqs:
        actual = getter(obj)
        if (actual == value) != (op == "="):
            return False
    return True
