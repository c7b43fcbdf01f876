"""Objects every cluster starts with: system namespaces and the `kubernetes` Service."""

from __future__ import annotations

from . import resources

SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


def bootstrap(api):
    manager = "kube-apiserver"
    for name in SYSTEM_NAMESPACES:
        api.system_create(
            resources.core("namespaces"), {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}, manager
        )
    api.system_create(
        resources.core("services"),
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {
                "name": "kubernetes",
                "namespace": "default",
                "labels": {"component": "apiserver", "provider": "kubernetes"},
            },
            "spec": {"clusterIP": "10.96.0.1", "ports": [{"name": "https", "port": 443, "targetPort": 6443}]},
        },
        manager,
    )
