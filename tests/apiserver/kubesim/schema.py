"""Schema access built on kubernetes-validate's bundled OpenAPI definitions (loaded once, lazily)."""

from __future__ import annotations

import importlib.util
import json
import threading
from pathlib import Path

from .quantity import canonical_quantity

SCHEMA_VERSION = "1.37.0"
_LOCK = threading.Lock()
_DEFS = {}
QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
_PY_TYPES = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
}


def definitions():
    if not _DEFS:
        with _LOCK:
            if not _DEFS:
                # Located without importing kubernetes_validate (its import pulls in jsonschema: slow start).
                package = Path(importlib.util.find_spec("kubernetes_validate").origin).parent
                base = package / "kubernetes-json-schema"
                path = base / f"v{SCHEMA_VERSION}-local" / "_definitions.json"
                _DEFS.update(json.loads(path.read_text())["$defs"])
    return _DEFS


def ref_name(node):
    ref = node.get("$ref", "")
    return ref.rsplit("/", 1)[-1] if ref else ""


def resolve(node):
    """The schema node behind `$ref`s (None stays None)."""
    while node is not None and "$ref" in node:
        node = definitions().get(ref_name(node))
    return node


def root(definition):
    return definitions().get(definition)


def types(node):
    declared = node.get("type")
    if declared is None:
        return set()
    if isinstance(declared, str):
        return {declared}
    return set(declared) - {"null"}


def is_object(node):
    return "properties" in node or "additionalProperties" in node or "object" in types(node)


def child(node, key):
    """Schema of field `key` of an object node; None when the field is unknown."""
    node = resolve(node)
    if node is None:
        return None
    props = node.get("properties")
    if props is not None and key in props:
        return props[key]
    extra = node.get("additionalProperties")
    if isinstance(extra, dict):
        return extra
    return None


def items(node):
    node = resolve(node)
    return None if node is None else node.get("items")


def list_info(node):
    """(list-type, map keys, patch merge key, patch strategy) of an array field node (unresolved)."""
    if node is None:
        return ("atomic", (), None, "")
    keys = tuple(node.get("x-kubernetes-list-map-keys", ()))
    list_type = node.get("x-kubernetes-list-type") or ("map" if keys else "atomic")
    merge_key = node.get("x-kubernetes-patch-merge-key")
    strategy = node.get("x-kubernetes-patch-strategy", "")
    if list_type == "atomic" and merge_key and "merge" in strategy:
        list_type, keys = "map", (merge_key,)
    return (list_type, keys, merge_key, strategy)


def atomic_map(node):
    """True for structs/maps that server-side apply treats as one value (x-kubernetes-map-type: atomic)."""
    if node is None:
        return False
    if node.get("x-kubernetes-map-type") == "atomic":
        return True
    resolved = resolve(node)
    return bool(resolved) and resolved.get("x-kubernetes-map-type") == "atomic"


def free_form(node):
    """An object schema without known properties accepts anything (RawExtension, JSON, ...)."""
    node = resolve(node)
    if node is None:
        return True
    return (
        not node.get("properties")
        and "additionalProperties" not in node
        and "items" not in node
        and (not types(node) or "object" in types(node))
    )


class Walk:
    """One validation pass: checks JSON types, normalises quantities, prunes and reports unknown fields."""

    def __init__(self, prune=True):
        self.prune = prune
        self.unknown = []
        self.type_errors = []

    def value(self, value, node, path):
        """Return the normalised value (quantities canonicalised)."""
        if node is None or value is None:
            return value
        name = ref_name(node)
        if name in (QUANTITY, INT_OR_STRING):
            return self._special(name, value, path)
        resolved = resolve(node)
        if resolved is None:
            return value
        if isinstance(value, dict) and is_object(resolved):
            return self._object(value, resolved, path)
        if isinstance(value, list) and "array" in types(resolved):
            inner = resolved.get("items")
            return [self.value(v, inner, f"{path}[{i}]") for i, v in enumerate(value)]
        self._scalar(value, resolved, path)
        return value

    def _special(self, name, value, path):
        if name == QUANTITY:
            return self._quantity(value, path)
        if not isinstance(value, (int, str)) or isinstance(value, bool):
            self.type_errors.append((path, "int-or-string", value))
        return value

    def _quantity(self, value, path):
        try:
            return canonical_quantity(value)
        except ValueError:
            self.type_errors.append((path, "quantity", value))
            return value

    def _object(self, value, node, path):
        if free_form(node):
            return value
        out = {}
        for key, item in value.items():
            sub = child(node, key)
            where = f"{path}.{key}" if path else key
            if sub is None:
                self.unknown.append(where)
                if self.prune:
                    continue
                out[key] = item
                continue
            out[key] = self.value(item, sub, where)
        return out

    def _scalar(self, value, node, path):
        wanted = types(node)
        if not wanted:
            return
        for name in wanted:
            py_types = _PY_TYPES.get(name, ())
            if isinstance(value, py_types) and not (isinstance(value, bool) and name in ("integer", "number")):
                return
        if "integer" in wanted and isinstance(value, float) and value.is_integer():
            return
        self.type_errors.append((path, "/".join(sorted(wanted)), value))


def required_missing(value, node, path=""):
    """Paths of required fields missing (only where the parent object is present)."""
    node = resolve(node)
    missing = []
    if node is None or not isinstance(value, dict):
        return missing
    for name in node.get("required", ()):
        if name not in value:
            missing.append(f"{path}.{name}" if path else name)
    for key, item in value.items():
        sub = child(node, key)
        if sub is None:
            continue
        where = f"{path}.{key}" if path else key
        if isinstance(item, dict):
            missing.extend(required_missing(item, sub, where))
        elif isinstance(item, list):
            inner = items(sub)
            for i, elem in enumerate(item):
                missing.extend(required_missing(elem, inner, f"{where}[{i}]"))
    return missing
