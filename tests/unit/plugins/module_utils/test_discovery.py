"""Discovery: resolution by kind/plural/short name, the on-disk cache, refresh on a missing kind, removed APIs."""

from __future__ import annotations

import pytest
from ansible_collections.kubeforge.cluster.plugins.module_utils.client import ApiClient, resource_path
from ansible_collections.kubeforge.cluster.plugins.module_utils.discovery import Discovery
from ansible_collections.kubeforge.cluster.plugins.module_utils.errors import KubeforgeError

APPS = {
    "kind": "APIResourceList",
    "groupVersion": "apps/v1",
    "resources": [
        {
            "name": "deployments",
            "singularName": "deployment",
            "namespaced": True,
            "kind": "Deployment",
            "verbs": ["get", "patch"],
            "shortNames": ["deploy"],
        },
        {"name": "deployments/scale", "namespaced": True, "kind": "Scale", "verbs": ["get", "patch"]},
        {"name": "deployments/status", "namespaced": True, "kind": "Deployment", "verbs": ["get"]},
    ],
}
CORE = {
    "kind": "APIResourceList",
    "groupVersion": "v1",
    "resources": [
        {"name": "namespaces", "singularName": "namespace", "namespaced": False, "kind": "Namespace", "verbs": ["get"]},
    ],
}


def _server(fake_server, tables):
    def handler(method, path, headers, body):
        if path in tables:
            return 200, {}, tables[path]
        return (
            404,
            {},
            {
                "kind": "Status",
                "reason": "NotFound",
                "code": 404,
                "message": "the server could not find the requested resource",
            },
        )

    return fake_server(handler)


def test_resolve_kind_plural_and_short_name(fake_server, tmp_path):
    server = _server(fake_server, {"/apis/apps/v1": APPS, "/api/v1": CORE})
    discovery = Discovery(ApiClient.from_params({"host": server.url}), cache_dir=str(tmp_path))
    deploy = discovery.resolve("apps/v1", "Deployment")
    assert (deploy.plural, deploy.namespaced, deploy.group_kind) == ("deployments", True, "Deployment.apps")
    assert deploy.subresources == {"scale", "status"}
    assert discovery.resolve("apps/v1", "deploy") is deploy
    namespace = discovery.resolve("v1", "Namespace")
    assert resource_path(namespace, "web") == "/api/v1/namespaces/web"
    assert (
        resource_path(deploy, "hello-deploy", "web", "scale")
        == "/apis/apps/v1/namespaces/web/deployments/hello-deploy/scale"
    )


def test_cache_on_disk_serves_a_new_process(fake_server, tmp_path):
    server = _server(fake_server, {"/apis/apps/v1": APPS})
    client = ApiClient.from_params({"host": server.url})
    Discovery(client, cache_dir=str(tmp_path)).resolve("apps/v1", "Deployment")
    assert len(server.requests) == 1
    assert list(tmp_path.rglob("apps/v1.json"))
    Discovery(client, cache_dir=str(tmp_path)).resolve("apps/v1", "Deployment")
    assert len(server.requests) == 1, "the second resolution must come from the disk cache"


def test_missing_kind_refreshes_the_cache(fake_server, tmp_path):
    tables = {"/apis/apps/v1": {"resources": []}}
    server = _server(fake_server, tables)
    client = ApiClient.from_params({"host": server.url})
    with pytest.raises(KubeforgeError, match="kind Deployment is not served in apiVersion apps/v1"):
        Discovery(client, cache_dir=str(tmp_path)).resolve("apps/v1", "Deployment")
    tables["/apis/apps/v1"] = APPS  # e.g. a CRD got installed meanwhile
    assert Discovery(client, cache_dir=str(tmp_path)).resolve("apps/v1", "Deployment").plural == "deployments"


def test_removed_api_version_names_its_replacement(fake_server, tmp_path):
    server = _server(fake_server, {"/apis/apps/v1": APPS})
    discovery = Discovery(ApiClient.from_params({"host": server.url}), cache_dir=str(tmp_path))
    with pytest.raises(KubeforgeError) as caught:
        discovery.resolve("extensions/v1beta1", "Deployment")
    message = str(caught.value)
    assert "apiVersion extensions/v1beta1 is not served" in message
    assert "apps/v1 replaces it: set apiVersion: apps/v1" in message
