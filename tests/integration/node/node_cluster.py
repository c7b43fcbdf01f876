"""A private kubesim cluster for the node/drain tests, helpers to put workloads on its nodes, a playbook runner.

Layout of every cluster: nodes ``k8s-0`` (the node the tests drain) and ``k8s-1`` (where replacement pods go).
``k8s-1`` is cordoned while the workloads start, so every pod lands on ``k8s-0``, then made schedulable again.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import subprocess
import sys
import time
from pathlib import Path

import yaml
from kubesim.helpers import deployment as deployment_manifest

REPO = Path(__file__).resolve().parents[3]
_COLLECTION = "ansible_collections.kubeforge.cluster.plugins."
# The playbook environment of tests/integration/conftest.py (venv on PATH, collection by FQCN, JSON output).
_SPEC = importlib.util.spec_from_file_location(
    "kubeforge_integration_shared", REPO / "tests" / "integration" / "conftest.py"
)
_SHARED = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(_SHARED)
ApiClient = importlib.import_module(_COLLECTION + "module_utils.client").ApiClient
run_node = importlib.import_module(_COLLECTION + "module_utils.node").run_node
NODE_ARG_SPEC = importlib.import_module(_COLLECTION + "modules.node").NODE_ARG_SPEC
VENV_BIN = Path(sys.executable).parent
TARGET, SPARE = "k8s-0", "k8s-1"
NAMESPACE = "default"
HTTP_OK, HTTP_CREATED = 200, 201
POD_STOP_SECONDS = "0.5"


class Cluster:
    """A private API test server with two nodes, and helpers to create and inspect what runs on them."""

    def __init__(self, server):
        self.server = server
        self.kubeconfig = server.kubeconfig
        self.nodes = server.add_nodes(2, prefix="k8s")
        self.client = ApiClient.from_params({"kubeconfig": server.kubeconfig})

    # --- raw API
    def call(self, method, path, body=None, content_type="application/json", expect=(HTTP_OK, HTTP_CREATED)):
        status, answer = self.server.request(method, path, body, content_type)
        assert status in expect, f"{method} {path}: {status} {answer}"
        return answer

    def node(self, name=TARGET):
        return self.call("GET", f"/api/v1/nodes/{name}")

    def set_unschedulable(self, name, value):
        patch = {"spec": {"unschedulable": True if value else None}}
        self.call("PATCH", f"/api/v1/nodes/{name}", patch, "application/merge-patch+json")

    def pods(self, node=TARGET, namespace=None):
        path = f"/api/v1/namespaces/{namespace}/pods" if namespace else "/api/v1/pods"
        items = self.call("GET", f"{path}?fieldSelector=spec.nodeName%3D{node}")["items"]
        return sorted(items, key=lambda p: (p["metadata"]["namespace"], p["metadata"]["name"]))

    def pod_uids(self, node=TARGET):
        return {p["metadata"]["uid"] for p in self.pods(node)}

    # --- workloads
    def create(self, obj):
        api = obj["apiVersion"]
        plural = obj["kind"].lower() + "s"
        prefix = f"/api/{api}" if "/" not in api else f"/apis/{api}"
        namespace = obj["metadata"].setdefault("namespace", NAMESPACE)
        return self.call("POST", f"{prefix}/namespaces/{namespace}/{plural}", obj)

    def deployment(self, name, replicas, volumes=None, labels=None):
        manifest = deployment_manifest(name, replicas, image="registry.invalid/app:1", labels=labels, container="app")
        pod = manifest["spec"]["template"]["spec"]
        pod["terminationGracePeriodSeconds"] = 30
        if volumes:
            pod["volumes"] = volumes
        return self.create(manifest)

    def scale(self, name, replicas):
        path = f"/apis/apps/v1/namespaces/{NAMESPACE}/deployments/{name}"
        self.call("PATCH", path, {"spec": {"replicas": replicas}}, "application/merge-patch+json")

    def daemonset(self, name):
        labels = {"app": name}
        return self.create(
            {
                "apiVersion": "apps/v1",
                "kind": "DaemonSet",
                "metadata": {"name": name},
                "spec": {
                    "selector": {"matchLabels": labels},
                    "template": {
                        "metadata": {"labels": labels},
                        "spec": {"containers": [{"name": "agent", "image": "registry.invalid/agent:1"}]},
                    },
                },
            }
        )

    def bare_pod(self, name, node=TARGET):
        return self.create(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": name},
                "spec": {"nodeName": node, "containers": [{"name": "app", "image": "registry.invalid/app:1"}]},
            }
        )

    def mirror_pod(self, name, node=TARGET):
        """What the kubelet posts for a static pod: the mirror annotation and the Node as controller."""
        owner = {"apiVersion": "v1", "kind": "Node", "name": node, "uid": self.node(node)["metadata"]["uid"]}
        return self.create(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "name": f"{name}-{node}",
                    "namespace": "kube-system",
                    "annotations": {"kubernetes.io/config.mirror": "0123456789abcdef"},
                    "ownerReferences": [dict(owner, controller=True)],
                },
                "spec": {"nodeName": node, "containers": [{"name": name, "image": "registry.invalid/etcd:3"}]},
            }
        )

    def pdb(self, name, app, min_available):
        return self.create(
            {
                "apiVersion": "policy/v1",
                "kind": "PodDisruptionBudget",
                "metadata": {"name": name},
                "spec": {"minAvailable": min_available, "selector": {"matchLabels": {"app": app}}},
            }
        )

    def wait_running(self, count, node=TARGET, timeout=30):
        """Wait until ``count`` pods run (Ready) on ``node``; returns them."""
        deadline = time.monotonic() + timeout
        while True:
            pods = [p for p in self.pods(node) if _ready(p) and not p["metadata"].get("deletionTimestamp")]
            if len(pods) >= count or time.monotonic() > deadline:
                assert len(pods) >= count, f"{len(pods)} of {count} pods ready on {node}"
                return pods
            time.sleep(0.1)

    def start_on_target(self, *creators):
        """Run the workload creators while the spare node is cordoned, so every pod lands on the target node."""
        self.set_unschedulable(SPARE, True)
        for create in creators:
            create()

    def open_spare(self):
        self.set_unschedulable(SPARE, False)

    # --- the module, in process (fast) or through ansible-playbook
    def run(self, check_mode=False, diff=False, **params):
        """Run the node module's logic in this process against the server; returns its result dict."""
        module = _Module(dict(_defaults(), kubeconfig=self.kubeconfig, **params), check_mode, diff)
        return run_node(module, self.client)


