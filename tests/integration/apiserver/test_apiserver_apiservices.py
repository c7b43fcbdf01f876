"""apiregistration.k8s.io/v1 APIService: discovery, create/apply/validation, and the Available condition that
follows the backing Service's endpoints (kube-aggregator's availability check)."""

from __future__ import annotations

import uuid

import pytest
import yaml
from kubesim.helpers import deployment, wait_for

HTTP_OK = 200
HTTP_CREATED = 201
HTTP_INVALID = 422
APPLY = "application/apply-patch+yaml"
MERGE = "application/merge-patch+json"
GROUP_PATH = "/apis/apiregistration.k8s.io/v1"
APISERVICES = f"{GROUP_PATH}/apiservices"
NS = "default"


def apiservice(group, version="v1beta1", service=None, **spec):
    body = {
        "apiVersion": "apiregistration.k8s.io/v1",
        "kind": "APIService",
        "metadata": {"name": f"{version}.{group}"},
        "spec": {"group": group, "version": version, "groupPriorityMinimum": 100, "versionPriority": 100, **spec},
    }
    if service is not None:
        body["spec"]["service"] = service
        body["spec"].setdefault("insecureSkipTLSVerify", True)
    return body


def unique_group():
    return f"g{uuid.uuid4().hex[:8]}.example.com"


def available(obj):
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond["type"] == "Available":
            return cond
    return None


def test_discovery_lists_apiservices(apiserver):
    _status, groups = apiserver.request("GET", "/apis")
    group = next(g for g in groups["groups"] if g["name"] == "apiregistration.k8s.io")
    assert group["preferredVersion"] == {"groupVersion": "apiregistration.k8s.io/v1", "version": "v1"}
    status, listing = apiserver.request("GET", GROUP_PATH)
    assert status == HTTP_OK
    entries = {r["name"]: r for r in listing["resources"]}
    main = entries["apiservices"]
    assert (main["kind"], main["namespaced"], main["singularName"]) == ("APIService", False, "apiservice")
    assert main["categories"] == ["api-extensions"]
    assert set(main["verbs"]) == {"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}
    assert entries["apiservices/status"]["verbs"] == ["get", "patch", "update"]
    accept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    _status, aggregated = apiserver.request("GET", "/apis", headers={"Accept": accept})
    item = next(i for i in aggregated["items"] if i["metadata"]["name"] == "apiregistration.k8s.io")
    (resource,) = item["versions"][0]["resources"]
    assert resource["scope"] == "Cluster"
    assert resource["subresources"][0]["subresource"] == "status"
    _status, root = apiserver.request("GET", "/openapi/v3")
    status, doc = apiserver.request("GET", root["paths"]["apis/apiregistration.k8s.io/v1"]["serverRelativeURL"])
    assert status == HTTP_OK
    assert f"{APISERVICES}/{{name}}/status" in doc["paths"]
    assert "io.k8s.kube-aggregator.pkg.apis.apiregistration.v1.APIService" in doc["components"]["schemas"]


def test_create_local_and_apply_remote(apiserver):
    group = unique_group()
    status, local = apiserver.request("POST", APISERVICES, apiservice(group, "v1"))
    assert status == HTTP_CREATED, local
    assert "namespace" not in local["metadata"]
    assert "generation" not in local["metadata"]
    cond = available(local)
    assert (cond["status"], cond["reason"]) == ("True", "Local"), "a local APIService is Available from creation"
    remote = apiservice(group, "v1beta1", {"name": "absent", "namespace": NS})
    path = f"{APISERVICES}/v1beta1.{group}?fieldManager=test"
    status, applied = apiserver.request("PATCH", path, yaml.safe_dump(remote), APPLY)
    assert status == HTTP_CREATED, applied
    assert applied["spec"]["service"] == {"name": "absent", "namespace": NS, "port": 443}
    assert "status" not in applied
    found = wait_for(lambda: available(apiserver.request("GET", f"{APISERVICES}/v1beta1.{group}")[1]))
    assert (found["status"], found["reason"]) == ("False", "ServiceNotFound")
    assert f'service/absent in "{NS}"' in found["message"]
    _status, live = apiserver.request("GET", f"{APISERVICES}/v1beta1.{group}")
    status, again = apiserver.request("PATCH", path, yaml.safe_dump(remote), APPLY)
    assert status == HTTP_OK
    assert again["metadata"]["resourceVersion"] == live["metadata"]["resourceVersion"], "an unchanged apply"
    _status, table = apiserver.request(
        "GET", f"{APISERVICES}/v1beta1.{group}", headers={"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"}
    )
    assert table["rows"][0]["cells"][1:3] == [f"{NS}/absent", "False (ServiceNotFound)"]
    for name in (f"v1.{group}", f"v1beta1.{group}"):
        apiserver.request("DELETE", f"{APISERVICES}/{name}")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"metadata": {"name": "v1.wrong.example.com"}}, "metadata.name"),
        ({"spec": {"groupPriorityMinimum": 0}}, "spec.groupPriorityMinimum"),
        ({"spec": {"versionPriority": 1001}}, "spec.versionPriority"),
        ({"spec": {"insecureSkipTLSVerify": True}}, "spec.insecureSkipTLSVerify"),
        ({"spec": {"service": {"name": "s", "namespace": NS, "port": 70000}}}, "spec.service.port"),
    ],
)
def test_validation(apiserver, change, field):
    body = apiservice(unique_group(), "v1")
    for part, values in change.items():
        body[part].update(values)
    status, answer = apiserver.request("POST", APISERVICES, body)
    assert status == HTTP_INVALID, answer
    assert field in {c["field"] for c in answer["details"]["causes"]}


