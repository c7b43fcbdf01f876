"""apiextensions.k8s.io/v1 CustomResourceDefinition: stored with its OpenAPI schema (strict field validation
accepts the x-kubernetes-* extensions real CRDs carry), validated like apiextensions-apiserver (name, scope,
one storage version), then NamesAccepted and Established as its naming and establishing controllers report;
a CRD claiming a plural already accepted in its group stays not Established."""

from __future__ import annotations

import uuid

from kubesim.helpers import wait_for

HTTP_OK = 200
HTTP_CREATED = 201
HTTP_INVALID = 422
CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"


def crd(group, plural="widgets", kind="Widget", **spec):
    body = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {
            "group": group,
            "names": {"kind": kind, "listKind": f"{kind}List", "plural": plural, "singular": kind.lower()},
            "scope": "Cluster",
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {
                                "spec": {
                                    "type": "object",
                                    "properties": {"mode": {"type": "string", "enum": ["A", "B"], "default": "A"}},
                                    "x-kubernetes-validations": [{"rule": "has(self.mode)", "message": "m"}],
                                }
                            },
                        }
                    },
                }
            ],
            **spec,
        },
    }
    return body


def _conditions(obj):
    return {c["type"]: c for c in (obj.get("status") or {}).get("conditions") or []}


def test_crd_is_stored_and_established(apiserver):
    group = f"g{uuid.uuid4().hex[:8]}.example.com"
    status, body = apiserver.request("POST", CRDS + "?fieldValidation=Strict", crd(group))
    assert status == HTTP_CREATED, body
    name = f"widgets.{group}"

    def established():
        _status, obj = apiserver.request("GET", f"{CRDS}/{name}")
        return obj if (_conditions(obj).get("Established") or {}).get("status") == "True" else None

    obj = wait_for(established)
    assert _conditions(obj)["NamesAccepted"]["reason"] == "NoConflicts"
    assert _conditions(obj)["Established"]["reason"] == "InitialNamesAccepted"
    assert obj["status"]["acceptedNames"]["plural"] == "widgets"
    assert obj["status"]["storedVersions"] == ["v1"]
    schema = obj["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    assert schema["x-kubernetes-validations"] == [{"rule": "has(self.mode)", "message": "m"}]
    status, listing = apiserver.request("GET", "/apis/apiextensions.k8s.io/v1")
    assert status == HTTP_OK
    assert "customresourcedefinitions" in {r["name"] for r in listing["resources"]}


def test_crd_validation_matches_apiextensions(apiserver):
    group = f"g{uuid.uuid4().hex[:8]}.example.com"
    wrong_name = crd(group)
    wrong_name["metadata"]["name"] = f"gadgets.{group}"
    two_storage = crd(group)
    two_storage["spec"]["versions"].append(dict(two_storage["spec"]["versions"][0], name="v2"))
    cases = {
        "metadata.name": wrong_name,
        "spec.scope": crd(group, scope="Global"),
        "spec.versions": two_storage,
    }
    for field, body in cases.items():
        status, answer = apiserver.request("POST", CRDS, body)
        assert status == HTTP_INVALID, (field, answer)
        assert [c["field"] for c in answer["details"]["causes"]] == [field]


def test_conflicting_plural_is_not_established(apiserver):
    group = f"g{uuid.uuid4().hex[:8]}.example.com"
    status, _body = apiserver.request("POST", CRDS, crd(group))
    assert status == HTTP_CREATED
    wait_for(lambda: _conditions(apiserver.request("GET", f"{CRDS}/widgets.{group}")[1]).get("Established"))
    status, _body = apiserver.request("POST", CRDS, crd(group, plural="gizmos", kind="Widget"))
    assert status == HTTP_CREATED

    def names_refused():
        _status, obj = apiserver.request("GET", f"{CRDS}/gizmos.{group}")
        return _conditions(obj).get("NamesAccepted")

    refused = wait_for(names_refused)
    assert (refused["status"], refused["reason"]) == ("False", "AlreadyInUse")
    _status, obj = apiserver.request("GET", f"{CRDS}/gizmos.{group}")
    assert "Established" not in _conditions(obj)
