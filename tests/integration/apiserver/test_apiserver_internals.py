"""Pure functions of kubesim: quantities, selectors, FieldsV1, strategic merge patch."""

from __future__ import annotations

import importlib

import pytest

quantity = importlib.import_module("kubesim.quantity")
selectors = importlib.import_module("kubesim.selectors")
ssa = importlib.import_module("kubesim.ssa")
patch = importlib.import_module("kubesim.patch")
errors = importlib.import_module("kubesim.errors")


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        (0.5, "500m"),
        ("0.5", "500m"),
        ("1000m", "1"),
        ("1024Mi", "1Gi"),
        ("1536Mi", "1536Mi"),
        ("2000", "2k"),
        ("1500", "1500"),
        (2, "2"),
        ("1Gi", "1Gi"),
        ("0.1", "100m"),
        ("1e3", "1k"),
        ("0", "0"),
        ("100Ki", "100Ki"),
    ],
)
def test_canonical_quantities(given, canonical):
    assert quantity.canonical_quantity(given) == canonical


@pytest.mark.parametrize("bad", ["", "abc", "1.2.3", "5Qi", True, None])
def test_bad_quantities(bad):
    with pytest.raises(ValueError):
        quantity.canonical_quantity(bad)


def test_label_selector_parser():
    reqs = selectors.parse_label_selector("a=1, b!=2,c in (x, y),d notin (z),e,!f")
    assert reqs == [
        ("a", "=", ("1",)),
        ("b", "!=", ("2",)),
        ("c", "in", ("x", "y")),
        ("d", "notin", ("z",)),
        ("e", "exists", ()),
        ("f", "!exists", ()),
    ]
    assert selectors.matches({"a": "1", "c": "x", "e": ""}, reqs)
    assert not selectors.matches({"a": "1", "c": "x", "e": "", "f": "1"}, reqs)
    with pytest.raises(errors.ApiError):
        selectors.parse_label_selector("a in b")


def test_fields_v1_round_trip():
    paths = {
        ("f:metadata", "f:labels", "f:app"),
        ("f:spec", "f:containers", 'k:{"name":"c"}'),
        ("f:spec", "f:containers", 'k:{"name":"c"}', "f:image"),
        ("f:spec", "f:finalizers", 'v:"x"'),
    }
    trie = ssa.to_fields_v1(paths)
    assert trie["f:spec"]["f:containers"]['k:{"name":"c"}'] == {".": {}, "f:image": {}}
    assert ssa.from_fields_v1(trie) == paths
    assert ssa.describe(("f:spec", "f:containers", 'k:{"name":"c"}', "f:image")) == '.spec.containers[name="c"].image'


def test_strategic_merge_directives_without_schema():
    doc = {"a": {"b": 1, "c": 2}, "l": [1, 2]}
    assert patch.strategic_merge(doc, {"a": {"$patch": "replace", "x": 1}}, None) == {"a": {"x": 1}, "l": [1, 2]}
    assert patch.strategic_merge(doc, {"a": {"b": None}}, None) == {"a": {"c": 2}, "l": [1, 2]}
    assert patch.strategic_merge(doc, {"$deleteFromPrimitiveList/l": [1]}, None) == {"a": {"b": 1, "c": 2}, "l": [2]}
    assert doc == {"a": {"b": 1, "c": 2}, "l": [1, 2]}  # the input is never modified
