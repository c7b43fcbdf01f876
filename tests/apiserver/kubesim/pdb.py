"""PodDisruptionBudget arithmetic shared by the eviction subresource and the disruption controller."""

from __future__ import annotations

import math

from . import selectors

_SCALED = {
    "ReplicaSet": "apps/replicasets",
    "ReplicationController": "/replicationcontrollers",
    "StatefulSet": "apps/statefulsets",
    "Deployment": "apps/deployments",
}


def is_ready(pod):
    for cond in (pod.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Ready":
            return cond.get("status") == "True"
    return False


def _selected(api, pdb):
    reqs = selectors.from_label_selector((pdb.get("spec") or {}).get("selector"))
    if not reqs:
        return []
    return [
        p
        for p in api.store.items("/pods", pdb["metadata"]["namespace"])
        if selectors.matches(p["metadata"].get("labels"), reqs)
    ]


def _expected(api, pods):
    """Sum of the scale of the pods' controllers (the pod count when they have none)."""
    seen, total = set(), 0
    for pod in pods:
        ref = next((r for r in pod["metadata"].get("ownerReferences") or [] if r.get("controller")), None)
        key = _SCALED.get((ref or {}).get("kind"))
        if key is None:
            total += 1
            continue
        if ref["uid"] in seen:
            continue
        seen.add(ref["uid"])
        owner = api.store.get(key, pod["metadata"]["namespace"], ref["name"])
        total += ((owner or {}).get("spec") or {}).get("replicas", 1) if owner else 1
    return total


def _amount(value, total, round_up):
    if isinstance(value, str) and value.endswith("%"):
        share = int(value[:-1]) * total / 100
        return math.ceil(share) if round_up else math.floor(share)
    return int(value)


def pdb_status(api, pdb):
    spec = pdb.get("spec") or {}
    pods = _selected(api, pdb)
    disrupted = dict((pdb.get("status") or {}).get("disruptedPods") or {})
    alive = {p["metadata"]["name"] for p in pods if not p["metadata"].get("deletionTimestamp")}
    disrupted = {k: v for k, v in disrupted.items() if k in alive}
    healthy = sum(
        1
        for p in pods
        if is_ready(p) and not p["metadata"].get("deletionTimestamp") and p["metadata"]["name"] not in disrupted
    )
    if "maxUnavailable" in spec:
        expected = _expected(api, pods)
        desired = max(expected - _amount(spec["maxUnavailable"], expected, True), 0)
    elif isinstance(spec.get("minAvailable"), str):
        expected = _expected(api, pods)
        desired = _amount(spec["minAvailable"], expected, True)
    else:
        expected = len(pods)
        desired = int(spec.get("minAvailable", 1) if "minAvailable" in spec else 1)
    allowed = max(healthy - desired, 0) if expected else 0
    return {
        "observedGeneration": pdb["metadata"].get("generation", 1),
        "disruptionsAllowed": allowed,
        "currentHealthy": healthy,
        "desiredHealthy": desired,
        "expectedPods": expected,
        **({"disruptedPods": disrupted} if disrupted else {}),
        "conditions": [
            {
                "type": "DisruptionAllowed",
                "status": "True" if allowed > 0 else "False",
                "reason": "SufficientPods" if allowed > 0 else "InsufficientPods",
                "message": "",
                "observedGeneration": pdb["metadata"].get("generation", 1),
                "lastTransitionTime": ((pdb.get("status") or {}).get("conditions") or [{}])[0].get("lastTransitionTime")
                or "1970-01-01T00:00:00Z",
            }
        ],
    }


def selector_reqs(pdb):
    return selectors.from_label_selector((pdb.get("spec") or {}).get("selector"))
