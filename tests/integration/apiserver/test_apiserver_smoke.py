"""Smoke: the fixtures start a server that answers over HTTPS with both credentials; without a credential it answers
as a kubeadm cluster's kube-apiserver answers system:anonymous (kubesim/auth.py): /livez, /readyz, /healthz and
/version to everyone, 403 Forbidden naming system:anonymous elsewhere; a rejected bearer token is 401."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request

import pytest

HTTP_OK = 200
HTTP_UNAUTHORIZED = 401
HTTP_FORBIDDEN = 403
HTTP_CREATED = 201
HTTP_INTERNAL = 500


def _anonymous(apiserver, path, method="GET", token=None):
    """(status, body) of a request without a client certificate (and without a token unless given)."""
    context = ssl.create_default_context(cafile=apiserver.ca_file)
    request = urllib.request.Request(apiserver.url + path, method=method)
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, context=context) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_version_and_auth(apiserver):
    status, body = apiserver.request("GET", "/version")
    assert status == HTTP_OK
    assert body["major"] == "1"
    status, _body = _anonymous(apiserver, "/api", token="not-the-token")
    assert status == HTTP_UNAUTHORIZED  # a rejected credential is never anonymous


@pytest.mark.parametrize("path", ["/readyz", "/livez", "/healthz", "/readyz?verbose", "/version", "/version/"])
def test_public_info_paths_answer_anonymous_requests(apiserver, path):
    status, body = _anonymous(apiserver, path)
    assert status == HTTP_OK, body
    if path.startswith("/version"):
        assert json.loads(body)["major"] == "1"
    elif "verbose" in path:
        assert body.startswith("[+]ping ok\n") and body.endswith("\nreadyz check passed\n"), body
    else:
        assert body == "ok"


@pytest.mark.parametrize(
    ("method", "path", "message", "details"),
    [
        (
            "GET",
            "/api/v1/pods",
            'pods is forbidden: User "system:anonymous" cannot list resource "pods" in API group "" '
            "at the cluster scope",
            {"kind": "pods"},
        ),
        (
            "GET",
            "/apis/apps/v1/namespaces/default/deployments/web",
            'deployments.apps "web" is forbidden: User "system:anonymous" cannot get resource "deployments" in API '
            'group "apps" in the namespace "default"',
            {"name": "web", "group": "apps", "kind": "deployments"},
        ),
        ("GET", "/api", 'forbidden: User "system:anonymous" cannot get path "/api"', {}),
        ("GET", "/readyz/etcd", 'forbidden: User "system:anonymous" cannot get path "/readyz/etcd"', {}),
        ("POST", "/readyz", 'forbidden: User "system:anonymous" cannot post path "/readyz"', {}),
    ],
)
def test_anonymous_requests_elsewhere_are_forbidden(apiserver, method, path, message, details):
    status, body = _anonymous(apiserver, path, method)
    assert status == HTTP_FORBIDDEN, body
    assert json.loads(body) == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": "Forbidden",
        "details": details,
        "code": HTTP_FORBIDDEN,
    }


def test_namespace_fixture(apiserver, namespace):
    status, body = apiserver.request("GET", f"/api/v1/namespaces/{namespace}")
    assert status == HTTP_OK
    assert body["status"]["phase"] == "Active"


def test_failing_checks_are_listed_with_500(apiserver):
    faults = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "kubesim-faults", "namespace": "kube-system"},
        "data": {"failing-checks": json.dumps(["etcd"])},
    }
    status, body = apiserver.request("POST", "/api/v1/namespaces/kube-system/configmaps", faults)
    assert status == HTTP_CREATED, body
    status, body = _anonymous(apiserver, "/readyz")
    assert status == HTTP_INTERNAL
    assert body == (
        "[+]ping ok\n[+]log ok\n[-]etcd failed: reason withheld\n[+]etcd-readiness ok\n[+]informer-sync ok\n"
        "[+]shutdown ok\nreadyz check failed\n"
    )
    status, body = _anonymous(apiserver, "/livez?verbose")
    assert (status, body.splitlines()[-1]) == (HTTP_INTERNAL, "livez check failed")
    apiserver.request("DELETE", "/api/v1/namespaces/kube-system/configmaps/kubesim-faults")
    assert _anonymous(apiserver, "/readyz?verbose") == (
        HTTP_OK,
        "[+]ping ok\n[+]log ok\n[+]etcd ok\n[+]etcd-readiness ok\n[+]informer-sync ok\n[+]shutdown ok\n"
        "readyz check passed\n",
    )
