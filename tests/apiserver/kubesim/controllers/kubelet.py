"""The kubelet simulator: starts bound pods (Running/Ready after --ready-delay), runs pods to completion or into
CrashLoopBackOff, and removes terminating pods once they stopped."""

from __future__ import annotations

import copy
import time
from typing import ClassVar

from ..api import now_iso
from ..common import set_condition
from ..nodes import BAD_IMAGE_MARKER, NEVER_READY_ANNOTATION, STOP_ANNOTATION
from .base import Controller
from .container_states import ContainerStates


class Kubelet(ContainerStates, Controller):
    """Starts bound pods (Running/Ready after --ready-delay) and removes terminating pods after they stop."""

    def __init__(self, ctl, ready_delay, stop_seconds):
        super().__init__(ctl)
        self.ready_delay, self.stop_seconds = ready_delay, stop_seconds
        self._due = {}
        self._ips = 0

    OBJECT: ClassVar[dict] = {"/pods": "kubelet"}
    HANDLERS: ClassVar[dict] = {"kubelet": "reconcile"}

    def _wait(self, uid, what, delay, item):
        key = (uid, what)
        if key not in self._due:
            self._due[key] = time.monotonic() + delay
            self.ctl.after(delay, item)
            return False
        if time.monotonic() < self._due[key]:
            self.ctl.after(self._due[key] - time.monotonic(), item)
            return False
        return True

    def reconcile(self, namespace, name):
        pod = self.api.store.get("/pods", namespace, name)
        if pod is None:
            return
        node_name = (pod.get("spec") or {}).get("nodeName")
        node = self.api.store.get("/nodes", "", node_name) if node_name else None
        item = ("kubelet", namespace, name)
        uid = pod["metadata"]["uid"]
        if pod["metadata"].get("deletionTimestamp"):
            self._terminate(pod, node, item)
            return
        if node is None:
            if node_name:
                self.api.system_delete("/pods", pod, grace=0)  # pod GC: bound to a node that is gone
            return
        phase = (pod.get("status") or {}).get("phase")
        if phase == "Pending" and self._wait(uid, "start", self.ready_delay, item):
            self._start(pod, node)
        elif phase == "Running" and self._exits(pod) and self._wait(uid, "complete", self.ready_delay, item):
            if (pod.get("spec") or {}).get("restartPolicy") in ("Never", "OnFailure"):
                self._complete(pod)
            else:
                self._crash_loop(pod)

    def _exits(self, pod):
        """Run-to-completion pods finish; others only when told to crash (exit-code annotation)."""
        if (pod.get("spec") or {}).get("restartPolicy") in ("Never", "OnFailure"):
            return True
        statuses = (pod.get("status") or {}).get("containerStatuses") or []
        return self._exit_code(pod) != 0 and not any(s.get("restartCount") for s in statuses)

    def _terminate(self, pod, node, item):
        meta = pod["metadata"]
        grace = meta.get("deletionGracePeriodSeconds") or 0
        stop = self.stop_seconds
        if STOP_ANNOTATION in (meta.get("annotations") or {}):
            stop = float(meta["annotations"][STOP_ANNOTATION])
        delay = 0 if node is None else min(grace, stop)
        if not self._wait(meta["uid"], "stop", delay, item) or meta.get("finalizers"):
            return
        self.api.finish("/pods", pod)
        for what in ("start", "complete", "stop"):
            self._due.pop((meta["uid"], what), None)

    def _start(self, pod, node):
        new = copy.deepcopy(pod)
        now = now_iso()
        status = new.setdefault("status", {})
        self._ips += 1
        ip = f"10.244.{self._ips // 250}.{self._ips % 250 + 2}"
        host_ip = next(
            (a["address"] for a in (node.get("status") or {}).get("addresses") or [] if a.get("type") == "InternalIP"),
            "172.18.0.2",
        )
        ready = (pod["metadata"].get("annotations") or {}).get(NEVER_READY_ANNOTATION) != "false"
        status.update(
            phase="Running", podIP=ip, podIPs=[{"ip": ip}], hostIP=host_ip, hostIPs=[{"ip": host_ip}], startTime=now
        )
        conditions = status.setdefault("conditions", [])
        for ctype in ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"):
            on = "True" if ctype not in ("Ready", "ContainersReady") or ready else "False"
            set_condition(conditions, ctype, on, "" if on == "True" else "ContainersNotReady", "")
            for cond in conditions:
                if cond["type"] == ctype and on == "True":
                    cond.pop("reason", None)
                    cond.pop("message", None)
        status["containerStatuses"] = [self._container(c, ready, now) for c in new["spec"].get("containers") or []]
        if any(BAD_IMAGE_MARKER in c.get("image", "") for c in new["spec"].get("containers") or []):
            self._image_pull_failure(new, pod)
        self.api.system_write("/pods", new, "kubelet", "status")
