"""roles/cni against kubesim, for the add-ons besides Flannel (issue 14 A3): Calico's manifest (downloaded from a
URL to the controller's cache, its pool set from the one pod subnet and its images moved to a mirror, CRDs
Established, workloads rolled out; idempotent; check mode writes nothing), your own manifest, and `none`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

HTTP_OK = 200
HTTP_CREATED = 201
HTTP_NOT_FOUND = 404
FIXTURE = Path(__file__).resolve().parent / "data" / "calico-v3.30.3-reduced.manifest"
POD_SUBNET = "10.32.0.0/16"
MIRROR = "mirror.example:5000/calico"
CALICO_NODE = "/apis/apps/v1/namespaces/kube-system/daemonsets/calico-node"
CONTROLLERS = "/apis/apps/v1/namespaces/kube-system/deployments/calico-kube-controllers"
CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
APPLY = "kubeforge.cluster.cni : Apply the add-on and wait for its objects"
NODES_READY = "kubeforge.cluster.cni : Wait for every node to be Ready"


@pytest.fixture
def cluster(apiserver_factory):
    """A private server with a Node named like the play's host (localhost), which the role waits to be Ready."""
    server = apiserver_factory()
    node = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": "localhost", "labels": {"kubernetes.io/os": "linux"}},
    }
    status, body = server.request("POST", "/api/v1/nodes", node)
    assert status == HTTP_CREATED, body
    return server


def _run(ansible_playbook, tmp_path, server, role_vars, **options):
    play = {
        "name": "Network add-on",
        "hosts": "localhost",
        "gather_facts": False,
        "vars": {
            "cni_kubeconfig": str(server.kubeconfig),
            "cni_pod_subnet": POD_SUBNET,
            "cni_wait_timeout": 60,
            "cni_manifest_cache_dir": str(tmp_path / "cache"),
            **role_vars,
        },
        "roles": ["kubeforge.cluster.cni"],
    }
    path = tmp_path / "cni.yml"
    path.write_text(yaml.safe_dump([play], sort_keys=False))
    return ansible_playbook(path, groups=["control_plane"], **options)


def _changed(run):
    return json.loads(run.stdout[run.stdout.find("{") :])["stats"]["localhost"]["changed"]


CALICO = {
    "cni_plugin": "calico",
    "cni_calico_manifest_url": FIXTURE.as_uri(),
    "cni_calico_image_registry": MIRROR,
}


def test_calico_applies_with_the_pod_subnet_and_mirror_and_is_idempotent(ansible_playbook, tmp_path, cluster):
    first = _run(ansible_playbook, tmp_path, cluster, CALICO)
    assert first.rc == 0, first.stdout[-3000:]
    assert first.task(APPLY).changed
    status, crds = cluster.request("GET", CRDS)
    assert status == HTTP_OK
    established = {
        c["metadata"]["name"]
        for c in crds["items"]
        if any(x["type"] == "Established" and x["status"] == "True" for x in c["status"]["conditions"])
    }
    assert {"ippools.crd.projectcalico.org", "felixconfigurations.crd.projectcalico.org"} <= established
    _status, node_ds = cluster.request("GET", CALICO_NODE)
    spec = node_ds["spec"]["template"]["spec"]
    env = {e["name"]: e.get("value") for e in spec["containers"][0]["env"]}
    assert env["CALICO_IPV4POOL_CIDR"] == POD_SUBNET
    images = [c["image"] for c in spec["initContainers"] + spec["containers"]]
    assert images == [f"{MIRROR}/cni:v3.30.3", f"{MIRROR}/cni:v3.30.3", f"{MIRROR}/node:v3.30.3"]
    assert node_ds["status"]["numberAvailable"] == 1, "the role returned before calico-node rolled out"
    _status, controllers = cluster.request("GET", CONTROLLERS)
    assert controllers["spec"]["template"]["spec"]["containers"][0]["image"] == f"{MIRROR}/kube-controllers:v3.30.3"
    assert list((tmp_path / "cache").iterdir()), "the manifest was not kept in the cache"

    second = _run(ansible_playbook, tmp_path, cluster, CALICO)
    assert second.rc == 0, second.stdout[-3000:]
    assert _changed(second) == 0


def test_calico_check_mode_writes_nothing(ansible_playbook, tmp_path, cluster):
    run = _run(ansible_playbook, tmp_path, cluster, CALICO, check=True)
    assert run.rc == 0, run.stdout[-3000:]
    assert run.task(APPLY).changed
    assert cluster.request("GET", CALICO_NODE)[0] == HTTP_NOT_FOUND
    assert cluster.request("GET", f"{CRDS}/ippools.crd.projectcalico.org")[0] == HTTP_NOT_FOUND


def test_calico_manifest_of_another_version_is_refused_before_applying(ansible_playbook, tmp_path, cluster):
    run = _run(ansible_playbook, tmp_path, cluster, {**CALICO, "cni_calico_version": "v3.31.0"})
    assert run.rc != 0
    check = run.task("kubeforge.cluster.cni : Check Calico's pool and images")
    assert check.failed
    assert "is not the calico.yaml of Calico v3.31.0" in check.msg
    assert f"{MIRROR}/node:v3.30.3" in check.msg
    assert cluster.request("GET", CALICO_NODE)[0] == HTTP_NOT_FOUND


def test_your_manifest_as_objects(ansible_playbook, tmp_path, cluster):
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "my-cni", "namespace": "kube-system"}}
    config["data"] = {"conf": "{}"}
    run = _run(ansible_playbook, tmp_path, cluster, {"cni_plugin": "manifest", "cni_manifest": [config]})
    assert run.rc == 0, run.stdout[-3000:]
    assert run.task(APPLY).changed
    assert cluster.request("GET", "/api/v1/namespaces/kube-system/configmaps/my-cni")[0] == HTTP_OK


def test_none_applies_nothing_and_does_not_wait_for_nodes(ansible_playbook, tmp_path, cluster):
    run = _run(ansible_playbook, tmp_path, cluster, {"cni_plugin": "none"})
    assert run.rc == 0, run.stdout[-3000:]
    assert _changed(run) == 0
    assert run.task(NODES_READY).result.get("skipped")
    names = [t.name for t in run.tasks]
    assert APPLY not in names
    assert "kubeforge.cluster.cni : Apply Flannel and wait for its pods" in names


def test_manifest_without_one_is_refused(ansible_playbook, tmp_path, cluster):
    run = _run(ansible_playbook, tmp_path, cluster, {"cni_plugin": "manifest"})
    assert run.rc != 0
    assert "cni_manifest: cni_plugin 'manifest' needs your add-on's manifest" in run.stdout
