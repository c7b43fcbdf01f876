"""The seed's examples (playbooks/examples) against the API test server.

Every example runs three times: in check mode, for real and again. The check run must predict exactly what the real
run changes (the same tasks changed, the same action on every object, nothing written), the second real run must
change nothing, and the objects on the server must be what the seed meant.
Each test gets a private server with the seed's nodes k8s1 and k8s2 (node ports and nodes are cluster-wide).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import stat
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.slow

EXAMPLES = Path(__file__).resolve().parents[3] / "playbooks" / "examples"
NAMESPACE = "default"
NODES = ("k8s1", "k8s2")
HTTP_OK = 200
HTTP_CREATED = 201
HTTP_NOT_FOUND = 404
REVISION = "deployment.kubernetes.io/revision"
SEED_IMAGE = "ganeshhp/maven-petclinic-project:latest"
NEW_IMAGE = "ganeshhp/maven-petclinic-project:v2"
HELLO_LABELS = {"app": "hello-world-updated"}
REPLICAS = 5  # of hello-deploy, hello-world and (at first) hello-rc
HELLO_PORT = 8080
NODE_PORTS = (30000, 32767)
MIN_READY_SECONDS = 2
STATIC_POD_MODE = 0o600
ROLLING_UPDATE = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 1}}
SEED_POD_LABELS = {"role": "myrole", "zone": "prod", "version": "v1"}
# Objects the examples declare (controller-made pods, ReplicaSets and Endpoints are left out of the snapshot).
DECLARED = (
    "/api/v1/namespaces/default/pods",
    "/api/v1/namespaces/default/replicationcontrollers",
    "/api/v1/namespaces/default/services",
    "/api/v1/namespaces/default/secrets",
    "/apis/apps/v1/namespaces/default/deployments",
    "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers",
    "/api/v1/nodes",
)


class Examples:
    """Runs the example playbooks against one private API test server."""

    def __init__(self, server, playbook):
        self.server = server
        self.playbook = playbook
        self.runs = []

    def run(self, name, extra_vars=None, **options):
        variables = {"examples_kubeconfig": self.server.kubeconfig, "examples_wait_timeout": 60}
        variables.update(extra_vars or {})
        result = self.playbook(EXAMPLES / f"{name}.yml", extra_vars=variables, **options)
        self.runs.append(result)
        return result

    def converge(self, name, extra_vars=None, **options):
        """Check run, real run, re-run; returns the real run."""
        before = self.snapshot()
        check = self.run(name, extra_vars, check=True, diff=True, **options)
        assert check.rc == 0, check.output
        assert self.snapshot() == before, f"check mode of {name} changed the cluster"
        real = self.run(name, extra_vars, diff=True, **options)
        assert real.rc == 0, real.output
        assert changes(check) == changes(real), f"{name}: the check run did not predict the real run"
        again = self.run(name, extra_vars, **options)
        assert again.rc == 0, again.output
        assert [t.name for t in again.tasks if t.changed] == [], f"{name} is not idempotent"
        assert changes(again) == changes(real, settled=True)
        return real

    def get(self, path):
        status, body = self.server.request("GET", path)
        assert status == HTTP_OK, body
        return body

    def absent(self, path):
        status, _body = self.server.request("GET", path)
        return status == HTTP_NOT_FOUND

    def pods(self, labels):
        selector = ",".join(f"{k}={v}" for k, v in labels.items())
        items = self.get(f"/api/v1/namespaces/{NAMESPACE}/pods?labelSelector={selector}")["items"]
        return [p for p in items if not p["metadata"].get("deletionTimestamp")]

    def snapshot(self):
        """Fingerprint of every declared object (spec, data, labels, schedulability); hashed, so no secret shows."""
        state = {}
        for path in DECLARED:
            kind = path.rsplit("/", 1)[1]
            for item in self.get(path)["items"]:
                meta = item["metadata"]
                if meta.get("ownerReferences"):
                    continue
                kept = {k: item.get(k) for k in ("spec", "data", "type")}
                kept["labels"] = meta.get("labels")
                kept["uid"] = meta["uid"]
                if kind in ("deployments", "replicationcontrollers"):
                    kept["spec"] = dict(item["spec"], replicas=None)  # the autoscaler may move it
                    kept["revision"] = (meta.get("annotations") or {}).get(REVISION)
                blob = json.dumps(kept, sort_keys=True).encode()
                state[f"{kind}/{meta['name']}"] = hashlib.sha256(blob).hexdigest()
        return state


SETTLED = {"created": "unchanged", "configured": "unchanged", "deleted": "absent"}


def changes(run, settled=False):
    """What a run did, task by task: changed/failed/skipped and each object's action ("settled": after a re-run)."""
    summary = []
    for task in run.tasks:
        objects = []
        for obj in task.result.get("objects") or []:
            action = SETTLED.get(obj.get("action"), obj.get("action")) if settled else obj.get("action")
            objects.append((obj.get("kind"), obj.get("name"), action))
        changed = False if settled else task.changed
        summary.append((task.name, changed, task.failed, bool(task.result.get("skipped")), objects))
    return summary