def _ready(pod):
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def _defaults():
    params = {}
    for name, spec in NODE_ARG_SPEC.items():
        params[name] = spec.get("default")
    return params


class _Module:
    """What run_node uses of AnsibleModule: params, check mode, diff mode, warn()."""

    def __init__(self, params, check_mode, diff):
        self.params = params
        self.check_mode = check_mode
        self._diff = diff
        self.warnings = []

    def warn(self, message):
        self.warnings.append(message)


class PlaybookResult:
    """rc and the per-host results of each task of an ansible-playbook run (ansible.posix.json callback)."""

    def __init__(self, proc):
        self.rc = proc.returncode
        self.stdout, self.stderr = proc.stdout, proc.stderr
        start = proc.stdout.find("{")
        data = json.loads(proc.stdout[start:]) if start >= 0 else {}
        self.stats = data.get("stats", {})
        self.tasks = []
        for play in data.get("plays", []):
            for entry in play.get("tasks", []):
                self.tasks.append((entry["task"]["name"], entry.get("hosts") or {}))

    def results(self, task_name):
        """{host: result} of every run of the task called ``task_name``."""
        found = {}
        for name, hosts in self.tasks:
            if name == task_name:
                found.update(hosts)
        return found


def run_playbook(tmp_path, cluster, playbook, **options):
    """Run ``playbook`` (a file of playbooks/ or a path) with the cluster's kubeconfig; returns a PlaybookResult.

    options: ``limit`` (--limit), ``extra_vars`` (dict), ``check`` (--check).

    Inventory: the cluster's node names as hosts with connection local, as a user's inventory would list them.
    """
    inventory = tmp_path / "inventory.yml"
    host = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    inventory.write_text(
        yaml.safe_dump({"all": {"children": {"nodes": {"hosts": dict.fromkeys(cluster.nodes, host)}}}})
    )
    argv = [str(VENV_BIN / "ansible-playbook"), "-i", str(inventory), str(REPO / "playbooks" / playbook)]
    argv += ["-e", json.dumps(dict({"kubeforge_kubeconfig": cluster.kubeconfig}, **(options.get("extra_vars") or {})))]
    if options.get("limit"):
        argv += ["--limit", options["limit"]]
    if options.get("check"):
        argv.append("--check")
    env = _SHARED.ansible_env(tmp_path)
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300, check=False)
    return PlaybookResult(proc)
