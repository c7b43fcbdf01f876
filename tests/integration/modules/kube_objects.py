"""Manifests shared by the module integration tests."""

from __future__ import annotations


def configmap(name, namespace, **data):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": namespace}, "data": data}


def deployment(name, namespace, replicas=2, image="nginx", **spec):
    """apps/v1 Deployment whose pods are labelled ``app: name``; ``spec`` keys override the defaults."""
    labels = {"app": name}
    body = {
        "replicas": replicas,
        "selector": {"matchLabels": labels},
        "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "web", "image": image}]}},
    }
    body.update(spec)
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": body,
    }
