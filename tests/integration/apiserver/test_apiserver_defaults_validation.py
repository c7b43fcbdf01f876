"""Defaulting, quantity normalisation, HPA version conversion and validation rules."""

from __future__ import annotations

HTTP_OK = 200
HTTP_CREATED = 201
HTTP_BAD_REQUEST = 400
HTTP_INVALID = 422
NODE_PORT_LOW, NODE_PORT_HIGH = 30000, 32767
HPA_TARGET = 70
MERGE = "application/merge-patch+json"


def pod(name, containers, **spec):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": {"containers": containers, **spec}}


def causes(body):
    return {(c["field"], c["reason"]) for c in body["details"]["causes"]}


def test_pod_defaults(apiserver, namespace):
    status, obj = apiserver.request(
        "POST",
        f"/api/v1/namespaces/{namespace}/pods",
        pod(
            "d",
            [
                {"name": "latest", "image": "nginx", "ports": [{"containerPort": 80}]},
                {
                    "name": "tagged",
                    "image": "registry.local:5000/nginx:1.25",
                    "resources": {"limits": {"cpu": 0.5, "memory": "1024Mi"}},
                },
                {"name": "digest", "image": "nginx@sha256:" + "a" * 64},
                {"name": "explicit-latest", "image": "nginx:latest"},
            ],
        ),
    )
    assert status == HTTP_CREATED, obj
    spec = obj["spec"]
    assert (spec["restartPolicy"], spec["dnsPolicy"], spec["terminationGracePeriodSeconds"]) == (
        "Always",
        "ClusterFirst",
        30,
    )
    assert spec["schedulerName"] == "default-scheduler"
    assert spec["serviceAccountName"] == "default"
    policies = {c["name"]: c["imagePullPolicy"] for c in spec["containers"]}
    assert policies == {
        "latest": "Always",
        "tagged": "IfNotPresent",
        "digest": "IfNotPresent",
        "explicit-latest": "Always",
    }
    first = spec["containers"][0]
    assert first["ports"][0]["protocol"] == "TCP"
    assert first["terminationMessagePath"] == "/dev/termination-log"
    assert first["terminationMessagePolicy"] == "File"
    assert spec["containers"][1]["resources"]["limits"] == {"cpu": "500m", "memory": "1Gi"}
    assert obj["status"]["phase"] == "Pending"
    assert obj["status"]["qosClass"] == "Burstable"


def test_service_defaults_and_node_ports(apiserver, namespace):
    base = f"/api/v1/namespaces/{namespace}/services"
    svc = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "np"},
        "spec": {"type": "NodePort", "selector": {"app": "x"}, "ports": [{"port": 80}]},
    }
    status, obj = apiserver.request("POST", base, svc)
    assert status == HTTP_CREATED, obj
    spec = obj["spec"]
    assert spec["clusterIP"].startswith("10.96.")
    assert spec["clusterIPs"] == [spec["clusterIP"]]
    assert spec["sessionAffinity"] == "None"
    assert spec["externalTrafficPolicy"] == "Cluster"
    port = spec["ports"][0]
    assert (port["protocol"], port["targetPort"]) == ("TCP", 80)
    assert NODE_PORT_LOW <= port["nodePort"] <= NODE_PORT_HIGH
    taken = dict(svc, metadata={"name": "np2"})
    taken["spec"] = dict(svc["spec"], ports=[{"port": 80, "nodePort": port["nodePort"]}])
    status, body = apiserver.request("POST", base, taken)
    assert status == HTTP_INVALID
    assert ("spec.ports[0].nodePort", "FieldValueInvalid") in causes(body)
    assert "already allocated" in body["message"]
    outside = dict(taken, metadata={"name": "np3"})
    outside["spec"] = dict(svc["spec"], ports=[{"port": 80, "nodePort": 80}])
    status, body = apiserver.request("POST", base, outside)
    assert status == HTTP_INVALID
    assert "30000-32767" in body["message"]
    status, body = apiserver.request("PATCH", f"{base}/np", {"spec": {"clusterIP": "10.96.200.200"}}, MERGE)
    assert status == HTTP_INVALID
    assert "may not change once set" in body["message"]
    status, body = apiserver.request("PATCH", f"{base}/np", {"spec": {"type": "ClusterIP"}}, MERGE)
    assert status == HTTP_OK, body
    assert "nodePort" not in body["spec"]["ports"][0]
    status, body = apiserver.request("POST", base, taken)  # the released port can be taken again
    assert status == HTTP_CREATED


