# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Undo of a call's writes when a later write of the same call fails (nothing stays half-applied).

What is put back, and how:

- An object this call created is deleted, with a uid precondition: a same-named object someone else created
  meanwhile is left alone. Changes others made to *our* new object in these seconds go with it (it did not
  exist before the call).
- An object this call changed with server-side apply is put back with a server-side apply of the *previous
  applied configuration* of our field manager: the fields our manager owned before the call (its ``Apply``
  entry in the managedFields of the object read before the write), with the values they had then. The API
  server then restores those values, drops the fields this call added (unless another manager owns them) and
  gives our manager back exactly its previous field set. With ``force_conflicts`` the call may have taken
  fields from other managers: those are put back to their previous values too, and stay owned by our manager
  (an apply cannot hand ownership back).
- An object changed with a merge patch (the node module) is put back with the inverse merge patch.

Never clobbering a later change: before each restore the object is read again. If the fields our write set
no longer have the values our write gave them, someone else changed them after us: the object is left as it
is and reported. The restore then carries the resourceVersion just read as a precondition; a 409 (someone
wrote in between) reads and checks again. Every step that cannot complete is reported object by object.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ansible_collections.kubeforge.cluster.plugins.module_utils.client import APPLY_PATCH, MERGE_PATCH, get_or_none
from ansible_collections.kubeforge.cluster.plugins.module_utils.errors import (
    HTTP_CONFLICT,
    HTTP_NOT_FOUND,
    KubeforgeError,
)

if TYPE_CHECKING:
    from ansible_collections.kubeforge.cluster.plugins.module_utils.client import ApiClient

_ATTEMPTS = 3


def _meta(obj):
    return (obj or {}).get("metadata") or {}


def owned_fields(obj: dict | None, manager: str, operation: str = "Apply") -> dict:
    """FieldsV1 set of ``manager``'s ``operation`` entry in ``obj``'s managedFields ({} when it has none)."""
    for entry in _meta(obj).get("managedFields") or []:
        if entry.get("manager") == manager and entry.get("operation") == operation and not entry.get("subresource"):
            return entry.get("fieldsV1") or {}
    return {}


def union_fields(first: dict, second: dict) -> dict:
    """Union of two FieldsV1 sets."""
    out = copy.deepcopy(first)
    for key, sub in second.items():
        out[key] = union_fields(out.get(key) or {}, sub) if isinstance(sub, dict) else sub
    return out


def _list_member(items, key):
    """(index, element) of a list element named by a FieldsV1 ``k:``/``v:``/``i:`` key, or None."""
    kind, raw = key[:2], key[2:]
    if kind == "i:":
        index = int(raw)
        return (index, items[index]) if index < len(items) else None
    want = json.loads(raw)
    for index, element in enumerate(items):
        if kind == "v:" and element == want:
            return index, element
        if kind == "k:" and isinstance(element, dict) and all(element.get(k) == v for k, v in want.items()):
            return index, element
    return None


def extract(obj: dict | None, fields: dict) -> Any:
    """The part of ``obj`` named by the FieldsV1 set ``fields`` (what ``client-go``'s Extract* functions give)."""
    children = {k: v for k, v in (fields or {}).items() if k != "."}
    if not children:
        return copy.deepcopy(obj)
    if isinstance(obj, dict):
        return {k[2:]: extract(obj[k[2:]], sub) for k, sub in children.items() if k[:2] == "f:" and k[2:] in obj}
    if isinstance(obj, list):
        members = ((_list_member(obj, key), key) for key in children if key[:2] in ("k:", "v:", "i:"))
        found = sorted((member[0], key, member[1]) for member, key in members if member)
        out = []
        for _index, key, element in found:
            part = extract(element, children[key])
            if key[:2] == "k:" and isinstance(part, dict):
                part.update(json.loads(key[2:]))
            out.append(part)
        return out
    return copy.deepcopy(obj)


def _owned_part(obj, fields):
    """``extract`` for a whole object: an empty field set owns nothing (not the whole object)."""
    return extract(obj, fields) if fields else {}


class _Record:
    """One write to undo: a creation (``view`` None) or a change put back by ``restore(current)``, sent as
    ``how`` = (content type, query), when ``view(current)`` still equals ``view(after)``."""

    __slots__ = ("after", "how", "path", "ref", "restore", "view")

    def __init__(self, ref, path, after, change=(None, None, None)):
        self.ref, self.path, self.after = ref, path, after
        self.view, self.restore, self.how = change


