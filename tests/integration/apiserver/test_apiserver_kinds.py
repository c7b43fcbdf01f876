"""The kind registry (kubesim/kinds): docs/apiserver.md's "adding a kind" example, done to a copy of kubesim exactly
as the docs say (one new file, one registration), gives a kind that discovery lists, that is defaulted, validated
and printed as a table; and every served resource is described by exactly one Kind."""

from __future__ import annotations

import importlib
import re
import shutil
from pathlib import Path

import pytest

testing = importlib.import_module("kubesim.testing")
kinds = importlib.import_module("kubesim.kinds")
resources = importlib.import_module("kubesim.resources")

DOC = Path(__file__).resolve().parents[3] / "docs" / "apiserver.md"
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io"
HTTP_OK = 200
HTTP_CREATED = 201
HTTP_INVALID = 422


def _doc_example():
    """The `kinds/widget.py` code block of the docs' "Adding a kind" section."""
    section = DOC.read_text().split("#### Adding a kind", 1)[1]
    code = re.search(r"```python\n# kinds/widget.py\n(.*?)```", section, re.S)
    assert code, "docs/apiserver.md lost its kinds/widget.py example"
    return code.group(1)


def _register(init):
    """The one registration the docs ask for: the module imported and its KIND listed in KINDS."""
    text = init.read_text()
    text = text.replace("from . import (\n", "from . import (\n    widget,\n", 1)
    text = re.sub(r"(\nKINDS = \((?:\n    [\w.]+,)+)\n\)", r"\1\n    widget.KIND,\n)", text, count=1)
    assert "widget.KIND," in text and "    widget,\n" in text
    init.write_text(text)


@pytest.fixture
def widget_server(tmp_path, monkeypatch):
    source = Path(testing.__file__).resolve().parents[1]
    copy = tmp_path / "apiserver"
    shutil.copytree(source, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "kubesim" / "kinds" / "widget.py").write_text(_doc_example())
    _register(copy / "kubesim" / "kinds" / "__init__.py")
    monkeypatch.setattr(testing, "SERVE", copy / "serve")
    server = testing.ApiServer(tmp_path / "run", ("--no-controllers",))
    yield server
    server.stop()


def _widget(name, spec):
    return {"apiVersion": "example.io/v1", "kind": "Widget", "metadata": {"name": name}, "spec": spec}


def test_docs_example_kind_is_served_defaulted_validated_and_printed(widget_server):
    api = widget_server
    status, groups = api.request("GET", "/apis")
    assert status == HTTP_OK
    assert "example.io" in [g["name"] for g in groups["groups"]]
    status, listing = api.request("GET", "/apis/example.io/v1")
    assert status == HTTP_OK
    assert [(r["name"], r["kind"], r["shortNames"]) for r in listing["resources"] if "/" not in r["name"]] == [
        ("widgets", "Widget", ["wd"])
    ]

    status, created = api.request("POST", "/apis/example.io/v1/namespaces/default/widgets", _widget("w1", {}))
    assert status == HTTP_CREATED, created
    assert created["spec"] == {"size": 1}

    status, refused = api.request("POST", "/apis/example.io/v1/namespaces/default/widgets", _widget("w2", {"size": -1}))
    assert status == HTTP_INVALID, refused
    assert [c["field"] for c in refused["details"]["causes"]] == ["spec.size"]

    status, table = api.request("GET", "/apis/example.io/v1/namespaces/default/widgets", headers={"Accept": TABLE})
    assert status == HTTP_OK
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Size", "Age"]
    assert [row["cells"][:2] for row in table["rows"]] == [["w1", 1]]


def test_every_served_resource_belongs_to_exactly_one_kind():
    owners = {}
    for kind in kinds.KINDS:
        assert kind.resources, kind
        for res in kind.resources:
            assert res.kind == kind.name
            owners.setdefault((res.group, res.version, res.plural), []).append(kind.name)
    assert all(len(names) == 1 for names in owners.values()), owners
    assert [(r.group, r.version, r.plural) for r in resources.RESOURCES] == list(owners)
    assert len(kinds.BY_NAME) == len(kinds.KINDS)
