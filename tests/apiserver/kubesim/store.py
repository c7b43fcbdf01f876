"""In-memory object store: one lock, a global monotonic resourceVersion and an event log for watches."""

from __future__ import annotations

import collections
import threading

EVENT_LOG_SIZE = 20000


class Store:
    def __init__(self):
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.rv = 1
        self._data = collections.defaultdict(dict)
        self.events = []
        self.base = 0  # absolute position of events[0]
        self.listeners = []

    def next_rv(self):
        self.rv += 1
        return self.rv

    def oldest_rv(self):
        """Watches may resume from this resourceVersion or later."""
        return self.events[0][0] - 1 if self.base and self.events else 1

    def get(self, key, namespace, name):
        return self._data[key].get((namespace or "", name))

    def items(self, key, namespace=None):
        bucket = self._data[key]
        if namespace is None:
            return [bucket[k] for k in sorted(bucket)]
        return [bucket[k] for k in sorted(bucket) if k[0] == namespace]

    def count(self, key):
        return len(self._data[key])

    def put(self, key, obj):
        """Store a new version of obj (its resourceVersion must already be set by the caller)."""
        meta = obj["metadata"]
        ident = (meta.get("namespace", ""), meta["name"])
        event = "MODIFIED" if ident in self._data[key] else "ADDED"
        self._data[key][ident] = obj
        self._emit(key, event, obj)

    def remove(self, key, obj):
        meta = obj["metadata"]
        self._data[key].pop((meta.get("namespace", ""), meta["name"]), None)
        self._emit(key, "DELETED", obj)

    def _emit(self, key, event, obj):
        self.events.append((int(obj["metadata"]["resourceVersion"]), key, event, obj))
        if len(self.events) > 2 * EVENT_LOG_SIZE:
            del self.events[:EVENT_LOG_SIZE]
            self.base += EVENT_LOG_SIZE
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
