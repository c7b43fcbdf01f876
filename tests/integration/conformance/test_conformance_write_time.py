"""Conformance of the checks a real API server makes only when it writes (allocation), and of enumerated fields.

Run against kubesim by default and against the cluster of $KUBECONFIG_REAL. The allocator behaviour follows
kubernetes/kubernetes pkg/registry/core/service (see kubesim/allocators.py); the enumerated values follow
pkg/apis/*/validation (see kubesim/enums.py). PodDisruptionBudget.spec.unhealthyPodEvictionPolicy needs
Kubernetes 1.27 or later (an alpha field dropped by older servers).
"""

from __future__ import annotations

import json
import random

import pytest

HTTP_CREATED = 201
HTTP_INVALID = 422
NODE_PORT_RANGE = (30000, 32767)
DRY_RUN_NODE_PORT = 32769  # portallocator/operation.go: the dummy port a dry-run "allocates"
PAUSE = "registry.k8s.io/pause:3.10"
BAD = "Sometimes"


def _pod_spec(**extra):
    return {"containers": [{"name": "main", "image": PAUSE, "ports": [{"containerPort": 80}]}], **extra}


def _pod(name, **spec):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": _pod_spec(**spec)}


def _labels(name):
    return {"app": name}


def _deployment(name, **spec):
    template = {"metadata": {"labels": _labels(name)}, "spec": _pod_spec()}
    body = {"selector": {"matchLabels": _labels(name)}, "template": template, **spec}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name}, "spec": body}


def _service(name, **spec):
    body = {"selector": _labels(name), "ports": [{"port": 80}], **spec}
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}, "spec": body}


def _pdb(name, **spec):
    body = {"selector": {"matchLabels": _labels(name)}, "minAvailable": 1, **spec}
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": name}, "spec": body}


def _statefulset(name, **spec):
    body = _deployment(name, serviceName=name, **spec)
    return dict(body, kind="StatefulSet")


def _daemonset(name, **spec):
    body = _deployment(name, **spec)
    return dict(body, kind="DaemonSet")


def _cronjob(name, **spec):
    template = {"spec": _pod_spec(restartPolicy="Never")}
    body = {"schedule": "*/5 * * * *", "jobTemplate": {"spec": {"template": template}}, **spec}
    return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": name}, "spec": body}


def _set(obj, path, value):
    """obj with ``value`` at the dotted ``path`` (``[n]`` indexes a list)."""
    node = obj
    keys = path.replace("]", "").replace("[", ".").split(".")
    for key in keys[:-1]:
        node = node[int(key)] if key.isdigit() else node.setdefault(key, {})
    last = keys[-1]
    if last.isdigit():
        node[int(last)] = value
    else:
        node[last] = value
    return obj


def _hpa(name, target_type="Utilization"):
    target = {"type": target_type, "averageUtilization": 50}
    body = {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
        "maxReplicas": 3,
        "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": target}}],
    }
    return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": name}, "spec": body}


PULL = ("Always", "IfNotPresent", "Never")
RESTART = ("Always", "OnFailure", "Never")
DNS = ("ClusterFirstWithHostNet", "ClusterFirst", "Default", "None")  # None needs dnsConfig: not accepted here
PROTOCOLS = ("SCTP", "TCP", "UDP")
SERVICE_TYPES = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")  # ExternalName needs externalName
TRAFFIC = ("Cluster", "Local")
IP_FAMILY = ("PreferDualStack", "RequireDualStack", "SingleStack")  # RequireDualStack needs a dual-stack cluster
EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
METRICS = ("ContainerResource", "External", "Object", "Pods", "Resource")  # the others need their own block
TOLERATION = [{"key": "k", "operator": "Exists", "effect": "NoSchedule"}]


def _node(name):
    taints = [{"key": "dedicated", "effect": "NoSchedule"}]
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": f"{name}-node"}, "spec": {"taints": taints}}


# case: (make, field path, supported values in the API's message order, the supported values this case can send)
ENUMS = {
    "imagePullPolicy": (_pod, "spec.containers[0].imagePullPolicy", PULL, PULL),
    "deployment imagePullPolicy": (_deployment, "spec.template.spec.containers[0].imagePullPolicy", PULL, PULL),
    "restartPolicy": (_pod, "spec.restartPolicy", RESTART, RESTART),
    "dnsPolicy": (_pod, "spec.dnsPolicy", DNS, DNS[:3]),
    "container port protocol": (_pod, "spec.containers[0].ports[0].protocol", PROTOCOLS, PROTOCOLS),
    "terminationMessagePolicy": (
        _pod,
        "spec.containers[0].terminationMessagePolicy",
        ("File", "FallbackToLogsOnError"),
        ("File", "FallbackToLogsOnError"),
    ),
    "toleration operator": (
        lambda name: _pod(name, tolerations=TOLERATION),
        "spec.tolerations[0].operator",
        ("Equal", "Exists"),
        ("Exists",),
    ),
    "Service type": (_service, "spec.type", SERVICE_TYPES, ("ClusterIP", "LoadBalancer", "NodePort")),
    "Service port protocol": (_service, "spec.ports[0].protocol", PROTOCOLS, PROTOCOLS),
    "sessionAffinity": (_service, "spec.sessionAffinity", ("ClientIP", "None"), ("ClientIP", "None")),
    "externalTrafficPolicy": (lambda n: _service(n, type="NodePort"), "spec.externalTrafficPolicy", TRAFFIC, TRAFFIC),
    "internalTrafficPolicy": (_service, "spec.internalTrafficPolicy", TRAFFIC, TRAFFIC),
    "ipFamilyPolicy": (_service, "spec.ipFamilyPolicy", IP_FAMILY, ("PreferDualStack", "SingleStack")),
    "Deployment strategy type": (_deployment, "spec.strategy.type", ("Recreate", "RollingUpdate"), None),
    "DaemonSet updateStrategy type": (_daemonset, "spec.updateStrategy.type", ("RollingUpdate", "OnDelete"), None),
    "StatefulSet podManagementPolicy": (_statefulset, "spec.podManagementPolicy", ("OrderedReady", "Parallel"), None),
    "CronJob concurrencyPolicy": (_cronjob, "spec.concurrencyPolicy", ("Allow", "Forbid", "Replace"), None),
    "PDB unhealthyPodEvictionPolicy": (
        _pdb,
        "spec.unhealthyPodEvictionPolicy",
        ("AlwaysAllow", "IfHealthyBudget"),
        ("AlwaysAllow", "IfHealthyBudget"),
    ),
    "Node taint effect": (_node, "spec.taints[0].effect", EFFECTS, EFFECTS),
    "HPA metric type": (_hpa, "spec.metrics[0].type", METRICS, ("Resource",)),
}
_PLURALS = {
    "Pod": "/api/v1/namespaces/{}/pods",
    "Service": "/api/v1/namespaces/{}/services",
    "Deployment": "/apis/apps/v1/namespaces/{}/deployments",
    "DaemonSet": "/apis/apps/v1/namespaces/{}/daemonsets",
    "StatefulSet": "/apis/apps/v1/namespaces/{}/statefulsets",
    "CronJob": "/apis/batch/v1/namespaces/{}/cronjobs",
    "PodDisruptionBudget": "/apis/policy/v1/namespaces/{}/poddisruptionbudgets",
    "HorizontalPodAutoscaler": "/apis/autoscaling/v2/namespaces/{}/horizontalpodautoscalers",
    "Node": "/api/v1/nodes",
}


