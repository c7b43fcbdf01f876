# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Manifests for the declarative versions of kubectl's imperative verbs (create secret, expose, autoscale, run).

Each builder returns plain objects that go through the one apply path (apply.apply_manifests).
"""

from __future__ import annotations

import base64
import os
from typing import TYPE_CHECKING

from ansible_collections.kubeforge.cluster.plugins.module_utils.client import get_object
from ansible_collections.kubeforge.cluster.plugins.module_utils.discovery import Discovery
from ansible_collections.kubeforge.cluster.plugins.module_utils.errors import KubeforgeError

if TYPE_CHECKING:
    from ansible_collections.kubeforge.cluster.plugins.module_utils.client import ApiClient
    from ansible_collections.kubeforge.cluster.plugins.module_utils.discovery import Resource


def _metadata(name, namespace, labels=None, annotations=None):
    meta = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    if labels:
        meta["labels"] = dict(labels)
    if annotations:
        meta["annotations"] = dict(annotations)
    return meta


def secret_manifest(params: dict) -> dict:
    """Secret from ``literals`` (key -> value) and ``from_file`` (``path`` or ``key=path``) like
    ``kubectl create secret generic --from-literal/--from-file``."""
    data = {}
    for key, value in (params.get("literals") or {}).items():
        data[str(key)] = base64.b64encode(str(value).encode()).decode()
    for entry in params.get("from_file") or []:
        key, sep, path = str(entry).partition("=")
        if not sep:
            key, path = os.path.basename(entry), entry
        if key in data:
            raise KubeforgeError(f"key {key!r} is given twice (literals and from_file)")
        try:
            with open(os.path.expanduser(path), "rb") as handle:
                data[key] = base64.b64encode(handle.read()).decode()
        except OSError as exc:
            raise KubeforgeError(f"from_file {path}: {exc.strerror}") from exc
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": _metadata(params["name"], params.get("namespace"), params.get("labels"), params.get("annotations")),
        "type": params.get("type") or "Opaque",
        "data": data,
    }


def read_workload(client: ApiClient, params: dict, namespace: str | None) -> tuple:
    """The live object ``api_version``/``kind``/``name`` refers to (fails clearly when it does not exist)."""
    resource = Discovery(client).resolve(params["api_version"], params["kind"])
    return resource, get_object(client, resource, params["name"], namespace)


def pod_selector(workload: dict) -> dict:
    """Label selector (a plain dict) of the pods a workload manages; a Pod's own labels."""
    kind = workload.get("kind")
    spec = workload.get("spec") or {}
    if kind == "Pod":
        selector = (workload.get("metadata") or {}).get("labels")
    elif kind == "ReplicationController":
        selector = spec.get("selector") or ((spec.get("template") or {}).get("metadata") or {}).get("labels")
    else:
        selector = (spec.get("selector") or {}).get("matchLabels")
        if (spec.get("selector") or {}).get("matchExpressions"):
            raise KubeforgeError(f"{kind} uses matchExpressions, which a Service selector cannot express; set selector")
    if not selector:
        raise KubeforgeError(f"{kind} has no labels to select its pods; set selector")
    return dict(selector)


def _container_ports(workload):
    spec = workload.get("spec") or {}
    pod_spec = spec if workload.get("kind") == "Pod" else (spec.get("template") or {}).get("spec") or {}
    return [p for c in pod_spec.get("containers") or [] for p in c.get("ports") or []]


def service_manifest(params: dict, workload: dict, namespace: str | None) -> dict:
    """Service exposing a workload, like ``kubectl expose``: its selector, its first container port by default."""
    port = params.get("port")
    protocol = params.get("protocol") or "TCP"
    if port is None:
        ports = _container_ports(workload)
        if not ports:
            raise KubeforgeError(f"{workload.get('kind')} {params['name']} declares no container port; set port")
        port = ports[0]["containerPort"]
        protocol = params.get("protocol") or ports[0].get("protocol") or "TCP"
    service_port = {"name": params.get("port_name") or "default", "port": port, "protocol": protocol}
    if params.get("target_port") is not None:
        target = params["target_port"]
        service_port["targetPort"] = int(target) if str(target).isdigit() else target
    else:
        service_port["targetPort"] = port
    if params.get("node_port"):
        service_port["nodePort"] = params["node_port"]
    spec = {
        "type": params.get("type") or "ClusterIP",
        "selector": params.get("selector") or pod_selector(workload),
        "ports": [service_port],
    }
    labels = params.get("labels") or (workload.get("metadata") or {}).get("labels")
    name = params.get("service_name") or params["name"]
    return {"apiVersion": "v1", "kind": "Service", "metadata": _metadata(name, namespace, labels), "spec": spec}


def hpa_manifest(params: dict, resource: Resource, namespace: str | None) -> dict:
    """autoscaling/v2 HorizontalPodAutoscaler for a scalable workload, like ``kubectl autoscale``."""
    if "scale" not in resource.subresources:
        raise KubeforgeError(f"{resource.kind} has no scale subresource and cannot be autoscaled (kind)")
    if params.get("min_replicas") and params["min_replicas"] > params["max_replicas"]:
        raise KubeforgeError("min_replicas must not be greater than max_replicas")
    spec = {
        "scaleTargetRef": {"apiVersion": resource.api_version, "kind": resource.kind, "name": params["name"]},
        "maxReplicas": params["max_replicas"],
    }
    if params.get("min_replicas"):
        spec["minReplicas"] = params["min_replicas"]
    if params.get("cpu_percent"):
        spec["metrics"] = [
            {
                "type": "Resource",
                "resource": {
                    "name": "cpu",
                    "target": {"type": "Utilization", "averageUtilization": params["cpu_percent"]},
                },
            }
        ]
    name = params.get("hpa_name") or params["name"]
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": _metadata(name, namespace, params.get("labels")),
        "spec": spec,
    }


def _container(params):
    container = {"name": params.get("container_name") or params["name"], "image": params["image"]}
    if params.get("image_pull_policy"):
        container["imagePullPolicy"] = params["image_pull_policy"]
    if params.get("port"):
        container["ports"] = [{"containerPort": params["port"]}]
    if params.get("env"):
        container["env"] = [{"name": str(k), "value": str(v)} for k, v in params["env"].items()]
    if params.get("command"):
        container["command"] = list(params["command"])
    if params.get("args"):
        container["args"] = list(params["args"])
    return container


def run_manifest(params: dict, namespace: str | None) -> dict:
    """A Pod (default) or a Deployment running one image, like ``kubectl run``."""
    labels = params.get("labels") or {"run": params["name"]}
    pod_spec = {"containers": [_container(params)]}
    if params["kind"] == "Pod":
        pod_spec["restartPolicy"] = params.get("restart_policy") or "Always"
        return {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": _metadata(params["name"], namespace, labels),
            "spec": pod_spec,
        }
    if params.get("restart_policy") not in (None, "Always"):
        raise KubeforgeError("a Deployment's pods always restart: restart_policy must be Always with kind=Deployment")
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _metadata(params["name"], namespace, labels),
        "spec": {
            "replicas": params.get("replicas") or 1,
            "selector": {"matchLabels": dict(labels)},
            "template": {"metadata": {"labels": dict(labels)}, "spec": pod_spec},
        },
    }
