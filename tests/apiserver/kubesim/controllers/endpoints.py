"""Endpoints and EndpointSlice controllers: the ready and not-ready addresses of a Service's pods."""

from __future__ import annotations

import copy
import json
from typing import ClassVar

from .. import resources, selectors
from ..common import is_ready, owner_reference, stable_hash
from .base import Controller


class EndpointsController(Controller):
    OBJECT: ClassVar[dict] = {"/services": "endpoints"}
    NAMESPACE: ClassVar[dict] = {"/pods": "endpoints-ns"}
    HANDLERS: ClassVar[dict] = {"endpoints": "endpoints", "endpoints-ns": "endpoints_ns"}

    def endpoints_ns(self, namespace):
        self._each_in("/services", namespace, self.endpoints)

    def endpoints(self, namespace, name):
        store = self.api.store
        svc = store.get("/services", namespace, name)
        if svc is None or svc["metadata"].get("deletionTimestamp"):
            old = store.get("/endpoints", namespace, name)
            if old is not None and (svc is None):
                self.api.finish("/endpoints", old)
            return
        selector = (svc.get("spec") or {}).get("selector")
        if not selector:
            return
        reqs = [(k, "=", (v,)) for k, v in selector.items()]
        pods = [
            p
            for p in store.items("/pods", namespace)
            if selectors.matches(p["metadata"].get("labels"), reqs) and (p.get("status") or {}).get("podIP")
        ]
        self._endpoints(svc, pods)
        self._slice(svc, pods)

    @staticmethod
    def _ports(svc, pod):
        out = []
        for port in (svc.get("spec") or {}).get("ports") or []:
            target = port.get("targetPort", port.get("port"))
            if isinstance(target, str):
                target = next(
                    (
                        cp.get("containerPort")
                        for c in (pod.get("spec") or {}).get("containers") or []
                        for cp in c.get("ports") or []
                        if cp.get("name") == target
                    ),
                    None,
                )
            if target is None:
                continue
            entry = {"port": target, "protocol": port.get("protocol", "TCP")}
            if port.get("name"):
                entry["name"] = port["name"]
            out.append(entry)
        return out

    @staticmethod
    def _ref(pod):
        return {
            "kind": "Pod",
            "namespace": pod["metadata"]["namespace"],
            "name": pod["metadata"]["name"],
            "uid": pod["metadata"]["uid"],
        }

    def _endpoints(self, svc, pods):
        subsets = {}
        for pod in pods:
            if pod["metadata"].get("deletionTimestamp"):
                continue
            ports = self._ports(svc, pod)
            key = json.dumps(ports, sort_keys=True)
            subset = subsets.setdefault(key, {"ports": ports})
            address = {
                "ip": pod["status"]["podIP"],
                "nodeName": pod["spec"].get("nodeName"),
                "targetRef": self._ref(pod),
            }
            subset.setdefault("addresses" if is_ready(pod) else "notReadyAddresses", []).append(address)
        meta = svc["metadata"]
        body = {
            "apiVersion": "v1",
            "kind": "Endpoints",
            "metadata": {
                "name": meta["name"],
                "namespace": meta["namespace"],
                "labels": dict(meta.get("labels") or {}),
            },
        }
        if subsets:
            body["subsets"] = list(subsets.values())
        self._upsert("/endpoints", body, "endpoint-controller")

    def _slice(self, svc, pods):
        meta = svc["metadata"]
        endpoints = []
        ports = []
        for pod in pods:
            terminating = bool(pod["metadata"].get("deletionTimestamp"))
            ready = is_ready(pod) and not terminating
            endpoints.append(
                {
                    "addresses": [pod["status"]["podIP"]],
                    "conditions": {"ready": ready, "serving": is_ready(pod), "terminating": terminating},
                    "nodeName": pod["spec"].get("nodeName"),
                    "targetRef": self._ref(pod),
                }
            )
            ports = ports or self._ports(svc, pod)
        labels = {
            **(meta.get("labels") or {}),
            "kubernetes.io/service-name": meta["name"],
            "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
        }
        body = {
            "apiVersion": "discovery.k8s.io/v1",
            "kind": "EndpointSlice",
            "metadata": {
                "name": f"{meta['name']}-{stable_hash(meta['uid'], 5)}",
                "namespace": meta["namespace"],
                "labels": labels,
                "ownerReferences": [owner_reference(svc)],
            },
            "addressType": "IPv4",
            "endpoints": endpoints,
            "ports": [{"name": p.get("name", ""), **p} for p in ports],
        }
        self._upsert("discovery.k8s.io/endpointslices", body, "endpointslice-controller.k8s.io")

    def _upsert(self, key, body, manager):
        meta = body["metadata"]
        old = self.api.store.get(key, meta["namespace"], meta["name"])
        res = resources.STORAGE[key]
        if old is None:
            self.api.system_create(res, body, manager)
            return
        new = copy.deepcopy(old)
        for field, value in body.items():
            if field != "metadata":
                new[field] = value
        for field in ("subsets",):
            if field not in body:
                new.pop(field, None)
        new["metadata"]["labels"] = meta.get("labels") or {}
        self.api.system_write(key, new, manager, "")
