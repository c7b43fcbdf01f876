"""Namespace controller: the default ServiceAccount and kube-root-ca.crt in every namespace; deletion of a
Terminating namespace's content, then of the namespace."""

from __future__ import annotations

from typing import ClassVar

from .. import resources
from .base import Controller

_NAMESPACE_RETRY = 0.3


class NamespaceController(Controller):
    OBJECT: ClassVar[dict] = {"/namespaces": "namespace"}
    HANDLERS: ClassVar[dict] = {"namespace": "namespace"}

    def namespace(self, name):
        store = self.api.store
        ns = store.get("/namespaces", "", name)
        if ns is None:
            return
        if not ns["metadata"].get("deletionTimestamp"):
            self._namespace_defaults(ns)
            return
        remaining = 0
        for key, res in resources.STORAGE.items():
            if not res.namespaced:
                continue
            for obj in store.items(key, name):
                if obj["metadata"].get("finalizers"):
                    remaining += 1
                    if not obj["metadata"].get("deletionTimestamp"):
                        self.api.system_delete(key, obj, grace=0)
                    continue
                self.api.finish(key, obj)
        if remaining:
            self.ctl.after(_NAMESPACE_RETRY, ("namespace", name))
            return
        self.api.finish("/namespaces", ns)

    def _namespace_defaults(self, ns):
        name = ns["metadata"]["name"]
        store = self.api.store
        if store.get("/serviceaccounts", name, "default") is None:
            self.api.system_create(
                resources.core("serviceaccounts"),
                {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default", "namespace": name}},
                "kube-controller-manager",
            )
        ca = self.api.options.get("ca_pem")
        if ca and store.get("/configmaps", name, "kube-root-ca.crt") is None:
            self.api.system_create(
                resources.core("configmaps"),
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {
                        "name": "kube-root-ca.crt",
                        "namespace": name,
                        "annotations": {
                            "kubernetes.io/description": "Contains a CA bundle that can be used to "
                            "verify the kube-apiserver when using internal endpoints such as the "
                            "internal service IP or kubernetes.default.svc. No other usage is "
                            "guaranteed across distributions of Kubernetes clusters."
                        },
                    },
                    "data": {"ca.crt": ca},
                },
                "kube-controller-manager",
            )
