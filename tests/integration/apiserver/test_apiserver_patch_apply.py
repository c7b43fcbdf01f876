"""PATCH flavours and server-side apply (managedFields, conflicts, force, removal, list keys, no-op)."""

from __future__ import annotations

import json

import yaml

HTTP_OK = 200
HTTP_CREATED = 201
HTTP_BAD_REQUEST = 400
HTTP_NOT_FOUND = 404
HTTP_CONFLICT = 409
FORCED_REPLICAS = 5
HTTP_UNSUPPORTED = 415
HTTP_INVALID = 422
APPLY = "application/apply-patch+yaml"
MERGE = "application/merge-patch+json"
JSONPATCH = "application/json-patch+json"
SMP = "application/strategic-merge-patch+json"


def deployment(name, containers, replicas=None, labels=None):
    labels = labels or {"app": name}
    spec = {
        "selector": {"matchLabels": labels},
        "template": {"metadata": {"labels": labels}, "spec": {"containers": containers}},
    }
    if replicas is not None:
        spec["replicas"] = replicas
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name}, "spec": spec}


def apply(apiserver, path, obj, manager="test", **options):
    query = f"?fieldManager={manager}" + ("&force=true" if options.get("force") else "") + options.get("extra", "")
    return apiserver.request("PATCH", path + query, yaml.safe_dump(obj), APPLY)


def fields_of(obj, manager, operation="Apply"):
    for entry in obj["metadata"].get("managedFields") or []:
        if entry["manager"] == manager and entry["operation"] == operation:
            return entry["fieldsV1"]
    return None


def test_json_and_merge_patch(apiserver, namespace):
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    apiserver.request(
        "POST", base, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "p"}, "data": {"a": "1", "b": "2"}}
    )
    status, obj = apiserver.request(
        "PATCH",
        f"{base}/p",
        [{"op": "replace", "path": "/data/a", "value": "9"}, {"op": "remove", "path": "/data/b"}],
        JSONPATCH,
    )
    assert status == HTTP_OK
    assert obj["data"] == {"a": "9"}
    status, _body = apiserver.request(
        "PATCH", f"{base}/p", [{"op": "test", "path": "/data/a", "value": "0"}], JSONPATCH
    )
    assert status == HTTP_INVALID
    status, obj = apiserver.request("PATCH", f"{base}/p", {"data": {"a": None, "c": "3"}}, MERGE)
    assert obj["data"] == {"c": "3"}
    status, _body = apiserver.request("PATCH", f"{base}/p", {"data": {}}, "application/xml")
    assert status == HTTP_UNSUPPORTED
    status, _body = apiserver.request("PATCH", f"{base}/p", b"{broken", MERGE)
    assert status == HTTP_BAD_REQUEST


def test_strategic_merge_patch_uses_merge_keys(apiserver, namespace):
    base = f"/apis/apps/v1/namespaces/{namespace}/deployments"
    containers = [
        {"name": "a", "image": "nginx:1", "ports": [{"containerPort": 80}]},
        {"name": "b", "image": "busybox:1"},
    ]
    status, _body = apiserver.request("POST", base, deployment("smp", containers))
    assert status == HTTP_CREATED
    patch = {
        "spec": {
            "template": {
                "spec": {"containers": [{"name": "b", "image": "busybox:2"}, {"name": "c", "image": "redis:7"}]}
            }
        }
    }
    status, obj = apiserver.request("PATCH", f"{base}/smp", patch, SMP)
    assert status == HTTP_OK, obj
    got = {c["name"]: c["image"] for c in obj["spec"]["template"]["spec"]["containers"]}
    assert got == {"a": "nginx:1", "b": "busybox:2", "c": "redis:7"}
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "c", "$patch": "delete"}]}}}}
    status, obj = apiserver.request("PATCH", f"{base}/smp", patch, SMP)
    assert [c["name"] for c in obj["spec"]["template"]["spec"]["containers"]] == ["a", "b"]
    # the same body as a merge patch replaces the whole list
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "z", "image": "nginx:2"}]}}}}
    status, obj = apiserver.request("PATCH", f"{base}/smp", patch, MERGE)
    assert [c["name"] for c in obj["spec"]["template"]["spec"]["containers"]] == ["z"]


