"""CRUD semantics: metadata bookkeeping, Status errors, namespaces, lists, pagination and selectors."""

from __future__ import annotations

import time

from kubesim import helpers

HTTP_OK = 200
HTTP_CREATED = 201
HTTP_BAD_REQUEST = 400
HTTP_NOT_FOUND = 404
HTTP_CONFLICT = 409
HTTP_GONE = 410
HTTP_UNSUPPORTED = 415
HTTP_INVALID = 422
SECOND_GENERATION = 2
PAGES_OF_THREE = 3  # 7 objects, limit 3


def cm(name, data=None, labels=None):
    meta = {"name": name}
    if labels:
        meta["labels"] = labels
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data or {"k": "v"}}


def deployment(name, image="nginx:1.25", replicas=1, labels=None):
    return helpers.deployment(name, replicas=replicas, image=image, labels=labels)


def test_create_sets_metadata_and_rv_is_monotonic(apiserver, namespace):
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    status, first = apiserver.request("POST", base, cm("a"))
    assert status == HTTP_CREATED
    meta = first["metadata"]
    assert meta["uid"] and meta["creationTimestamp"].endswith("Z")
    assert meta["namespace"] == namespace
    status, second = apiserver.request("POST", base, cm("b"))
    assert int(second["metadata"]["resourceVersion"]) > int(meta["resourceVersion"])
    status, listing = apiserver.request("GET", base)
    assert int(listing["metadata"]["resourceVersion"]) >= int(second["metadata"]["resourceVersion"])
    assert listing["kind"] == "ConfigMapList"
    assert listing["apiVersion"] == "v1"
    assert {"a", "b"} <= {i["metadata"]["name"] for i in listing["items"]}


def test_generation_bumps_on_spec_change_only(apiserver, namespace):
    base = f"/apis/apps/v1/namespaces/{namespace}/deployments"
    status, dep = apiserver.request("POST", base, deployment("gen"))
    assert status == HTTP_CREATED
    assert dep["metadata"]["generation"] == 1
    status, dep = apiserver.request(
        "PATCH", f"{base}/gen", {"metadata": {"labels": {"x": "y"}}}, "application/merge-patch+json"
    )
    assert status == HTTP_OK
    assert dep["metadata"]["generation"] == 1
    status, dep = apiserver.request("PATCH", f"{base}/gen", {"spec": {"replicas": 3}}, "application/merge-patch+json")
    assert dep["metadata"]["generation"] == SECOND_GENERATION


def test_errors_are_status_objects(apiserver, namespace):
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    status, body = apiserver.request("GET", f"{base}/missing")
    assert status == HTTP_NOT_FOUND
    assert body["kind"] == "Status"
    assert body["reason"] == "NotFound"
    assert body["message"] == 'configmaps "missing" not found'
    # metav1.StatusDetails fields are omitempty: the core group ("") is left out, as a kube-apiserver does
    assert body["details"] == {"name": "missing", "kind": "configmaps"}
    apiserver.request("POST", base, cm("dup"))
    status, body = apiserver.request("POST", base, cm("dup"))
    assert (status, body["reason"]) == (HTTP_CONFLICT, "AlreadyExists")
    status, body = apiserver.request("POST", base, b"{not json", "application/json")
    assert (status, body["reason"]) == (HTTP_BAD_REQUEST, "BadRequest")
    status, body = apiserver.request("POST", base, b"data: x", "text/plain")
    assert (status, body["reason"]) == (HTTP_UNSUPPORTED, "UnsupportedMediaType")
    status, body = apiserver.request("POST", base, cm("Bad_Name"))
    assert status == HTTP_INVALID
    assert body["reason"] == "Invalid"
    assert body["details"]["causes"][0]["field"] == "metadata.name"


def test_stale_resource_version_conflicts(apiserver, namespace):
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    _status, obj = apiserver.request("POST", base, cm("rv"))
    stale = dict(obj, data={"k": "1"})
    status, fresh = apiserver.request("PUT", f"{base}/rv", stale)
    assert status == HTTP_OK
    stale["data"] = {"k": "2"}
    status, body = apiserver.request("PUT", f"{base}/rv", stale)
    assert status == HTTP_CONFLICT
    assert body["reason"] == "Conflict"
    assert "the object has been modified" in body["message"]
    status, current = apiserver.request("GET", f"{base}/rv")
    assert current["data"] == {"k": "1"}
    assert current["metadata"]["resourceVersion"] == fresh["metadata"]["resourceVersion"]


