"""PodDisruptionBudget status (the disruption controller); the arithmetic is kubesim/pdb.py's."""

from __future__ import annotations

from typing import ClassVar

from ..api import now_iso
from ..pdb import pdb_status
from .base import Controller


class DisruptionController(Controller):
    OBJECT: ClassVar[dict] = {"policy/poddisruptionbudgets": "pdb"}
    NAMESPACE: ClassVar[dict] = {"/pods": "pdb-ns"}
    HANDLERS: ClassVar[dict] = {"pdb": "pdb", "pdb-ns": "pdb_ns"}

    def pdb_ns(self, namespace):
        self._each_in("policy/poddisruptionbudgets", namespace, self.pdb)

    def pdb(self, namespace, name):
        pdb = self._live("policy/poddisruptionbudgets", namespace, name)
        if pdb is None:
            return
        status = pdb_status(self.api, pdb)
        old = pdb.get("status") or {}
        if old.get("conditions") and old["conditions"][0].get("status") == status["conditions"][0]["status"]:
            status["conditions"][0]["lastTransitionTime"] = old["conditions"][0].get("lastTransitionTime")
        elif status["conditions"][0]["lastTransitionTime"].startswith("1970"):
            status["conditions"][0]["lastTransitionTime"] = now_iso()
        self._write_status("policy/poddisruptionbudgets", pdb, status)
