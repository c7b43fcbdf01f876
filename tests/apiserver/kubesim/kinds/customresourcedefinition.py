"""CustomResourceDefinition: the name/scope/storage-version rules (status is controllers/crd.py's). Stored and
Established; the custom resources they define are not served (discovery does not list their groups, so a client
gets "no kind" for them, as from an API server without the CRD)."""

from __future__ import annotations

from ..validation import invalid_value, required
from .base import Kind, resource


def validate(obj, old):
    """apiextensions-apiserver's ValidateCustomResourceDefinition, the parts a manifest can get wrong by hand:
    the name is `<spec.names.plural>.<spec.group>`, the scope is Cluster or Namespaced, exactly one version is
    the storage version (staging/src/k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/validation)."""
    del old
    spec = obj.get("spec") or {}
    names = spec.get("names") or {}
    causes = []
    name = obj["metadata"].get("name")
    if name != "{}.{}".format(names.get("plural", ""), spec.get("group", "")):
        causes.append(invalid_value("metadata.name", name, 'must be spec.names.plural+"."+spec.group'))
    if spec.get("scope") not in ("Cluster", "Namespaced"):
        causes.append(invalid_value("spec.scope", spec.get("scope"), 'must be "Cluster" or "Namespaced"'))
    versions = spec.get("versions") or []
    if not versions:
        causes.append(required("spec.versions"))
    elif sum(1 for v in versions if v.get("storage")) != 1:
        stored = [v.get("name") for v in versions if v.get("storage")]
        causes.append(invalid_value("spec.versions", stored, "must have exactly one version marked as storage version"))
    return causes


KIND = Kind(
    (
        resource(
            "apiextensions.k8s.io/v1",
            "CustomResourceDefinition",
            "customresourcedefinitions",
            False,
            short=["crd", "crds"],
            subs=["status"],
            categories=("api-extensions",),
        ),
    ),
    validate=validate,
)
