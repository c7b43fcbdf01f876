"""Bad input to kubeforge.cluster.resource: each fails with a message naming the object and the field, and
nothing of the batch is applied."""

from __future__ import annotations

from kube_objects import configmap, deployment

HTTP_OK = 200


def _bad(name, definition=None, **options):
    args = dict(options)
    if definition is not None:
        args["definition"] = definition
    return {"name": name, "kubeforge.cluster.resource": args, "ignore_errors": True}


def test_bad_manifests_fail_clearly_and_apply_nothing(playbook, apiserver, namespace):
    seed_deployment = deployment("hello-deploy", namespace, replicas=1)
    seed_deployment["apiVersion"] = "extensions/v1beta1"
    immutable = deployment("immutable", namespace)
    changed_selector = deployment("immutable", namespace, selector={"matchLabels": {"app": "other"}})
    changed_selector["spec"]["template"]["metadata"]["labels"] = {"app": "other"}
    run = playbook(
        [
            _bad("invalid yaml", f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: x, namespace: {namespace}\n"),
            _bad("unknown kind", [{"apiVersion": "apps/v1", "kind": "Deploymnt", "metadata": {"name": "x"}}]),
            _bad("seed extensions/v1beta1", [seed_deployment]),
            _bad("no name", [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"namespace": namespace}}]),
            _bad("missing namespace", [configmap("orphan", f"{namespace}-missing")]),
            _bad(
                "schema violation",
                [configmap("batch-good", namespace), deployment("bad-replicas", namespace, replicas="five")],
            ),
            _bad("unknown field", [deployment("typo", namespace, replicaz=3)]),
            {"name": "create immutable", "kubeforge.cluster.resource": {"definition": [immutable]}},
            _bad("immutable change", [changed_selector]),
        ]
    )
    results = {t.name: t for t in run.tasks}
    assert "not valid YAML at line" in results["invalid yaml"].msg

    unknown = results["unknown kind"].msg
    assert "kind Deploymnt is not served in apiVersion apps/v1" in unknown

    seed = results["seed extensions/v1beta1"].msg
    assert f"Deployment/{namespace}/hello-deploy" in seed or "Deployment/hello-deploy" in seed
    assert "extensions/v1beta1" in seed and "apps/v1 replaces it" in seed

    assert "metadata.name missing" in results["no name"].msg

    missing_ns = results["missing namespace"].msg
    assert f"{namespace}-missing" in missing_ns and "ConfigMap/" in missing_ns

    schema = results["schema violation"]
    assert schema.failed and "bad-replicas" in schema.msg and "spec.replicas" in schema.msg
    assert "nothing was applied" in schema.msg
    status, _body = apiserver.request("GET", f"/api/v1/namespaces/{namespace}/configmaps/batch-good")
    assert status != HTTP_OK, "the valid object of a failing batch must not be applied"

    typo = results["unknown field"].msg
    assert "typo" in typo and "replicaz" in typo

    assert not results["create immutable"].failed
    immutable_msg = results["immutable change"].msg
    assert "immutable" in immutable_msg and "spec.selector" in immutable_msg


def test_connection_failures_are_clear(playbook, apiserver):
    cm = [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "never", "namespace": "default"}}]
    run = playbook(
        [
            _bad("unreachable", cm, host="https://127.0.0.1:1", request_timeout=2),
            _bad("wrong ca", cm, ca_cert="/etc/ssl/certs/ca-certificates.crt"),
            _bad("invalid token", cm, context=apiserver.token_context, api_key="not-the-token"),
            _bad("no such context", cm, context="production"),
        ]
    )
    results = {t.name: t.msg for t in run.tasks}
    assert "cannot reach the API server at https://127.0.0.1:1" in results["unreachable"]
    assert "TLS verification of" in results["wrong ca"] and "ca_cert" in results["wrong ca"]
    assert "authentication failed (401 Unauthorized)" in results["invalid token"]
    assert "context 'production' not found" in results["no such context"]
    assert "not-the-token" not in run.output
