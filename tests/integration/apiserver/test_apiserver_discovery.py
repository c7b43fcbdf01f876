"""Discovery documents match what kube-apiserver 1.37 publishes for the groups the collection uses."""

from __future__ import annotations

import pytest

HTTP_OK = 200
HTTP_NOT_FOUND = 404

GROUPS = {
    "apps": ["v1"],
    "autoscaling": ["v2", "v1"],
    "policy": ["v1"],
    "batch": ["v1"],
    "rbac.authorization.k8s.io": ["v1"],
    "networking.k8s.io": ["v1"],
    "discovery.k8s.io": ["v1"],
    "coordination.k8s.io": ["v1"],
}


def _resources(apiserver, path):
    status, body = apiserver.request("GET", path)
    assert status == HTTP_OK, body
    assert body["kind"] == "APIResourceList"
    return {r["name"]: r for r in body["resources"]}


def test_version_and_core(apiserver):
    status, version = apiserver.request("GET", "/version")
    assert status == HTTP_OK
    assert (version["major"], version["minor"]) == ("1", "37")
    assert version["gitVersion"].startswith("v1.37.")
    status, api = apiserver.request("GET", "/api")
    assert api["kind"] == "APIVersions"
    assert api["versions"] == ["v1"]


def test_groups_and_preferred_versions(apiserver):
    status, body = apiserver.request("GET", "/apis")
    assert status == HTTP_OK
    assert body["kind"] == "APIGroupList"
    groups = {g["name"]: g for g in body["groups"]}
    for name, versions in GROUPS.items():
        assert [v["version"] for v in groups[name]["versions"]] == versions
        assert groups[name]["preferredVersion"]["version"] == versions[0]
    status, group = apiserver.request("GET", "/apis/apps")
    assert group["kind"] == "APIGroup"
    assert group["preferredVersion"]["groupVersion"] == "apps/v1"


@pytest.mark.parametrize(
    ("path", "name", "expected"),
    [
        ("/api/v1", "pods", ("Pod", True, ["po"])),
        ("/api/v1", "services", ("Service", True, ["svc"])),
        ("/api/v1", "nodes", ("Node", False, ["no"])),
        ("/api/v1", "namespaces", ("Namespace", False, ["ns"])),
        ("/api/v1", "configmaps", ("ConfigMap", True, ["cm"])),
        ("/apis/apps/v1", "deployments", ("Deployment", True, ["deploy"])),
        ("/apis/apps/v1", "daemonsets", ("DaemonSet", True, ["ds"])),
        ("/apis/autoscaling/v2", "horizontalpodautoscalers", ("HorizontalPodAutoscaler", True, ["hpa"])),
        ("/apis/autoscaling/v1", "horizontalpodautoscalers", ("HorizontalPodAutoscaler", True, ["hpa"])),
        ("/apis/policy/v1", "poddisruptionbudgets", ("PodDisruptionBudget", True, ["pdb"])),
        ("/apis/batch/v1", "cronjobs", ("CronJob", True, ["cj"])),
        ("/apis/rbac.authorization.k8s.io/v1", "clusterroles", ("ClusterRole", False, None)),
        ("/apis/networking.k8s.io/v1", "ingresses", ("Ingress", True, ["ing"])),
        ("/apis/discovery.k8s.io/v1", "endpointslices", ("EndpointSlice", True, None)),
        ("/apis/coordination.k8s.io/v1", "leases", ("Lease", True, None)),
    ],
)
def test_resource_entries(apiserver, path, name, expected):
    kind, namespaced, short = expected
    entry = _resources(apiserver, path)[name]
    assert entry["kind"] == kind
    assert entry["namespaced"] is namespaced
    assert entry.get("shortNames") == short
    assert set(entry["verbs"]) >= {"create", "delete", "get", "list", "patch", "update", "watch"}


def test_subresources(apiserver):
    core = _resources(apiserver, "/api/v1")
    assert core["pods/eviction"]["verbs"] == ["create"]
    assert (core["pods/eviction"]["group"], core["pods/eviction"]["kind"]) == ("policy", "Eviction")
    assert core["pods/status"]["verbs"] == ["get", "patch", "update"]
    assert core["replicationcontrollers/scale"]["kind"] == "Scale"
    assert "namespaces/finalize" in core
    assert "deletecollection" not in core["namespaces"]["verbs"]
    apps = _resources(apiserver, "/apis/apps/v1")
    assert apps["deployments/scale"]["group"] == "autoscaling"
    assert apps["replicasets/scale"]["version"] == "v1"
    assert "daemonsets/scale" not in apps
    assert "bindings" in core
    assert core["bindings"]["verbs"] == ["create"]


def test_removed_api_versions_are_not_served(apiserver):
    for path in (
        "/apis/extensions/v1beta1",
        "/apis/extensions/v1beta1/namespaces/default/deployments",
        "/apis/apps/v1beta1/namespaces/default/deployments",
        "/apis/policy/v1beta1/poddisruptionbudgets",
        "/apis/autoscaling/v2beta2/horizontalpodautoscalers",
        "/api/v1/widgets",
    ):
        status, body = apiserver.request("GET", path)
        assert status == HTTP_NOT_FOUND, path
        assert body["reason"] == "NotFound"
    status, body = apiserver.request(
        "POST",
        "/apis/extensions/v1beta1/namespaces/default/deployments",
        {"apiVersion": "extensions/v1beta1", "kind": "Deployment", "metadata": {"name": "old"}},
    )
    assert status == HTTP_NOT_FOUND


def test_openapi_v3_advertises_field_validation(apiserver):
    status, root = apiserver.request("GET", "/openapi/v3")
    assert status == HTTP_OK
    url = root["paths"]["apis/apps/v1"]["serverRelativeURL"]
    status, doc = apiserver.request("GET", url)
    assert status == HTTP_OK
    patch = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]
    assert "fieldValidation" in [p["name"] for p in patch["parameters"]]
    assert patch["x-kubernetes-group-version-kind"] == {"group": "apps", "version": "v1", "kind": "Deployment"}
    assert "io.k8s.api.apps.v1.Deployment" in doc["components"]["schemas"]
    status, _body = apiserver.request("GET", "/openapi/v2")
    assert status == HTTP_NOT_FOUND


def test_aggregated_discovery(apiserver):
    accept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
    status, body = apiserver.request("GET", "/apis", headers={"Accept": accept})
    assert status == HTTP_OK
    assert apiserver.client.last_headers["Content-Type"] == (
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    )
    assert body["kind"] == "APIGroupDiscoveryList"
    apps = next(i for i in body["items"] if i["metadata"]["name"] == "apps")
    deployments = next(r for r in apps["versions"][0]["resources"] if r["resource"] == "deployments")
    assert deployments["scope"] == "Namespaced"
    assert deployments["responseKind"] == {"group": "apps", "version": "v1", "kind": "Deployment"}
    scale = next(s for s in deployments["subresources"] if s["subresource"] == "scale")
    assert scale["responseKind"] == {"group": "autoscaling", "version": "v1", "kind": "Scale"}
    autoscaling = next(i for i in body["items"] if i["metadata"]["name"] == "autoscaling")
    assert [v["version"] for v in autoscaling["versions"]] == ["v2", "v1"]
    status, core = apiserver.request("GET", "/api", headers={"Accept": accept})
    assert [i["metadata"]["name"] for i in core["items"]] == [""]
    status, legacy = apiserver.request("GET", "/apis")
    assert legacy["kind"] == "APIGroupList"