def test_apply_creates_tracks_fields_and_is_noop_when_unchanged(apiserver, namespace):
    path = f"/apis/apps/v1/namespaces/{namespace}/deployments/ssa"
    obj = deployment("ssa", [{"name": "web", "image": "nginx:1.25", "ports": [{"containerPort": 80}]}], 2)
    status, first = apply(apiserver, path, obj)
    assert status == HTTP_CREATED
    fields = fields_of(first, "test")
    container = fields["f:spec"]["f:template"]["f:spec"]["f:containers"]['k:{"name":"web"}']
    assert container["."] == {}
    # the key of the port includes the protocol the server defaults
    assert 'k:{"containerPort":80,"protocol":"TCP"}' in container["f:ports"]
    assert "f:imagePullPolicy" not in container
    assert fields["f:spec"]["f:selector"] == {}  # LabelSelector is an atomic map
    assert first["spec"]["template"]["spec"]["containers"][0]["ports"][0]["protocol"] == "TCP"
    status, second = apply(apiserver, path, obj)
    assert status == HTTP_OK
    assert fields_of(second, "test") == fields
    # no resourceVersion bump for an apply that changes nothing (Service: defaulted and allocated fields)
    svc_path = f"/api/v1/namespaces/{namespace}/services/ssa"
    svc = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "ssa"},
        "spec": {"selector": {"app": "ssa"}, "ports": [{"port": 80, "targetPort": 8080}]},
    }
    status, created = apply(apiserver, svc_path, svc)
    assert status == HTTP_CREATED
    assert created["spec"]["clusterIP"]
    status, again = apply(apiserver, svc_path, svc)
    assert status == HTTP_OK
    assert again["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]
    assert again["metadata"]["managedFields"] == created["metadata"]["managedFields"]


def test_apply_conflicts_force_and_shared_ownership(apiserver, namespace):
    path = f"/apis/apps/v1/namespaces/{namespace}/deployments/own"
    obj = deployment("own", [{"name": "web", "image": "nginx:1.25"}], 2)
    apply(apiserver, path, obj, manager="alice")
    status, body = apply(apiserver, path, {**obj, "spec": {**obj["spec"], "replicas": 3}}, manager="bob")
    assert status == HTTP_CONFLICT
    assert body["reason"] == "Conflict"
    assert body["message"].startswith('Apply failed with 1 conflict: conflict with "alice"')
    assert body["details"]["causes"] == [
        {"reason": "FieldManagerConflict", "field": ".spec.replicas", "message": 'conflict with "alice" using apps/v1'}
    ]
    # same values: shared ownership, no conflict
    status, shared = apply(apiserver, path, obj, manager="bob")
    assert status == HTTP_OK
    assert fields_of(shared, "alice")["f:spec"]["f:replicas"] == {}
    assert fields_of(shared, "bob")["f:spec"]["f:replicas"] == {}
    status, forced = apply(
        apiserver, path, {**obj, "spec": {**obj["spec"], "replicas": FORCED_REPLICAS}}, "bob", force=True
    )
    assert status == HTTP_OK
    assert forced["spec"]["replicas"] == FORCED_REPLICAS
    assert "f:replicas" not in fields_of(forced, "alice")["f:spec"]
    # an Update (merge patch) takes ownership without conflicts
    status, updated = apiserver.request("PATCH", path + "?fieldManager=carol", {"spec": {"replicas": 1}}, MERGE)
    assert fields_of(updated, "carol", "Update") == {"f:spec": {"f:replicas": {}}}
    assert "f:replicas" not in fields_of(updated, "bob")["f:spec"]


def test_apply_removes_fields_the_manager_stops_applying(apiserver, namespace):
    path = f"/api/v1/namespaces/{namespace}/configmaps/rm"
    base = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "rm", "labels": {"a": "1", "b": "2"}}}
    apply(apiserver, path, {**base, "data": {"x": "1", "y": "2"}})
    apiserver.request("PATCH", path + "?fieldManager=other", {"data": {"z": "3"}}, MERGE)
    status, obj = apply(apiserver, path, {**base, "metadata": {"name": "rm", "labels": {"a": "1"}}, "data": {"x": "1"}})
    assert status == HTTP_OK
    assert obj["data"] == {"x": "1", "z": "3"}
    assert obj["metadata"]["labels"] == {"a": "1"}


