# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A PodDisruptionBudget-aware drain loop: parallel evictions, 429 back-off, waiting for the evicted pods' uids to
disappear. Which pods a drain may remove, and why not: pods.py."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from ansible_collections.kubeforge.cluster.plugins.module_utils.args import spec_defaults
from ansible_collections.kubeforge.cluster.plugins.module_utils.client import api_path, get_or_none
from ansible_collections.kubeforge.cluster.plugins.module_utils.errors import (
    HTTP_CONFLICT,
    HTTP_NOT_FOUND,
    HTTP_TOO_MANY_REQUESTS,
    KubeforgeError,
    object_ref,
)
from ansible_collections.kubeforge.cluster.plugins.module_utils.pods import (
    PodPlan,
    classify_pods,
    pod_path,
    pod_ref,
    selector_matches,
)

if TYPE_CHECKING:
    from ansible_collections.kubeforge.cluster.plugins.module_utils.client import ApiClient

PODS_PATH = api_path("v1", "pods")
_BACKOFF_FIRST = 0.5
_BACKOFF_MAX = 2.0
# Eviction answers retried with back-off: 429 (a PodDisruptionBudget allows no disruption now) and 409 (the
# budget or the pod changed meanwhile, and the pod is still the one to evict).
_RETRY_STATUS = (HTTP_TOO_MANY_REQUESTS, HTTP_CONFLICT)


def node_ref(name: str) -> str:
    """``Node/name``."""
    return object_ref("Node", None, name)


# --- drain -------------------------------------------------------------------------------------------
# Options of kubeforge.cluster.node that drive a drain; the module's argument spec includes them.
DRAIN_ARG_SPEC = {
    "ignore_daemonsets": {"type": "bool", "default": False},
    "delete_emptydir_data": {"type": "bool", "default": False},
    "force": {"type": "bool", "default": False},
    "pod_selector": {"type": "str"},
    "grace_period": {"type": "int"},
    "disable_eviction": {"type": "bool", "default": False},
    "timeout": {"type": "int", "default": 300},
    "poll_interval": {"type": "float", "default": 0.5},
    "parallel": {"type": "int", "default": 16},
}
DRAIN_DEFAULTS = spec_defaults(DRAIN_ARG_SPEC)


