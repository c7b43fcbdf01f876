"""APIService availability, the part of kube-aggregator that kubesim simulates.

An APIService served by kube-apiserver itself (no `spec.service`) is Available from its creation. One backed by
a Service is checked the way the aggregator's availability controller begins: the Service must exist, listen on
`spec.service.port` and have a ready endpoint for that port. kubesim proxies nothing, so that check stands for
the discovery request a real aggregator then sends to the backend (`Passed` once endpoints are ready).
"""

from __future__ import annotations

import copy
from typing import ClassVar

from ..common import set_condition
from ..kinds import apiservice as apiservice_kind
from .base import Controller

KEY = "apiregistration.k8s.io/apiservices"
MANAGER = "kube-apiserver"


def _service_ref(apiservice):
    return (apiservice.get("spec") or {}).get("service") or None


def _where(ref):
    return f'service/{ref.get("name")} in "{ref.get("namespace")}"'


def availability(store, apiservice):
    """(status, reason, message) of the Available condition that `apiservice` should carry."""
    ref = _service_ref(apiservice)
    if ref is None:
        return apiservice_kind.LOCAL_AVAILABLE[1:]
    svc = store.get("/services", ref.get("namespace"), ref.get("name"))
    if svc is None:
        return "False", "ServiceNotFound", f"{_where(ref)} does not exist"
    return _backend(store, svc, ref)


def _backend(store, svc, ref):
    """The checks of an existing Service: the port the APIService names, then a ready endpoint for it."""
    spec, where = svc.get("spec") or {}, _where(ref)
    if spec.get("type") == "ExternalName":
        return "True", "Passed", f"{where} is an ExternalName service (not checked further)"
    wanted = ref.get("port", apiservice_kind.APISERVICE_PORT)
    port = next((p for p in spec.get("ports") or [] if p.get("port") == wanted), None)
    if port is None:
        return "False", "ServicePortError", f"{where} has no port {wanted}"
    endpoints = store.get("/endpoints", ref.get("namespace"), ref.get("name"))
    if endpoints is None:
        return "False", "EndpointsNotFound", f"{where} has no Endpoints object"
    port_name = port.get("name", "")
    for subset in endpoints.get("subsets") or []:
        named = any(p.get("name", "") == port_name for p in subset.get("ports") or [])
        if named and subset.get("addresses"):
            return "True", "Passed", f"{where} has ready endpoints for port {wanted}"
    return "False", "MissingEndpoints", f'{where} has no ready endpoint for port name "{port_name}"'


class ApiServiceAvailability(Controller):
    """Keeps the Available condition of every APIService current (driven by APIService, Service and Endpoints
    events)."""

    OBJECT: ClassVar[dict] = {KEY: "apiservice", "/services": "apiservices-for", "/endpoints": "apiservices-for"}
    HANDLERS: ClassVar[dict] = {"apiservice": "apiservice", "apiservices-for": "for_service"}

    def for_service(self, namespace, name):
        for apiservice in self.api.store.items(KEY):
            ref = _service_ref(apiservice) or {}
            if (ref.get("namespace"), ref.get("name")) == (namespace, name):
                self.apiservice(apiservice["metadata"]["name"])

    def apiservice(self, name):
        obj = self._live(KEY, "", name)
        if obj is None:
            return
        status = copy.deepcopy(obj.get("status") or {})
        set_condition(status.setdefault("conditions", []), "Available", *availability(self.api.store, obj))
        if obj.get("status") != status:
            new = copy.deepcopy(obj)
            new["status"] = status
            self.api.system_write(KEY, new, MANAGER, "status")
