# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Node operations: cordon and uncordon, labels and taints, and a PodDisruptionBudget-aware drain.

Layers: node selection and the node patch (labels, taints, ``spec.unschedulable``), pod classification
(what a drain may remove and why not), and the drain loop (parallel evictions, 429 back-off, waiting for
the evicted pods' uids to disappear). ``run_node`` is the logic of the ``kubeforge.cluster.node`` module.
"""

from __future__ import annotations

import time

from ansible_collections.kubeforge.cluster.plugins.module_utils.args import spec_defaults
from ansible_collections.kubeforge.cluster.plugins.module_utils.client import MERGE_PATCH, api_path, get_or_none
from ansible_collections.kubeforge.cluster.plugins.module_utils.discovery import Resource
from ansible_collections.kubeforge.cluster.plugins.module_utils.errors import (
    HTTP_CONFLICT,
    HTTP_NOT_FOUND,
    HTTP_TOO_MANY_REQUESTS,
    KubeforgeError,
    object_ref,
)
from ansible_collections.kubeforge.cluster.plugins.module_utils.rollback import Undo
from ansible_collections.kubeforge.cluster.plugins.module_utils.waiters import wait_for

NODES_PATH = api_path("v1", "nodes")
PODS_PATH = api_path("v1", "pods")
MIRROR_ANNOTATION = "kubernetes.io/config.mirror"
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
SYSTEM_TAINT_PREFIX = "node.kubernetes.io/"
_NODE_RESOURCE = Resource("", "v1", {"kind": "Node", "name": "nodes", "namespaced": False}, ["status"])
_PATCH_ATTEMPTS = 5
_BACKOFF_FIRST = 0.5
_BACKOFF_MAX = 2.0
# Eviction answers retried with back-off: 429 (a PodDisruptionBudget allows no disruption now) and 409 (the
# budget or the pod changed meanwhile, and the pod is still the one to evict).
_RETRY_STATUS = (HTTP_TOO_MANY_REQUESTS, HTTP_CONFLICT)


# --- paths and references ----------------------------------------------------------------------------
def node_path(name):
    return api_path("v1", "nodes", name=name)


def _pod_path(pod, subresource=None):
    meta = pod["metadata"]
    return api_path("v1", "pods", meta["namespace"], meta["name"], subresource)


def pod_ref(pod):
    """``namespace/name`` of a pod."""
    meta = pod.get("metadata") or {}
    return object_ref(None, meta.get("namespace"), meta.get("name"))


def _node_ref(name):
    return object_ref("Node", None, name)


# --- node selection ----------------------------------------------------------------------------------
def select_nodes(client, names=None, label_selector=None, all_nodes=False):
    """The live Node objects named by ``names``, or matching ``label_selector``, or all of them."""
    if names:
        results = client.map(lambda name: get_or_none(client, node_path(name)), names)
        for name, result in zip(names, results):
            if isinstance(result, KubeforgeError):
                raise result.with_ref(_node_ref(name))
            if result is None:
                raise KubeforgeError("node not found", status=HTTP_NOT_FOUND, ref=_node_ref(name))
        return results
    if label_selector is None and not all_nodes:
        raise KubeforgeError("no nodes selected: set name, label_selector, or all_nodes=true")
    items, _page = client.list_all(NODES_PATH, {"labelSelector": label_selector or None})
    return sorted(items, key=lambda node: node["metadata"]["name"])


# --- labels, taints and schedulability ---------------------------------------------------------------
def node_view(node):
    """The parts of a Node this module manages, as shown in results and diffs."""
    return {
        "name": node["metadata"]["name"],
        "unschedulable": bool((node.get("spec") or {}).get("unschedulable")),
        "labels": dict(node["metadata"].get("labels") or {}),
        "taints": [dict(taint) for taint in (node.get("spec") or {}).get("taints") or []],
    }


def check_taints(taints):
    """Validate the ``taints`` option; raises naming the entry and the field."""
    for index, taint in enumerate(taints or []):
        where = f"taints[{index}]"
        if not taint.get("key"):
            raise KubeforgeError(f"{where}.key is required")
        if taint.get("effect") not in (*TAINT_EFFECTS, None):
            raise KubeforgeError(f"{where}.effect must be one of {', '.join(TAINT_EFFECTS)}")
        if taint.get("state", "present") == "present" and not taint.get("effect"):
            raise KubeforgeError(f"{where}.effect is required to add taint {taint['key']}")


def desired_taints(current, wanted):
    """``current`` taints with the ``wanted`` changes: present taints set by (key, effect), absent ones removed.

    A taint to remove without an effect removes the key with every effect (like ``kubectl taint node key-``).
    """
    result = [dict(taint) for taint in current or []]
    for item in wanted or []:
        key, effect = item["key"], item.get("effect")
        if item.get("state", "present") == "absent":
            result = [t for t in result if not (t.get("key") == key and (effect is None or t.get("effect") == effect))]
            continue
        taint = {"key": key, "effect": effect}
        if item.get("value") not in (None, ""):
            taint["value"] = str(item["value"])
        for index, existing in enumerate(result):
            if existing.get("key") == key and existing.get("effect") == effect:
                if existing.get("value") != taint.get("value"):
                    result[index] = taint
                break
        else:
            result.append(taint)
    return result


def node_patch(node, unschedulable=None, labels=None, taints=None):
    """JSON merge patch that gives ``node`` the wanted state, or ``None`` when it already has it.

    ``unschedulable`` is True/False/None (leave alone); ``labels`` maps keys to a value or ``None`` (remove);
    ``taints`` is the module's list of taint changes. A taint change replaces the whole list, so the patch then
    carries the node's resourceVersion and a concurrent change makes it fail with 409 instead of being lost.
    """
    view = node_view(node)
    patch = {}
    if unschedulable is not None and view["unschedulable"] != unschedulable:
        patch["spec"] = {"unschedulable": True if unschedulable else None}
    label_changes = {}
    for key, value in (labels or {}).items():
        if value is None:
            if key in view["labels"]:
                label_changes[key] = None
        elif view["labels"].get(key) != str(value):
            label_changes[key] = str(value)
    if label_changes:
        patch["metadata"] = {"labels": label_changes}
    if taints:
        new_taints = desired_taints(view["taints"], taints)
        if new_taints != view["taints"]:
            patch.setdefault("spec", {})["taints"] = new_taints or None
            patch.setdefault("metadata", {})["resourceVersion"] = node["metadata"].get("resourceVersion")
    return patch or None


def _system_taint(taint):
    return str(taint.get("key", "")).startswith(SYSTEM_TAINT_PREFIX)


def undo_view(node, keys):
    """What a rollback compares: the touched label ``keys``, schedulability, and the taints users set (the
    node lifecycle controller adds and removes the node.kubernetes.io/ ones, e.g. on cordon)."""
    view = node_view(node)
    return {
        "labels": {k: view["labels"].get(k) for k in keys},
        "unschedulable": view["unschedulable"],
        "taints": [t for t in view["taints"] if not _system_taint(t)],
    }


def restore_patch(before, after):
    """``(restore, view)`` for a rollback of ``before`` -> ``after``: ``restore(current)`` is the merge patch
    that puts back labels, schedulability and user taints (keeping the controller's current taints)."""
    old, new = node_view(before), node_view(after)
    keys = sorted(k for k in set(old["labels"]) | set(new["labels"]) if old["labels"].get(k) != new["labels"].get(k))
    previous = undo_view(before, keys)

    def restore(current):
        patch = {"spec": {"unschedulable": True if previous["unschedulable"] else None}}
        if keys:
            patch["metadata"] = {"labels": previous["labels"]}
        system = [t for t in node_view(current)["taints"] if _system_taint(t)]
        patch["spec"]["taints"] = previous["taints"] + system or None
        return patch

    return restore, lambda node: undo_view(node, keys)


def reconcile_node(client, node, check_mode=False, **wanted):
    """Patch ``node`` to the wanted state (see node_patch); returns ``(node after, changed)``.

    Check mode sends the same patch as a server dry-run, so validation errors show up without a change.
    A 409 (the node changed meanwhile) re-reads the node and plans again.
    """
    name = node["metadata"]["name"]
    for _attempt in range(_PATCH_ATTEMPTS):
        patch = node_patch(node, **wanted)
        if patch is None:
            return node, False
        query = {"dryRun": "All"} if check_mode else None
        try:
            return client.request("PATCH", node_path(name), body=patch, query=query, content_type=MERGE_PATCH), True
        except KubeforgeError as exc:
            if exc.status != HTTP_CONFLICT:
                raise exc.with_ref(_node_ref(name)) from None
        node = client.get(node_path(name))
    raise KubeforgeError("the node kept changing while being patched; try again", ref=_node_ref(name))


# --- pod classification --------------------------------------------------------------------------------
def _controller(pod):
    for owner in (pod.get("metadata") or {}).get("ownerReferences") or []:
        if owner.get("controller"):
            return owner
    return None


def _emptydir_volumes(pod):
    return [v.get("name") for v in (pod.get("spec") or {}).get("volumes") or [] if v.get("emptyDir") is not None]


def _is_finished(pod):
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


class PodPlan:
    """What a drain does with each pod of a node: remove, skip (with why), wait for, or refuse (with why)."""

    def __init__(self):
        self.remove = []
        self.terminating = []
        self.skipped = []
        self.errors = []
        self.warnings = []


def _daemonset_verdict(pod, controller, options, daemonset_exists):
    """``("skip"|"error", reason)`` for a pod of an existing DaemonSet, ``None`` when it is not one."""
    if not controller or controller.get("kind") != "DaemonSet":
        return None
    name = controller.get("name")
    if not daemonset_exists(pod["metadata"].get("namespace"), name):
        return None
    if options.get("ignore_daemonsets"):
        return "skip", f"managed by DaemonSet {name}"
    return "error", f"managed by DaemonSet {name} (set ignore_daemonsets to skip it)"


def _removal_problems(pod, controller, options):
    problems = []
    volumes = _emptydir_volumes(pod)
    if volumes and not options.get("delete_emptydir_data"):
        problems.append(f"uses emptyDir volume(s) {', '.join(volumes)} whose data is lost (set delete_emptydir_data)")
    if controller is None and not options.get("force"):
        problems.append("is not managed by a controller, nothing would recreate it (set force)")
    return problems


def classify_pods(pods, options, daemonset_exists):
    """Sort ``pods`` like ``kubectl drain`` does.

    ``options``: ``ignore_daemonsets``, ``delete_emptydir_data``, ``force``. ``daemonset_exists(namespace, name)``
    tells whether a pod's controlling DaemonSet still exists (an orphaned DaemonSet pod counts as unmanaged).
    """
    plan = PodPlan()
    for pod in pods:
        ref = pod_ref(pod)
        meta = pod.get("metadata") or {}
        if MIRROR_ANNOTATION in (meta.get("annotations") or {}):
            plan.skipped.append({"pod": ref, "reason": "mirror pod of a static pod (the kubelet owns it)"})
        elif meta.get("deletionTimestamp"):
            plan.terminating.append(pod)
        elif _is_finished(pod):
            plan.remove.append(pod)
        else:
            controller = _controller(pod)
            verdict = _daemonset_verdict(pod, controller, options, daemonset_exists)
            if verdict:
                (plan.skipped if verdict[0] == "skip" else plan.errors).append({"pod": ref, "reason": verdict[1]})
                continue
            if controller is not None and controller.get("kind") == "DaemonSet":
                controller = None  # its DaemonSet is gone: nothing recreates the pod
            problems = _removal_problems(pod, controller, options)
            if problems:
                plan.errors.append({"pod": ref, "reason": "; ".join(problems)})
                continue
            if controller is None:
                plan.warnings.append(f"deleting pod {ref}, which no controller will recreate")
            plan.remove.append(pod)
    return plan


# --- PodDisruptionBudgets ------------------------------------------------------------------------------
def _requirement_matches(requirement, labels):
    key, operator, values = requirement.get("key"), requirement.get("operator"), requirement.get("values") or []
    if operator == "In":
        return key in labels and labels[key] in values
    if operator == "NotIn":
        return key not in labels or labels[key] not in values
    if operator == "Exists":
        return key in labels
    if operator == "DoesNotExist":
        return key not in labels
    return False


def selector_matches(selector, labels):
    """Whether a LabelSelector (``matchLabels``/``matchExpressions``) matches ``labels``; empty matches all."""
    if selector is None:
        return False
    labels = labels or {}
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    return all(_requirement_matches(req, labels) for req in selector.get("matchExpressions") or [])


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

    def __init__(self, client, options=None, check_mode=False, clock=time.monotonic, sleep=time.sleep):
        self.client = client
        self.options = dict(DRAIN_DEFAULTS, **(options or {}))
        self.check_mode = check_mode
        self._clock = clock
        self._sleep = sleep
        self._daemonsets = {}
        self._pdbs = {}

    # pods of a node
    def node_pods(self, node_name, selector=None):
        query = {"fieldSelector": f"spec.nodeName={node_name}", "labelSelector": selector or None}
        items, _page = self.client.list_all(PODS_PATH, query)
        return items

    def _daemonset_exists(self, namespace, name):
        key = (namespace, name)
        if key not in self._daemonsets:
            path = api_path("apps/v1", "daemonsets", namespace, name)
            self._daemonsets[key] = get_or_none(self.client, path) is not None
        return self._daemonsets[key]

    def plan(self, node_name):
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
                self.client.request("DELETE", _pod_path(pod), body=body, query=query, retry=False)
            else:
                body = {
                    "apiVersion": "policy/v1",
                    "kind": "Eviction",
                    "metadata": {"name": pod["metadata"]["name"], "namespace": pod["metadata"]["namespace"]},
                    "deleteOptions": delete_options,
                }
                self.client.request("POST", _pod_path(pod, "eviction"), body=body, query=query, retry=False)
        except KubeforgeError as exc:
            if exc.status == HTTP_NOT_FOUND:
                return "gone"
            if exc.status == HTTP_CONFLICT and not self._same_pod_exists(pod):
                return "gone"
            raise
        return "accepted"

    def _same_pod_exists(self, pod):
        live = get_or_none(self.client, _pod_path(pod))
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

    def preview(self, plan):
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
    def drain(self, node_name, plan):
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
            ref=_node_ref(node_name),
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
        ref=_node_ref(node_name),
    )


def drain_node(drainer, node_name, warn=None):
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


# --- module logic ------------------------------------------------------------------------------------
_UNSCHEDULABLE = {"cordoned": True, "drained": True, "uncordoned": False, "present": None}
_DRAIN_OPTIONS = tuple(DRAIN_DEFAULTS)


def wait_nodes_ready(client, names, timeout, sleep):
    """Wait until every node in ``names`` has condition Ready=True (fails naming the nodes that are not)."""
    targets = [(_NODE_RESOURCE, name, None) for name in names]
    wait_for(client, targets, timeout, sleep=sleep, condition=("Ready", "True"))


def run_node(module, client):
    """Logic of kubeforge.cluster.node: select nodes, wait for Ready, patch, drain."""
    params = module.params
    check_taints(params.get("taints"))
    nodes = select_nodes(client, params.get("name"), params.get("label_selector"), params.get("all_nodes"))
    names = [node["metadata"]["name"] for node in nodes]
    if params.get("wait_ready") and names:
        wait_nodes_ready(client, names, params["timeout"], params["poll_interval"])
        nodes = select_nodes(client, names)
    state = params["state"]
    wanted = {"unschedulable": _UNSCHEDULABLE[state], "labels": params.get("labels"), "taints": params.get("taints")}
    results, before, after = [], {}, {}
    undo = Undo(client)
    for node in nodes:
        try:
            new, changed = reconcile_node(client, node, check_mode=module.check_mode, **wanted)
        except KubeforgeError as exc:
            if not undo.pending:
                raise
            undo.run()
            raise undo.annotate(exc) from None
        if changed and not module.check_mode:
            name = node["metadata"]["name"]
            undo.add_patched(_node_ref(name), node_path(name), new, *restore_patch(node, new))
        before[node["metadata"]["name"]] = node_view(node)
        after[new["metadata"]["name"]] = node_view(new)
        results.append(dict(node_view(new), changed=changed))
    if state == "drained":
        drainer = Drainer(client, {k: params[k] for k in _DRAIN_OPTIONS}, check_mode=module.check_mode)
        for entry in results:
            drained, changed = drain_node(drainer, entry["name"], warn=module.warn)
            entry.update(drained)
            entry["changed"] = entry["changed"] or changed
    result = {"changed": any(entry["changed"] for entry in results), "nodes": results}
    if module._diff:
        result["diff"] = {"before": {"nodes": before}, "after": {"nodes": after}}
    return result
