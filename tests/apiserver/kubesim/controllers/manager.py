"""The simulated control plane: one thread runs every controller, driven by store events and timers.

Each controller (one file each in this package) routes store events to work items and names the handlers of those
items (controllers/base.py). Adding one: a Controller subclass in a new file, and one line in ``_controllers``."""

from __future__ import annotations

import heapq
import itertools
import sys
import threading
import time
import traceback

from .. import resources
from .apiservice import ApiServiceAvailability
from .crd import CrdEstablisher
from .daemonset import DaemonSetController
from .deployment import DeploymentController
from .disruption import DisruptionController
from .endpoints import EndpointsController
from .garbage_collector import GarbageCollector
from .hpa import HpaController
from .job import JobController
from .kubelet import Kubelet
from .namespace import NamespaceController
from .node_lifecycle import NodeLifecycle
from .replicaset import ReplicaSetController
from .scheduler import Scheduler
from .statefulset import StatefulSetController

_IDLE_WAIT = 0.5
_RESYNC = 2.0
_PAUSE_POLL = 0.05


class Controllers:
    def __init__(self, api, args):
        self.api = api
        self.args = args
        self._pending = []
        self._timers = []
        self._seq = itertools.count()
        self._cv = threading.Condition()
        self._stop = False
        self.paused = threading.Event()  # set while the API server is down: no component can write
        self._thread = threading.Thread(target=self._run, name="controllers", daemon=True)
        # The order is the order in which one batch of work items runs.
        self.controllers = self._controllers(args)
        self._handlers = {}
        for controller in self.controllers:
            self._handlers.update(controller.handlers())
        api.store.listeners.append(self._on_event)

    # ---- plumbing ---------------------------------------------------------------------------
    def start(self):
        with self.api.store.lock:  # replay what was stored before the controllers listened
            for key in resources.STORAGE:
                for obj in self.api.store.items(key):
                    self._on_event(key, "ADDED", obj)
        self._thread.start()
        self.after(_RESYNC, ("resync",))

    def stop(self):
        with self._cv:
            self._stop = True
            self._cv.notify()
        self._thread.join(timeout=2)

    def _on_event(self, key, event, obj):
        with self._cv:
            self._pending.append((key, event, obj))
            self._cv.notify()

    def after(self, delay, item):
        with self._cv:
            heapq.heappush(self._timers, (time.monotonic() + max(delay, 0), next(self._seq), item))
            self._cv.notify()

    def _next_batch(self):
        with self._cv:
            while not self._stop and not self._pending:
                wait = _IDLE_WAIT
                if self._timers:
                    wait = min(wait, self._timers[0][0] - time.monotonic())
                if wait <= 0:
                    break
                self._cv.wait(wait)
            events, self._pending = self._pending, []
            due = []
            now = time.monotonic()
            while self._timers and self._timers[0][0] <= now:
                due.append(heapq.heappop(self._timers)[2])
        return events, due

    def _run(self):
        while not self._stop:
            events, due = self._next_batch()
            items = dict.fromkeys(due)
            for key, event, obj in events:
                for item in self._route(key, event, obj):
                    items[item] = None
            if not items:
                continue
            while self.paused.is_set() and not self._stop:
                time.sleep(_PAUSE_POLL)  # kept, handled once the API server is back (as informers resync)
            with self.api.store.lock:
                for item in items:
                    self._handle(item)

    def _handle(self, item):
        try:
            self._dispatch(item)
        except Exception:  # a controller bug must not stop the others
            traceback.print_exc(file=sys.stderr)

    def _controllers(self, args):
        kubelet = Kubelet(self, getattr(args, "ready_delay", 0.1), getattr(args, "pod_stop_seconds", 0.2))
        return [
            NamespaceController(self),
            NodeLifecycle(self),
            Scheduler(self),
            kubelet,
            ReplicaSetController(self),
            DeploymentController(self),
            DaemonSetController(self),
            StatefulSetController(self),
            JobController(self),
            EndpointsController(self),
            HpaController(self),
            DisruptionController(self),
            ApiServiceAvailability(self),
            CrdEstablisher(self),
            GarbageCollector(self),
        ]

    # ---- routing ----------------------------------------------------------------------------
    def _route(self, key, event, obj):
        return [item for controller in self.controllers for item in controller.route(key, event, obj)]

    def _dispatch(self, item):
        if item[0] == "resync":
            for controller in self.controllers:
                controller.resync()
            self.after(_RESYNC, ("resync",))
            return
        handler = self._handlers.get(item[0])
        if handler is not None:
            handler(*item[1:])
