"""Conformance: the same checks run against kubesim (default) and a real cluster (KUBECONFIG_REAL=path).

A failure against a real cluster that passes against kubesim is a divergence of the test server: fix the
server (tests/apiserver/kubesim), never the check.
"""

from __future__ import annotations

import json

import pytest
import yaml
from kubesim import helpers, schema

HTTP_OK = 200
HTTP_CREATED = 201
HTTP_BAD_REQUEST = 400
HTTP_NOT_FOUND = 404
HTTP_CONFLICT = 409
HTTP_INVALID = 422
HTTP_TOO_MANY = 429
APPLY = "application/apply-patch+yaml"
MERGE = "application/merge-patch+json"
PAUSE = "registry.k8s.io/pause:3.10"
REPLICAS, SCALED = 2, 3
CPU_TARGET = 60


META_V1 = "io.k8s.apimachinery.pkg.apis.meta.v1."


def assert_meta_v1_status(body):
    """`body` is a metav1.Status as Kubernetes declares it: every key is a field of Status, StatusDetails or
    StatusCause in the OpenAPI definitions of the Kubernetes release kubernetes-validate bundles (not kubesim's
    own list), and no field but `metadata` is empty (they are all `omitempty` in apimachinery's types.go)."""

    def fields(definition):
        return set(schema.root(META_V1 + definition)["properties"])

    assert body["kind"] == "Status", body
    assert set(body) <= fields("Status"), body
    assert not [k for k, v in body.items() if k != "metadata" and v in ("", 0, None, [], {})], body
    details = body.get("details") or {}
    assert set(details) <= fields("StatusDetails"), details
    assert not [k for k, v in details.items() if v in ("", 0, None, [])], details
    for cause in details.get("causes") or []:
        # metav1.StatusCause.Type is serialised under the JSON key "reason" (never "type")
        assert set(cause) <= fields("StatusCause"), cause
        assert not [k for k, v in cause.items() if v == ""], cause


def wait_for(check, timeout=120, interval=0.1):
    return helpers.wait_for(check, timeout=timeout, interval=interval)


def deployment(name, replicas=REPLICAS, image=PAUSE):
    return helpers.deployment(name, replicas=replicas, image=image, container="main")


def cm(name, data):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}


def test_discovery(target):
    status, version = target.request("GET", "/version")
    assert status == HTTP_OK
    assert version["major"] == "1"
    _status, groups = target.request("GET", "/apis")
    names = {g["name"] for g in groups["groups"]}
    assert {
        "apps",
        "autoscaling",
        "policy",
        "batch",
        "rbac.authorization.k8s.io",
        "networking.k8s.io",
        "discovery.k8s.io",
        "coordination.k8s.io",
    } <= names
    _status, apps = target.request("GET", "/apis/apps/v1")
    entries = {r["name"]: r for r in apps["resources"]}
    assert entries["deployments"]["namespaced"] is True
    assert entries["deployments"]["shortNames"] == ["deploy"]
    assert entries["deployments/scale"]["kind"] == "Scale"
    _status, core = target.request("GET", "/api/v1")
    entries = {r["name"]: r for r in core["resources"]}
    assert entries["pods/eviction"]["verbs"] == ["create"]
    assert entries["nodes"]["namespaced"] is False
    assert target.request("GET", "/apis/extensions/v1beta1/namespaces/default/deployments")[0] == HTTP_NOT_FOUND


