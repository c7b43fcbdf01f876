"""Service: defaults (ClusterIP allocation, traffic policies, target ports), port rules, `kubectl get` columns.
Node port and ClusterIP allocation itself is allocators.py's."""

from __future__ import annotations

from .. import enums
from ..validation import forbidden, invalid_value, port_range, required
from .base import ALL, DNS1035, NEVER, Kind, resource


def defaults(obj, allocator):
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
        port.setdefault("protocol", "TCP")
        if "port" in port:
            port.setdefault("targetPort", port["port"])
    obj.setdefault("status", {}).setdefault("loadBalancer", {})


def validate(obj, old):
    spec = obj.get("spec") or {}
    causes = []
    kind = spec.get("type", "ClusterIP")
    if kind != "ExternalName" and not spec.get("ports") and spec.get("clusterIP") != "None":
        causes.append(required("spec.ports"))
    for n, port in enumerate(spec.get("ports") or []):
        causes += port_range(f"spec.ports[{n}].port", port.get("port"))
        node_port = port.get("nodePort")
        # Only the port-number check is validation; the node-port range is the allocator's (allocators.py).
        if node_port is not None:
            causes += port_range(f"spec.ports[{n}].nodePort", node_port)
        if node_port is not None and kind == "ClusterIP":
            causes.append(forbidden(f"spec.ports[{n}].nodePort", "may not be used when `type` is 'ClusterIP'"))
    if len({(p.get("port"), p.get("protocol", "TCP")) for p in spec.get("ports") or []}) < len(spec.get("ports") or []):
        causes.append(("FieldValueDuplicate", "spec.ports", "Duplicate value"))
    old_ip = ((old or {}).get("spec") or {}).get("clusterIP")
    if old is not None and old_ip and spec.get("clusterIP") != old_ip and kind != "ExternalName":
        causes.append(invalid_value("spec.clusterIPs[0]", spec.get("clusterIP"), "may not change once set"))
    return causes


def cells(obj):
    spec = obj.get("spec") or {}
    ports = ",".join(f"{p.get('port')}/{p.get('protocol', 'TCP')}" for p in spec.get("ports") or [])
    return [spec.get("type"), spec.get("clusterIP"), ports or "<none>"]


def _enums(spec):
    causes = []
    enums.check_value(causes, spec, "type", "spec", enums.SERVICE_TYPES)
    enums.check_value(causes, spec, "sessionAffinity", "spec", enums.SESSION_AFFINITIES)
    enums.check_value(causes, spec, "internalTrafficPolicy", "spec", enums.TRAFFIC_POLICIES)
    enums.check_value(causes, spec, "ipFamilyPolicy", "spec", enums.IP_FAMILY_POLICIES)
    if spec.get("type") in ("NodePort", "LoadBalancer"):
        enums.check_value(causes, spec, "externalTrafficPolicy", "spec", enums.TRAFFIC_POLICIES)
    for n, port in enumerate(spec.get("ports") or []):
        enums.check_value(causes, port, "protocol", f"spec.ports[{n}]", enums.PROTOCOLS)
    return causes


KIND = Kind(
    (resource("v1", "Service", "services", True, short=["svc"], subs=["status", "proxy"], categories=ALL),),
    defaults=defaults,
    validate=validate,
    columns=(("Type", "string"), ("Cluster-IP", "string"), ("Ports", "string")),
    cells=cells,
    name_rule=DNS1035,
    generation=NEVER,
    enums=enums.spec_enums(_enums),
)