class Undo:
    """What one call wrote, and how to put it back (``add_*`` while writing, ``run`` when a write fails)."""

    def __init__(self, client: ApiClient, manager: str = "kubeforge", force: bool = False) -> None:
        self.client = client
        self.manager = manager
        self.force = force
        self.records = []
        self.done = []
        self.left = []

    def add_created(self, ref: str, path: str, after: dict) -> None:
        self.records.append(_Record(ref, path, after=after))

    def add_applied(self, ref: str, path: str, before: dict, after: dict, body: dict) -> None:
        """An object changed by a server-side apply of ``body`` (its apiVersion and kind are reused)."""
        fields = owned_fields(before, self.manager)
        if self.force:
            fields = union_fields(fields, owned_fields(after, self.manager))
        restore = dict(_owned_part(before, fields), apiVersion=body["apiVersion"], kind=body["kind"])
        meta = restore.setdefault("metadata", {})
        meta.update({k: v for k, v in _meta(body).items() if k in ("name", "namespace")})

        def view(obj):
            return _owned_part(obj, owned_fields(obj, self.manager))

        query = {"fieldManager": self.manager, "force": "true"}
        record = _Record(ref, path, after, (view, lambda _current: copy.deepcopy(restore), (APPLY_PATCH, query)))
        self.records.append(record)

    def add_patched(self, ref: str, path: str, after: dict, restore: Callable, view: Callable) -> None:
        """An object changed by a merge patch. ``restore(current)`` gives the inverse merge patch; ``view(obj)``
        the part of the object the change is about - when it is no longer what ``after`` has, someone else
        changed it."""
        self.records.append(_Record(ref, path, after, (view, restore, (MERGE_PATCH, None))))

    @property
    def pending(self) -> bool:
        return bool(self.records)

    def run(self) -> None:
        """Undo every recorded write, last first; fills ``done`` and ``left`` (one line per object)."""
        for record in reversed(self.records):
            if record.view is None:
                self._delete(record)
            else:
                self._restore(record)
        self.records = []

    def _delete(self, record):
        ref = record.ref
        body = {"preconditions": {"uid": _meta(record.after).get("uid")}, "propagationPolicy": "Background"}
        try:
            self.client.request("DELETE", record.path, body=body)
        except KubeforgeError as exc:
            if exc.status == HTTP_NOT_FOUND:
                self.done.append(f"{ref} (created, already deleted by someone else)")
            elif exc.status == HTTP_CONFLICT:
                self.left.append(f"{ref}: replaced by someone else's object of the same name, left in place")
            else:
                self.left.append(f"{ref}: left created (deleting it failed: {exc})")
            return
        self.done.append(f"{ref} (deleted)")

    def _restore(self, record):
        ref, check = record.ref, record.view(record.after)
        content_type, query = record.how
        for _attempt in range(_ATTEMPTS):
            try:
                current = get_or_none(self.client, record.path)
            except KubeforgeError as exc:
                self.left.append(f"{ref}: left as this call wrote it (reading it failed: {exc})")
                return
            if current is None:
                self.left.append(f"{ref}: deleted by someone else after this call changed it, left absent")
                return
            rv = _meta(current).get("resourceVersion")
            if record.view(current) != check:
                self.left.append(
                    f"{ref}: changed by someone else after this call's write, left as they wrote it "
                    f"(resourceVersion {rv})"
                )
                return
            body = record.restore(current)
            body.setdefault("metadata", {})["resourceVersion"] = rv
            try:
                self.client.request("PATCH", record.path, body=body, query=query, content_type=content_type)
            except KubeforgeError as exc:
                if exc.status == HTTP_CONFLICT:
                    continue
                self.left.append(f"{ref}: left as this call wrote it (restoring it failed: {exc})")
                return
            self.done.append(f"{ref} (restored)")
            return
        self.left.append(f"{ref}: left as this call wrote it (it kept changing while being restored)")

    def note(self) -> str:
        """What was rolled back and, object by object, what could not be."""
        text = "rolled back: " + (", ".join(self.done) or "nothing")
        if self.left:
            text += "; ROLLBACK INCOMPLETE, left behind: " + "; ".join(self.left)
        return text

    def partial(self) -> dict:
        """Result keys of a failed call: changed when something stays changed, what was and was not undone."""
        return {"changed": bool(self.left), "rolled_back": list(self.done), "not_rolled_back": list(self.left)}

    def annotate(self, error: KubeforgeError) -> KubeforgeError:
        """``error`` with ``note`` appended and ``partial`` attached."""
        error.msg = "{}; {}".format(error.msg.rstrip("."), self.note())
        error.args = (error.render(),)
        error.partial = dict(error.partial or {}, **self.partial())
        return error
