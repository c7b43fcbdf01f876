"""What the node-side controllers share: node predicates (taints, tolerations, affinity), pod requests, the
annotations the kubelet simulator obeys. The controllers are controllers/node_lifecycle.py, scheduler.py, kubelet.py."""

from __future__ import annotations

from .quantity import quantity_value

STOP_ANNOTATION = "kubesim.kubeforge.io/stop-seconds"
NEVER_READY_ANNOTATION = "kubesim.kubeforge.io/ready"
EXIT_CODE_ANNOTATION = "kubesim.kubeforge.io/exit-code"
BAD_IMAGE_MARKER = "does-not-exist"  # images whose reference contains this cannot be pulled
UNSCHEDULABLE_TAINT = "node.kubernetes.io/unschedulable"
CAPACITY = {"cpu": "4", "memory": "8Gi", "pods": "110", "ephemeral-storage": "100Gi", "hugepages-2Mi": "0"}
_SCHEDULE_EFFECTS = ("NoSchedule", "NoExecute")
UNSCHEDULABLE = {"key": UNSCHEDULABLE_TAINT, "effect": "NoSchedule"}
# kube-scheduler's words (pkg/scheduler): ErrNoNodesAvailable when the cluster has no node; otherwise a FitError,
# "0/N nodes are available: <count reason, sorted>. preemption: 0/N nodes are available: <count status>." where
# DefaultPreemption says a node whose filter failed unresolvably (taints, unschedulable, affinity) is "Preemption
# is not helpful for scheduling." and one short of resources has "No preemption victims found for incoming pod."
# (kubesim pods all have priority 0: nothing can be preempted).
NO_NODES = "no nodes available to schedule pods"
_RESOLVABLE = ("Insufficient ", "Too many pods")


def node_ready(node):
    for cond in (node.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Ready":
            return cond.get("status") == "True"
    return False


def tolerates(tolerations, taint):
    for tol in tolerations or []:
        if tol.get("effect") and tol["effect"] != taint.get("effect"):
            continue
        if tol.get("operator") == "Exists" and (not tol.get("key") or tol["key"] == taint.get("key")):
            return True
        if tol.get("key") == taint.get("key") and tol.get("value", "") == taint.get("value", ""):
            return True
    return False


def _expr_match(expr, value_of):
    key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
    value = value_of(key)
    checks = {
        "In": lambda: value is not None and value in values,
        "NotIn": lambda: value is None or value not in values,
        "Exists": lambda: value is not None,
        "DoesNotExist": lambda: value is None,
        "Gt": lambda: value is not None and value.isdigit() and int(value) > int(values[0]),
        "Lt": lambda: value is not None and value.isdigit() and int(value) < int(values[0]),
    }
    return checks.get(op, lambda: False)()


def _term_match(term, node):
    labels = node["metadata"].get("labels") or {}
    fields = {"metadata.name": node["metadata"]["name"]}
    return all(_expr_match(e, labels.get) for e in term.get("matchExpressions") or []) and all(
        _expr_match(e, fields.get) for e in term.get("matchFields") or []
    )


def selects_node(spec, node):
    """nodeSelector and required node affinity."""
    labels = node["metadata"].get("labels") or {}
    if any(labels.get(k) != v for k, v in (spec.get("nodeSelector") or {}).items()):
        return False
    required = (
        ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get("requiredDuringSchedulingIgnoredDuringExecution")
        or {}
    ).get("nodeSelectorTerms")
    return not required or any(_term_match(t, node) for t in required)


def untolerated_taint(spec, node):
    """The first NoSchedule/NoExecute taint of `node` the pod does not tolerate (None when all are)."""
    tolerations = spec.get("tolerations") or []
    for taint in (node.get("spec") or {}).get("taints") or []:
        if taint.get("effect") in _SCHEDULE_EFFECTS and not tolerates(tolerations, taint):
            return taint
    return None


def taints_tolerated(spec, node):
    tolerations = spec.get("tolerations") or []
    if (node.get("spec") or {}).get("unschedulable") and not tolerates(tolerations, UNSCHEDULABLE):
        return False
    return untolerated_taint(spec, node) is None


def pod_requests(spec):
    total = {"cpu": 0, "memory": 0}
    for ctr in spec.get("containers") or []:
        requests = (ctr.get("resources") or {}).get("requests") or (ctr.get("resources") or {}).get("limits") or {}
        for name in total:
            if name in requests:
                total[name] += quantity_value(requests[name])
    return total


def pull_error(image):
    """containerd's answer for a reference the registry does not have (CRI NotFound)."""
    name = image if "/" in image else f"library/{image}"
    first = name.split("/", 1)[0]
    if "." not in first and ":" not in first and first != "localhost":
        name = f"docker.io/{name}"
    return (
        f'rpc error: code = NotFound desc = failed to pull and unpack image "{name}": '
        f'failed to resolve reference "{name}": {name}: not found'
    )
