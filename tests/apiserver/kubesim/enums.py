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

Which fields a kind checks is its ``enums`` (its file under kinds/); the value lists and the pod spec and template
checks those share are here.
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


def check_value(causes, mapping, key, field, supported):
    value = (mapping or {}).get(key) if isinstance(mapping, dict) else None
    if value not in (None, "") and value not in supported:
        causes.append(not_supported(f"{field}.{key}", value, supported))


def _container(causes, ctr, where):
    check_value(causes, ctr, "imagePullPolicy", where, PULL_POLICIES)
    check_value(causes, ctr, "terminationMessagePolicy", where, TERMINATION_MESSAGE_POLICIES)
    for p, port in enumerate(ctr.get("ports") or []):
        check_value(causes, port, "protocol", f"{where}.ports[{p}]", PROTOCOLS)
    for probe in _PROBES:
        http = (ctr.get(probe) or {}).get("httpGet") if isinstance(ctr.get(probe), dict) else None
        check_value(causes, http, "scheme", f"{where}.{probe}.httpGet", HTTP_SCHEMES)


def pod_spec(spec, field):
    causes = []
    if not isinstance(spec, dict):
        return causes
    check_value(causes, spec, "restartPolicy", field, RESTART_POLICIES)
    check_value(causes, spec, "dnsPolicy", field, DNS_POLICIES)
    for key in ("initContainers", "containers"):
        for n, ctr in enumerate(spec.get(key) or []):
            if isinstance(ctr, dict):
                _container(causes, ctr, f"{field}.{key}[{n}]")
    for n, toleration in enumerate(spec.get("tolerations") or []):
        check_value(causes, toleration, "operator", f"{field}.tolerations[{n}]", TOLERATION_OPERATORS)
        check_value(causes, toleration, "effect", f"{field}.tolerations[{n}]", TAINT_EFFECTS)
    return causes


def template(spec, field="spec"):
    tpl = spec.get("template")
    return pod_spec((tpl or {}).get("spec"), f"{field}.template.spec") if isinstance(tpl, dict) else []


def spec_enums(rule):
    """A kind's ``enums`` from a rule over its spec (nothing to check when the spec is not an object)."""

    def enums(obj):
        spec = obj.get("spec")
        return rule(spec) if isinstance(spec, dict) else []

    return enums
