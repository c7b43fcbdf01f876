"""secret, expose, autoscale and run: thin modules over the same apply path, idempotent, values never shown."""

from __future__ import annotations

HTTP_OK = 200
PASSWORD = "my_password_93be1d"
NODE_PORT = 30000


def _get(apiserver, path):
    status, body = apiserver.request("GET", path)
    return body if status == HTTP_OK else None


def test_secret_from_literal_and_file_never_shows_values(playbook, apiserver, namespace, tmp_path):
    key_file = tmp_path / "ssh-key"
    key_file.write_text("file-secret-content-7c1\n")
    secret = {
        "name": "mysql-pass",
        "namespace": namespace,
        "literals": {"password": PASSWORD},
        "from_file": [f"id_rsa={key_file}"],
    }
    run = playbook(
        [
            {"name": "create", "kubeforge.cluster.secret": secret},
            {"name": "again", "kubeforge.cluster.secret": secret},
            {"name": "change", "kubeforge.cluster.secret": dict(secret, literals={"password": PASSWORD + "x"})},
        ],
        diff=True,
        verbosity=3,
    )
    assert run.rc == 0, run.stdout
    assert run.task("create").changed and not run.task("again").changed and run.task("change").changed
    assert "<redacted, changed>" in run.task("change").diff[0]["after"]
    for value in (PASSWORD, "file-secret-content-7c1"):
        assert value not in run.output
    live = _get(apiserver, f"/api/v1/namespaces/{namespace}/secrets/mysql-pass")
    assert set(live["data"]) == {"password", "id_rsa"}
    run = playbook(
        [{"kubeforge.cluster.secret": {"name": "mysql-pass", "namespace": namespace, "state": "absent"}}] * 2
    )
    assert [t.changed for t in run.tasks] == [True, False]


def test_expose_rc_as_node_port_and_deployment_as_load_balancer(playbook, apiserver, namespace):
    rc = {
        "apiVersion": "v1",
        "kind": "ReplicationController",
        "metadata": {"name": "static-web-replica", "namespace": namespace},
        "spec": {
            "replicas": 1,
            "selector": {"app": "static-web"},
            "template": {
                "metadata": {"labels": {"app": "static-web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx", "ports": [{"containerPort": 80}]}]},
            },
        },
    }
    expose = {
        "api_version": "v1",
        "kind": "ReplicationController",
        "name": "static-web-replica",
        "namespace": namespace,
        "service_name": "web-service",
        "target_port": 80,
        "type": "NodePort",
        "node_port": NODE_PORT,
    }
    run = playbook(
        [
            {"kubeforge.cluster.resource": {"definition": [rc]}},
            {"name": "expose", "kubeforge.cluster.expose": expose},
            {"name": "again", "kubeforge.cluster.expose": expose},
            {
                "name": "missing",
                "ignore_errors": True,
                "kubeforge.cluster.expose": {"name": "nope", "namespace": namespace},
            },
        ]
    )
    assert run.task("expose").changed and not run.task("again").changed, run.stdout
    assert run.task("missing").msg == f"Deployment/{namespace}/nope: not found (name)"
    service = _get(apiserver, f"/api/v1/namespaces/{namespace}/services/web-service")
    assert service["spec"]["selector"] == {"app": "static-web"}
    assert service["spec"]["type"] == "NodePort"
    port = service["spec"]["ports"][0]
    assert (port["port"], port["targetPort"], port["nodePort"]) == (80, 80, NODE_PORT)


def test_autoscale_and_run(playbook, apiserver, namespace):
    hello = {
        "name": "hello-world",
        "namespace": namespace,
        "kind": "Deployment",
        "replicas": 5,
        "labels": {"run": "load-balancer-example"},
        "image": "gcr.io/google-samples/node-hello:1.0",
        "port": 8080,
    }
    hpa = {"name": "hello-world", "namespace": namespace, "min_replicas": 2, "max_replicas": 10, "cpu_percent": 80}
    greeting = {
        "name": "print-greeting",
        "namespace": namespace,
        "container_name": "env-print-demo",
        "image": "bash",
        "restart_policy": "Never",
        "env": {"GREETING": "Warm greetings to"},
        "command": ["echo"],
        "args": ["$(GREETING)"],
    }
    run = playbook(
        [
            {"name": "run", "kubeforge.cluster.run": hello},
            {"name": "run again", "kubeforge.cluster.run": hello},
            {"name": "pod", "kubeforge.cluster.run": greeting},
            {"name": "autoscale", "kubeforge.cluster.autoscale": hpa},
            {"name": "autoscale again", "kubeforge.cluster.autoscale": hpa},
            {"name": "bad range", "ignore_errors": True, "kubeforge.cluster.autoscale": dict(hpa, min_replicas=20)},
        ]
    )
    assert run.task("run").changed and not run.task("run again").changed, run.stdout
    assert run.task("autoscale").changed and not run.task("autoscale again").changed
    assert "min_replicas must not be greater than max_replicas" in run.task("bad range").msg
    deploy = _get(apiserver, f"/apis/apps/v1/namespaces/{namespace}/deployments/hello-world")
    assert deploy["spec"]["replicas"] == hello["replicas"]
    assert deploy["spec"]["selector"] == {"matchLabels": {"run": "load-balancer-example"}}
    assert deploy["spec"]["template"]["spec"]["containers"][0]["ports"] == [{"containerPort": 8080, "protocol": "TCP"}]
    pod = _get(apiserver, f"/api/v1/namespaces/{namespace}/pods/print-greeting")
    assert pod["spec"]["containers"][0]["name"] == "env-print-demo"
    assert pod["spec"]["restartPolicy"] == "Never"
    hpa_live = _get(apiserver, f"/apis/autoscaling/v2/namespaces/{namespace}/horizontalpodautoscalers/hello-world")
    assert hpa_live["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "hello-world"}
    assert hpa_live["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] == hpa["cpu_percent"]