class Drainer:
    """Drains nodes through one ApiClient: classify the pods, evict them in parallel, wait until they are gone.

    A 429 on an eviction (a PodDisruptionBudget has no disruption to spare) is retried per pod with
    exponential back-off (0.5 s doubling to 2 s, then every 2 s) until ``timeout``; the PDB is named in the failure.
    Removal goes with a uid precondition, and waiting compares uids, so a replacement pod of the same
    name (StatefulSet) is never mistaken for the old one.
    """

    def __init__(
        self,
        client: ApiClient,
        options: dict | None = None,
        check_mode: bool = False,
        clock: Callable = time.monotonic,
        sleep: Callable = time.sleep,
    ) -> None:
        self.client = client
        self.options = dict(DRAIN_DEFAULTS, **(options or {}))
        self.check_mode = check_mode
        self._clock = clock
        self._sleep = sleep
        self._daemonsets = {}
        self._pdbs = {}

    # pods of a node
    def node_pods(self, node_name: str, selector: dict | None = None) -> list:
        query = {"fieldSelector": f"spec.nodeName={node_name}", "labelSelector": selector or None}
        items, _page = self.client.list_all(PODS_PATH, query)
        return items

    def _daemonset_exists(self, namespace, name):
        key = (namespace, name)
        if key not in self._daemonsets:
            path = api_path("apps/v1", "daemonsets", namespace, name)
            self._daemonsets[key] = get_or_none(self.client, path) is not None
        return self._daemonsets[key]

    def plan(self, node_name: str) -> PodPlan:
        pods = self.node_pods(node_name, self.options["pod_selector"])
        return classify_pods(pods, self.options, self._daemonset_exists)

    # removal of one pod
    def _delete_options(self, pod):
        options = {"preconditions": {"uid": pod["metadata"]["uid"]}}
        if self.options["grace_period"] is not None:
            options["gracePeriodSeconds"] = self.options["grace_period"]
        return options

    def _remove(self, pod, dry_run=False):
        """Evict (or delete) one pod; returns ``"accepted"`` or ``"gone"``; raises KubeforgeError otherwise."""
        delete_options = self._delete_options(pod)
        query = None
        if dry_run:  # in the query and in the Eviction's DeleteOptions: the API server merges both
            delete_options["dryRun"] = ["All"]
            query = {"dryRun": "All"}
        try:
            if self.options["disable_eviction"]:
                body = dict(delete_options, apiVersion="v1", kind="DeleteOptions")
                self.client.request("DELETE", pod_path(pod), body=body, query=query, retry=False)
            else:
                body = {
                    "apiVersion": "policy/v1",
                    "kind": "Eviction",
                    "metadata": {"name": pod["metadata"]["name"], "namespace": pod["metadata"]["namespace"]},
                    "deleteOptions": delete_options,
                }
                self.client.request("POST", pod_path(pod, "eviction"), body=body, query=query, retry=False)
        except KubeforgeError as exc:
            if exc.status == HTTP_NOT_FOUND:
                return "gone"
            if exc.status == HTTP_CONFLICT and not self._same_pod_exists(pod):
                return "gone"
            raise
        return "accepted"

    def _same_pod_exists(self, pod):
        live = get_or_none(self.client, pod_path(pod))
        return live is not None and (live.get("metadata") or {}).get("uid") == pod["metadata"]["uid"]

    def _blocking_pdbs(self, pod):
        namespace = pod["metadata"]["namespace"]
        if namespace not in self._pdbs:
            path = api_path("policy/v1", "poddisruptionbudgets", namespace)
            try:
                self._pdbs[namespace], _page = self.client.list_all(path)
            except KubeforgeError:
                self._pdbs[namespace] = []
        labels = pod["metadata"].get("labels") or {}
        return [
            object_ref(None, namespace, pdb["metadata"]["name"])
            for pdb in self._pdbs[namespace]
            if selector_matches((pdb.get("spec") or {}).get("selector"), labels)
        ]

    def _blocked_reason(self, pod, exc):
        if exc.status != HTTP_TOO_MANY_REQUESTS:
            return f"eviction conflict, retrying: {exc}"
        pdbs = self._blocking_pdbs(pod)
        detail = "; ".join(c.get("message") for c in exc.causes if c.get("message")) or exc.msg
        if pdbs:
            return "eviction blocked by PodDisruptionBudget {}: {}".format(", ".join(pdbs), detail)
        return f"eviction refused with 429 Too Many Requests: {detail}"

    def preview(self, plan: PodPlan) -> list:
        """Check mode: send the evictions as server dry-runs; returns the pods refused right now and why."""
        if self.options["disable_eviction"]:
            return []
        results = self.client.map(
            lambda pod: self._remove(pod, dry_run=True), plan.remove, workers=self.options["parallel"]
        )
        return [
            {
                "pod": pod_ref(pod),
                "reason": self._blocked_reason(pod, outcome) if outcome.status in _RETRY_STATUS else str(outcome),
            }
            for pod, outcome in zip(plan.remove, results)
            if isinstance(outcome, KubeforgeError)
        ]

    # the loop
    def drain(self, node_name: str, plan: PodPlan) -> list:
        """Remove ``plan.remove`` and wait for them and ``plan.terminating`` to be gone; returns removed refs.

        Raises KubeforgeError listing every pod left and why on timeout or on an eviction error.
        """
        deadline = self._clock() + self.options["timeout"]
        state = _DrainState(plan)
        workers = self.options["parallel"]
        while True:
            now = self._clock()
            due = [pod for uid, pod in state.pending.items() if state.retry_at[uid] <= now]
            # The client's thread pool persists across rounds, so retries reuse its keep-alive connections.
            results = self.client.map(self._remove, due, workers=workers) if due else []
            for pod, outcome in zip(due, results):
                if isinstance(outcome, KubeforgeError) and outcome.status in _RETRY_STATUS:
                    kind = "DisruptionBudget" if outcome.status == HTTP_TOO_MANY_REQUESTS else "Conflict"
                    state.blocked(pod, (kind, self._blocked_reason(pod, outcome)), self._clock())
                else:
                    state.done(pod, outcome)
            if state.waiting:
                present = {p["metadata"].get("uid") for p in self.node_pods(node_name)}
                state.waiting = {uid: pod for uid, pod in state.waiting.items() if uid in present}
            if state.failed:
                raise state.failure(node_name, "could not remove every pod")
            if not state.pending and not state.waiting:
                return state.removed
            now = self._clock()
            if now >= deadline:
                raise state.failure(node_name, f"timed out after {self.options['timeout']}s draining")
            next_retry = min((state.retry_at[uid] for uid in state.pending), default=deadline)
            pause = min(next_retry - now, deadline - now)
            if state.waiting:
                pause = min(pause, self.options["poll_interval"])
            self._sleep(max(pause, 0.0))