def test_apply_atomic_lists_and_list_maps(apiserver, namespace):
    path = f"/apis/apps/v1/namespaces/{namespace}/deployments/lists"
    containers = [{"name": "web", "image": "nginx:1", "args": ["a", "b"]}]
    apply(apiserver, path, deployment("lists", containers), manager="one")
    sidecar = [{"name": "side", "image": "busybox:1"}]
    status, obj = apply(apiserver, path, deployment("lists", sidecar), manager="two")
    assert status == HTTP_OK
    names = [c["name"] for c in obj["spec"]["template"]["spec"]["containers"]]
    assert names == ["web", "side"]
    # args is atomic: another manager changing it conflicts on the whole list
    changed = [{"name": "web", "image": "nginx:1", "args": ["c"]}]
    status, body = apply(apiserver, path, deployment("lists", changed), manager="two")
    assert status == HTTP_CONFLICT
    assert '.spec.template.spec.containers[name="web"].args' in body["message"]


def test_apply_errors(apiserver, namespace):
    path = f"/api/v1/namespaces/{namespace}/configmaps/errs"
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "errs"}}
    status, body = apiserver.request("PATCH", path, yaml.safe_dump(obj), APPLY)
    assert status == HTTP_BAD_REQUEST
    assert "fieldManager" in body["message"]
    status, body = apply(apiserver, path, {**obj, "metadata": {"name": "other"}})
    assert status == HTTP_BAD_REQUEST
    status, body = apiserver.request("PATCH", path + "?fieldManager=t", "a: [unclosed", APPLY)
    assert status == HTTP_BAD_REQUEST


def test_dry_run_on_every_write(apiserver, namespace):
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "dry"}, "data": {"a": "1"}}
    status, created = apiserver.request("POST", base + "?dryRun=All", obj)
    assert status == HTTP_CREATED
    assert created["metadata"]["uid"]
    assert apiserver.request("GET", f"{base}/dry")[0] == HTTP_NOT_FOUND
    status, _body = apply(apiserver, f"{base}/dry", obj, extra="&dryRun=All")
    assert status == HTTP_CREATED
    assert apiserver.request("GET", f"{base}/dry")[0] == HTTP_NOT_FOUND
    apiserver.request("POST", base, obj)
    status, _body = apiserver.request("PUT", f"{base}/dry?dryRun=All", {**obj, "data": {"a": "2"}})
    status, _body = apiserver.request("PATCH", f"{base}/dry?dryRun=All", {"data": {"a": "3"}}, MERGE)
    status, _body = apiserver.request("DELETE", f"{base}/dry?dryRun=All")
    assert status == HTTP_OK
    status, current = apiserver.request("GET", f"{base}/dry")
    assert current["data"] == {"a": "1"}


def test_field_validation(apiserver, namespace):
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    obj = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "fv", "bogus": 1},
        "data": {"a": "1"},
        "extra": True,
    }
    status, body = apiserver.request("POST", base + "?fieldValidation=Strict", obj)
    assert status == HTTP_BAD_REQUEST
    assert 'unknown field "extra"' in body["message"]
    assert 'unknown field "metadata.bogus"' in body["message"]
    status, body = apiserver.request("POST", base, obj)
    assert status == HTTP_CREATED
    assert "extra" not in body
    warnings = apiserver.client.last_headers.get_all("Warning")
    assert any('unknown field \\"extra\\"' in w for w in warnings)
    status, body = apiserver.request("POST", base + "?fieldValidation=Ignore", {**obj, "metadata": {"name": "fv2"}})
    assert status == HTTP_CREATED
    assert apiserver.client.last_headers.get_all("Warning") is None
    status, body = apiserver.request("POST", base, {**obj, "metadata": {"name": "fv3"}, "data": {"a": 1}})
    assert status == HTTP_BAD_REQUEST
    assert "data.a" in json.dumps(body)
