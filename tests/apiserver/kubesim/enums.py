"""Enumerated fields checked as kube-apiserver's validation does, for the kinds the modules and examples write.

The OpenAPI schema (schema.py) carries no ``enum`` for these fields, so the lists are written out here. Each
list and its order come from the ``field.NotSupported`` call of kubernetes/kubernetes
pkg/apis/core/validation/validation.go (pod and Service fields: validatePullPolicy, validateRestartPolicy,
validateDNSPolicy, validateContainerPorts/supportedPortProtocols, supportedServiceType,
supportedSessionAffinityType, supportedServiceExternalTrafficPolicy, supportedServiceInternalTrafficPolicy,
supportedServiceIPFamilyPolicy, supportedHTTPSchemes, validateTaintEffect, validateTolerations),
pkg/apis/apps/validation/validation.go (ValidateDeploymentStrategy, ValidateDaemonSetUpdateStrategy,
ValidateStatefulSetSpec), pkg/apis/policy/validation/validation.go (supportedUnhealthyPodEvictionPolicies)
pkg/apis/batch/validation/validation.go (concurrencyPolicy, completionMode) and
pkg/apis/autoscaling/validation/validation.go (validMetricSourceTypesList; a metric target type is an
``Invalid value`` there: "must be either Utilization, Value, or AverageValue"). Lists built from a
``sets.Set`` are sorted (``sets.List``); literal lists keep their order. Message format of
apimachinery's field.NotSupported: ``Unsupported value: "x": supported values: "a", "b"``.
"""

from __future__ import annotations

import json

PULL_POLICIES = ("Always", "IfNotPresent", "Never")
RESTART_POLICIES = ("Always", "OnFailure", "Never")
DNS_POLICIES = ("ClusterFirstWithHostNet", "ClusterFirst", "Default", "None")
PROTOCOLS = ("SCTP", "TCP", "UDP")
TERMINATION_MESSAGE_POLICIES = ("File", "FallbackToLogsOnError")
HTTP_SCHEMES = ("HTTP", "HTTPS")
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
TOLERATION_OPERATORS = ("Equal", "Exists")
SERVICE_TYPES = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")
SESSION_AFFINITIES = ("ClientIP", "None")
TRAFFIC_POLICIES = ("Cluster", "Local")
IP_FAMILY_POLICIES = ("PreferDualStack", "RequireDualStack", "SingleStack")
DEPLOYMENT_STRATEGIES = ("Recreate", "RollingUpdate")
UPDATE_STRATEGIES = ("RollingUpdate", "OnDelete")
POD_MANAGEMENT_POLICIES = ("OrderedReady", "Parallel")
UNHEALTHY_POD_EVICTION_POLICIES = ("AlwaysAllow", "IfHealthyBudget")
CONCURRENCY_POLICIES = ("Allow", "Forbid", "Replace")
COMPLETION_MODES = ("NonIndexed", "Indexed")
METRIC_SOURCE_TYPES = ("ContainerResource", "External", "Object", "Pods", "Resource")
METRIC_TARGET_TYPES = ("Utilization", "Value", "AverageValue")
_PROBES = ("livenessProbe", "readinessProbe", "startupProbe")


def not_supported(field, value, supported):
    values = ", ".join(json.dumps(v) for v in supported)
    return ("FieldValueNotSupported", field, f"Unsupported value: {json.dumps(value)}: supported values: {values}")


def _check(causes, mapping, key, field, supported):
    value = (mapping or {}).get(key) if isinstance(mapping, dict) else None
    if value not in (None, "") and value not in supported:
        causes.append(not_supported(f"{field}.{key}", value, supported))


def _container(causes, ctr, where):
    _check(causes, ctr, "imagePullPolicy", where, PULL_POLICIES)
    _check(causes, ctr, "terminationMessagePolicy", where, TERMINATION_MESSAGE_POLICIES)
    for p, port in enumerate(ctr.get("ports") or []):
        _check(causes, port, "protocol", f"{where}.ports[{p}]", PROTOCOLS)
    for probe in _PROBES:
        http = (ctr.get(probe) or {}).get("httpGet") if isinstance(ctr.get(probe), dict) else None
        _check(causes, http, "scheme", f"{where}.{probe}.httpGet", HTTP_SCHEMES)