@pytest.fixture
def examples(apiserver_factory, playbook):
    server = apiserver_factory()
    for node in NODES:
        status, body = server.request(
            "POST",
            "/api/v1/nodes",
            {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {"name": node, "labels": {"kubernetes.io/hostname": node}},
            },
        )
        assert status == HTTP_CREATED, body
    return Examples(server, playbook)


def test_static_web_pod_and_static_pod_file(examples, tmp_path):
    manifests = tmp_path / "kubelet-manifests"
    real = examples.converge("static_web", {"examples_static_pod_dir": str(manifests)})
    assert [o["action"] for o in real.tasks[0].result["objects"]] == ["created"]

    pod = examples.get("/api/v1/namespaces/default/pods/static-web")
    assert pod["metadata"]["labels"] == SEED_POD_LABELS
    (container,) = pod["spec"]["containers"]
    assert (container["name"], container["image"]) == ("web", "nginx")
    assert container["ports"] == [{"name": "web", "containerPort": 80, "protocol": "TCP"}]

    manifest = manifests / "static-web.yaml"
    static = yaml.safe_load(manifest.read_text())
    assert static["kind"] == "Pod"
    assert static["metadata"] == {"name": "static-web", "labels": SEED_POD_LABELS}
    assert static["spec"]["containers"][0]["ports"] == [{"name": "web", "containerPort": 80, "protocol": "TCP"}]
    assert stat.S_IMODE(manifest.stat().st_mode) == STATIC_POD_MODE

    # kubectl delete pods static-web (and the static pod file goes too)
    examples.converge("static_web", {"examples_static_pod_dir": str(manifests), "examples_static_web_state": "absent"})
    assert examples.absent("/api/v1/namespaces/default/pods/static-web")
    assert not manifest.exists()


def test_hello_rc_5_then_10_then_4_replicas(examples):
    for replicas in (None, 10, 4):
        extra = {} if replicas is None else {"examples_hello_rc_replicas": replicas}
        real = examples.converge("hello_rc", extra)
        expected = replicas or 5
        rc = examples.get("/api/v1/namespaces/default/replicationcontrollers/hello-rc")
        assert rc["spec"]["replicas"] == expected
        assert rc["status"]["readyReplicas"] == expected
        assert rc["spec"]["selector"] == HELLO_LABELS
        assert len(examples.pods(HELLO_LABELS)) == expected
        action = "created" if replicas is None else "configured"
        assert [o["action"] for o in real.last.result["objects"]] == [action]


