# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pods of a drain: what ``kubectl drain`` may remove and why not, and label selectors (PodDisruptionBudgets)."""

from __future__ import annotations

from collections.abc import Callable

from ansible_collections.kubeforge.cluster.plugins.module_utils.client import api_path
from ansible_collections.kubeforge.cluster.plugins.module_utils.errors import object_ref

MIRROR_ANNOTATION = "kubernetes.io/config.mirror"


def pod_path(pod: dict, subresource: str | None = None) -> str:
    """URL path of a pod or one of its subresources."""
    meta = pod["metadata"]
    return api_path("v1", "pods", meta["namespace"], meta["name"], subresource)


def pod_ref(pod: dict) -> str:
    """``namespace/name`` of a pod."""
    meta = pod.get("metadata") or {}
    return object_ref(None, meta.get("namespace"), meta.get("name"))


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

    def __init__(self) -> None:
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


def classify_pods(pods: list, options: dict | None, daemonset_exists: Callable) -> PodPlan:
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


def selector_matches(selector: dict | None, labels: dict | None) -> bool:
    """Whether a LabelSelector (``matchLabels``/``matchExpressions``) matches ``labels``; empty matches all."""
    if selector is None:
        return False
    labels = labels or {}
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    return all(_requirement_matches(req, labels) for req in selector.get("matchExpressions") or [])