def pod_spec(spec, field):
    causes = []
    if not isinstance(spec, dict):
        return causes
    _check(causes, spec, "restartPolicy", field, RESTART_POLICIES)
    _check(causes, spec, "dnsPolicy", field, DNS_POLICIES)
    for key in ("initContainers", "containers"):
        for n, ctr in enumerate(spec.get(key) or []):
            if isinstance(ctr, dict):
                _container(causes, ctr, f"{field}.{key}[{n}]")
    for n, toleration in enumerate(spec.get("tolerations") or []):
        _check(causes, toleration, "operator", f"{field}.tolerations[{n}]", TOLERATION_OPERATORS)
        _check(causes, toleration, "effect", f"{field}.tolerations[{n}]", TAINT_EFFECTS)
    return causes


def _service(spec):
    causes = []
    _check(causes, spec, "type", "spec", SERVICE_TYPES)
    _check(causes, spec, "sessionAffinity", "spec", SESSION_AFFINITIES)
    _check(causes, spec, "internalTrafficPolicy", "spec", TRAFFIC_POLICIES)
    _check(causes, spec, "ipFamilyPolicy", "spec", IP_FAMILY_POLICIES)
    if spec.get("type") in ("NodePort", "LoadBalancer"):
        _check(causes, spec, "externalTrafficPolicy", "spec", TRAFFIC_POLICIES)
    for n, port in enumerate(spec.get("ports") or []):
        _check(causes, port, "protocol", f"spec.ports[{n}]", PROTOCOLS)
    return causes


def _template(spec, field="spec"):
    tpl = spec.get("template")
    return pod_spec((tpl or {}).get("spec"), f"{field}.template.spec") if isinstance(tpl, dict) else []


def _deployment(spec):
    causes = _template(spec)
    _check(causes, spec.get("strategy"), "type", "spec.strategy", DEPLOYMENT_STRATEGIES)
    return causes


def _daemonset(spec):
    causes = _template(spec)
    _check(causes, spec.get("updateStrategy"), "type", "spec.updateStrategy", UPDATE_STRATEGIES)
    return causes


def _statefulset(spec):
    causes = _daemonset(spec)
    _check(causes, spec, "podManagementPolicy", "spec", POD_MANAGEMENT_POLICIES)
    return causes


def _job(spec, field="spec"):
    causes = _template(spec, field)
    _check(causes, spec, "completionMode", field, COMPLETION_MODES)
    return causes


def _cronjob(spec):
    causes = _job((spec.get("jobTemplate") or {}).get("spec") or {}, "spec.jobTemplate.spec")
    _check(causes, spec, "concurrencyPolicy", "spec", CONCURRENCY_POLICIES)
    return causes


def _node(spec):
    causes = []
    for n, taint in enumerate(spec.get("taints") or []):
        _check(causes, taint, "effect", f"spec.taints[{n}]", TAINT_EFFECTS)
    return causes


def _pdb(spec):
    causes = []
    _check(causes, spec, "unhealthyPodEvictionPolicy", "spec", UNHEALTHY_POD_EVICTION_POLICIES)
    return causes


def _hpa(spec):
    causes = []
    for n, metric in enumerate(spec.get("metrics") or []):
        if not isinstance(metric, dict):
            continue
        _check(causes, metric, "type", f"spec.metrics[{n}]", METRIC_SOURCE_TYPES)
        for source in ("resource", "containerResource", "pods", "object", "external"):
            target = (metric.get(source) or {}).get("target") if isinstance(metric.get(source), dict) else None
            kind = (target or {}).get("type") if isinstance(target, dict) else None
            if kind not in (None, "") and kind not in METRIC_TARGET_TYPES:
                field = f"spec.metrics[{n}].{source}.target.type"
                message = f"Invalid value: {json.dumps(kind)}: must be either Utilization, Value, or AverageValue"
                causes.append(("FieldValueInvalid", field, message))
    return causes


BY_KIND = {
    "Pod": lambda spec: pod_spec(spec, "spec"),
    "Deployment": _deployment,
    "ReplicaSet": _template,
    "ReplicationController": _template,
    "DaemonSet": _daemonset,
    "StatefulSet": _statefulset,
    "Job": _job,
    "CronJob": _cronjob,
    "Service": _service,
    "Node": _node,
    "PodDisruptionBudget": _pdb,
    "HorizontalPodAutoscaler": _hpa,
}


def check(obj):
    """FieldValueNotSupported causes of ``obj`` (after defaulting)."""
    if obj.get("kind") == "PodTemplate":
        return pod_spec((obj.get("template") or {}).get("spec"), "template.spec")
    rule = BY_KIND.get(obj.get("kind"))
    spec = obj.get("spec")
    return rule(spec) if rule and isinstance(spec, dict) else []
