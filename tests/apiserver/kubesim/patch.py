"""JSON patch (RFC 6902), JSON merge patch (RFC 7386) and strategic merge patch."""

from __future__ import annotations

import copy

from . import schema
from .errors import HTTP_INVALID, ApiError, bad_request

_MISSING = object()


def _pointer(path):
    if path == "":
        return []
    if not path.startswith("/"):
        raise bad_request(f"the server rejected our request due to an error in our request: invalid path {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _container(doc, parts, path):
    node = doc
    for part in parts[:-1]:
        node = _step(node, part, path)
    return node


def _step(node, part, path):
    if isinstance(node, dict) and part in node:
        return node[part]
    if isinstance(node, list) and part.isdigit() and int(part) < len(node):
        return node[int(part)]
    raise ApiError(
        HTTP_INVALID,
        f'the server rejected our request due to an error in our request: doc is missing path: "{path}": missing value',
    )


def _get(doc, path):
    parts = _pointer(path)
    node = doc
    for part in parts:
        node = _step(node, part, path)
    return node


def _add(doc, path, value, replace=False):
    parts = _pointer(path)
    if not parts:
        return value
    parent = _container(doc, parts, path)
    last = parts[-1]
    if isinstance(parent, dict):
        if replace and last not in parent:
            _step(parent, last, path)
        parent[last] = value
    elif isinstance(parent, list):
        index = len(parent) if last == "-" else _index(last, len(parent) + (0 if replace else 1), path)
        if replace:
            parent[index] = value
        else:
            parent.insert(index, value)
    else:
        _step(parent, last, path)
    return doc


def _index(text, bound, path):
    if not text.isdigit() or int(text) >= bound:
        raise ApiError(
            HTTP_INVALID,
            f"the server rejected our request due to an error in our request: "
            f"unable to access invalid index: {text} in path {path}",
        )
    return int(text)


def _remove(doc, path):
    parts = _pointer(path)
    parent = _container(doc, parts, path)
    last = parts[-1]
    _step(parent, last, path)
    if isinstance(parent, dict):
        return parent.pop(last)
    return parent.pop(int(last))


def json_patch(doc, ops):
    if not isinstance(ops, list):
        raise bad_request("json: cannot unmarshal object into Go value of type []handlers.jsonPatchOp")
    doc = copy.deepcopy(doc)
    for op in ops:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise bad_request(
                "the server rejected our request due to an error in our request: invalid JSON patch operation"
            )
        doc = _apply_op(doc, op)
    return doc


def _apply_op(doc, op):
    kind, path = op["op"], op["path"]
    if kind == "add":
        return _add(doc, path, copy.deepcopy(op.get("value")))
    if kind == "replace":
        return _add(doc, path, copy.deepcopy(op.get("value")), replace=True)
    if kind == "remove":
        _remove(doc, path)
        return doc
    if kind in ("move", "copy"):
        value = copy.deepcopy(_get(doc, op.get("from", "")))
        if kind == "move":
            _remove(doc, op["from"])
        return _add(doc, path, value)
    if kind == "test":
        if _get(doc, path) != op.get("value"):
            raise ApiError(
                HTTP_INVALID,
                f"the server rejected our request due to an error in our request: "
                f"testing value {path} failed: test failed",
            )
        return doc
    raise bad_request(f"the server rejected our request due to an error in our request: Unexpected kind: {kind}")


def merge_patch(doc, patch):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(doc) if isinstance(doc, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


# ---- strategic merge patch -------------------------------------------------------------------


def strategic_merge(doc, patch, node):
    """Apply a strategic merge patch to doc using the patch metadata of schema `node`."""
    if not isinstance(patch, dict):
        raise bad_request(
            "the body of the request was in an unknown format - accepted media types include: "
            "application/json-patch+json, application/merge-patch+json, "
            "application/apply-patch+yaml"
        )
    return _smp_map(copy.deepcopy(doc) if isinstance(doc, dict) else {}, patch, node)


def _smp_map(doc, patch, node):
    directive = patch.get("$patch")
    if directive == "replace":
        return {k: v for k, v in patch.items() if k != "$patch"}
    if directive == "delete":
        return _MISSING
    retain = patch.get("$retainKeys")
    orders = {}
    for key, value in patch.items():
        if key.startswith("$setElementOrder/"):
            orders[key.split("/", 1)[1]] = value
            continue
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            doc[field] = [v for v in doc.get(field) or [] if v not in value]
            continue
        if key.startswith("$"):
            continue
        _smp_field(doc, key, value, schema.child(node, key) if node is not None else None)
    for field, order in orders.items():
        if isinstance(doc.get(field), list):
            doc[field] = _reorder(doc[field], order, schema.child(node, field) if node is not None else None)
    if isinstance(retain, list):
        for key in list(doc):
            if key not in retain:
                doc.pop(key)
    return doc


def _smp_field(doc, key, value, sub):
    if value is None:
        doc.pop(key, None)
        return
    current = doc.get(key)
    if isinstance(value, dict) and isinstance(current, dict):
        merged = _smp_map(current, value, sub)
    elif isinstance(value, dict) and value.get("$patch") == "delete":
        merged = _MISSING
    elif isinstance(value, dict):
        merged = _smp_map({}, value, sub)
    elif isinstance(value, list):
        merged = _smp_list(current if isinstance(current, list) else [], value, sub)
    else:
        merged = value
    if merged is _MISSING:
        doc.pop(key, None)
    else:
        doc[key] = merged


def _smp_list(current, patch, node):
    _list_type, _keys, merge_key, strategy = schema.list_info(node)
    if "merge" not in strategy:
        if any(isinstance(i, dict) and i.get("$patch") == "replace" for i in patch):
            return [i for i in patch if not (isinstance(i, dict) and "$patch" in i)]
        return copy.deepcopy(patch)
    if not merge_key:
        out = list(current)
        for item in patch:
            if item not in out:
                out.append(item)
        return out
    item_node = schema.items(node)
    out = [copy.deepcopy(i) for i in current]
    for item in patch:
        if not isinstance(item, dict):
            raise bad_request(f"the body of the request is invalid: list item is not a map for key {merge_key}")
        if item.get("$patch") == "replace":
            return [i for i in patch if not (isinstance(i, dict) and "$patch" in i)]
        index = next((n for n, have in enumerate(out) if have.get(merge_key) == item.get(merge_key)), None)
        if item.get("$patch") == "delete":
            if index is not None:
                out.pop(index)
            continue
        if index is None:
            out.append(_smp_map({}, item, item_node))
        else:
            out[index] = _smp_map(out[index], item, item_node)
    return out


def _reorder(items, order, node):
    _t, _k, merge_key, _s = schema.list_info(node)

    def rank(item):
        ident = item.get(merge_key) if merge_key and isinstance(item, dict) else item
        for n, want in enumerate(order):
            have = want.get(merge_key) if merge_key and isinstance(want, dict) else want
            if have == ident:
                return n
        return len(order)

    return sorted(items, key=rank)
