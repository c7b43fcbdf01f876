"""The client layer's one-per-job helpers: path builder, default namespace, GET-or-None, object references."""

from __future__ import annotations

import types

import pytest
from ansible_collections.kubeforge.cluster.plugins.module_utils.client import (
    api_path,
    default_namespace,
    get_object,
    get_or_none,
    resource_path,
)
from ansible_collections.kubeforge.cluster.plugins.module_utils.discovery import Resource
from ansible_collections.kubeforge.cluster.plugins.module_utils.errors import (
    HTTP_FORBIDDEN,
    HTTP_NOT_FOUND,
    KubeforgeError,
    object_ref,
)

DEPLOYMENTS = Resource("apps", "v1", {"kind": "Deployment", "name": "deployments", "namespaced": True}, ["scale"])
NODES = Resource("", "v1", {"kind": "Node", "name": "nodes", "namespaced": False}, [])


class _Client:
    """Answers GETs from ``objects`` (path -> object or the KubeforgeError to raise); records the calls."""

    def __init__(self, objects=None, namespace=None):
        self.objects = objects or {}
        self.settings = types.SimpleNamespace(namespace=namespace)
        self.calls = []

    def request(self, method, path, **options):
        self.calls.append((method, path, options))
        answer = self.objects.get(path, KubeforgeError("not found", status=HTTP_NOT_FOUND))
        if isinstance(answer, KubeforgeError):
            raise answer
        return answer


def test_api_path_core_group_collections_objects_and_subresources():
    assert api_path("v1", "nodes") == "/api/v1/nodes"
    assert api_path("v1", "nodes", name="n1") == "/api/v1/nodes/n1"
    assert api_path("v1", "secrets", "kube-system", "s") == "/api/v1/namespaces/kube-system/secrets/s"
    assert api_path("apps/v1", "deployments", "ns") == "/apis/apps/v1/namespaces/ns/deployments"
    assert api_path("v1", "pods", "ns", "p", "eviction") == "/api/v1/namespaces/ns/pods/p/eviction"
    # a subresource needs an object
    assert api_path("v1", "pods", "ns", None, "eviction") == "/api/v1/namespaces/ns/pods"


def test_api_path_quotes_namespace_and_name():
    assert api_path("v1", "configmaps", "a/b", "c d?") == "/api/v1/namespaces/a%2Fb/configmaps/c%20d%3F"


def test_resource_path_drops_the_namespace_of_cluster_scoped_resources():
    assert resource_path(DEPLOYMENTS, "web", "ns", "scale") == "/apis/apps/v1/namespaces/ns/deployments/web/scale"
    assert resource_path(NODES, "n1", "ns") == "/api/v1/nodes/n1"


def test_default_namespace_option_then_kubeconfig_context_then_default():
    assert default_namespace(_Client(namespace="ctx"), "opt") == "opt"
    assert default_namespace(_Client(namespace="ctx"), None) == "ctx"
    assert default_namespace(_Client(), "") == "default"
    assert default_namespace(types.SimpleNamespace(settings=object())) == "default"


def test_get_or_none_returns_the_object_or_none_on_404_and_passes_options():
    client = _Client({"/api/v1/nodes/n1": {"kind": "Node"}})
    assert get_or_none(client, "/api/v1/nodes/n1", retry=False) == {"kind": "Node"}
    assert get_or_none(client, "/api/v1/nodes/n2") is None
    assert client.calls == [("GET", "/api/v1/nodes/n1", {"retry": False}), ("GET", "/api/v1/nodes/n2", {})]


def test_get_or_none_raises_other_errors():
    client = _Client({"/api/v1/nodes/n1": KubeforgeError("forbidden", status=HTTP_FORBIDDEN)})
    with pytest.raises(KubeforgeError) as caught:
        get_or_none(client, "/api/v1/nodes/n1")
    assert caught.value.status == HTTP_FORBIDDEN


def test_get_object_names_the_missing_object():
    client = _Client({"/apis/apps/v1/namespaces/ns/deployments/web": {"kind": "Deployment"}})
    assert get_object(client, DEPLOYMENTS, "web", "ns") == {"kind": "Deployment"}
    with pytest.raises(KubeforgeError) as caught:
        get_object(client, DEPLOYMENTS, "gone", "ns")
    assert caught.value.status == HTTP_NOT_FOUND
    assert str(caught.value) == "Deployment/ns/gone: not found (name)"
    with pytest.raises(KubeforgeError, match=r"^Node/n9: not found"):
        get_object(client, NODES, "n9", "ns")


def test_object_ref_forms():
    assert object_ref("Deployment", "ns", "web") == "Deployment/ns/web"
    assert object_ref("Node", None, "n1") == "Node/n1"
    assert object_ref(None, "ns", "pod-1") == "ns/pod-1"
