"""resource_info's logic (module_utils/info.py): several reads in one run (``objects``), checked before any request,
and the result of a missing kubeconfig (``missing_kubeconfig: report``), against a scripted HTTP server."""

from __future__ import annotations

import pytest
from ansible_collections.kubeforge.cluster.plugins.module_utils.args import (
    AUTH_ARG_SPEC,
    WAIT_ARG_SPEC,
    spec_defaults,
)
from ansible_collections.kubeforge.cluster.plugins.module_utils.client import ApiClient
from ansible_collections.kubeforge.cluster.plugins.module_utils.errors import KubeforgeError
from ansible_collections.kubeforge.cluster.plugins.module_utils.info import INFO_ARGS, run_info

CORE = {
    "kind": "APIResourceList",
    "groupVersion": "v1",
    "resources": [
        {"name": "configmaps", "namespaced": True, "kind": "ConfigMap", "verbs": ["get", "list"]},
        {"name": "nodes", "namespaced": False, "kind": "Node", "verbs": ["get", "list"]},
    ],
}
CONFIG = {"metadata": {"name": "kubeadm-config", "namespace": "kube-system", "managedFields": [{"manager": "x"}]}}
NODES = {"kind": "NodeList", "metadata": {}, "items": [{"metadata": {"name": "cp-0"}}, {"metadata": {"name": "w-1"}}]}
NOT_FOUND = {"kind": "Status", "reason": "NotFound", "code": 404, "message": "not found"}


class _Module:
    def __init__(self, **params):
        self.params = dict(spec_defaults(AUTH_ARG_SPEC, WAIT_ARG_SPEC, INFO_ARGS), **params)
        for entry in self.params.get("objects") or []:
            for field in INFO_ARGS["objects"]["options"]:
                entry.setdefault(field, None)
        self.check_mode = False


@pytest.fixture
def cluster(fake_server, tmp_path, monkeypatch):
    monkeypatch.setenv("KUBEFORGE_DISCOVERY_CACHE", str(tmp_path / "discovery"))
    paths = {
        "/api/v1": CORE,
        "/api/v1/namespaces/kube-system/configmaps/kubeadm-config": CONFIG,
        "/api/v1/nodes?limit=500": NODES,
    }

    def handler(method, path, headers, body):
        return (200, {}, paths[path]) if path in paths else (404, {}, NOT_FOUND)

    server = fake_server(handler)
    client = ApiClient.from_params({"host": server.url})
    yield server, client
    client.close()


def _reads(server):
    return [path for _method, path, *_rest in server.requests if path != "/api/v1"]


def test_objects_read_in_one_run_one_result_per_entry_in_order(cluster):
    server, client = cluster
    objects = [
        {"kind": "ConfigMap", "namespace": "kube-system", "name": "kubeadm-config"},
        {"kind": "Node"},
        {"kind": "ConfigMap", "name": "absent"},
    ]
    result = run_info(_Module(objects=objects, namespace="kube-system"), client)

    assert [entry["object"]["name"] for entry in result["objects"]] == ["kubeadm-config", None, "absent"]
    assert result["objects"][0]["object"]["api_version"] == "v1"  # from the api_version option's default
    assert result["objects"][2]["object"]["namespace"] == "kube-system"  # from the namespace option
    config, nodes, absent = (entry["resources"] for entry in result["objects"])
    assert [(c["kind"], c["apiVersion"]) for c in config] == [("ConfigMap", "v1")]
    assert "managedFields" not in config[0]["metadata"]
    assert [n["metadata"]["name"] for n in nodes] == ["cp-0", "w-1"]
    assert absent == []
    assert "resources" not in result
    assert sorted(_reads(server)) == sorted(
        [
            "/api/v1/namespaces/kube-system/configmaps/kubeadm-config",
            "/api/v1/nodes?limit=500",
            "/api/v1/namespaces/kube-system/configmaps/absent",
        ]
    )
    assert "kubeconfig_found" not in result


@pytest.mark.parametrize(
    ("objects", "message"),
    [
        ([{"kind": "Node"}, {"name": "coredns"}], "objects[1] {'name': 'coredns'}: kind is required; nothing was read"),
        ([{"kind": ""}], "objects[0] {'kind': ''}: kind is empty; nothing was read"),
        ([{"kind": "Node", "namespace": ""}], "objects[0] {'kind': 'Node', 'namespace': ''}: namespace is empty"),
    ],
)
def test_a_bad_entry_is_refused_before_any_request(cluster, objects, message):
    server, client = cluster
    with pytest.raises(KubeforgeError) as error:
        run_info(_Module(objects=objects), client)

    assert str(error.value).startswith(message)
    assert server.requests == []


@pytest.mark.parametrize(
    ("option", "value"),
    [("wait", True), ("all_namespaces", True), ("label_selectors", ["a=b"]), ("field_selectors", ["x=y"])],
)
def test_options_of_a_single_read_are_refused_with_objects(cluster, option, value):
    server, client = cluster
    with pytest.raises(KubeforgeError, match=f"objects cannot be combined with {option}"):
        run_info(_Module(objects=[{"kind": "Node"}], **{option: value}), client)
    assert server.requests == []


def test_an_unknown_kind_fails_naming_the_entry_before_any_object_is_read(cluster):
    server, client = cluster
    with pytest.raises(KubeforgeError, match=r"^objects\[1\]: kind Pod is not served in apiVersion v1"):
        run_info(_Module(objects=[{"kind": "Node"}, {"kind": "Pod"}]), client)
    assert _reads(server) == []


def test_no_client_means_no_kubeconfig_was_found_nothing_read(cluster):
    server, _client = cluster
    result = run_info(_Module(objects=[{"kind": "Node"}], missing_kubeconfig="report"), None)

    assert result == {
        "changed": False,
        "kubeconfig_found": False,
        "api_found": False,
        "objects": [
            {
                "object": {"api_version": "v1", "kind": "Node", "namespace": None, "name": None},
                "resources": [],
                "api_found": False,
            }
        ],
    }
    assert server.requests == []


def test_a_single_read_is_unchanged_and_says_the_kubeconfig_was_found_when_asked(cluster):
    _server, client = cluster
    single = run_info(_Module(kind="Node"), client)
    asked = run_info(_Module(kind="Node", missing_kubeconfig="report"), client)

    assert single == {"changed": False, "resources": single["resources"], "api_found": True}
    assert [n["metadata"]["name"] for n in single["resources"]] == ["cp-0", "w-1"]
    assert asked == dict(single, kubeconfig_found=True)
