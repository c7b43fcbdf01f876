"""Server-side apply: FieldsV1 field sets, ownership, conflicts, merge and removal of dropped fields."""

from __future__ import annotations

import copy
import json

from . import schema
from .errors import HTTP_CONFLICT, ApiError

_MISSING = object()
# List-map keys that the server defaults, so `ports: [{containerPort: 80}]` is keyed with protocol TCP.
KEY_DEFAULTS = {"protocol": "TCP"}
_IGNORED_META = frozenset(
    {
        "name",
        "namespace",
        "uid",
        "resourceVersion",
        "generation",
        "creationTimestamp",
        "managedFields",
        "selfLink",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "generateName",
    }
)


def _item_key(item, keys):
    return {k: item.get(k, KEY_DEFAULTS.get(k)) for k in keys}


def _key_token(item, keys):
    return "k:" + json.dumps(_item_key(item, keys), sort_keys=True, separators=(",", ":"))


def _is_struct(value, node):
    return isinstance(value, dict) and value and not schema.free_form(node) and not schema.atomic_map(node)


def fieldset(obj, node, path=(), top=True):
    """Set of leaf/member paths (tuples of FieldsV1 tokens) that `obj` sets."""
    out = set()
    for key, value in obj.items():
        if top and key in ("apiVersion", "kind"):
            continue
        if top and key == "metadata" and isinstance(value, dict):
            meta = {k: v for k, v in value.items() if k not in _IGNORED_META}
            out |= fieldset(meta, schema.child(node, key), (*path, "f:metadata"), top=False) if meta else set()
            continue
        out |= _field_paths(value, schema.child(node, key) if node is not None else None, (*path, f"f:{key}"))
    return out


def _field_paths(value, node, path):
    if _is_struct(value, node):
        return fieldset(value, node, path, top=False)
    if isinstance(value, list) and value:
        list_type, keys, _mk, _st = schema.list_info(node)
        if list_type == "map" and all(isinstance(i, dict) for i in value):
            out = set()
            inner = schema.items(node)
            for item in value:
                token = (*path, _key_token(item, keys))
                out.add(token)
                rest = {k: v for k, v in item.items() if k not in keys}
                out |= {(*token, f"f:{k}") for k in keys if k in item}
                out |= fieldset(rest, inner, token, top=False)
            return out
        if list_type == "set":
            return {(*path, "v:" + json.dumps(v, sort_keys=True, separators=(",", ":"))) for v in value}
    return {path}


def to_fields_v1(paths):
    trie = {}
    for path in sorted(paths):
        node = trie
        for token in path:
            node = node.setdefault(token, {})
        node["."] = {}
    return _collapse(trie)


def _collapse(node):
    out = {}
    for token, sub in node.items():
        if token == ".":
            continue
        children = _collapse(sub)
        if "." in sub and children:
            out[token] = {".": {}, **children}
        else:
            out[token] = children
    return out


def from_fields_v1(trie, path=()):
    out = set()
    for token, sub in (trie or {}).items():
        if token == ".":
            out.add(path)
            continue
        here = (*path, token)
        if not sub:
            out.add(here)
        else:
            out |= from_fields_v1(sub, here)
    return out


def _find(items, token):
    if token.startswith("k:"):
        want = json.loads(token[2:])
        for n, item in enumerate(items):
            if isinstance(item, dict) and _item_key(item, want) == want:
                return n
    elif token.startswith("v:"):
        want = json.loads(token[2:])
        for n, item in enumerate(items):
            if item == want:
                return n
    return None


def get_path(obj, path):
    node = obj
    for token in path:
        if token.startswith("f:") and isinstance(node, dict):
            node = node.get(token[2:], _MISSING)
        elif isinstance(node, list):
            index = _find(node, token)
            node = _MISSING if index is None else node[index]
        else:
            return _MISSING
        if node is _MISSING:
            return _MISSING
    return node


def remove_path(obj, path):
    parent = get_path(obj, path[:-1])
    token = path[-1]
    if isinstance(parent, dict) and token.startswith("f:"):
        parent.pop(token[2:], None)
    elif isinstance(parent, list):
        index = _find(parent, token)
        if index is not None:
            parent.pop(index)


def describe(path):
    out = ""
    for token in path:
        if token.startswith("f:"):
            out += "." + token[2:]
        elif token.startswith("k:"):
            keys = json.loads(token[2:])
            out += "[" + ",".join(f"{k}={json.dumps(v)}" for k, v in keys.items()) + "]"
        else:
            out += "[=" + token[2:] + "]"
    return out


def merge(live, applied, node):
    """The live object with the applied configuration merged in (schema-aware)."""
    if (
        isinstance(applied, dict)
        and isinstance(live, dict)
        and not schema.free_form(node)
        and (not schema.atomic_map(node))
    ):
        out = dict(live)
        for key, value in applied.items():
            if value is None:
                out.pop(key, None)
                continue
            out[key] = merge(live.get(key, _MISSING), value, schema.child(node, key))
        return out
    if isinstance(applied, list) and isinstance(live, list):
        list_type, keys, _mk, _st = schema.list_info(node)
        if list_type == "map":
            return _merge_map_list(live, applied, keys, schema.items(node))
        if list_type == "set":
            return live + [v for v in applied if v not in live]
    return copy.deepcopy(applied)


