"""CustomResourceDefinition status, the part of apiextensions-apiserver that kubesim simulates.

Its naming controller accepts the names of a new CRD when no other CRD of the same group claims them (condition
NamesAccepted, reason NoConflicts, and status.acceptedNames), then its establishing controller marks the CRD
Established (reason InitialNamesAccepted) - staging/src/k8s.io/apiextensions-apiserver/pkg/controller/status
(naming_controller.go) and .../establish (establishing_controller.go). A name conflict leaves the CRD not
Established with NamesAccepted False (reason, as the naming controller reports it, names the clash). kubesim
stores CRDs only: the custom resources they define are not served.
"""

from __future__ import annotations

import copy
from typing import ClassVar

from ..common import set_condition
from .base import Controller

KEY = "apiextensions.k8s.io/customresourcedefinitions"
MANAGER = "kube-apiserver"


class CrdEstablisher(Controller):
    OBJECT: ClassVar[dict] = {KEY: "crd"}
    HANDLERS: ClassVar[dict] = {"crd": "crd"}

    def _conflict(self, crd):
        spec = crd.get("spec") or {}
        names = spec.get("names") or {}
        for other in self.api.store.items(KEY):
            if other["metadata"]["name"] == crd["metadata"]["name"] or (other.get("spec") or {}).get("group") != (
                spec.get("group")
            ):
                continue
            accepted = (other.get("status") or {}).get("acceptedNames") or {}
            if names.get("plural") and names.get("plural") == accepted.get("plural"):
                return f'"{names["plural"]}" is already in use'
            if names.get("kind") and names.get("kind") == accepted.get("kind"):
                return f'"{names["kind"]}" is already in use'
        return None

    def crd(self, name):
        obj = self._live(KEY, "", name)
        if obj is None:
            return
        status = copy.deepcopy(obj.get("status") or {})
        conditions = status.setdefault("conditions", [])
        conflict = self._conflict(obj)
        if conflict:
            set_condition(conditions, "NamesAccepted", "False", "AlreadyInUse", conflict)
        else:
            spec = obj.get("spec") or {}
            status["acceptedNames"] = copy.deepcopy(spec.get("names") or {})
            stored = [v["name"] for v in spec.get("versions") or [] if v.get("storage")]
            status["storedVersions"] = sorted(set(status.get("storedVersions") or []) | set(stored))
            set_condition(conditions, "NamesAccepted", "True", "NoConflicts", "no conflicts found")
            set_condition(
                conditions, "Established", "True", "InitialNamesAccepted", "the initial names have been accepted"
            )
        if obj.get("status") != status:
            new = copy.deepcopy(obj)
            new["status"] = status
            self.api.system_write(KEY, new, MANAGER, "status")
