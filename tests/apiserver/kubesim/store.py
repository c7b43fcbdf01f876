"""In-memory object store: one lock, a global monotonic resourceVersion and an event log for watches."""

from __future__ import annotations

import collections
import threading

EVENT_LOG_SIZE = 20000


def _refs(obj):
    return {r.get("uid") for r in obj["metadata"].get("ownerReferences") or [] if r.get("uid")}


class Store:
    def __init__(self):
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.rv = 1
        # key -> namespace ("" for cluster scope) -> name -> object; objects are never mutated once stored
        self._data = collections.defaultdict(lambda: collections.defaultdict(dict))
        self.children = collections.defaultdict(set)  # owner uid -> {(key, namespace, name)}
        self.events = []
        self.base = 0  # absolute position of events[0]
        self.log_size = EVENT_LOG_SIZE
        self.listeners = []

    def next_rv(self):
        self.rv += 1
        return self.rv

    def oldest_rv(self):
        """Watches may resume from this resourceVersion or later."""
        return self.events[0][0] - 1 if self.base and self.events else 1

    def get(self, key, namespace, name):
        return self._data[key][namespace or ""].get(name)

    def items(self, key, namespace=None):
        """Objects of `key` sorted by namespace and name (in one namespace, or all when None)."""
        spaces = self._data[key]
        if namespace is not None:
            bucket = spaces.get(namespace)
            return [bucket[n] for n in sorted(bucket)] if bucket else []
        return [spaces[ns][n] for ns in sorted(spaces) for n in sorted(spaces[ns])]

    def dependents(self, uid):
        """Stored objects whose ownerReferences name `uid`."""
        out = []
        for key, namespace, name in sorted(self.children.get(uid, ())):
            obj = self.get(key, namespace, name)
            if obj is not None:
                out.append((key, obj))
        return out

    def put(self, key, obj):
        """Store a new version of obj (its resourceVersion must already be set by the caller)."""
        meta = obj["metadata"]
        namespace, name = meta.get("namespace", ""), meta["name"]
        bucket = self._data[key][namespace]
        old = bucket.get(name)
        event = "MODIFIED" if old is not None else "ADDED"
        bucket[name] = obj
        self._index(key, (namespace, name), _refs(old) if old is not None else set(), _refs(obj))
        self._emit(key, event, obj)

    def remove(self, key, obj):
        meta = obj["metadata"]
        namespace, name = meta.get("namespace", ""), meta["name"]
        old = self._data[key][namespace].pop(name, None)
        if not self._data[key][namespace]:
            del self._data[key][namespace]
        self._index(key, (namespace, name), _refs(old) if old is not None else set(), set())
        self._emit(key, "DELETED", obj)

    def _index(self, key, ident, before, after):
        entry = (key, *ident)
        for uid in before - after:
            self.children[uid].discard(entry)
            if not self.children[uid]:
                del self.children[uid]
        for uid in after - before:
            self.children[uid].add(entry)

    def _emit(self, key, event, obj):
        self.events.append((int(obj["metadata"]["resourceVersion"]), key, event, obj))
        if len(self.events) > 2 * self.log_size:
            del self.events[: self.log_size]
            self.base += self.log_size
        for listener in self.listeners:
            listener(key, event, obj)
        self.changed.notify_all()

    def end(self):
        """Absolute position after the last event."""
        return self.base + len(self.events)

    def position_after(self, rv):
        """Absolute position of the first event newer than rv (caller holds the lock)."""
        low, high = 0, len(self.events)
        while low < high:
            mid = (low + high) // 2
            if self.events[mid][0] <= rv:
                low = mid + 1
            else:
                high = mid
        return self.base + low

    def events_from(self, position):
        """(events from an absolute position, next position); position clamps to what is kept."""
        start = max(position - self.base, 0)
        return self.events[start:], self.end()
