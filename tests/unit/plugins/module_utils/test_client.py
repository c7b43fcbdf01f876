"""ApiClient against a scripted local server: JSON, keep-alive, retries, Retry-After, errors, TLS, threads."""

from __future__ import annotations

import base64
import json
import threading
import time

import pytest
from ansible_collections.kubeforge.cluster.plugins.module_utils.client import ApiClient
from ansible_collections.kubeforge.cluster.plugins.module_utils.errors import (
    HTTP_NOT_FOUND,
    HTTP_TOO_MANY_REQUESTS,
    KubeforgeError,
)

UNPROCESSABLE = 422
WORKERS = 4


def _client(url, **params):
    params.setdefault("host", url)
    return ApiClient.from_params(params)


def _ok(body=None):
    return 200, {}, body if body is not None else {"kind": "ConfigMap"}


def test_request_parses_json_and_sends_token_query_and_body(fake_server):
    server = fake_server(lambda *_: _ok({"kind": "Pod", "metadata": {"name": "static-web"}}))
    client = _client(server.url, api_key="s3cr3t-token")
    result = client.request(
        "PATCH",
        "/api/v1/namespaces/default/pods/x",
        body={"a": 1},
        query={"dryRun": "All"},
        content_type="application/apply-patch+yaml",
    )
    assert result["metadata"]["name"] == "static-web"
    method, path, headers, body, _conn = server.requests[0]
    assert (method, path) == ("PATCH", "/api/v1/namespaces/default/pods/x?dryRun=All")
    assert headers["Authorization"] == "Bearer s3cr3t-token"
    assert headers["Content-Type"] == "application/apply-patch+yaml"
    assert json.loads(body) == {"a": 1}


def test_one_connection_is_reused(fake_server):
    server = fake_server(lambda *_: _ok())
    client = _client(server.url)
    for _request in range(5):
        client.request("GET", "/api/v1")
    assert len({conn for *_rest, conn in server.requests}) == 1


def test_retries_5xx_and_429_honouring_retry_after(fake_server):
    answers = [(503, {"Retry-After": "0"}, {}), (429, {"Retry-After": "1"}, {}), (200, {}, {"ok": True})]
    server = fake_server(lambda *_: answers.pop(0))
    client = _client(server.url)
    started = time.monotonic()
    assert client.request("GET", "/api/v1") == {"ok": True}
    assert len(server.requests) == len(("503", "429", "200"))
    assert time.monotonic() - started >= 1.0  # the 429's Retry-After: 1 was honoured


def test_retry_can_be_turned_off_per_call(fake_server):
    status = {
        "kind": "Status",
        "reason": "TooManyRequests",
        "message": "Cannot evict pod as it would violate the pod's disruption budget.",
    }
    server = fake_server(lambda *_: (429, {"Retry-After": "7"}, status))
    client = _client(server.url)
    with pytest.raises(KubeforgeError) as caught:
        client.request("POST", "/api/v1/namespaces/default/pods/p/eviction", body={}, retry=False)
    assert len(server.requests) == 1
    assert caught.value.status == HTTP_TOO_MANY_REQUESTS
    assert caught.value.details["retryAfterSeconds"] == float(7)
    assert "disruption budget" in str(caught.value)


def test_status_causes_are_rendered(fake_server):
    status = {
        "kind": "Status",
        "status": "Failure",
        "reason": "Invalid",
        "code": 422,
        "message": 'Deployment.apps "hello-deploy" is invalid',
        "details": {
            "causes": [{"reason": "FieldValueRequired", "field": "spec.selector", "message": "Required value"}]
        },
    }
    server = fake_server(lambda *_: (422, {}, status))
    with pytest.raises(KubeforgeError) as caught:
        _client(server.url).request("PATCH", "/apis/apps/v1/namespaces/default/deployments/hello-deploy", body={})
    assert caught.value.status == UNPROCESSABLE
    assert caught.value.reason == "Invalid"
    assert str(caught.value) == 'Deployment.apps "hello-deploy" is invalid (spec.selector: Required value)'