def test_crud_status_codes(target, target_ns):
    base = f"/api/v1/namespaces/{target_ns}/configmaps"
    status, created = target.request("POST", base, cm("c", {"a": "1"}))
    assert status == HTTP_CREATED
    status, body = target.request("POST", base, cm("c", {"a": "1"}))
    assert (status, body["reason"]) == (HTTP_CONFLICT, "AlreadyExists")  # metav1.Status.Reason
    assert_meta_v1_status(body)
    status, body = target.request("GET", f"{base}/missing")
    # metav1.Status.Reason; metav1.StatusDetails.Kind is the resource (plural), Name the object
    assert (status, body["reason"], body["details"]["kind"]) == (HTTP_NOT_FOUND, "NotFound", "configmaps")
    assert body["details"]["name"] == "missing"
    assert "group" not in body["details"]  # metav1.StatusDetails.Group is omitempty: the core group is ""
    assert_meta_v1_status(body)
    status, _body = target.request("PUT", f"{base}/c", dict(created, data={"a": "2"}))
    assert status == HTTP_OK
    status, body = target.request("PUT", f"{base}/c", dict(created, data={"a": "3"}))
    assert (status, body["reason"]) == (HTTP_CONFLICT, "Conflict")  # metav1.Status.Reason
    assert_meta_v1_status(body)
    status, body = target.request("POST", base, b"{oops", "application/json")
    assert (status, body["reason"], body["code"]) == (HTTP_BAD_REQUEST, "BadRequest", HTTP_BAD_REQUEST)
    assert_meta_v1_status(body)
    status, body = target.request("POST", f"/api/v1/namespaces/{target_ns}-absent/configmaps", cm("x", {}))
    assert status == HTTP_NOT_FOUND
    assert_meta_v1_status(body)
    status, body = target.request("DELETE", f"{base}/c")
    # a delete answers a metav1.Status with Status "Success" and StatusDetails name/kind/uid
    assert (status, body["status"]) == (HTTP_OK, "Success")
    assert (body["details"]["name"], body["details"]["kind"]) == ("c", "configmaps")
    assert body["details"]["uid"] == created["metadata"]["uid"]
    assert_meta_v1_status(body)


def test_server_side_apply(target, target_ns):
    path = f"/apis/apps/v1/namespaces/{target_ns}/deployments/ssa"
    obj = deployment("ssa")
    obj["spec"]["template"]["spec"]["containers"][0]["ports"] = [{"containerPort": 8080}]
    status, first = target.request("PATCH", f"{path}?fieldManager=alpha", yaml.safe_dump(obj), APPLY)
    assert status == HTTP_CREATED
    entry = next(e for e in first["metadata"]["managedFields"] if e["manager"] == "alpha")
    assert entry["operation"] == "Apply"
    containers = entry["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]
    assert 'k:{"containerPort":8080,"protocol":"TCP"}' in containers['k:{"name":"main"}']["f:ports"]
    changed = json.loads(json.dumps(obj))
    changed["spec"]["replicas"] = SCALED
    status, body = target.request("PATCH", f"{path}?fieldManager=beta", yaml.safe_dump(changed), APPLY)
    assert status == HTTP_CONFLICT
    assert body["reason"] == "Conflict"  # metav1.Status.Reason
    # metav1.StatusCause: Field is the conflicting field; Type is sent under the JSON key "reason"
    assert body["details"]["causes"][0]["field"] == ".spec.replicas"
    assert body["details"]["causes"][0]["reason"] == "FieldManagerConflict"
    assert_meta_v1_status(body)
    assert 'conflict with "alpha"' in body["message"]
    status, forced = target.request("PATCH", f"{path}?fieldManager=beta&force=true", yaml.safe_dump(changed), APPLY)
    assert status == HTTP_OK
    assert forced["spec"]["replicas"] == SCALED
    # no-op apply of a Service: same resourceVersion
    svc_path = f"/api/v1/namespaces/{target_ns}/services/ssa"
    svc = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "ssa"},
        "spec": {"selector": {"app": "ssa"}, "ports": [{"port": 80, "targetPort": 8080}]},
    }
    _status, one = target.request("PATCH", f"{svc_path}?fieldManager=alpha", yaml.safe_dump(svc), APPLY)
    _status, two = target.request("PATCH", f"{svc_path}?fieldManager=alpha", yaml.safe_dump(svc), APPLY)
    assert one["metadata"]["resourceVersion"] == two["metadata"]["resourceVersion"]