class _DrainState:
    """Book-keeping of one drain: pods to remove (with retry times), removed ones still present, failures."""

    def __init__(self, plan):
        self.pending = {pod["metadata"]["uid"]: pod for pod in plan.remove}
        self.waiting = {pod["metadata"]["uid"]: pod for pod in plan.terminating}
        self.retry_at = dict.fromkeys(self.pending, 0.0)
        self.attempts = dict.fromkeys(self.pending, 0)
        self.reasons = {}
        self.failed = {}
        self.removed = []

    def blocked(self, pod, reason, now):
        """The eviction got a 429 or 409: retry later with exponential back-off. ``reason``: (kind, text)."""
        uid = pod["metadata"]["uid"]
        self.reasons[uid] = reason
        self.attempts[uid] += 1
        self.retry_at[uid] = now + min(_BACKOFF_FIRST * 2 ** (self.attempts[uid] - 1), _BACKOFF_MAX)

    def done(self, pod, outcome):
        """The removal was answered: ``"accepted"``, ``"gone"`` or a KubeforgeError."""
        uid = pod["metadata"]["uid"]
        del self.pending[uid]
        self.reasons.pop(uid, None)
        if isinstance(outcome, KubeforgeError):
            self.failed[uid] = (pod, str(outcome))
            return
        self.removed.append(pod_ref(pod))
        if outcome == "accepted":
            self.waiting[uid] = pod

    def failure(self, node_name, what):
        causes = [
            {"field": pod_ref(pod), "message": why, "reason": "EvictionFailed"} for pod, why in self.failed.values()
        ]
        for uid, pod in self.pending.items():
            kind, why = self.reasons.get(uid, ("NotEvicted", "not evicted yet"))
            causes.append({"field": pod_ref(pod), "message": why, "reason": kind})
        for pod in self.waiting.values():
            causes.append({"field": pod_ref(pod), "message": "evicted but still terminating", "reason": "Terminating"})
        return KubeforgeError(
            f"{what}: {_pods(len(causes))} left, the node stays cordoned",
            reason="DrainFailed",
            causes=causes,
            ref=node_ref(node_name),
        )


def _pods(count):
    return f"{count} pod" if count == 1 else f"{count} pods"


def _refuse(node_name, plan):
    count = len(plan.errors)
    return KubeforgeError(
        f"cannot drain: {_pods(count)} cannot be removed with these options, nothing was evicted and the node "
        "stays cordoned",
        reason="DrainRefused",
        causes=[{"field": e["pod"], "message": e["reason"], "reason": "DrainRefused"} for e in plan.errors],
        ref=node_ref(node_name),
    )


def drain_node(drainer: Drainer, node_name: str, warn: Callable | None = None) -> tuple[dict, bool]:
    """Drain one (already cordoned) node; returns ``{"evicted": [...], "skipped": [...]}`` and whether it changed.

    In check mode nothing is removed: ``evicted`` lists what would be, ``blocked`` the pods whose eviction (sent as
    a server dry-run) a PodDisruptionBudget refuses right now. Refuses (before removing anything)
    when a pod cannot be removed with the given options, listing every such pod.
    """
    plan = drainer.plan(node_name)
    if plan.errors:
        raise _refuse(node_name, plan)
    for message in plan.warnings:
        if warn:
            warn(message)
    result = {"skipped": plan.skipped, "evicted": [pod_ref(pod) for pod in plan.remove]}
    if drainer.check_mode:
        result["blocked"] = drainer.preview(plan)
        return result, bool(plan.remove)
    result["evicted"] = drainer.drain(node_name, plan)
    return result, bool(result["evicted"])
