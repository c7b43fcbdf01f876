# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read manifests (dict, list, multi-document YAML) into a flat list of objects; strip and redact for output."""

from __future__ import annotations

import base64
import copy
from typing import Any

from ansible_collections.kubeforge.cluster.plugins.module_utils.errors import KubeforgeError

try:
    import yaml

    _LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    _DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
except ImportError:  # pragma: no cover - runner.run_module reports the missing library
    yaml = None

# Shorter values would mask unrelated text everywhere in the output.
_MIN_MASKED_LENGTH = 3
REDACTED = "<redacted>"
REDACTED_CHANGED = "<redacted, changed>"
_NOISE_METADATA = ("managedFields", "resourceVersion", "uid", "creationTimestamp", "generation", "selfLink")
_NOISE_ANNOTATIONS = ("kubectl.kubernetes.io/last-applied-configuration", "deployment.kubernetes.io/revision")


def parse_yaml_documents(text: str, source: str = "definition") -> list:
    """Every non-empty document of a (multi-document) YAML string."""
    if yaml is None:
        raise KubeforgeError("PyYAML is required to read YAML manifests")
    try:
        return [doc for doc in yaml.load_all(text, Loader=_LOADER) if doc is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise KubeforgeError(f"{source} is not valid YAML{where}: {problem}") from exc


def flatten(definition: Any, source: str = "definition") -> list:
    """A flat list of object dicts from a dict, a list (nested lists and ``*List`` kinds) or a YAML string."""
    if definition is None:
        return []
    if isinstance(definition, str):
        return flatten(parse_yaml_documents(definition, source), source)
    if isinstance(definition, dict):
        kind = definition.get("kind")
        if isinstance(kind, str) and kind.endswith("List") and isinstance(definition.get("items"), list):
            return flatten(definition["items"], source)
        return [definition]
    if isinstance(definition, (list, tuple)):
        objects = []
        for index, item in enumerate(definition):
            if item is None:
                continue
            if not isinstance(item, (dict, list, tuple, str)):
                raise KubeforgeError(f"{source} item {index} is a {type(item).__name__}, not an object")
            objects.extend(flatten(item, f"{source} item {index}"))
        return objects
    raise KubeforgeError(f"{source} must be a dict, a list or a YAML string, not {type(definition).__name__}")


def strip_noise(obj: dict | None, keep_status: bool = False) -> Any:
    """Copy of a live object without managedFields and server bookkeeping (for diffs and results)."""
    if not obj:
        return obj
    out = {k: v for k, v in obj.items() if keep_status or k != "status"}
    meta = dict(out.get("metadata") or {})
    for key in _NOISE_METADATA:
        meta.pop(key, None)
    annotations = {k: v for k, v in (meta.get("annotations") or {}).items() if k not in _NOISE_ANNOTATIONS}
    if annotations:
        meta["annotations"] = annotations
    else:
        meta.pop("annotations", None)
    out["metadata"] = meta
    return out


def is_secret(obj: dict | None) -> bool:
    return isinstance(obj, dict) and obj.get("kind") == "Secret" and obj.get("apiVersion") == "v1"


def redact(obj: dict | None, compare_to: dict | None = None) -> Any:
    """Secret with ``data``/``stringData`` values replaced; keys whose value differs from ``compare_to``'s are
    marked as changed, so a diff still shows which keys change without showing any value."""
    if not is_secret(obj):
        return obj
    other = (compare_to or {}).get("data") or {}
    out = dict(obj)
    for field in ("data", "stringData"):
        if isinstance(obj.get(field), dict):
            out[field] = {
                key: REDACTED if compare_to is None or other.get(key) == value else REDACTED_CHANGED
                for key, value in obj[field].items()
            }
    return out


def secret_values(obj: dict | None) -> list:
    """The plain values of a Secret manifest (to register as no_log values)."""
    values = []
    if is_secret(obj):
        values.extend(str(value) for value in (obj.get("stringData") or {}).values())
        for value in (obj.get("data") or {}).values():
            values.append(str(value))
            try:
                values.append(base64.b64decode(str(value)).decode())
            except (ValueError, UnicodeDecodeError):
                continue
    return [v for v in values if len(v) >= _MIN_MASKED_LENGTH]


def to_yaml(obj: dict | None) -> str:
    if obj is None:
        return ""
    return yaml.dump(obj, Dumper=_DUMPER, default_flow_style=False, sort_keys=True)


def deep_copy(obj: dict | None) -> Any:
    return copy.deepcopy(obj)
