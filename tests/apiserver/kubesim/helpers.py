"""Helpers for tests: register simulated nodes, build a Deployment manifest, poll until a check holds."""

from __future__ import annotations

import time

from .client import KubeClient

HTTP_CREATED = 201


def _client(client_or_url):
    if hasattr(client_or_url, "request"):
        return client_or_url
    return KubeClient(client_or_url)  # a kubeconfig path


def add_nodes(client_or_url, n, prefix="node", labels=None, taints=None):
    """Create n Nodes `<prefix>-0..n-1` (the kubelet simulator makes them Ready); returns their names.

    client_or_url: anything with `.request(method, path, body)` (the `apiserver` fixture, a KubeClient) or the
    path of a kubeconfig.
    """
    client = _client(client_or_url)
    names = []
    for index in range(n):
        name = f"{prefix}-{index}"
        body = {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": name,
                "labels": {
                    "kubernetes.io/hostname": name,
                    "kubernetes.io/os": "linux",
                    "kubernetes.io/arch": "amd64",
                    **(labels or {}),
                },
            },
            "spec": {"taints": list(taints)} if taints else {},
        }
        status, answer = client.request("POST", "/api/v1/nodes", body)
        if status != HTTP_CREATED:
            raise RuntimeError(f"creating node {name} failed: {status} {answer}")
        names.append(name)
    return names


def wait_for(check, timeout=15, interval=0.05):
    """Call ``check`` until it returns something true (returned) or ``timeout`` seconds pass (AssertionError)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        assert time.monotonic() < deadline, f"timed out waiting for {check.__name__}"
        time.sleep(interval)


def deployment(name, replicas=2, image="nginx:1.25", labels=None, container="c", **spec):
    """An apps/v1 Deployment selecting ``labels`` (default ``app: <name>``); extra keyword arguments go into spec."""
    labels = labels or {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": container, "image": image}]},
            },
            **spec,
        },
    }


WATCH_LIST_SINCE = (1, 27)  # sendInitialEvents (KEP-3157 "WatchList") arrived in Kubernetes 1.27, behind a gate
HTTP_INVALID = 422


def server_version(target):
    """(major, minor) from the server's /version (`"minor": "27+"` on some distributions)."""
    _status, version = target.request("GET", "/version")
    return int(version["major"]), int("".join(c for c in version["minor"] if c.isdigit()))


def watch_list_unsupported(target, namespace):
    """Why a watch with sendInitialEvents cannot run on `target` (None when it can).

    A server older than 1.27 does not know the option; a newer one rejects it with 422 while its WatchList
    feature gate is off (validateWatchOptions: "sendInitialEvents is forbidden for watch unless ...").
    """
    major, minor = server_version(target)
    if (major, minor) < WATCH_LIST_SINCE:
        return f"needs watch sendInitialEvents (Kubernetes 1.27+); the server is {major}.{minor}"
    probe = (
        f"/api/v1/namespaces/{namespace}/configmaps?watch=true&sendInitialEvents=true"
        "&resourceVersionMatch=NotOlderThan&timeoutSeconds=1"
    )
    status, body = target.request("GET", probe)
    if status == HTTP_INVALID:
        return f"needs watch sendInitialEvents; the server ({major}.{minor}) refuses it: {body.get('message')}"
    return None
