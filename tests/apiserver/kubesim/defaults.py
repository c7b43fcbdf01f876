"""Defaulting as kube-apiserver does it for the kinds the tests use."""

from __future__ import annotations

import base64
import json

from .quantity import quantity_value

_TCP = "TCP"


def _image_pull_policy(image):
    tail = (image or "").rsplit("/", 1)[-1]
    if "@" in tail:
        return "IfNotPresent"
    if ":" not in tail or tail.rsplit(":", 1)[1] == "latest":
        return "Always"
    return "IfNotPresent"


def _ports(ports):
    for port in ports or []:
        port.setdefault("protocol", _TCP)


def container(ctr):
    if "image" in ctr:
        ctr.setdefault("imagePullPolicy", _image_pull_policy(ctr["image"]))
    ctr.setdefault("terminationMessagePath", "/dev/termination-log")
    ctr.setdefault("terminationMessagePolicy", "File")
    ctr.setdefault("resources", {})
    _ports(ctr.get("ports"))
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        if isinstance(ctr.get(probe), dict):
            _probe(ctr[probe])


def _probe(probe):
    for key, value in (("timeoutSeconds", 1), ("periodSeconds", 10), ("successThreshold", 1), ("failureThreshold", 3)):
        probe.setdefault(key, value)
    for action in ("httpGet", "tcpSocket"):
        if isinstance(probe.get(action), dict) and action == "httpGet":
            probe[action].setdefault("scheme", "HTTP")
            probe[action].setdefault("path", "/")


def pod_spec(spec):
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("enableServiceLinks", True)
    for key in ("containers", "initContainers"):
        for ctr in spec.get(key) or []:
            if isinstance(ctr, dict):
                container(ctr)
    for toleration in spec.get("tolerations") or []:
        if isinstance(toleration, dict) and toleration.get("operator") is None and "key" in toleration:
            toleration["operator"] = "Equal"


def template(spec):
    tpl = spec.get("template")
    if isinstance(tpl, dict):
        tpl.setdefault("metadata", {})
        if isinstance(tpl.get("spec"), dict):
            pod_spec(tpl["spec"])


def _qos(spec):
    limits, requests = [], []
    for ctr in spec.get("containers") or []:
        res = ctr.get("resources") or {}
        limits.append(res.get("limits") or {})
        requests.append(res.get("requests") or {})
    if not any(limits) and not any(requests):
        return "BestEffort"
    guaranteed = all(
        lim.get(r) and (req.get(r) is None or quantity_value(req[r]) == quantity_value(lim[r]))
        for lim, req in zip(limits, requests)
        for r in ("cpu", "memory")
    )
    return "Guaranteed" if guaranteed else "Burstable"


