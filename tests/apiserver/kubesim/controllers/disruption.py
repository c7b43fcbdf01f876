"""PodDisruptionBudget status (the disruption controller); the arithmetic is kubesim/pdb.py's."""

from __future__ import annotations

from ..api import now_iso
from ..pdb import pdb_status
from .base import Controller, own_item


class DisruptionController(Controller):
    def route(self, key, event, obj):
        del event
        items = own_item(key, obj, "policy/poddisruptionbudgets", "pdb")
        return [*items, ("pdb-ns", obj["metadata"].get("namespace", ""))] if key == "/pods" else items

    def handlers(self):
        return {"pdb": self.pdb, "pdb-ns": self.pdb_ns}

    def pdb_ns(self, namespace):
        for pdb in self.api.store.items("policy/poddisruptionbudgets", namespace):
            self.pdb(namespace, pdb["metadata"]["name"])

    def pdb(self, namespace, name):
        pdb = self.api.store.get("policy/poddisruptionbudgets", namespace, name)
        if pdb is None or pdb["metadata"].get("deletionTimestamp"):
            return
        status = pdb_status(self.api, pdb)
        old = pdb.get("status") or {}
        if old.get("conditions") and old["conditions"][0].get("status") == status["conditions"][0]["status"]:
            status["conditions"][0]["lastTransitionTime"] = old["conditions"][0].get("lastTransitionTime")
        elif status["conditions"][0]["lastTransitionTime"].startswith("1970"):
            status["conditions"][0]["lastTransitionTime"] = now_iso()
        self._write_status("policy/poddisruptionbudgets", pdb, status)
