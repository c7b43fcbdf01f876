"""Watch: resume from a resourceVersion, timeouts, bookmarks (incl. initial-events-end) and 410 Gone."""

from __future__ import annotations

import http.client
import json
import os
import ssl
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from kubesim import helpers

HTTP_OK = 200
HTTP_GONE = 410
HTTP_INVALID = 422


def stream(server, path, max_events=100, timeout=10):
    """Open a watch with a raw connection and collect events until the server ends it (or max_events)."""
    parts = urlsplit(server.url)
    context = ssl.create_default_context(cafile=server.ca_file)
    conn = http.client.HTTPSConnection(parts.hostname, parts.port, context=context, timeout=timeout)
    conn.request("GET", path, headers={"Authorization": f"Bearer {server.token}"})
    resp = conn.getresponse()
    assert resp.status == HTTP_OK
    events = []
    while len(events) < max_events:
        line = resp.readline()
        if not line:
            break
        events.append(json.loads(line))
    conn.close()
    return events


def cm(name, value="1"):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"v": value}}


def test_resume_from_resource_version(apiserver, namespace):
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    _status, listing = apiserver.request("GET", base)
    start = listing["metadata"]["resourceVersion"]
    apiserver.request("POST", base, cm("w1"))
    apiserver.request("PUT", f"{base}/w1", cm("w1", "2"))
    apiserver.request("DELETE", f"{base}/w1")
    events = stream(apiserver, f"{base}?watch=true&resourceVersion={start}&timeoutSeconds=1")
    mine = [(e["type"], e["object"]["metadata"]["name"]) for e in events if e["object"]["metadata"].get("name") == "w1"]
    assert mine == [("ADDED", "w1"), ("MODIFIED", "w1"), ("DELETED", "w1")]
    rvs = [int(e["object"]["metadata"]["resourceVersion"]) for e in events]
    assert rvs == sorted(rvs)
    assert all(int(rv) > int(start) for rv in rvs)


def test_timeout_ends_the_stream(apiserver, namespace):
    started = time.monotonic()
    events = stream(apiserver, f"/api/v1/namespaces/{namespace}/configmaps?watch=1&timeoutSeconds=1")
    assert time.monotonic() - started >= 1
    assert [e["object"]["metadata"]["name"] for e in events] == ["kube-root-ca.crt"]  # initial state (rv unset)


def test_bookmarks_and_initial_events_end(apiserver, namespace):
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    apiserver.request("POST", base, cm("b1"))
    # The namespace controller publishes kube-root-ca.crt shortly after the namespace exists.
    helpers.wait_for(lambda: apiserver.request("GET", f"{base}/kube-root-ca.crt")[0] == HTTP_OK)
    events = stream(
        apiserver,
        f"{base}?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan"
        "&allowWatchBookmarks=true&timeoutSeconds=3",
    )
    types = [e["type"] for e in events]
    first_bookmark = types.index("BOOKMARK")
    assert set(types[:first_bookmark]) == {"ADDED"}
    assert {"b1", "kube-root-ca.crt"} == {e["object"]["metadata"]["name"] for e in events[:first_bookmark]}
    marker = events[first_bookmark]["object"]
    assert marker["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}
    assert marker["kind"] == "ConfigMap"
    assert types.count("BOOKMARK") > 1  # periodic bookmarks follow


def test_label_selector_watch_reports_leaving_objects_as_deleted(apiserver, namespace):
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    _status, listing = apiserver.request("GET", base)
    start = listing["metadata"]["resourceVersion"]
    obj = cm("sel")
    obj["metadata"]["labels"] = {"watch": "me"}
    apiserver.request("POST", base, obj)
    apiserver.request("PATCH", f"{base}/sel", {"metadata": {"labels": {"watch": "no"}}}, "application/merge-patch+json")
    events = stream(apiserver, f"{base}?watch=true&labelSelector=watch%3Dme&resourceVersion={start}&timeoutSeconds=1")
    assert [e["type"] for e in events] == ["ADDED", "DELETED"]


def test_too_old_resource_version_is_gone(apiserver_factory):
    server = apiserver_factory("--event-log-size", "10", "--no-controllers")
    base = "/api/v1/namespaces/default/configmaps"
    server.request("POST", base, cm("old"))
    for index in range(40):
        server.request("PUT", f"{base}/old", cm("old", str(index)))
    events = stream(server, f"{base}?watch=true&resourceVersion=2&timeoutSeconds=5")
    assert len(events) == 1
    assert events[0]["type"] == "ERROR"
    status = events[0]["object"]
    assert (status["kind"], status["code"], status["reason"]) == ("Status", HTTP_GONE, "Expired")
    assert "too old resource version" in status["message"]


WATCH_LIST_OFF = "sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled"


def test_watch_list_gate_off_refuses_like_the_apiserver(apiserver_factory, apiserver, namespace):
    """--feature-gates WatchList=false answers as validateWatchOptions does, and the conformance probe sees it."""
    off = apiserver_factory("--feature-gates", "WatchList=false", "--no-controllers")
    path = "/api/v1/namespaces/default/configmaps?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan"
    status, body = off.request("GET", path)
    assert (status, body["reason"]) == (HTTP_INVALID, "Invalid")
    assert body["message"] == f'ListOptions.meta.k8s.io "" is invalid: sendInitialEvents: Forbidden: {WATCH_LIST_OFF}'
    assert body["details"] == {
        "group": "meta.k8s.io",
        "kind": "ListOptions",
        "causes": [
            {"reason": "FieldValueForbidden", "message": f"Forbidden: {WATCH_LIST_OFF}", "field": "sendInitialEvents"}
        ],
    }
    assert WATCH_LIST_OFF in helpers.watch_list_unsupported(off, "default")
    assert helpers.watch_list_unsupported(apiserver, namespace) is None
    # resourceVersionMatch without sendInitialEvents is refused whatever the gate
    status, body = apiserver.request(
        "GET", f"/api/v1/namespaces/{namespace}/configmaps?watch=true&resourceVersionMatch=NotOlderThan"
    )
    assert status == HTTP_INVALID
    assert body["details"]["causes"][0]["field"] == "resourceVersionMatch"


def test_conformance_skips_streaming_list_on_a_server_without_it(apiserver_factory, tmp_path):
    """The conformance suite pointed (KUBECONFIG_REAL) at a server without WatchList reports a skip with the reason."""
    off = apiserver_factory("--feature-gates", "WatchList=false")
    root = Path(__file__).resolve().parents[3]
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-rs",
            "-q",
            "tests/integration/conformance",
            "-k",
            "test_watch_initial_events or test_watch_resume",
        ],
        cwd=root,
        env=dict(os.environ, KUBECONFIG_REAL=off.kubeconfig),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 passed, 1 skipped" in proc.stdout, proc.stdout
    assert "SKIPPED [1] tests/integration/conformance/test_conformance.py" in proc.stdout
    assert WATCH_LIST_OFF in proc.stdout