def test_dry_run_and_field_validation(target, target_ns):
    base = f"/api/v1/namespaces/{target_ns}/configmaps"
    status, _body = target.request("POST", f"{base}?dryRun=All", cm("dry", {"a": "1"}))
    assert status == HTTP_CREATED
    assert target.request("GET", f"{base}/dry")[0] == HTTP_NOT_FOUND
    bad = dict(cm("strict", {"a": "1"}), spurious=1)
    status, body = target.request("POST", f"{base}?fieldValidation=Strict", bad)
    assert status == HTTP_BAD_REQUEST
    assert 'unknown field "spurious"' in body["message"]
    status, body = target.request("POST", base, bad)
    assert status == HTTP_CREATED
    assert "spurious" not in body
    assert any("spurious" in w for w in target.client.last_headers.get_all("Warning"))


def test_defaults_quantities_and_validation(target, target_ns):
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "defaults"},
        "spec": {
            "containers": [
                {
                    "name": "a",
                    "image": "nginx",
                    "ports": [{"containerPort": 80}],
                    "resources": {"requests": {"cpu": 0.5, "memory": "1024Mi"}},
                },
                {"name": "b", "image": PAUSE},
            ]
        },
    }
    status, obj = target.request("POST", f"/api/v1/namespaces/{target_ns}/pods", pod)
    assert status == HTTP_CREATED, obj
    first, second = obj["spec"]["containers"]
    assert (first["imagePullPolicy"], second["imagePullPolicy"]) == ("Always", "IfNotPresent")
    assert first["ports"][0]["protocol"] == "TCP"
    assert first["resources"]["requests"] == {"cpu": "500m", "memory": "1Gi"}
    assert obj["spec"]["dnsPolicy"] == "ClusterFirst"
    assert first["terminationMessagePolicy"] == "File"
    base = f"/apis/apps/v1/namespaces/{target_ns}/deployments"
    status, dep = target.request("POST", base, deployment("val", 0))
    assert dep["spec"]["strategy"]["rollingUpdate"] == {"maxUnavailable": "25%", "maxSurge": "25%"}
    status, body = target.request(
        "PATCH",
        f"{base}/val",
        {"spec": {"selector": {"matchLabels": {"app": "x"}}, "template": {"metadata": {"labels": {"app": "x"}}}}},
        MERGE,
    )
    assert (status, body["reason"]) == (HTTP_INVALID, "Invalid")  # metav1.Status.Reason
    # metav1.StatusDetails.Kind is the kind (not the resource) for Invalid; metav1.StatusCause.Field each field
    assert (body["details"]["kind"], body["details"]["name"], body["details"]["group"]) == ("Deployment", "val", "apps")
    assert "spec.selector" in [c["field"] for c in body["details"]["causes"]]
    assert {c["reason"] for c in body["details"]["causes"]} <= {"FieldValueInvalid", "FieldValueRequired"}
    assert_meta_v1_status(body)


def test_list_pagination_and_selectors(target, target_ns):
    base = f"/api/v1/namespaces/{target_ns}/configmaps"
    for index in range(5):
        body = cm(f"p{index}", {"i": str(index)})
        body["metadata"]["labels"] = {"set": "odd" if index % 2 else "even"}
        target.request("POST", base, body)
    _status, page = target.request("GET", f"{base}?labelSelector=set&limit=2")
    assert page["kind"] == "ConfigMapList"
    assert len(page["items"]) == REPLICAS
    _status, rest = target.request("GET", f"{base}?labelSelector=set&limit=10&continue={page['metadata']['continue']}")
    assert len(rest["items"]) == SCALED
    _status, odd = target.request("GET", f"{base}?labelSelector=set%20in%20(odd)")
    assert sorted(i["metadata"]["name"] for i in odd["items"]) == ["p1", "p3"]
    _status, named = target.request("GET", f"{base}?fieldSelector=metadata.name%3Dp4")
    assert [i["metadata"]["name"] for i in named["items"]] == ["p4"]