def pod(obj):
    spec = obj.setdefault("spec", {})
    pod_spec(spec)
    spec.setdefault("serviceAccountName", "default")
    spec.setdefault("serviceAccount", spec["serviceAccountName"])
    spec.setdefault("priority", 0)
    spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
    tolerations = spec.setdefault("tolerations", [])
    for key in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"):
        if not any(t.get("key") == key for t in tolerations if isinstance(t, dict)):
            tolerations.append({"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300})
    status = obj.setdefault("status", {})
    status.setdefault("phase", "Pending")
    status.setdefault("qosClass", _qos(spec))


def _rolling(spec, key):
    strategy = spec.setdefault(key, {})
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        rolling = strategy.setdefault("rollingUpdate", {})
        return rolling
    return None


def deployment(obj):
    spec = obj.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    rolling = _rolling(spec, "strategy")
    if rolling is not None:
        rolling.setdefault("maxUnavailable", "25%")
        rolling.setdefault("maxSurge", "25%")
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    template(spec)


def replicaset(obj):
    spec = obj.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    template(spec)


def replicationcontroller(obj):
    spec = obj.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels")
    if labels and not spec.get("selector"):
        spec["selector"] = dict(labels)
    if labels and not obj["metadata"].get("labels"):
        obj["metadata"]["labels"] = dict(labels)
    template(spec)


def daemonset(obj):
    spec = obj.setdefault("spec", {})
    rolling = _rolling(spec, "updateStrategy")
    if rolling is not None:
        rolling.setdefault("maxUnavailable", 1)
        rolling.setdefault("maxSurge", 0)
    spec.setdefault("revisionHistoryLimit", 10)
    template(spec)


def statefulset(obj):
    spec = obj.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    spec.setdefault("podManagementPolicy", "OrderedReady")
    rolling = _rolling(spec, "updateStrategy")
    if rolling is not None:
        rolling.setdefault("partition", 0)
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("persistentVolumeClaimRetentionPolicy", {"whenDeleted": "Retain", "whenScaled": "Retain"})
    template(spec)


def job(obj):
    spec = obj.setdefault("spec", {})
    spec.setdefault("parallelism", 1)
    spec.setdefault("completions", 1)
    spec.setdefault("backoffLimit", 6)
    spec.setdefault("completionMode", "NonIndexed")
    spec.setdefault("suspend", False)
    spec.setdefault("podReplacementPolicy", "TerminatingOrFailed")
    uid = obj["metadata"].get("uid", "")
    spec.setdefault("selector", {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}})
    tpl = spec.setdefault("template", {})
    labels = tpl.setdefault("metadata", {}).setdefault("labels", {})
    labels.setdefault("batch.kubernetes.io/controller-uid", uid)
    labels.setdefault("batch.kubernetes.io/job-name", obj["metadata"]["name"])
    labels.setdefault("controller-uid", uid)
    labels.setdefault("job-name", obj["metadata"]["name"])
    template(spec)


def cronjob(obj):
    spec = obj.setdefault("spec", {})
    spec.setdefault("concurrencyPolicy", "Allow")
    spec.setdefault("suspend", False)
    spec.setdefault("successfulJobsHistoryLimit", 3)
    spec.setdefault("failedJobsHistoryLimit", 1)
    job_spec = spec.setdefault("jobTemplate", {}).setdefault("spec", {})
    template(job_spec)


def service(obj, allocator):
    spec = obj.setdefault("spec", {})
    spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    if spec["type"] != "ExternalName":
        spec.setdefault("internalTrafficPolicy", "Cluster")
        spec.setdefault("ipFamilies", ["IPv4"])
        spec.setdefault("ipFamilyPolicy", "SingleStack")
        if not spec.get("clusterIP"):
            spec["clusterIP"] = allocator.cluster_ip()
        spec.setdefault("clusterIPs", [spec["clusterIP"]])
    if spec["type"] in ("NodePort", "LoadBalancer"):
        spec.setdefault("externalTrafficPolicy", "Cluster")
    if spec["type"] == "LoadBalancer":
        spec.setdefault("allocateLoadBalancerNodePorts", True)
    for port in spec.get("ports") or []:
        if not isinstance(port, dict):
            continue
        port.setdefault("protocol", _TCP)
        if "port" in port:
            port.setdefault("targetPort", port["port"])
    obj.setdefault("status", {}).setdefault("loadBalancer", {})


def namespace(obj):
    obj["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = obj["metadata"]["name"]
    obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
    obj.setdefault("status", {}).setdefault("phase", "Active")


def secret(obj):
    """stringData is write-only: merged into data (base64) as the API server's conversion does."""
    obj.setdefault("type", "Opaque")
    strings = obj.pop("stringData", None) or {}
    if strings:
        data = obj.setdefault("data", {})
        for key, value in strings.items():
            data[key] = base64.b64encode(str(value).encode()).decode()


def hpa(obj):
    spec = obj.setdefault("spec", {})
    spec.setdefault("minReplicas", 1)
    if not spec.get("metrics"):
        spec["metrics"] = [
            {
                "type": "Resource",
                "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}},
            }
        ]
    behavior = spec.setdefault("behavior", {})
    up = behavior.setdefault("scaleUp", {})
    up.setdefault("stabilizationWindowSeconds", 0)
    up.setdefault("selectPolicy", "Max")
    up.setdefault(
        "policies",
        [{"type": "Pods", "value": 4, "periodSeconds": 15}, {"type": "Percent", "value": 100, "periodSeconds": 15}],
    )
    down = behavior.setdefault("scaleDown", {})
    down.setdefault("selectPolicy", "Max")
    down.setdefault("policies", [{"type": "Percent", "value": 100, "periodSeconds": 15}])


def node(obj):
    obj.setdefault("spec", {})


APISERVICE_PORT = 443
# The condition a local APIService (spec.service unset: served by kube-apiserver itself) carries.
LOCAL_AVAILABLE = ("Available", "True", "Local", "Local APIServices are always available")


def apiservice(obj):
    service = (obj.get("spec") or {}).get("service")
    if isinstance(service, dict):
        service.setdefault("port", APISERVICE_PORT)


def on_create(obj, now):
    """What registry strategies set on a new object besides defaults: a local APIService is Available at once
    (a remote one gets its conditions from the availability controller)."""
    if obj.get("kind") == "APIService" and not (obj.get("spec") or {}).get("service"):
        ctype, status, reason, message = LOCAL_AVAILABLE
        condition = {"type": ctype, "status": status, "lastTransitionTime": now, "reason": reason, "message": message}
        obj["status"] = {"conditions": [condition]}


BY_KIND = {
    "Pod": pod,
    "Deployment": deployment,
    "ReplicaSet": replicaset,
    "ReplicationController": replicationcontroller,
    "DaemonSet": daemonset,
    "StatefulSet": statefulset,
    "Job": job,
    "CronJob": cronjob,
    "Namespace": namespace,
    "Secret": secret,
    "HorizontalPodAutoscaler": hpa,
    "Node": node,
    "APIService": apiservice,
    "PodTemplate": lambda o: pod_spec(o.setdefault("template", {}).setdefault("spec", {})),
}


def apply_defaults(obj, allocator):
    kind = obj.get("kind")
    if kind == "Service":
        service(obj, allocator)
    elif kind in BY_KIND:
        BY_KIND[kind](obj)


# ---- HorizontalPodAutoscaler autoscaling/v1 <-> autoscaling/v2 -------------------------------------

_CONDITIONS_ANNOTATION = "autoscaling.alpha.kubernetes.io/conditions"


def hpa_from_v1(obj):
    out = json.loads(json.dumps(obj))
    out["apiVersion"] = "autoscaling/v2"
    spec = out.setdefault("spec", {})
    target = spec.pop("targetCPUUtilizationPercentage", None)
    if target is not None:
        spec["metrics"] = [
            {
                "type": "Resource",
                "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": target}},
            }
        ]
    status = out.get("status")
    if isinstance(status, dict):
        current = status.pop("currentCPUUtilizationPercentage", None)
        if current is not None:
            status["currentMetrics"] = [
                {"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": current}}}
            ]
    annotations = out.get("metadata", {}).get("annotations") or {}
    annotations.pop(_CONDITIONS_ANNOTATION, None)
    return out


def hpa_to_v1(obj):
    out = json.loads(json.dumps(obj))
    out["apiVersion"] = "autoscaling/v1"
    spec = out.setdefault("spec", {})
    metrics = spec.pop("metrics", None) or []
    spec.pop("behavior", None)
    for metric in metrics:
        target = (metric.get("resource") or {}).get("target") or {}
        if (
            metric.get("type") == "Resource"
            and metric["resource"].get("name") == "cpu"
            and target.get("averageUtilization") is not None
        ):
            spec["targetCPUUtilizationPercentage"] = target["averageUtilization"]
    status = out.setdefault("status", {})
    conditions = status.pop("conditions", None)
    for metric in status.pop("currentMetrics", None) or []:
        current = (metric.get("resource") or {}).get("current") or {}
        if current.get("averageUtilization") is not None:
            status["currentCPUUtilizationPercentage"] = current["averageUtilization"]
    status.setdefault("currentReplicas", 0)
    status.setdefault("desiredReplicas", 0)
    if conditions:
        out["metadata"].setdefault("annotations", {})[_CONDITIONS_ANNOTATION] = json.dumps(conditions)
    return out