def _merge_map_list(live, applied, keys, inner):
    out = list(live)
    for item in applied:
        if not isinstance(item, dict):
            out.append(copy.deepcopy(item))
            continue
        index = _find(out, _key_token(item, keys))
        if index is None:
            out.append(copy.deepcopy(item))
        else:
            out[index] = merge(out[index], item, inner)
    return out


def entries(obj):
    return obj.get("metadata", {}).get("managedFields") or []


def owner_sets(obj):
    """[(entry without fields, set of paths)] of an object's managedFields."""
    out = []
    for entry in entries(obj):
        base = {k: v for k, v in entry.items() if k != "fieldsV1"}
        out.append((base, from_fields_v1(entry.get("fieldsV1"))))
    return out


def _same_manager(base, manager, operation, subresource):
    return (
        base.get("manager") == manager
        and base.get("operation") == operation
        and base.get("subresource", "") == subresource
    )


def find_conflicts(live, applied, new_set, owners, me):
    """{path: [managers]} of fields another manager owns with a different value."""
    conflicts = {}
    for base, paths in owners:
        if _same_manager(base, *me):
            continue
        for path in new_set & paths:
            mine = get_path(applied, path)
            theirs = get_path(live, path)
            if theirs is not _MISSING and not _equal_leaf(path, mine, theirs):
                conflicts.setdefault(path, []).append(base)
    return conflicts


def _equal_leaf(path, mine, theirs):
    if path and path[-1].startswith("k:"):
        return True  # list-map items are compared through their own fields
    return mine == theirs


def conflict_error(conflicts):
    lines = []
    for path in sorted(conflicts):
        for base in conflicts[path]:
            lines.append((base, path))
    count = len(lines)
    causes = [
        {
            "reason": "FieldManagerConflict",  # metav1.StatusCause.Type is serialised as "reason"
            "message": f'conflict with "{b["manager"]}"' + (f" using {b['apiVersion']}" if b.get("apiVersion") else ""),
            "field": describe(p),
        }
        for b, p in lines
    ]
    if count == 1:
        text = f"Apply failed with 1 conflict: {causes[0]['message']}: {causes[0]['field']}"
    else:
        text = f"Apply failed with {count} conflicts: " + "\n".join(f"{c['message']}: {c['field']}" for c in causes)
    return ApiError(HTTP_CONFLICT, text, details={"causes": causes})


def apply(live, applied, me, force, node):
    """Merge `applied` onto `live` for manager me=(manager, 'Apply', subresource).

    Returns (merged object, new owner sets); raises a 409 on conflicts unless force.
    """
    new_set = fieldset(applied, node)
    owners = owner_sets(live) if live else []
    conflicts = find_conflicts(live or {}, applied, new_set, owners, me)
    if conflicts and not force:
        raise conflict_error(conflicts)
    old_set = set()
    kept = []
    for base, paths in owners:
        if _same_manager(base, *me):
            old_set = paths
            continue
        kept.append((base, paths - set(conflicts)))
    merged = merge(copy.deepcopy(live) if live else {}, applied, node)
    others = set().union(*(paths for _b, paths in kept)) if kept else set()
    for path in sorted(old_set - new_set, key=len, reverse=True):
        if not any(other[: len(path)] == path for other in others):
            remove_path(merged, path)
    kept.append(({"manager": me[0], "operation": "Apply", "subresource": me[2]}, new_set))
    return merged, kept


def update_owners(old, new, node, me, owners=None):
    """Ownership after a non-apply write by me=(manager, 'Update', subresource)."""
    owners = owner_sets(old) if owners is None and old else (owners or [])
    new_set = fieldset(new, node)
    old_set = fieldset(old, node) if old else set()
    changed = {p for p in new_set if get_path(old or {}, p) != get_path(new, p)} if old else new_set
    removed = old_set - new_set
    out, mine = [], set()
    for base, paths in owners:
        if _same_manager(base, *me):
            mine = paths
            continue
        out.append((base, (paths - changed) - removed))
    if changed or mine:
        out.append(({"manager": me[0], "operation": "Update", "subresource": me[2]}, (mine | changed) - removed))
    return out


def _entry_order(entry):
    """The order kube-apiserver stores managedFields in: Apply entries before Update ones, then oldest first, then
    by manager, apiVersion and subresource (so a write that changes no entry keeps the list as it was)."""
    return (
        entry["operation"],
        entry["time"],
        entry["manager"],
        entry["apiVersion"],
        entry.get("subresource", ""),
    )


def render(owners, api_version, now, previous):
    """managedFields list from owner sets; keeps the old timestamp of entries whose fields did not change."""
    prior = {(e.get("manager"), e.get("operation"), e.get("subresource", "")): e for e in previous or []}
    out = []
    for base, paths in owners:
        if not paths:
            continue
        fields = to_fields_v1(paths)
        ident = (base["manager"], base["operation"], base.get("subresource", ""))
        old = prior.get(ident)
        entry = {
            "manager": base["manager"],
            "operation": base["operation"],
            "apiVersion": base.get("apiVersion") or api_version,
            "time": now,
            "fieldsType": "FieldsV1",
            "fieldsV1": fields,
        }
        if base.get("subresource"):
            entry["subresource"] = base["subresource"]
        if old and old.get("fieldsV1") == fields and old.get("apiVersion") == entry["apiVersion"]:
            entry["time"] = old.get("time", now)
        out.append(entry)
    return sorted(out, key=_entry_order)
