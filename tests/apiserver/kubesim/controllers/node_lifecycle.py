"""Node lifecycle: what a kubelet reports for every registered Node (Ready, capacity, addresses, nodeInfo), and the
node controller's ``node.kubernetes.io/unschedulable:NoSchedule`` taint following ``spec.unschedulable``."""

from __future__ import annotations

import copy
from typing import ClassVar

from ..api import now_iso
from ..common import set_condition
from ..nodes import CAPACITY, UNSCHEDULABLE_TAINT
from .base import Controller


class NodeLifecycle(Controller):
    """Fills in what a kubelet reports for every registered Node and keeps the unschedulable taint."""

    def __init__(self, ctl):
        super().__init__(ctl)
        self._addresses = {}

    OBJECT: ClassVar[dict] = {"/nodes": "node"}
    HANDLERS: ClassVar[dict] = {"node": "reconcile"}

    def reconcile(self, name):
        node = self.api.store.get("/nodes", "", name)
        if node is None or node["metadata"].get("deletionTimestamp"):
            if node is not None:
                self.api.finish("/nodes", node)
            return
        self._taint(node)
        node = self.api.store.get("/nodes", "", name)
        new = copy.deepcopy(node)
        status = new.setdefault("status", {})
        for key in ("capacity", "allocatable"):
            status.setdefault(key, dict(CAPACITY))
        conditions = status.setdefault("conditions", [])
        if not conditions:
            for ctype, reason, msg in (
                ("MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                ("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                ("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
            ):
                set_condition(conditions, ctype, "False", reason, msg)
            set_condition(conditions, "Ready", "True", "KubeletReady", "kubelet is posting ready status")
            for cond in conditions:
                cond["lastHeartbeatTime"] = cond["lastTransitionTime"]
        ip = self._addresses.setdefault(name, f"172.18.{len(self._addresses) // 250}.{len(self._addresses) % 250 + 2}")
        status.setdefault("addresses", [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": name}])
        status.setdefault("daemonEndpoints", {"kubeletEndpoint": {"Port": 10250}})
        status.setdefault(
            "nodeInfo",
            {
                "machineID": name,
                "systemUUID": name,
                "bootID": name,
                "kernelVersion": "6.1.0-kubesim",
                "osImage": "Debian GNU/Linux 12 (bookworm)",
                "containerRuntimeVersion": "containerd://2.1.0",
                "kubeletVersion": "v1.37.0",
                "kubeProxyVersion": "",
                "operatingSystem": "linux",
                "architecture": "amd64",
            },
        )
        self.api.system_write("/nodes", new, "kubelet", "status")

    def _taint(self, node):
        spec = node.get("spec") or {}
        taints = list(spec.get("taints") or [])
        has = any(t.get("key") == UNSCHEDULABLE_TAINT for t in taints)
        if bool(spec.get("unschedulable")) == has:
            return
        new = copy.deepcopy(node)
        if has:
            taints = [t for t in taints if t.get("key") != UNSCHEDULABLE_TAINT]
        else:
            taints.append({"key": UNSCHEDULABLE_TAINT, "effect": "NoSchedule", "timeAdded": now_iso()})
        if taints:
            new["spec"]["taints"] = taints
        else:
            new["spec"].pop("taints", None)
        self.api.system_write("/nodes", new, "node-controller", "")
