"""Bad requests never corrupt stored state; the store holds 1,000 objects and lists them."""

from __future__ import annotations

import concurrent.futures
import socket
from urllib.parse import urlsplit

import pytest

HTTP_OK = 200
HTTP_CREATED = 201
HTTP_BAD_REQUEST = 400
HTTP_NOT_FOUND = 404
HTTP_METHOD_NOT_ALLOWED = 405
HTTP_NOT_ACCEPTABLE = 406
HTTP_UNSUPPORTED = 415
HTTP_INVALID = 422
MANY = 1000
MERGE = "application/merge-patch+json"
JSONPATCH = "application/json-patch+json"


def test_malformed_bodies_get_400_and_leave_objects_intact(apiserver, namespace):
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "safe"}, "data": {"a": "1"}}
    _status, before = apiserver.request("POST", base, obj)
    bad_requests = [
        ("POST", base, b"\x00\xff garbage", "application/json"),
        ("POST", base, b"[1, 2, 3]", "application/json"),
        ("POST", base, b'{"kind": "ConfigMap"}', "application/json"),
        ("POST", base, b'{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}}', "application/json"),
        ("PUT", f"{base}/safe", b"{", "application/json"),
        (
            "PUT",
            f"{base}/safe",
            b'{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "other"}}',
            "application/json",
        ),
        ("PUT", f"{base}/safe", b'{"apiVersion": "v1", "kind": "ConfigMap", "metadata": "oops"}', "application/json"),
        ("PATCH", f"{base}/safe", b"not json", MERGE),
        ("PATCH", f"{base}/safe", b'[{"op": "explode", "path": "/data"}]', JSONPATCH),
        ("PATCH", f"{base}/safe", b'{"op": "add"}', JSONPATCH),
        ("PATCH", f"{base}/safe", b'{"data": {"a": 5}}', MERGE),
        ("PATCH", f"{base}/safe", b'{"metadata": {"name": "renamed"}}', MERGE),
        ("DELETE", f"{base}/safe", b"{bad", "application/json"),
    ]
    for method, path, body, ctype in bad_requests:
        status, answer = apiserver.request(method, path, body, ctype)
        assert status in (HTTP_BAD_REQUEST, HTTP_INVALID), (method, body, status, answer)
        assert answer["kind"] == "Status"
        assert answer["message"]
    _status, after = apiserver.request("GET", f"{base}/safe")
    assert after == before


def test_unknown_paths_methods_and_media_types(apiserver, namespace):
    assert apiserver.request("GET", "/apis/example.com/v1/widgets")[0] == HTTP_NOT_FOUND
    assert apiserver.request("GET", f"/api/v1/namespaces/{namespace}/gizmos")[0] == HTTP_NOT_FOUND
    assert apiserver.request("GET", "/api/v1/namespaces/default/configmaps/x/bogus")[0] == HTTP_NOT_FOUND
    assert apiserver.request("GET", "/nonsense")[0] == HTTP_NOT_FOUND
    status, _body = apiserver.request("POST", f"/api/v1/namespaces/{namespace}/pods/p/log", {})
    assert status == HTTP_METHOD_NOT_ALLOWED
    status, body = apiserver.request(
        "GET", "/api/v1/namespaces", headers={"Accept": "application/vnd.kubernetes.protobuf"}
    )
    assert status == HTTP_NOT_ACCEPTABLE
    status, body = apiserver.request(
        "POST", f"/api/v1/namespaces/{namespace}/configmaps", b"\x6b\x38\x73\x00", "application/vnd.kubernetes.protobuf"
    )
    assert status == HTTP_UNSUPPORTED
    assert "protobuf" in body["message"]


def test_thousand_objects_parallel_clients(apiserver, namespace):
    base = f"/api/v1/namespaces/{namespace}/configmaps"

    def create(index):
        obj = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": f"bulk-{index:04d}", "labels": {"bulk": "yes"}},
            "data": {"index": str(index)},
        }
        return apiserver.request("POST", base, obj)[0]

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(create, range(MANY)))
    assert statuses == [HTTP_CREATED] * MANY
    status, listing = apiserver.request("GET", f"{base}?labelSelector=bulk%3Dyes")
    assert status == HTTP_OK
    assert len(listing["items"]) == MANY
    assert [i["metadata"]["name"] for i in listing["items"]] == [f"bulk-{i:04d}" for i in range(MANY)]
    rvs = [int(i["metadata"]["resourceVersion"]) for i in listing["items"]]
    assert len(set(rvs)) == MANY


def test_parallel_writers_on_one_object(apiserver, namespace):
    path = f"/api/v1/namespaces/{namespace}/configmaps/shared"
    apiserver.request(
        "POST",
        f"/api/v1/namespaces/{namespace}/configmaps",
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "shared"}},
    )
    writers = 4
    rounds = 25

    def write(worker):
        for index in range(rounds):
            body = {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "shared"},
                "data": {f"w{worker}": str(index)},
            }
            status, _body = apiserver.request(
                "PATCH", f"{path}?fieldManager=w{worker}", body, "application/apply-patch+yaml"
            )
            assert status == HTTP_OK
        return worker

    with concurrent.futures.ThreadPoolExecutor(writers) as pool:
        assert sorted(pool.map(write, range(writers))) == list(range(writers))
    _status, obj = apiserver.request("GET", path)
    assert obj["data"] == {f"w{w}": str(rounds - 1) for w in range(writers)}
    managers = {e["manager"]: e["fieldsV1"] for e in obj["metadata"]["managedFields"] if e["operation"] == "Apply"}
    assert managers == {f"w{w}": {"f:data": {f"f:w{w}": {}}} for w in range(writers)}


def test_apiserver_restart_keeps_port_credentials_and_data(apiserver_factory):
    """stop_apiserver()/start_apiserver(): refused while down, then the same URL, CA, token and objects."""
    server = apiserver_factory("--no-controllers")
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kept"}, "data": {"a": "1"}}
    status, created = server.request("POST", "/api/v1/namespaces/default/configmaps", body)
    assert status == HTTP_CREATED
    server.stop_apiserver()
    parts = urlsplit(server.url)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((parts.hostname, parts.port), timeout=2)
    server.start_apiserver()
    status, got = server.request("GET", "/api/v1/namespaces/default/configmaps/kept")
    assert (status, got["metadata"]["uid"], got["data"]) == (HTTP_OK, created["metadata"]["uid"], {"a": "1"})
