# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one exception type of the collection's Kubernetes client layer."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ansible_collections.kubeforge.cluster.plugins.module_utils.client import ApiClient

HTTP_UNAUTHORIZED = 401
HTTP_FORBIDDEN = 403
HTTP_NOT_FOUND = 404
HTTP_CONFLICT = 409
HTTP_TOO_MANY_REQUESTS = 429
# Answers that say "try again later" (overloaded, restarting, or an apiserver behind a load balancer): reads retry.
RETRYABLE_STATUS = frozenset((HTTP_TOO_MANY_REQUESTS, 500, 502, 503, 504))


def object_ref(kind: str | None, namespace: str | None, name: str) -> str:
    """``Kind/namespace/name`` (``Kind/name`` for cluster-scoped objects, ``namespace/name`` without a kind): how
    every message names an object."""
    return "/".join([part for part in (kind, namespace) if part] + [f"{name}"])


def describe_object(obj: dict | None) -> str | None:
    """Short reference to a manifest or live object: ``Kind/namespace/name`` (namespace omitted when unset)."""
    if not isinstance(obj, dict):
        return None
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    kind = obj.get("kind") or "<no kind>"
    name = meta.get("name") or meta.get("generateName") or "<no name>"
    return object_ref(kind, meta.get("namespace"), name)


class KubeforgeError(Exception):
    """Every failure of the client layer, rendered as one clear message.

    ``msg`` says what went wrong; ``status``/``reason`` come from the HTTP response or the Kubernetes
    ``Status`` object; ``causes`` is the list of ``{field, message, reason}`` details (422 validation
    errors, SSA conflicts); ``ref`` names the object (``Kind/namespace/name``) the error is about.
    """

    def __init__(self, msg: str, status: int | None = None, **info) -> None:
        self.msg = msg
        self.status = status
        self.reason = info.get("reason")
        self.causes = list(info.get("causes") or [])
        self.ref = info.get("ref")
        self.details = info.get("details")
        self.partial = info.get("partial")  # result keys of work already done (e.g. changed) when failing late
        self.transient = bool(info.get("transient"))
        super().__init__(self.render())

    @property
    def retryable(self) -> bool:
        """A read that failed this way may succeed later (connection lost, 429, 5xx); writes are never retried."""
        return self.transient or self.status in RETRYABLE_STATUS

    def with_ref(self, ref: str | None) -> KubeforgeError:
        """Return the same error attached to the object ``ref`` (kept when already set)."""
        if not self.ref and ref:
            self.ref = ref
            self.args = (self.render(),)
        return self

    def render(self) -> str:
        text = self.msg
        if self.ref and self.ref not in text:
            text = f"{self.ref}: {text}"
        lines = []
        for cause in self.causes:
            field = cause.get("field")
            message = cause.get("message") or cause.get("reason") or ""
            if field and field not in message:
                lines.append(f"{field}: {message}")
            elif message:
                lines.append(message)
        if lines:
            text += " (" + "; ".join(lines) + ")"
        return text

    def __str__(self):
        return self.render()

    def to_result(self) -> dict:
        """Extra keys for ``fail_json``: status, reason and causes when known."""
        result = dict(self.partial or {})
        if self.status is not None:
            result["status"] = self.status
        if self.reason:
            result["reason"] = self.reason
        if self.causes:
            result["causes"] = self.causes
        if self.ref:
            result["object"] = self.ref
        return result


def batch_error(failures: list, what: str, note: str) -> KubeforgeError:
    """One KubeforgeError naming every failed object of a batch (``what``: what failed, ``note``: what follows)."""
    if len(failures) == 1:
        error = failures[0]
        error.msg = f"{error.msg.rstrip('.')}; {note}"
        error.args = (error.render(),)
        return error
    lines = [f"- {failure}" for failure in failures]
    first = failures[0]
    return KubeforgeError(
        f"{len(failures)} objects failed {what}; {note}:\n" + "\n".join(lines),
        status=first.status,
        reason=first.reason,
        causes=[dict(cause, object=f.ref) for f in failures for cause in f.causes],
    )


def run_parallel(client: ApiClient, fn: Callable, items: Iterable, workers: int, failed: tuple) -> list:
    """``client.map(fn, items, workers)``; when any call failed, one error naming every failure (batch_error).

    ``failed`` is ``(what, note)`` for batch_error; ``note`` is a string, or a function returning it (run only on
    failure, e.g. to undo what the batch wrote first).
    """
    outcomes = client.map(fn, items, workers)
    failures = [outcome for outcome in outcomes if isinstance(outcome, KubeforgeError)]
    if failures:
        what, note = failed
        raise batch_error(failures, what, note() if callable(note) else note)
    return outcomes
