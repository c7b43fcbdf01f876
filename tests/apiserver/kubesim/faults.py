"""Test hook: "someone else" acting at an exact moment, so races between clients can be tested deterministically.

Rules live in the ConfigMap ``kube-system/kubesim-faults`` (key ``rules``: a JSON list). A rule
``{"after_write": "<plural>/<namespace>/<name>", "delete": "<plural>/<namespace>/<name>"}`` deletes the second
object right after a real (not dry-run) write of the first one was stored or rejected, as another client would;
an empty namespace names a cluster-scoped object. Each rule fires once. The key ``failing-checks`` (a JSON list of
health check names, e.g. ``["etcd"]``) makes /readyz, /livez and /healthz report those checks failed, as a
kube-apiserver does while etcd is away (healthz.py). A real API server has no such thing: tests that use it run
against kubesim only.
"""

from __future__ import annotations

import json

from . import resources

FAULTS_NAMESPACE = "kube-system"
FAULTS_NAME = "kubesim-faults"


def _ref(res, obj):
    meta = obj.get("metadata") or {}
    return "{}/{}/{}".format(res.plural, meta.get("namespace") or "", meta.get("name"))


class Faults:
    def __init__(self, api):
        self.api = api
        self.fired = set()

    def _list(self, key):
        holder = self.api.store.get("/configmaps", FAULTS_NAMESPACE, FAULTS_NAME)
        if holder is None:
            return []
        try:
            return json.loads((holder.get("data") or {}).get(key) or "[]")
        except ValueError:
            return []

    def _rules(self):
        return self._list("rules")

    def failing_checks(self):
        """The health checks a test has made fail (names, in the order given)."""
        with self.api.store.lock:
            return [str(name) for name in self._list("failing-checks")]

    def after_write(self, res, obj):
        """Run the rules triggered by a write of ``obj`` (called with the store lock held)."""
        if res.plural == "configmaps" and obj["metadata"].get("name") == FAULTS_NAME:
            return
        ref = _ref(res, obj)
        for rule in self._rules():
            key = json.dumps(rule, sort_keys=True)
            if rule.get("after_write") != ref or key in self.fired:
                continue
            self.fired.add(key)
            plural, namespace, name = str(rule.get("delete", "")).split("/", 2)
            target = next((r for r in resources.STORAGE.values() if r.plural == plural), None)
            victim = self.api.store.get(target.key, namespace, name) if target else None
            if victim is not None:
                self.api.system_delete(target.key, victim)
