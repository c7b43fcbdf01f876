"""A small in-memory stand-in for ApiClient (same method names) for the node/drain unit tests.

It keeps Nodes, Pods, DaemonSets and PodDisruptionBudgets, answers the few paths the node module uses, and
models graceful termination: an accepted eviction marks the pod terminating, and it disappears after
``stop_polls`` further pod listings. ``evict_hook(pod)`` may raise a KubeforgeError to refuse an eviction.
"""

from __future__ import annotations

import copy
import importlib
import itertools
import re
import sys
from pathlib import Path

# `make setup` links the working tree under .venv/collections as ansible_collections/kubeforge/cluster.
sys.path.insert(0, str(Path(__file__).resolve().parents[5] / ".venv" / "collections"))
KubeforgeError = importlib.import_module(
    "ansible_collections.kubeforge.cluster.plugins.module_utils.errors"
).KubeforgeError

_UIDS = itertools.count(1)


def make_node(name, **spec):
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}, "resourceVersion": "1"},
        "spec": dict(spec),
        "status": {"conditions": [{"type": "Ready", "status": "True"}]},
    }


def make_pod(name, node="n1", namespace="default", owner="ReplicaSet", labels=None, **extra):
    meta = {"name": name, "namespace": namespace, "uid": f"uid-{next(_UIDS)}", "labels": dict(labels or {})}
    if owner:
        meta["ownerReferences"] = [{"kind": owner, "name": extra.pop("owner_name", "web"), "controller": True}]
    if "annotations" in extra:
        meta["annotations"] = extra.pop("annotations")
    spec = {"nodeName": node, "containers": [{"name": "c", "image": "busybox"}]}
    if "volumes" in extra:
        spec["volumes"] = extra.pop("volumes")
    return {"metadata": meta, "spec": spec, "status": {"phase": extra.pop("phase", "Running")}}


class FakeClient:
    def __init__(self):
        self.nodes = {}
        self.pods = []
        self.daemonsets = set()
        self.pdbs = {}
        self.calls = []
        self.map_workers = []
        self.bodies = []
        self.stop_polls = 1
        self.evict_hook = None
        self.conflicts = 0
        self._stopping = {}

    # --- helpers for tests
    def add_node(self, name, **spec):
        self.nodes[name] = make_node(name, **spec)
        return self.nodes[name]

    def add_pod(self, name, **kwargs):
        pod = make_pod(name, **kwargs)
        self.pods.append(pod)
        return pod

    def writes(self):
        return [(m, p, q) for m, p, q in self.calls if m != "GET"]

    # --- ApiClient surface
    def request(self, method, path, body=None, query=None, **_options):
        self.calls.append((method, path, dict(query or {})))
        self.bodies.append(copy.deepcopy(body))
        match = re.fullmatch(r"/api/v1/nodes/([^/]+)", path)
        if match:
            return self._node(method, match.group(1), body, query)
        match = re.fullmatch(r"/api/v1/namespaces/([^/]+)/pods/([^/]+)(/eviction)?", path)
        if match:
            return self._pod(method, match.group(1), match.group(2), bool(match.group(3)), body)
        match = re.fullmatch(r"/apis/apps/v1/namespaces/([^/]+)/daemonsets/([^/]+)", path)
        if match:
            if (match.group(1), match.group(2)) in self.daemonsets:
                return {"kind": "DaemonSet"}
            raise KubeforgeError("not found", status=404)
        match = re.fullmatch(r"/apis/policy/v1/namespaces/([^/]+)/poddisruptionbudgets", path)
        if match:
            return {"items": copy.deepcopy(self.pdbs.get(match.group(1), [])), "metadata": {}}
        if path == "/api/v1/nodes":
            return {"items": [copy.deepcopy(n) for _k, n in sorted(self.nodes.items())], "metadata": {}}
        if path == "/api/v1/pods":
            return {"items": self._list_pods(query or {}), "metadata": {}}
        raise AssertionError(f"unexpected request {method} {path}")

    def get(self, path, query=None, **kwargs):
        return self.request("GET", path, query=query, **kwargs)

    def list_all(self, path, query=None, limit=500):
        page = self.request("GET", path, query=dict(query or {}, limit=limit))
        return page["items"], page

    def map(self, fn, items, workers=8):
        self.map_workers.append(workers)
        results = []
        for item in items:
            try:
                results.append(fn(item))
            except KubeforgeError as exc:
                results.append(exc)
        return results

    # --- routes
    def _node(self, method, name, body, query):
        if name not in self.nodes:
            raise KubeforgeError(f"nodes {name!r} not found", status=404)
        node = self.nodes[name]
        if method == "GET":
            return copy.deepcopy(node)
        assert method == "PATCH"
        if self.conflicts:
            self.conflicts -= 1
            node["metadata"]["resourceVersion"] = str(int(node["metadata"]["resourceVersion"]) + 1)
            raise KubeforgeError("the object has been modified", status=409)
        expected = (body.get("metadata") or {}).get("resourceVersion")
        if expected and expected != node["metadata"]["resourceVersion"]:
            raise KubeforgeError("the object has been modified", status=409)
        new = copy.deepcopy(node)
        _merge(new, body)
        new["metadata"]["resourceVersion"] = str(int(node["metadata"]["resourceVersion"]) + 1)
        if not (query or {}).get("dryRun"):
            self.nodes[name] = new
        return copy.deepcopy(new)

    def _find(self, namespace, name):
        for pod in self.pods:
            if pod["metadata"]["namespace"] == namespace and pod["metadata"]["name"] == name:
                return pod
        return None

    def _pod(self, method, namespace, name, eviction, body):
        pod = self._find(namespace, name)
        if pod is None:
            raise KubeforgeError(f"pods {name!r} not found", status=404)
        if method == "GET":
            return copy.deepcopy(pod)
        options = body.get("deleteOptions", body) if eviction else body
        uid = ((options or {}).get("preconditions") or {}).get("uid")
        if uid and uid != pod["metadata"]["uid"]:
            raise KubeforgeError(f"Precondition failed: UID in precondition: {uid}", status=409)
        if eviction and self.evict_hook:
            self.evict_hook(pod)
        if (options or {}).get("dryRun"):
            return {"kind": "Status", "status": "Success"}
        pod["metadata"].setdefault("deletionTimestamp", "2026-01-01T00:00:00Z")
        self._stopping.setdefault(pod["metadata"]["uid"], self.stop_polls)
        return {"kind": "Status", "status": "Success"}

    def _list_pods(self, query):
        for uid, left in list(self._stopping.items()):
            if left <= 0:
                self.pods = [p for p in self.pods if p["metadata"]["uid"] != uid]
                del self._stopping[uid]
            else:
                self._stopping[uid] = left - 1
        node = (query.get("fieldSelector") or "").partition("=")[2]
        selector = query.get("labelSelector")
        items = []
        for pod in self.pods:
            if node and pod["spec"]["nodeName"] != node:
                continue
            if selector:
                key, _sep, value = selector.partition("=")
                if pod["metadata"]["labels"].get(key) != value:
                    continue
            items.append(copy.deepcopy(pod))
        return items


def _merge(target, patch):
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


class FakeClock:
    """Monotonic clock and sleep for the drain loop: sleeping advances time instantly."""

    def __init__(self):
        self.now = 1000.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


class FakeModule:
    def __init__(self, params, check_mode=False, diff=False):
        self.params = params
        self.check_mode = check_mode
        self._diff = diff
        self.warnings = []

    def warn(self, message):
        self.warnings.append(message)
