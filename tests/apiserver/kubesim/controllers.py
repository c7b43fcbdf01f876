"""The simulated control plane: one thread runs every controller, driven by store events and timers."""

from __future__ import annotations

import copy
import heapq
import itertools
import sys
import threading
import time
import traceback

from . import aggregator, crds, resources, workloads
from .nodes import Kubelet, NodeSimulator, Scheduler

_IDLE_WAIT = 0.5
_RESYNC = 2.0
_NAMESPACE_RETRY = 0.3
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
        self.nodes = NodeSimulator(self)
        self.scheduler = Scheduler(self)
        self.kubelet = Kubelet(self, getattr(args, "ready_delay", 0.1), getattr(args, "pod_stop_seconds", 0.2))
        self.workloads = workloads.Workloads(self)
        self.aggregator = aggregator.Aggregator(self)
        self.crds = crds.Establisher(self)
        self.gc = GarbageCollector(self)
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

    # ---- routing ----------------------------------------------------------------------------
    def _route(self, key, event, obj):
        meta = obj["metadata"]
        ns, name = meta.get("namespace", ""), meta["name"]
        out = list(self.workloads.route(key, event, obj))
        out += self.aggregator.route(key, obj)
        out += self.crds.route(key, obj)
        if key == "/namespaces":
            out.append(("namespace", name))
        elif key == "/nodes":
            out += [("node", name), ("schedule-all",), ("ds-all",)]
        elif key == "/pods":
            out += [("kubelet", ns, name)]
            if not (obj.get("spec") or {}).get("nodeName"):
                out.append(("schedule", ns, name))
        if event == "DELETED":
            out.append(("gc-deleted", key, ns, meta["uid"]))
            for ref in meta.get("ownerReferences") or []:
                owner_key = resources.KEY_BY_KIND.get(ref.get("kind"))
                if owner_key:
                    owner_ns = ns if resources.STORAGE[owner_key].namespaced else ""
                    out.append(("gc-finalize", owner_key, owner_ns, ref.get("name")))
        elif meta.get("deletionTimestamp") and meta.get("finalizers"):
            out.append(("gc-finalize", key, ns, name))
        return out

    def _dispatch(self, item):
        kind = item[0]
        if kind == "resync":
            self.workloads.resync()
            self.after(_RESYNC, ("resync",))
            return
        handler = {
            "namespace": self._namespace,
            "node": self.nodes.reconcile,
            "schedule": self.scheduler.schedule,
            "schedule-all": self.scheduler.schedule_all,
            "kubelet": self.kubelet.reconcile,
            "gc-deleted": self.gc.deleted,
            "gc-finalize": self.gc.finalize,
            "apiservice": self.aggregator.apiservice,
            "apiservices-for": self.aggregator.for_service,
            "crd": self.crds.crd,
        }.get(kind)
        if handler is not None:
            handler(*item[1:])
        else:
            self.workloads.dispatch(item)

    # ---- namespaces -------------------------------------------------------------------------
    def _namespace(self, name):
        store = self.api.store
        ns = store.get("/namespaces", "", name)
        if ns is None:
            return
        if not ns["metadata"].get("deletionTimestamp"):
            self._namespace_defaults(ns)
            return
        remaining = 0
        for key, res in resources.STORAGE.items():
            if not res.namespaced:
                continue
            for obj in store.items(key, name):
                if obj["metadata"].get("finalizers"):
                    remaining += 1
                    if not obj["metadata"].get("deletionTimestamp"):
                        self.api.system_delete(key, obj, grace=0)
                    continue
                self.api.finish(key, obj)
        if remaining:
            self.after(_NAMESPACE_RETRY, ("namespace", name))
            return
        self.api.finish("/namespaces", ns)

    def _namespace_defaults(self, ns):
        name = ns["metadata"]["name"]
        store = self.api.store
        if store.get("/serviceaccounts", name, "default") is None:
            self.api.system_create(
                resources.core("serviceaccounts"),
                {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default", "namespace": name}},
                "kube-controller-manager",
            )
        ca = self.api.options.get("ca_pem")
        if ca and store.get("/configmaps", name, "kube-root-ca.crt") is None:
            self.api.system_create(
                resources.core("configmaps"),
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {
                        "name": "kube-root-ca.crt",
                        "namespace": name,
                        "annotations": {
                            "kubernetes.io/description": "Contains a CA bundle that can be used to "
                            "verify the kube-apiserver when using internal endpoints such as the "
                            "internal service IP or kubernetes.default.svc. No other usage is "
                            "guaranteed across distributions of Kubernetes clusters."
                        },
                    },
                    "data": {"ca.crt": ca},
                },
                "kube-controller-manager",
            )