def _dry_run_create(target, namespace, obj):
    return target.request("POST", _PLURALS[obj["kind"]].format(namespace) + "?dryRun=All", obj)


@pytest.mark.parametrize("case", sorted(ENUMS))
def test_enumerated_field_rejects_unsupported_value(target, target_ns, case):
    make, field, supported, accepted = ENUMS[case]
    status, body = _dry_run_create(target, target_ns, _set(make("enum"), field, BAD))
    assert status == HTTP_INVALID, body
    values = ", ".join(json.dumps(v) for v in supported)
    expected = f'{field}: Unsupported value: "{BAD}": supported values: {values}'
    assert expected in body["message"], body["message"]
    for value in accepted or supported:
        status, body = _dry_run_create(target, target_ns, _set(make("enum"), field, value))
        assert status == HTTP_CREATED, (value, body)


def test_hpa_metric_target_type_is_an_invalid_value(target, target_ns):
    status, body = _dry_run_create(target, target_ns, _hpa("hpa", target_type=BAD))
    assert status == HTTP_INVALID, body
    expected = (
        f'spec.metrics[0].resource.target.type: Invalid value: "{BAD}": '
        "must be either Utilization, Value, or AverageValue"
    )
    assert expected in body["message"], body["message"]


def _services(target, namespace):
    return f"/api/v1/namespaces/{namespace}/services"


def test_node_port_range_is_checked_by_the_write_not_the_dry_run(target, target_ns):
    path = _services(target, target_ns)
    service = _service("np", type="NodePort", ports=[{"port": 80, "nodePort": 80}])
    status, body = target.request("POST", f"{path}?dryRun=All", service)
    assert status == HTTP_CREATED, body
    status, body = target.request("POST", path, service)
    assert status == HTTP_INVALID, body
    expected = (
        "spec.ports[0].nodePort: Invalid value: 80: provided port is not in the valid range. "
        "The range of valid ports is 30000-32767"
    )
    assert expected in body["message"], body["message"]


def test_dry_run_allocates_no_node_port(target, target_ns):
    path = _services(target, target_ns)
    status, body = target.request("POST", f"{path}?dryRun=All", _service("auto", type="NodePort"))
    assert status == HTTP_CREATED, body
    assert body["spec"]["ports"][0]["nodePort"] == DRY_RUN_NODE_PORT


def _create_with_free_node_port(target, path, name):
    for _attempt in range(20):
        port = random.randint(*NODE_PORT_RANGE)
        status, body = target.request(
            "POST", path, _service(name, type="NodePort", ports=[{"port": 80, "nodePort": port}])
        )
        if status == HTTP_CREATED:
            return body
    raise AssertionError("no free node port found")


def test_allocated_node_port_is_refused_by_dry_run_and_write(target, target_ns):
    path = _services(target, target_ns)
    taken = _create_with_free_node_port(target, path, "holder")
    port = taken["spec"]["ports"][0]["nodePort"]
    second = _service("second", type="NodePort", ports=[{"port": 80, "nodePort": port}])
    expected = f"spec.ports[0].nodePort: Invalid value: {port}: provided port is already allocated"
    for query in ("?dryRun=All", ""):
        status, body = target.request("POST", path + query, second)
        assert status == HTTP_INVALID, body
        assert expected in body["message"], body["message"]


def test_allocated_cluster_ip_is_refused_by_the_write_only(target, target_ns):
    path = _services(target, target_ns)
    status, holder = target.request("POST", path, _service("ip-holder"))
    assert status == HTTP_CREATED, holder
    ip = holder["spec"]["clusterIP"]
    second = _service("ip-second", clusterIP=ip)
    status, body = target.request("POST", f"{path}?dryRun=All", second)
    assert status == HTTP_CREATED, body
    status, body = target.request("POST", path, second)
    assert status == HTTP_INVALID, body
    assert f"failed to allocate IP {ip}: provided IP is already allocated" in body["message"], body["message"]
