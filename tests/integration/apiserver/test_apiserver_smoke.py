"""Smoke: the fixtures start a server that answers over HTTPS with both credentials."""

from __future__ import annotations

import ssl
import urllib.error
import urllib.request

HTTP_OK = 200
HTTP_UNAUTHORIZED = 401


def test_version_and_auth(apiserver):
    status, body = apiserver.request("GET", "/version")
    assert status == HTTP_OK
    assert body["major"] == "1"
    context = ssl.create_default_context(cafile=apiserver.ca_file)
    try:
        urllib.request.urlopen(apiserver.url + "/api", context=context)
        raised = None
    except urllib.error.HTTPError as exc:
        raised = exc.code
    assert raised == HTTP_UNAUTHORIZED


def test_namespace_fixture(apiserver, namespace):
    status, body = apiserver.request("GET", f"/api/v1/namespaces/{namespace}")
    assert status == HTTP_OK
    assert body["status"]["phase"] == "Active"