def test_deployment_defaults(apiserver, namespace):
    dep = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "dd"},
        "spec": {
            "selector": {"matchLabels": {"a": "b"}},
            "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "x:1"}]}},
        },
    }
    status, obj = apiserver.request("POST", f"/apis/apps/v1/namespaces/{namespace}/deployments", dep)
    assert status == HTTP_CREATED
    spec = obj["spec"]
    assert spec["replicas"] == 1
    assert spec["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}}
    assert (spec["revisionHistoryLimit"], spec["progressDeadlineSeconds"]) == (10, 600)
    assert spec["template"]["spec"]["restartPolicy"] == "Always"


def test_hpa_versions_convert(apiserver, namespace):
    v1 = {
        "apiVersion": "autoscaling/v1",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "h"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "minReplicas": 1,
            "maxReplicas": 4,
            "targetCPUUtilizationPercentage": HPA_TARGET,
        },
    }
    status, created = apiserver.request(
        "POST", f"/apis/autoscaling/v1/namespaces/{namespace}/horizontalpodautoscalers", v1
    )
    assert status == HTTP_CREATED, created
    assert created["apiVersion"] == "autoscaling/v1"
    assert created["spec"]["targetCPUUtilizationPercentage"] == HPA_TARGET
    status, v2 = apiserver.request("GET", f"/apis/autoscaling/v2/namespaces/{namespace}/horizontalpodautoscalers/h")
    assert status == HTTP_OK
    assert v2["apiVersion"] == "autoscaling/v2"
    metric = v2["spec"]["metrics"][0]
    assert metric["resource"]["target"] == {"type": "Utilization", "averageUtilization": HPA_TARGET}
    behavior = v2["spec"]["behavior"]  # defaulted in v2; the scale-down window comes from a controller flag
    assert behavior["scaleUp"]["stabilizationWindowSeconds"] == 0
    assert "stabilizationWindowSeconds" not in behavior["scaleDown"]
    assert behavior["scaleDown"]["policies"] == [{"type": "Percent", "value": 100, "periodSeconds": 15}]
    assert "targetCPUUtilizationPercentage" not in v2["spec"]


def test_validation_rules(apiserver, namespace):
    base = f"/apis/apps/v1/namespaces/{namespace}/deployments"
    bad = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "bad"},
        "spec": {
            "selector": {"matchLabels": {"a": "b"}},
            "template": {
                "metadata": {"labels": {"a": "c"}},
                "spec": {"containers": [{"name": "c", "image": "", "ports": [{"containerPort": 70000}]}]},
            },
        },
    }
    status, body = apiserver.request("POST", base, bad)
    assert status == HTTP_INVALID
    found = causes(body)
    assert ("spec.template.metadata.labels", "FieldValueInvalid") in found
    assert ("spec.template.spec.containers[0].image", "FieldValueRequired") in found
    assert ("spec.template.spec.containers[0].ports[0].containerPort", "FieldValueInvalid") in found
    assert body["message"].startswith('Deployment.apps "bad" is invalid: ')
    good = dict(bad)
    good["spec"] = {
        "selector": {"matchLabels": {"a": "b"}},
        "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "x:1"}]}},
    }
    status, _body = apiserver.request("POST", base, good)
    assert status == HTTP_CREATED
    status, body = apiserver.request(
        "PATCH",
        f"{base}/bad",
        {"spec": {"selector": {"matchLabels": {"a": "z"}}, "template": {"metadata": {"labels": {"a": "z"}}}}},
        MERGE,
    )
    assert status == HTTP_INVALID
    assert ("spec.selector", "FieldValueInvalid") in causes(body)
    assert "field is immutable" in body["message"]


def test_pod_spec_is_mostly_immutable(apiserver, namespace):
    base = f"/api/v1/namespaces/{namespace}/pods"
    apiserver.request("POST", base, pod("imm", [{"name": "c", "image": "nginx:1"}]))
    status, obj = apiserver.request(
        "PATCH",
        f"{base}/imm",
        {"spec": {"containers": [{"name": "c", "image": "nginx:2"}]}},
        "application/strategic-merge-patch+json",
    )
    assert status == HTTP_OK
    assert obj["spec"]["containers"][0]["image"] == "nginx:2"
    status, body = apiserver.request("PATCH", f"{base}/imm", {"spec": {"restartPolicy": "Never"}}, MERGE)
    assert status == HTTP_INVALID
    assert ("spec", "FieldValueForbidden") in causes(body)
    assert "pod updates may not change fields" in body["message"]


def test_names_and_labels(apiserver, namespace):
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    for name in ("UPPER", "-dash", "a" * 254, "under_score"):
        status, body = apiserver.request(
            "POST", base, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}}
        )
        assert status == HTTP_INVALID, name
    status, body = apiserver.request(
        "POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "has.dot"}}
    )
    assert status == HTTP_INVALID
    status, body = apiserver.request(
        "POST",
        base,
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "lbl", "labels": {"ok": "bad value!"}}},
    )
    assert status == HTTP_INVALID
    status, body = apiserver.request(
        "POST", base, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "gen-"}}
    )
    assert status == HTTP_CREATED
    assert body["metadata"]["name"].startswith("gen-")


def test_secret_string_data_becomes_base64_data(apiserver, namespace):
    base = f"/api/v1/namespaces/{namespace}/secrets"
    status, obj = apiserver.request(
        "POST",
        base,
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "s"},
            "data": {"a": "YQ=="},
            "stringData": {"b": "bee"},
        },
    )
    assert status == HTTP_CREATED
    assert obj["data"] == {"a": "YQ==", "b": "YmVl"}
    assert "stringData" not in obj
    assert obj["type"] == "Opaque"
    status, _body = apiserver.request(
        "POST", base, {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "t"}, "data": {"a": "not base64!"}}
    )
    assert status == HTTP_BAD_REQUEST