class GarbageCollector:
    """ownerReferences: background deletion of dependents, foreground and orphan finalizers."""

    def __init__(self, ctl):
        self.ctl = ctl
        self.api = ctl.api

    def _dependents(self, uid, namespace):
        del namespace
        return self.api.store.dependents(uid)

    def _owner_alive(self, ref, namespace):
        store = self.api.store
        for key, res in resources.STORAGE.items():
            if res.kind != ref.get("kind"):
                continue
            owner = store.get(key, namespace if res.namespaced else "", ref.get("name"))
            if owner is not None and owner["metadata"]["uid"] == ref.get("uid"):
                return True
        return False

    def deleted(self, key, namespace, uid):
        del key
        for dep_key, dep in self._dependents(uid, namespace):
            refs = dep["metadata"].get("ownerReferences") or []
            alive = [
                r for r in refs if r.get("uid") != uid and self._owner_alive(r, dep["metadata"].get("namespace", ""))
            ]
            if alive:
                new = copy.deepcopy(dep)
                new["metadata"]["ownerReferences"] = [r for r in refs if r.get("uid") != uid]
                self.api.system_write(dep_key, new, "garbage-collector", "")
            elif not dep["metadata"].get("deletionTimestamp"):
                self.api.system_delete(dep_key, dep)

    def finalize(self, key, namespace, name):
        obj = self.api.store.get(key, namespace, name)
        if obj is None or not obj["metadata"].get("deletionTimestamp"):
            return
        finalizers = obj["metadata"].get("finalizers") or []
        uid = obj["metadata"]["uid"]
        if "orphan" in finalizers:
            for dep_key, dep in self._dependents(uid, namespace):
                new = copy.deepcopy(dep)
                new["metadata"]["ownerReferences"] = [
                    r for r in dep["metadata"].get("ownerReferences") or [] if r.get("uid") != uid
                ]
                if not new["metadata"]["ownerReferences"]:
                    new["metadata"].pop("ownerReferences")
                self.api.system_write(dep_key, new, "garbage-collector", "")
            self._drop_finalizer(key, obj, "orphan")
        elif "foregroundDeletion" in finalizers:
            dependents = self._dependents(uid, namespace)
            for dep_key, dep in dependents:
                if not dep["metadata"].get("deletionTimestamp"):
                    self._delete_foreground(dep_key, dep)
            if not dependents:
                self._drop_finalizer(key, obj, "foregroundDeletion")

    def _delete_foreground(self, key, obj):
        res = resources.STORAGE[key]
        ctx = self.api.ctx_for(res, obj)
        self.api.delete_locked(ctx, obj, {"propagationPolicy": "Foreground"})

    def _drop_finalizer(self, key, obj, finalizer):
        new = copy.deepcopy(obj)
        rest = [f for f in new["metadata"].get("finalizers") or [] if f != finalizer]
        if rest:
            new["metadata"]["finalizers"] = rest
            self.api.system_write(key, new, "garbage-collector", "")
            return
        new["metadata"].pop("finalizers", None)
        if key == "/pods" and (new.get("spec") or {}).get("nodeName"):
            self.api.system_write(key, new, "garbage-collector", "")
            return
        self.api.finish(key, obj)