def test_hello_services(examples):
    examples.converge("hello_rc")
    examples.converge("hello_world")
    hello_world = examples.get("/apis/apps/v1/namespaces/default/deployments/hello-world")
    assert hello_world["spec"]["replicas"] == REPLICAS
    assert hello_world["status"]["readyReplicas"] == REPLICAS
    assert hello_world["spec"]["template"]["metadata"]["labels"] == {"run": "load-balancer-example"}
    (container,) = hello_world["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "gcr.io/google-samples/node-hello:1.0"
    assert container["ports"][0]["containerPort"] == HELLO_PORT

    examples.converge("hello_service")
    hello = examples.get("/api/v1/namespaces/default/services/hello-service")
    assert hello["spec"]["type"] == "NodePort"
    assert hello["spec"]["selector"] == HELLO_LABELS
    assert [(p["port"], p["nodePort"], p["protocol"]) for p in hello["spec"]["ports"]] == [
        (HELLO_PORT, NODE_PORTS[0], "TCP")
    ]

    web = examples.get("/api/v1/namespaces/default/services/web-service")
    assert web["spec"]["type"] == "NodePort"
    assert web["spec"]["selector"] == HELLO_LABELS
    (port,) = web["spec"]["ports"]
    assert (port["port"], port["targetPort"]) == (HELLO_PORT, HELLO_PORT)
    assert NODE_PORTS[0] < port["nodePort"] <= NODE_PORTS[1]

    lb = examples.get("/api/v1/namespaces/default/services/my-service")
    assert lb["spec"]["type"] == "LoadBalancer"
    assert lb["spec"]["selector"] == {"run": "load-balancer-example"}
    assert [p["port"] for p in lb["spec"]["ports"]] == [HELLO_PORT]


def _deployment(examples):
    return examples.get("/apis/apps/v1/namespaces/default/deployments/hello-deploy")


def _image(deployment):
    return deployment["spec"]["template"]["spec"]["containers"][0]["image"]


def test_hello_deploy_rolling_update_rollback_and_autoscaler(examples):
    examples.converge("hello_deploy")
    deploy = _deployment(examples)
    assert deploy["apiVersion"] == "apps/v1"
    assert deploy["spec"]["replicas"] == REPLICAS
    assert deploy["spec"]["minReadySeconds"] == MIN_READY_SECONDS
    assert deploy["spec"]["selector"] == {"matchLabels": HELLO_LABELS}
    assert deploy["spec"]["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 1},
    }
    assert (_image(deploy), deploy["metadata"]["annotations"][REVISION]) == (SEED_IMAGE, "1")
    assert deploy["status"]["updatedReplicas"] == deploy["status"]["readyReplicas"] == REPLICAS

    examples.converge("hello_deploy", {"examples_hello_deploy_image": NEW_IMAGE})
    deploy = _deployment(examples)
    assert (_image(deploy), deploy["metadata"]["annotations"][REVISION]) == (NEW_IMAGE, "2")
    pods = examples.pods(HELLO_LABELS)
    assert len(pods) == REPLICAS
    assert {p["spec"]["containers"][0]["image"] for p in pods} == {NEW_IMAGE}

    real = examples.converge("hello_deploy_rollback")
    assert real.task("Roll back to that revision and wait for the rollout").result["revision"] == 1
    deploy = _deployment(examples)
    # kubectl rollout undo semantics: revision 1 comes back as revision 3.
    assert (_image(deploy), deploy["metadata"]["annotations"][REVISION]) == (SEED_IMAGE, "3")
    assert deploy["status"]["updatedReplicas"] == deploy["status"]["readyReplicas"] == REPLICAS
    assert {p["spec"]["containers"][0]["image"] for p in examples.pods(HELLO_LABELS)} == {SEED_IMAGE}
    history = examples.run("hello_deploy_rollback").task("Show the rollout history of hello-deploy")
    assert [r["revision"] for r in history.result["revisions"]] == [2, 3]

    examples.converge("hello_hpa")
    hpa = examples.get("/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/hello-deploy")
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "hello-deploy"}
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 10)
    (metric,) = hpa["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu"
    assert metric["resource"]["target"] == {"type": "Utilization", "averageUtilization": 80}


def test_legacy_extensions_v1beta1_deployment_error_and_fix(examples):
    real = examples.converge("legacy_deployment")
    legacy, shown, fix = real.tasks
    assert legacy.failed
    assert "extensions/v1beta1" in legacy.msg
    assert "apps/v1" in legacy.msg
    assert "spec.selector" in legacy.msg
    assert shown.msg == legacy.msg
    assert [o["action"] for o in fix.result["objects"]] == ["created"]
    deploy = _deployment(examples)
    assert deploy["apiVersion"] == "apps/v1"
    assert deploy["spec"]["selector"] == {"matchLabels": HELLO_LABELS}
    assert deploy["status"]["readyReplicas"] == REPLICAS


def test_print_greeting_env_in_args(examples):
    # Connection settings come from variables: the token context works, an unknown one is refused by name.
    examples.converge("print_greeting", {"examples_context": examples.server.token_context})
    wrong = examples.run("print_greeting", {"examples_context": "no-such-context"})
    assert wrong.rc != 0
    assert "context 'no-such-context' not found" in wrong.last.msg
    pod = examples.get("/api/v1/namespaces/default/pods/print-greeting")
    (container,) = pod["spec"]["containers"]
    assert container["name"] == "env-print-demo"
    assert container["image"] == "bash"
    assert {e["name"]: e["value"] for e in container["env"]} == {
        "GREETING": "Warm greetings to",
        "HONORIFIC": "The Most Honorable",
        "NAME": "Kubernetes",
    }
    assert container["command"] == ["echo"]
    assert container["args"] == ["$(GREETING) $(HONORIFIC) $(NAME)"]


def test_mysql_pass_secret_is_never_printed(examples):
    password = "pw-" + secrets.token_hex(12)
    encoded = base64.b64encode(password.encode()).decode()
    examples.converge("mysql_pass", {"examples_mysql_password": password}, verbosity=3)
    secret = examples.get("/api/v1/namespaces/default/secrets/mysql-pass")
    assert secret["type"] == "Opaque"
    assert secret["data"] == {"password": encoded}

    missing = examples.run("mysql_pass")
    assert missing.rc != 0
    assert "examples_mysql_password" in missing.task("Check that a password is given").msg

    assert [r.rc == 0 for r in examples.runs] == [True, True, True, False]  # check, real, again, missing
    for run in examples.runs:
        assert password not in run.output
        assert encoded not in run.output


def _found(run):
    found = run.task("Find the pods of every namespace scheduled on the node").result["resources"]
    return sorted((p["metadata"]["namespace"], p["metadata"]["name"]) for p in found)


def _pods_on(examples, node):
    run = examples.run("pods_on_node", {"examples_node": node})
    assert run.rc == 0, run.output
    return _found(run)


def test_pods_on_node_and_maintenance_walkthrough(examples):
    examples.converge("hello_deploy")
    on_k8s2 = _found(examples.converge("pods_on_node", {"examples_node": "k8s2"}))
    on_k8s1 = _pods_on(examples, "k8s1")
    everywhere = examples.get("/api/v1/pods")["items"]
    for node, found in (("k8s1", on_k8s1), ("k8s2", on_k8s2)):
        expected = [
            (p["metadata"]["namespace"], p["metadata"]["name"]) for p in everywhere if p["spec"].get("nodeName") == node
        ]
        assert found == sorted(expected)
    assert len(on_k8s1) + len(on_k8s2) == REPLICAS
    assert on_k8s1, "the scheduler put no hello-deploy pod on k8s1: nothing to drain"

    # kubectl cordon k8s1; kubectl drain k8s1 --delete-local-data --ignore-daemonsets
    out = examples.converge("node_maintenance", {"examples_node": "k8s1"})
    assert out.task("Cordon the node - no new pods are scheduled on it").changed
    assert out.task("Drain the node - its pods are evicted and their controllers start them elsewhere").changed
    assert examples.get("/api/v1/nodes/k8s1")["spec"].get("unschedulable") is True
    assert _pods_on(examples, "k8s1") == []
    deploy = _deployment(examples)
    assert deploy["status"]["readyReplicas"] == REPLICAS
    assert {p["spec"]["nodeName"] for p in examples.pods(HELLO_LABELS)} == {"k8s2"}

    # kubectl uncordon k8s1; kubectl apply -f deployment.yml
    real = examples.converge("node_maintenance", {"examples_node": "k8s1", "examples_node_phase": "back"})
    assert real.task("Uncordon the node once it is Ready again").changed
    assert [o["action"] for o in real.task("Declare hello-deploy and wait for the rollout").result["objects"]] == [
        "unchanged"
    ]
    assert not examples.get("/api/v1/nodes/k8s1")["spec"].get("unschedulable")
    assert _deployment(examples)["status"]["readyReplicas"] == REPLICAS
