"""ControllerRevisions: the template history of DaemonSets and StatefulSets."""

from __future__ import annotations

import copy

from .. import resources
from .base import DS_HASH, child_metadata


class RevisionHistory:
    """Mixed into the DaemonSet and StatefulSet controllers (needs Controller's ``_owned`` and ``_delete``)."""

    def _record_revision(self, owner, pod_hash):
        """Make the ControllerRevision of the owner's template the newest, as the DaemonSet and StatefulSet
        controllers do: create it (revision = highest + 1, the owner's annotations copied) or renumber the one of
        a template seen before (a rollback); then delete the oldest beyond spec.revisionHistoryLimit. ``data`` is
        the patch that puts the template back: ``{"spec": {"template": {..., "$patch": "replace"}}}``."""
        template = copy.deepcopy(owner["spec"].get("template") or {})
        data = {"spec": {"template": {**template, "$patch": "replace"}}}
        history = self._owned("apps/controllerrevisions", owner)
        top = max((h.get("revision", 0) for h in history), default=0)
        current = next((h for h in history if h.get("data") == data), None)
        if current is None:
            labels = dict((template.get("metadata") or {}).get("labels") or {})
            labels[DS_HASH] = pod_hash
            annotations = dict(owner["metadata"].get("annotations") or {})
            body = {
                "apiVersion": "apps/v1",
                "kind": "ControllerRevision",
                "metadata": child_metadata(owner, pod_hash, labels, annotations),
                "data": data,
                "revision": top + 1,
            }
            current = self.api.system_create(resources.apps("controllerrevisions"), body)
        elif current.get("revision", 0) < top:
            renumbered = copy.deepcopy(current)
            renumbered["revision"] = top + 1
            current = self.api.system_write("apps/controllerrevisions", renumbered, "kube-controller-manager", "")
        olds = sorted(
            (h for h in history if current is None or h["metadata"]["uid"] != current["metadata"]["uid"]),
            key=lambda h: h.get("revision", 0),
        )
        excess = len(olds) - owner["spec"].get("revisionHistoryLimit", 10)
        for old in olds[: max(excess, 0)]:
            self._delete("apps/controllerrevisions", old)
