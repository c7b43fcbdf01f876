# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""to_toml: a mapping rendered as a TOML document (config files rendered as data, e.g. containerd's config.toml).

ansible-core has no TOML writer and the controller may lack one, so this is a small serializer of the TOML 1.0
subset configuration files use (https://toml.io/en/v1.0.0): tables, arrays of tables, strings, integers, floats,
booleans and arrays. Keys keep their order; a key that is not a bare key (``io.containerd.cri.v1.images``) is
quoted. TOML has no null: a None value is an error naming its key path.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def _key(name, path):
    if not isinstance(name, str):
        raise AnsibleFilterError(f"to_toml: key {name!r} under {_dotted(path) or 'the top level'} is not a string")
    return name if _BARE_KEY.match(name) else _string(name)


def _dotted(path):
    return ".".join(_key(part, ()) for part in path)


def _string(text):
    out = []
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif _CONTROL.match(char):
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _float(value, _path):
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return repr(value)


def _inline_table(value, path):
    items = ", ".join(f"{_key(k, path)} = {_value(v, (*path, k))}" for k, v in value.items())
    return "{" + items + "}" if items else "{}"


# Type -> formatter, in order (bool before int: a bool is an int in Python).
_FORMATTERS = (
    (bool, lambda value, _path: "true" if value else "false"),
    (int, lambda value, _path: str(value)),
    (float, _float),
    (str, lambda value, _path: _string(value)),
    (Mapping, _inline_table),
    ((list, tuple), lambda value, path: "[" + ", ".join(_value(item, path) for item in value) + "]"),
)


def _value(value, path):
    if value is None:
        raise AnsibleFilterError(f"to_toml: {_dotted(path)} is null; TOML has no null value (leave the key out)")
    for types, formatter in _FORMATTERS:
        if isinstance(value, types):
            return formatter(value, path)
    raise AnsibleFilterError(f"to_toml: {_dotted(path)} has a value of type {type(value).__name__}, not a TOML type")


def _is_table_array(value):
    return isinstance(value, (list, tuple)) and bool(value) and all(isinstance(item, Mapping) for item in value)


def _table(table, path, lines):
    subtables = []
    for name, value in table.items():
        if isinstance(value, Mapping) or _is_table_array(value):
            subtables.append((name, value))
        else:
            lines.append(f"{_key(name, path)} = {_value(value, (*path, name))}")
    for name, value in subtables:
        child = (*path, name)
        if isinstance(value, Mapping):
            # A table holding only tables needs no header of its own: its children's headers define it.
            if not value or any(not (isinstance(v, Mapping) or _is_table_array(v)) for v in value.values()):
                lines.extend(["", f"[{_dotted(child)}]"])
            _table(value, child, lines)
        else:
            for item in value:
                lines.extend(["", f"[[{_dotted(child)}]]"])
                _table(item, child, lines)


def to_toml(data):
    """Render a mapping as a TOML document (ends with a newline)."""
    if not isinstance(data, Mapping):
        raise AnsibleFilterError(f"to_toml: expects a mapping, got {type(data).__name__}")
    lines = []
    _table(data, (), lines)
    return "\n".join(lines).lstrip("\n") + "\n"


class FilterModule:
    """kubeforge.cluster filters."""

    def filters(self):
        return {"to_toml": to_toml}