def test_eviction_respects_pdb(target, target_ns):
    base = f"/api/v1/namespaces/{target_ns}/pods"
    for name in ("e1", "e2"):
        target.request(
            "POST",
            base,
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": name, "labels": {"app": "evict"}},
                "spec": {"containers": [{"name": "main", "image": PAUSE}]},
            },
        )

    def both_ready():
        _status, body = target.request("GET", f"{base}?labelSelector=app%3Devict")
        return (
            all(
                any(c["type"] == "Ready" and c["status"] == "True" for c in p["status"].get("conditions", []))
                for p in body["items"]
            )
            and len(body["items"]) == REPLICAS
        )

    wait_for(both_ready)
    pdb = {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "keep"},
        "spec": {"minAvailable": 2, "selector": {"matchLabels": {"app": "evict"}}},
    }
    target.request("POST", f"/apis/policy/v1/namespaces/{target_ns}/poddisruptionbudgets", pdb)
    wait_for(
        lambda: (
            target.request("GET", f"/apis/policy/v1/namespaces/{target_ns}/poddisruptionbudgets/keep")[1]
            .get("status", {})
            .get("currentHealthy")
            == REPLICAS
        )
    )
    eviction = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "e1", "namespace": target_ns}}
    status, body = target.request("POST", f"{base}/e1/eviction", eviction)
    assert (status, body["reason"]) == (HTTP_TOO_MANY, "TooManyRequests")  # metav1.Status.Reason
    # metav1.StatusCause.Type (JSON "reason") is policyv1.DisruptionBudgetCause; Message names the budget
    assert body["details"]["causes"][0]["reason"] == "DisruptionBudget"
    assert "keep" in body["details"]["causes"][0]["message"]
    assert_meta_v1_status(body)


def test_kubectl_verbs(target, target_ns, kubectl, tmp_path):
    manifest = tmp_path / "deploy.yaml"
    manifest.write_text(yaml.safe_dump(deployment("kc")))
    out = kubectl("apply", "--server-side", "-n", target_ns, "-f", str(manifest))
    assert "deployment.apps/kc serverside-applied" in out.stdout
    got = json.loads(kubectl("get", "deployment", "kc", "-n", target_ns, "-o", "json", "--show-managed-fields").stdout)
    assert got["spec"]["replicas"] == REPLICAS
    assert any(e["manager"] == "kubectl" and e["operation"] == "Apply" for e in got["metadata"]["managedFields"])
    kubectl("rollout", "status", "deployment/kc", "-n", target_ns, "--timeout=120s")
    kubectl("scale", "deployment/kc", "-n", target_ns, f"--replicas={SCALED}")
    kubectl("rollout", "status", "deployment/kc", "-n", target_ns, "--timeout=120s")
    kubectl("wait", "--for=condition=Available", "deployment/kc", "-n", target_ns, "--timeout=60s")
    got = json.loads(kubectl("get", "deployment", "kc", "-n", target_ns, "-o", "json").stdout)
    assert got["status"]["readyReplicas"] == SCALED
    listed = kubectl("get", "pods", "-n", target_ns, "-l", "app=kc").stdout
    assert listed.splitlines()[0].split()[:3] == ["NAME", "READY", "STATUS"]
    kubectl("delete", "-n", target_ns, "-f", str(manifest), "--wait=true", "--timeout=60s")
    assert kubectl("get", "deployment", "kc", "-n", target_ns, check=False).returncode != 0


def test_kubectl_cordon(target, kubectl):
    _status, nodes = target.request("GET", "/api/v1/nodes")
    node = nodes["items"][0]["metadata"]["name"]
    kubectl("cordon", node)
    try:
        _status, obj = target.request("GET", f"/api/v1/nodes/{node}")
        assert obj["spec"]["unschedulable"] is True
        wait_for(
            lambda: any(
                t["key"] == "node.kubernetes.io/unschedulable"
                for t in target.request("GET", f"/api/v1/nodes/{node}")[1]["spec"].get("taints", [])
            )
        )
    finally:
        kubectl("uncordon", node)
    _status, obj = target.request("GET", f"/api/v1/nodes/{node}")
    assert not obj["spec"].get("unschedulable")


