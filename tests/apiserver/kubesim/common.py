"""Small helpers shared by the controllers."""

from __future__ import annotations

import copy
import hashlib
import random
from datetime import datetime, timezone

from . import resources
from .api import now_iso

ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
MANAGER = "kube-controller-manager"
EVENTS = resources.core("events")


def random_suffix(length=5):
    return "".join(random.choice(ALPHABET) for _index in range(length))


def stable_hash(text, length=10):
    digest = hashlib.sha256(text.encode()).digest()
    return "".join(ALPHABET[b % len(ALPHABET)] for b in digest[:length])


def parse_time(text):
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()


def now_ts():
    return datetime.now(timezone.utc).timestamp()


def controller_ref(obj):
    for ref in obj["metadata"].get("ownerReferences") or []:
        if ref.get("controller"):
            return ref
    return None


def owner_reference(owner, block=True):
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": block,
    }


def set_condition(conditions, ctype, status, reason, message):
    """Set a condition, keeping lastTransitionTime when the status does not change.

    Returns (condition, whether reason or message changed).
    """
    now = now_iso()
    for cond in conditions:
        if cond.get("type") != ctype:
            continue
        if cond.get("status") != status:
            cond["lastTransitionTime"] = now
        changed = cond.get("reason") != reason or cond.get("message") != message or cond.get("status") != status
        cond.update(status=status, reason=reason, message=message)
        return cond, changed
    cond = {"type": ctype, "status": status, "lastTransitionTime": now, "reason": reason, "message": message}
    conditions.append(cond)
    return cond, True


def set_timed_condition(conditions, ctype, status, reason, message):
    """set_condition plus lastUpdateTime (Deployment conditions)."""
    cond, changed = set_condition(conditions, ctype, status, reason, message)
    if changed or "lastUpdateTime" not in cond:
        cond["lastUpdateTime"] = now_iso()
    return cond


def condition(obj, ctype):
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond.get("type") == ctype:
            return cond
    return None


def is_active(pod):
    return not pod["metadata"].get("deletionTimestamp") and (pod.get("status") or {}).get("phase") not in (
        "Succeeded",
        "Failed",
    )


def is_ready(pod):
    cond = condition(pod, "Ready")
    return bool(cond) and cond.get("status") == "True"


def available_since(pod, min_ready, now):
    """True when the pod has been Ready for min_ready seconds; else the seconds left (or None if not Ready)."""
    cond = condition(pod, "Ready")
    if not cond or cond.get("status") != "True":
        return None
    if not min_ready:
        return True
    left = parse_time(cond.get("lastTransitionTime")) + min_ready - now
    return True if left <= 0 else left


def pod_from_template(owner, template, name=None, generate=None):
    tmeta = template.get("metadata") or {}
    meta = {
        "namespace": owner["metadata"]["namespace"],
        "labels": dict(tmeta.get("labels") or {}),
        "ownerReferences": [owner_reference(owner)],
    }
    if tmeta.get("annotations"):
        meta["annotations"] = dict(tmeta["annotations"])
    if name:
        meta["name"] = name
    else:
        meta["generateName"] = generate or owner["metadata"]["name"] + "-"
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": copy.deepcopy(template.get("spec") or {})}


def int_or_percent(value, total, round_up):
    if isinstance(value, str) and value.endswith("%"):
        share = int(value[:-1]) * total
        return -(-share // 100) if round_up else share // 100
    return int(value or 0)


def record_event(api, obj, kind_reason, message, component):
    """Create a core/v1 Event about obj; kind_reason is ("Normal"|"Warning", reason)."""
    namespace = obj["metadata"].get("namespace") or "default"
    meta = obj["metadata"]
    now = now_iso()
    event = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"{meta['name']}.{random_suffix(16)}", "namespace": namespace},
        "involvedObject": {
            "apiVersion": obj.get("apiVersion"),
            "kind": obj.get("kind"),
            "name": meta["name"],
            "namespace": meta.get("namespace"),
            "uid": meta.get("uid"),
            "resourceVersion": meta.get("resourceVersion"),
        },
        "type": kind_reason[0],
        "reason": kind_reason[1],
        "message": message,
        "source": {"component": component},
        "reportingComponent": component,
        "reportingInstance": "",
        "firstTimestamp": now,
        "lastTimestamp": now,
        "count": 1,
    }
    if not meta.get("namespace"):
        event["involvedObject"].pop("namespace")
    api.system_create(EVENTS, event, component)