def test_namespace_must_exist_and_deletion_cascades(apiserver, namespace):
    status, body = apiserver.request("POST", "/api/v1/namespaces/nope-nope/configmaps", cm("x"))
    assert status == HTTP_NOT_FOUND
    assert body["message"] == 'namespaces "nope-nope" not found'
    status, ns = apiserver.request(
        "POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": f"{namespace}-x"}}
    )
    assert status == HTTP_CREATED
    other = ns["metadata"]["name"]
    apiserver.request("POST", f"/api/v1/namespaces/{other}/configmaps", cm("inside"))
    status, deleting = apiserver.request("DELETE", f"/api/v1/namespaces/{other}")
    assert status == HTTP_OK
    assert deleting["status"]["phase"] == "Terminating"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        status, _body = apiserver.request("GET", f"/api/v1/namespaces/{other}")
        if status == HTTP_NOT_FOUND:
            break
        time.sleep(0.05)
    assert status == HTTP_NOT_FOUND
    status, _body = apiserver.request("GET", f"/api/v1/namespaces/{other}/configmaps/inside")
    assert status == HTTP_NOT_FOUND


def test_pagination(apiserver, namespace):
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    for index in range(7):
        apiserver.request("POST", base, cm(f"page-{index}", labels={"page": "yes"}))
    names, token, pages = [], None, 0
    while True:
        query = "?labelSelector=page%3Dyes&limit=3" + (f"&continue={token}" if token else "")
        status, body = apiserver.request("GET", base + query)
        assert status == HTTP_OK
        names += [i["metadata"]["name"] for i in body["items"]]
        pages += 1
        token = body["metadata"].get("continue")
        if not token:
            break
        assert body["metadata"]["remainingItemCount"] > 0
    assert pages == PAGES_OF_THREE
    assert names == sorted(f"page-{i}" for i in range(7))
    status, body = apiserver.request("GET", base + "?limit=2&continue=garbage!")
    assert status == HTTP_BAD_REQUEST


def test_label_selectors(apiserver, namespace):
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    apiserver.request("POST", base, cm("l1", labels={"tier": "web", "env": "prod"}))
    apiserver.request("POST", base, cm("l2", labels={"tier": "db", "env": "prod"}))
    apiserver.request("POST", base, cm("l3", labels={"tier": "web"}))

    def names(selector):
        status, body = apiserver.request("GET", f"{base}?labelSelector={selector}")
        assert status == HTTP_OK, body
        return sorted(i["metadata"]["name"] for i in body["items"] if i["metadata"]["name"].startswith("l"))

    assert names("tier%3Dweb") == ["l1", "l3"]
    assert names("tier%3D%3Dweb,env%3Dprod") == ["l1"]
    assert names("tier!%3Dweb") == ["l2"]
    assert names("tier%20in%20(web,db),!env") == ["l3"]
    assert names("tier%20notin%20(web)") == ["l2"]
    assert names("env") == ["l1", "l2"]
    status, _body = apiserver.request("GET", f"{base}?labelSelector=tier%20in%20web")
    assert status == HTTP_BAD_REQUEST


def test_field_selectors(apiserver, namespace):
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    apiserver.request("POST", base, cm("f1"))
    apiserver.request("POST", base, cm("f2"))
    status, body = apiserver.request("GET", f"{base}?fieldSelector=metadata.name%3Df1")
    assert [i["metadata"]["name"] for i in body["items"]] == ["f1"]
    status, body = apiserver.request(
        "GET", f"/api/v1/configmaps?fieldSelector=metadata.namespace%3D{namespace},metadata.name!%3Df1"
    )
    assert "f2" in [i["metadata"]["name"] for i in body["items"]]
    assert "f1" not in [i["metadata"]["name"] for i in body["items"]]
    status, body = apiserver.request("GET", f"{base}?fieldSelector=data.k%3Dv")
    assert status == HTTP_BAD_REQUEST
    assert "field label not supported" in body["message"]
    status, body = apiserver.request(
        "GET", f"/api/v1/namespaces/{namespace}/pods?fieldSelector=spec.nodeName%3D,status.phase!%3DRunning"
    )
    assert status == HTTP_OK


def test_delete_returns_status_and_preconditions(apiserver, namespace):
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    _status, obj = apiserver.request("POST", base, cm("del"))
    status, body = apiserver.request("DELETE", f"{base}/del", {"preconditions": {"uid": "wrong"}})
    assert status == HTTP_CONFLICT
    status, body = apiserver.request("DELETE", f"{base}/del", {"preconditions": {"uid": obj["metadata"]["uid"]}})
    assert status == HTTP_OK
    assert body["kind"] == "Status"
    assert body["status"] == "Success"
    assert body["details"]["uid"] == obj["metadata"]["uid"]
    status, _body = apiserver.request("DELETE", f"{base}/del")
    assert status == HTTP_NOT_FOUND


def test_expired_continue_token_is_gone(apiserver_factory):
    server = apiserver_factory("--event-log-size", "20", "--no-controllers")
    base = "/api/v1/namespaces/default/configmaps"
    for index in range(5):
        server.request("POST", base, cm(f"e{index}"))
    _status, body = server.request("GET", base + "?limit=2")
    token = body["metadata"]["continue"]
    for index in range(60):
        server.request("PUT", f"{base}/e0", cm("e0", {"n": str(index)}))
    status, body = server.request("GET", f"{base}?limit=2&continue={token}")
    assert status == HTTP_GONE
    assert body["reason"] == "Expired"