def test_watch_initial_events(target, target_ns):
    """Streaming list (watch sendInitialEvents, KEP-3157 WatchList): Kubernetes 1.27+ with the gate on."""
    missing = helpers.watch_list_unsupported(target, target_ns)
    if missing:
        pytest.skip(missing)
    base = f"/api/v1/namespaces/{target_ns}/configmaps"
    target.request("POST", base, cm("w", {"a": "1"}))
    events = _watch(
        target,
        f"{base}?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan"
        "&allowWatchBookmarks=true&timeoutSeconds=2",
    )
    marker = next(e for e in events if e["type"] == "BOOKMARK")
    assert marker["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"] == "true"
    added = [e["object"]["metadata"]["name"] for e in events[: events.index(marker)]]
    assert "w" in added


def test_watch_resume(target, target_ns):
    base = f"/api/v1/namespaces/{target_ns}/configmaps"
    _status, created = target.request("POST", base, cm("w", {"a": "1"}))
    target.request("PUT", f"{base}/w", dict(created, data={"a": "2"}))
    events = _watch(
        target, f"{base}?watch=true&resourceVersion={created['metadata']['resourceVersion']}&timeoutSeconds=1"
    )
    assert [(e["type"], e["object"]["data"]) for e in events if e["object"]["metadata"]["name"] == "w"] == [
        ("MODIFIED", {"a": "2"})
    ]


def test_hpa_served_in_both_versions(target, target_ns):
    hpa = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "h"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "none"},
            "minReplicas": 1,
            "maxReplicas": 3,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": CPU_TARGET}},
                }
            ],
        },
    }
    status, _body = target.request("POST", f"/apis/autoscaling/v2/namespaces/{target_ns}/horizontalpodautoscalers", hpa)
    assert status == HTTP_CREATED
    _status, v1 = target.request("GET", f"/apis/autoscaling/v1/namespaces/{target_ns}/horizontalpodautoscalers/h")
    assert v1["spec"]["targetCPUUtilizationPercentage"] == CPU_TARGET


def _watch(target, path):
    return target.client.watch(path)


def test_kubectl_rollout_status_daemonset_and_statefulset(target, target_ns, kubectl, tmp_path):
    labels = {"app": "agent"}
    template = {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "main", "image": PAUSE}]}}
    ds = {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "agent"},
        "spec": {"selector": {"matchLabels": labels}, "template": template},
    }
    sts = {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "db"},
        "spec": {
            "replicas": REPLICAS,
            "serviceName": "db",
            "selector": {"matchLabels": {"app": "db"}},
            "template": {**template, "metadata": {"labels": {"app": "db"}}},
        },
    }
    manifest = tmp_path / "workloads.yaml"
    manifest.write_text(yaml.safe_dump_all([ds, sts]))
    kubectl("apply", "--server-side", "-n", target_ns, "-f", str(manifest))
    kubectl("rollout", "status", "daemonset/agent", "-n", target_ns, "--timeout=120s")
    kubectl("rollout", "status", "statefulset/db", "-n", target_ns, "--timeout=120s")
    got = json.loads(kubectl("get", "daemonset", "agent", "-n", target_ns, "-o", "json").stdout)
    _status, nodes = target.request("GET", "/api/v1/nodes")
    schedulable = [
        n
        for n in nodes["items"]
        if not any(
            t.get("effect") == "NoSchedule" and t["key"] != "node.kubernetes.io/unschedulable"
            for t in n["spec"].get("taints", [])
        )
    ]
    assert got["status"]["desiredNumberScheduled"] == len(schedulable)
    pods = json.loads(kubectl("get", "pods", "-n", target_ns, "-l", "app=db", "-o", "json").stdout)["items"]
    assert sorted(p["metadata"]["name"] for p in pods) == ["db-0", "db-1"]
