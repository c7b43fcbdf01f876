# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Logic of the thin modules secret, expose, autoscale and run: build a manifest, apply it like resource does."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ansible_collections.kubeforge.cluster.plugins.module_utils import builders
from ansible_collections.kubeforge.cluster.plugins.module_utils.apply import apply_manifests
from ansible_collections.kubeforge.cluster.plugins.module_utils.args import BATCH_ARG_SPEC, TARGET_ARG_SPEC
from ansible_collections.kubeforge.cluster.plugins.module_utils.client import default_namespace

if TYPE_CHECKING:
    from ansible_collections.kubeforge.cluster.plugins.module_utils.client import ApiClient

STATE_ARG = {"state": BATCH_ARG_SPEC["state"]}
TARGET_ARGS = TARGET_ARG_SPEC

SECRET_ARGS = {
    "name": {"type": "str", "required": True},
    "type": {"type": "str", "default": "Opaque"},
    "literals": {"type": "dict", "no_log": True},
    "from_file": {"type": "list", "elements": "path"},
    "labels": {"type": "dict"},
    "annotations": {"type": "dict"},
}

EXPOSE_ARGS = {
    "service_name": {"type": "str"},
    "type": {"type": "str", "default": "ClusterIP", "choices": ["ClusterIP", "NodePort", "LoadBalancer"]},
    "port": {"type": "int"},
    "port_name": {"type": "str"},
    "target_port": {"type": "raw"},
    "node_port": {"type": "int"},
    "protocol": {"type": "str", "choices": ["TCP", "UDP", "SCTP"]},
    "selector": {"type": "dict"},
    "labels": {"type": "dict"},
}

AUTOSCALE_ARGS = {
    "hpa_name": {"type": "str"},
    "min_replicas": {"type": "int"},
    "max_replicas": {"type": "int", "required": True},
    "cpu_percent": {"type": "int"},
    "labels": {"type": "dict"},
}

RUN_ARGS = {
    "name": {"type": "str", "required": True},
    "image": {"type": "str"},
    "kind": {"type": "str", "default": "Pod", "choices": ["Pod", "Deployment"]},
    "replicas": {"type": "int"},
    "labels": {"type": "dict"},
    "port": {"type": "int"},
    "env": {"type": "dict"},
    "command": {"type": "list", "elements": "str"},
    "args": {"type": "list", "elements": "str"},
    "container_name": {"type": "str"},
    "image_pull_policy": {"type": "str", "choices": ["Always", "IfNotPresent", "Never"]},
    "restart_policy": {"type": "str", "choices": ["Always", "OnFailure", "Never"]},
}


def _absent(module, client, api_version, kind, name):
    manifest = {"apiVersion": api_version, "kind": kind, "metadata": {"name": name}}
    return apply_manifests(module, client, [manifest])


def run_secret(module: Any, client: ApiClient) -> dict:
    params = module.params
    if params["state"] == "absent":
        return _absent(module, client, "v1", "Secret", params["name"])
    return apply_manifests(module, client, [builders.secret_manifest(params)])


def run_expose(module: Any, client: ApiClient) -> dict:
    params = module.params
    namespace = default_namespace(client, module.params.get("namespace"))
    name = params.get("service_name") or params["name"]
    if params["state"] == "absent":
        return _absent(module, client, "v1", "Service", name)
    _resource, workload = builders.read_workload(client, params, namespace)
    return apply_manifests(module, client, [builders.service_manifest(params, workload, namespace)])


def run_autoscale(module: Any, client: ApiClient) -> dict:
    params = module.params
    namespace = default_namespace(client, module.params.get("namespace"))
    if params["state"] == "absent":
        return _absent(
            module, client, "autoscaling/v2", "HorizontalPodAutoscaler", params.get("hpa_name") or params["name"]
        )
    resource, _workload = builders.read_workload(client, params, namespace)
    return apply_manifests(module, client, [builders.hpa_manifest(params, resource, namespace)])


def run_run(module: Any, client: ApiClient) -> dict:
    params = module.params
    namespace = default_namespace(client, module.params.get("namespace"))
    if params["state"] == "absent":
        api_version = "v1" if params["kind"] == "Pod" else "apps/v1"
        return _absent(module, client, api_version, params["kind"], params["name"])
    return apply_manifests(module, client, [builders.run_manifest(params, namespace)])