def test_rbac_names_may_contain_colons(apiserver):
    name = f"system:{uuid.uuid4().hex[:8]}"
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": name}}
    status, body = apiserver.request("POST", "/apis/rbac.authorization.k8s.io/v1/clusterroles", role)
    assert status == HTTP_CREATED, body
    apiserver.request("DELETE", f"/apis/rbac.authorization.k8s.io/v1/clusterroles/{name}")
    role["metadata"]["name"] = "a/b"
    status, body = apiserver.request("POST", "/apis/rbac.authorization.k8s.io/v1/clusterroles", role)
    assert status == HTTP_INVALID


def test_available_follows_the_service_endpoints(apiserver_factory):
    server = apiserver_factory()
    group = unique_group()
    name = f"v1beta1.{group}"

    def reason_becomes(expected):
        def check():
            cond = available(server.request("GET", f"{APISERVICES}/{name}")[1])
            return cond if cond and cond["reason"] == expected else None

        check.__name__ = f"available_{expected}"
        return wait_for(check)

    status, _body = server.request("POST", APISERVICES, apiservice(group, service={"name": "backend", "namespace": NS}))
    assert status == HTTP_CREATED
    assert reason_becomes("ServiceNotFound")["status"] == "False"
    svc = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "backend"},
        "spec": {"selector": {"app": "backend"}, "ports": [{"name": "https", "port": 443, "targetPort": "https"}]},
    }
    server.request("POST", f"/api/v1/namespaces/{NS}/services", svc)
    missing = reason_becomes("MissingEndpoints")
    assert missing["status"] == "False"
    assert 'port name "https"' in missing["message"]
    backend = deployment("backend", replicas=1)
    backend["spec"]["template"]["spec"]["containers"][0]["ports"] = [{"name": "https", "containerPort": 8443}]
    server.request("POST", f"/apis/apps/v1/namespaces/{NS}/deployments", backend)

    def pending_pod():
        _status, pods = server.request("GET", f"/api/v1/namespaces/{NS}/pods?labelSelector=app%3Dbackend")
        return pods["items"]

    assert wait_for(pending_pod)[0]["status"]["phase"] == "Pending", "no node yet"
    assert reason_becomes("MissingEndpoints")["status"] == "False", "a Pending pod is no endpoint"
    server.add_nodes(1)
    passed = reason_becomes("Passed")
    assert passed["status"] == "True"
    _status, obj = server.request("GET", f"{APISERVICES}/{name}")
    (entry,) = [e for e in obj["metadata"]["managedFields"] if e.get("subresource") == "status"]
    assert (entry["manager"], entry["operation"]) == ("kube-apiserver", "Update")
    server.request("PATCH", f"/apis/apps/v1/namespaces/{NS}/deployments/backend", {"spec": {"replicas": 0}}, MERGE)
    gone = reason_becomes("MissingEndpoints")
    assert gone["lastTransitionTime"] >= passed["lastTransitionTime"]
    server.request(
        "PATCH",
        f"{APISERVICES}/{name}",
        {"spec": {"service": {"name": "backend", "namespace": NS, "port": 8443}}},
        MERGE,
    )
    assert reason_becomes("ServicePortError")["status"] == "False"
    server.request("PATCH", f"{APISERVICES}/{name}", {"spec": {"service": None, "insecureSkipTLSVerify": False}}, MERGE)
    assert reason_becomes("Local")["status"] == "True"