def test_unauthorized_says_credentials_were_rejected(fake_server):
    server = fake_server(lambda *_: (401, {}, {"kind": "Status", "message": "Unauthorized", "code": 401}))
    with pytest.raises(KubeforgeError, match="authentication failed"):
        _client(server.url, api_key="wrong").request("GET", "/api/v1")


def test_unreachable_server_is_named():
    client = _client("https://127.0.0.1:1")
    client.retries = 0
    with pytest.raises(KubeforgeError, match=r"cannot reach the API server at https://127\.0\.0\.1:1"):
        client.request("GET", "/version")


def test_wrong_ca_fails_with_a_tls_message(fake_server, pki, other_pki):
    server = fake_server(lambda *_: _ok(), ssl_context=pki.server_context())
    with pytest.raises(KubeforgeError, match=r"TLS verification of .* failed: .*set ca_cert"):
        _client(server.url, ca_cert=str(other_pki.files["ca.crt"])).request("GET", "/api/v1")
    assert _client(server.url, ca_cert=str(pki.files["ca.crt"])).request("GET", "/api/v1") == {"kind": "ConfigMap"}
    assert _client(server.url, validate_certs=False).request("GET", "/api/v1") == {"kind": "ConfigMap"}


def test_inline_client_certificate_from_kubeconfig(fake_server, pki, tmp_path):
    server = fake_server(lambda *_: _ok(), ssl_context=pki.server_context(require_client_cert=True))
    b64 = {k: base64.b64encode(pki.files[k].read_bytes()).decode() for k in ("ca.crt", "client.crt", "client.key")}
    config = {
        "clusters": [{"name": "c", "cluster": {"server": server.url, "certificate-authority-data": b64["ca.crt"]}}],
        "users": [
            {"name": "u", "user": {"client-certificate-data": b64["client.crt"], "client-key-data": b64["client.key"]}}
        ],
        "contexts": [{"name": "ctx", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "ctx",
    }
    client = ApiClient.from_params({"kubeconfig": config})
    assert client.request("GET", "/api/v1") == {"kind": "ConfigMap"}
    assert not list(tmp_path.glob("kubeforge-*")), "temporary key files must be removed"


def _tls_name_kubeconfig(url, pki, tls_server_name):
    ca = base64.b64encode(pki.files["ca.crt"].read_bytes()).decode()
    cluster = {"server": url.replace("127.0.0.1", "localhost"), "certificate-authority-data": ca}
    cluster["tls-server-name"] = tls_server_name
    return {
        "clusters": [{"name": "c", "cluster": cluster}],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": "ctx", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "ctx",
    }


def test_tls_server_name_is_the_name_checked_in_the_certificate(fake_server, pki):
    server = fake_server(lambda *_: _ok(), ssl_context=pki.server_context())
    # "localhost" is not in the certificate: only tls-server-name lets the handshake pass.
    client = ApiClient.from_params({"kubeconfig": _tls_name_kubeconfig(server.url, pki, pki.tls_server_name)})
    assert client.request("GET", "/api/v1") == {"kind": "ConfigMap"}
    wrong = ApiClient.from_params({"kubeconfig": _tls_name_kubeconfig(server.url, pki, "not-in-the-cert.example")})
    with pytest.raises(KubeforgeError, match="TLS"):
        wrong.request("GET", "/api/v1", retry=False)


def test_map_runs_in_parallel_keeps_order_and_returns_errors(fake_server):
    lock = threading.Lock()
    active = {"now": 0, "max": 0}

    def handler(method, path, headers, body):
        with lock:
            active["now"] += 1
            active["max"] = max(active["max"], active["now"])
        time.sleep(0.05)
        with lock:
            active["now"] -= 1
        if path.endswith("/bad"):
            return 404, {}, {"kind": "Status", "reason": "NotFound", "message": "not found", "code": 404}
        return _ok({"path": path})

    server = fake_server(handler)
    client = _client(server.url)
    paths = [f"/p/{i}" for i in range(12)] + ["/p/bad"]
    results = client.map(lambda p: client.request("GET", p), paths, workers=WORKERS)
    assert [r["path"] for r in results[:12]] == paths[:12]
    assert isinstance(results[12], KubeforgeError) and results[12].status == HTTP_NOT_FOUND
    assert 1 < active["max"] <= WORKERS
    assert len({conn for *_rest, conn in server.requests}) <= WORKERS


def test_map_calls_in_a_loop_reuse_the_same_connections(fake_server):
    server = fake_server(lambda *_: _ok())
    client = _client(server.url)
    for _round in range(5):
        client.map(lambda p: client.request("GET", p), [f"/p/{i}" for i in range(8)], workers=WORKERS)
    assert len({conn for *_rest, conn in server.requests}) <= WORKERS
    client.close()


def test_list_all_follows_continue(fake_server):
    def handler(method, path, headers, body):
        if "continue=page2" in path:
            return _ok({"items": [{"n": 3}], "metadata": {}})
        return _ok({"items": [{"n": 1}, {"n": 2}], "metadata": {"continue": "page2"}})

    server = fake_server(handler)
    items, _last = _client(server.url).list_all("/api/v1/pods", {"labelSelector": "app=x"}, limit=2)
    assert [i["n"] for i in items] == [1, 2, 3]
    assert "labelSelector=app%3Dx" in server.requests[0][1] and "limit=2" in server.requests[0][1]


def test_cause_type_is_read_from_reason_as_a_real_server_sends_it(fake_server):
    """A kube-apiserver serialises metav1.StatusCause.Type under the JSON key "reason" (never "type")."""
    conflict = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'Apply failed with 1 conflict: conflict with "alpha" using apps/v1: .spec.replicas',
        "reason": "Conflict",
        "details": {
            "causes": [
                {
                    "reason": "FieldManagerConflict",
                    "message": 'conflict with "alpha" using apps/v1',
                    "field": ".spec.replicas",
                }
            ]
        },
        "code": 409,
    }
    server = fake_server(lambda *_: (409, {}, conflict))
    with pytest.raises(KubeforgeError) as caught:
        _client(server.url).request("PATCH", "/apis/apps/v1/namespaces/default/deployments/web", body={})
    assert caught.value.to_result()["causes"][0]["reason"] == "FieldManagerConflict"
    assert str(caught.value).endswith('(.spec.replicas: conflict with "alpha" using apps/v1)')
    # a cause without a message is named by its reason
    bare = dict(conflict, details={"causes": [{"reason": "FieldManagerConflict", "field": ".spec.replicas"}]})
    server = fake_server(lambda *_: (409, {}, bare))
    with pytest.raises(KubeforgeError, match=r"\(\.spec\.replicas: FieldManagerConflict\)$"):
        _client(server.url).request("PATCH", "/apis/apps/v1/namespaces/default/deployments/web", body={})


def test_lost_connections_are_transient_and_429_5xx_retryable():
    client = _client("https://127.0.0.1:1")
    client.retries = 0
    with pytest.raises(KubeforgeError) as caught:
        client.request("GET", "/version")
    assert caught.value.transient and caught.value.retryable
    assert KubeforgeError("x", status=503).retryable and KubeforgeError("x", status=HTTP_TOO_MANY_REQUESTS).retryable
    assert not KubeforgeError("x", status=UNPROCESSABLE).retryable


def test_writes_are_not_sent_again_after_a_500(fake_server):
    """A 500 may follow a stored write: a write is repeated only after 429/503 (answered before any handler)."""
    server = fake_server(lambda *_: (500, {}, {"kind": "Status", "code": 500, "message": "etcdserver: timeout"}))
    with pytest.raises(KubeforgeError, match="etcdserver: timeout"):
        _client(server.url).request("POST", "/api/v1/namespaces/default/configmaps", body={})
    assert len(server.requests) == 1
    answers = [(503, {"Retry-After": "0"}, {}), (201, {}, {"kind": "ConfigMap"})]
    server = fake_server(lambda *_: answers.pop(0))
    assert _client(server.url).request("POST", "/api/v1/namespaces/default/configmaps", body={})["kind"] == "ConfigMap"
    answers = [(500, {}, {}), (200, {}, {"kind": "ConfigMap"})]
    server = fake_server(lambda *_: answers.pop(0))
    assert _client(server.url).request("GET", "/api/v1/namespaces/default/configmaps/c")["kind"] == "ConfigMap"
