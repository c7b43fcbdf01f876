"""Kubernetes resource.Quantity parsing and canonical formatting (`0.5` -> `500m`, `1024Mi` -> `1Gi`)."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "": Decimal(1),
    "k": Decimal("1e3"),
    "M": Decimal("1e6"),
    "G": Decimal("1e9"),
    "T": Decimal("1e12"),
    "P": Decimal("1e15"),
    "E": Decimal("1e18"),
}
_RE = re.compile(r"^([+-]?[0-9.]+)((?:[eE][+-]?[0-9]+)|Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|)$")


def parse_quantity(text):
    """(value as Decimal, format) where format is 'binary', 'decimal' or 'exponent'."""
    if isinstance(text, bool) or not isinstance(text, (str, int, float)):
        raise ValueError(f"quantity must be a string or number, not {text!r}")
    match = _RE.match(str(text).strip())
    if not match or match.group(1) in (".", "+", "-"):
        raise ValueError(f"quantities must match the regular expression '{_RE.pattern}'")
    try:
        number = Decimal(match.group(1))
    except InvalidOperation as exc:
        raise ValueError(f"invalid quantity {text!r}") from exc
    suffix = match.group(2)
    if suffix in _BINARY:
        return number * _BINARY[suffix], "binary"
    if suffix[:1] in ("e", "E"):
        return number * (Decimal(10) ** int(suffix[1:])), "exponent"
    return number * _DECIMAL[suffix], "decimal"


def _fmt_int(number):
    return format(number.quantize(Decimal(1)), "f")


def _binary(value):
    if value < _BINARY["Ki"] or value != value.to_integral_value():
        return None
    for suffix in ("Ei", "Pi", "Ti", "Gi", "Mi", "Ki"):
        scaled = value / _BINARY[suffix]
        if scaled == scaled.to_integral_value():
            return _fmt_int(scaled) + suffix
    return None


def _decimal(value):
    for suffix in ("E", "P", "T", "G", "M", "k", "", "m", "u", "n"):
        scaled = value / _DECIMAL[suffix]
        if scaled == scaled.to_integral_value() and (abs(scaled) >= 1 or value == 0):
            return _fmt_int(scaled) + suffix
    # Finer than a nanounit: round up to the next nanounit as Kubernetes does.
    return _fmt_int((value / _DECIMAL["n"]).to_integral_value(rounding="ROUND_CEILING")) + "n"


def canonical_quantity(text):
    value, fmt = parse_quantity(text)
    if value == 0:
        return "0"
    if fmt == "binary":
        out = _binary(value)
        if out is not None:
            return out
    return _decimal(value)


def quantity_value(text):
    return parse_quantity(text)[0]
