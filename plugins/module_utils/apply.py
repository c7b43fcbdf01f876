# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Server-side apply of a batch of objects: validate whole (server dry-run), write in order, prune, wait.

``apply_manifests`` is the one apply path of every module; ``run_batch`` the same without a module.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ansible_collections.kubeforge.cluster.plugins.module_utils.apply_items import (
    FIRST_LATE_STAGE,
    comparable,
    delete_item,
    diffs,
    prepare_items,
    resource_version,
)
from ansible_collections.kubeforge.cluster.plugins.module_utils.applyset import APPLYSET_PART_OF, ApplySet
from ansible_collections.kubeforge.cluster.plugins.module_utils.args import (
    APPLY_ARG_SPEC,
    BATCH_ARG_SPEC,
    WAIT_ARG_SPEC,
    spec_defaults,
)
from ansible_collections.kubeforge.cluster.plugins.module_utils.client import (
    APPLY_PATCH,
    default_namespace,
    get_or_none,
)
from ansible_collections.kubeforge.cluster.plugins.module_utils.discovery import Discovery
from ansible_collections.kubeforge.cluster.plugins.module_utils.errors import (
    HTTP_CONFLICT,
    HTTP_NOT_FOUND,
    KubeforgeError,
    run_parallel,
)
from ansible_collections.kubeforge.cluster.plugins.module_utils.manifests import redact, secret_values, strip_noise
from ansible_collections.kubeforge.cluster.plugins.module_utils.rollback import Undo
from ansible_collections.kubeforge.cluster.plugins.module_utils.waiters import wait_for

if TYPE_CHECKING:
    from ansible_collections.kubeforge.cluster.plugins.module_utils.client import ApiClient

_LIST_THRESHOLD = 10

# Defaults of the options a batch reads, as the argument specs state them.
_DEFAULTS = spec_defaults(APPLY_ARG_SPEC, WAIT_ARG_SPEC, BATCH_ARG_SPEC)


def option(options: dict, name: str) -> Any:
    """``options[name]``, or the argument spec's default when it is unset or empty."""
    return options.get(name) or _DEFAULTS[name]


@dataclasses.dataclass(frozen=True)
class BatchOptions:
    """The options of one apply call, parsed once (defaults from the argument specs)."""

    state: str
    namespace: str | None
    field_manager: str
    force_conflicts: bool
    apply_set: str | None
    prune: bool
    wait: bool
    wait_timeout: int
    wait_sleep: float
    delete_propagation: str
    return_objects: bool
    workers: int
    labels: dict = dataclasses.field(default_factory=dict)
    check_mode: bool = False
    diff: bool = False

    @classmethod
    def parse(cls, options: dict) -> BatchOptions:
        """From a dict of module options (see run_batch); unset or empty options take the spec's default."""
        return cls(
            labels=dict(options.get("labels") or {}),
            check_mode=bool(options.get("check_mode")),
            diff=bool(options.get("diff")),
            **{name: option(options, name) for name in _DEFAULTS},
        )


def _conflict_hint(error, options):
    if error.status == HTTP_CONFLICT and error.reason == "Conflict" and not options.force_conflicts:
        error.msg += " - set force_conflicts=true to take over these fields"
        error.args = (error.render(),)
    return error


class Batch:
    """Applies or deletes one call's objects as a unit."""

    def __init__(self, client: ApiClient, discovery: Discovery, options: BatchOptions) -> None:
        self.client = client
        self.discovery = discovery
        self.options = options
        self.workers = options.workers
        self.check_mode = options.check_mode
        self.items = []
        self.pruned = []
        self.undo = Undo(client, options.field_manager, options.force_conflicts)

    def prepare(self, manifests: list, allow_deferred: bool = True) -> list:
        """Check each manifest, resolve its kind, fill in its namespace; every problem reported at once."""
        namespace = default_namespace(self.client, self.options.namespace)
        self.items = prepare_items(self.discovery, manifests, namespace, self.options.labels, allow_deferred)
        return self.items

    # --- reading --------------------------------------------------------------------------------------
    def fetch_live(self, items: list, lists_only: bool = False) -> None:
        """Live state of items: one LIST per big (resource, namespace) group, GETs for the rest (unless
        ``lists_only``: then the rest is read right before its dry-run, in the same worker)."""
        groups = {}
        for item in items:
            if item.resource is not None:
                groups.setdefault(
                    (item.resource.group, item.resource.version, item.resource.plural, item.namespace), []
                ).append(item)
        singles, lists = [], []
        for members in groups.values():
            (lists if len(members) >= _LIST_THRESHOLD else singles).append(members)

        def _list(members):
            objs, _page = self.client.list_all(members[0].path(with_name=False))
            by_name = {(o.get("metadata") or {}).get("name"): o for o in objs}
            for member in members:
                listed = by_name.get(member.name)
                # List items carry no apiVersion/kind: put them back so they compare with single reads.
                member.live = dict(listed, apiVersion=member.body["apiVersion"], kind=member.kind) if listed else None
                member.fetched = True

        calls = [(_list, members) for members in lists]
        if not lists_only:
            calls += [(self._get, item) for members in singles for item in members]
        failed = ("to read", "nothing was applied")
        run_parallel(self.client, lambda call: call[0](call[1]), calls, self.workers, failed)

    def _get(self, item):
        try:
            item.live = get_or_none(self.client, item.path())
        except KubeforgeError as exc:
            raise exc.with_ref(item.ref) from None
        item.fetched = True

    def _apply_one(self, item, dry_run):
        query = {"fieldManager": self.options.field_manager, "fieldValidation": "Strict"}
        if self.options.force_conflicts:
            query["force"] = "true"
        if dry_run:
            query["dryRun"] = "All"
        try:
            return self.client.request("PATCH", item.path(), body=item.body, query=query, content_type=APPLY_PATCH)
        except KubeforgeError as exc:
            if (
                exc.status == HTTP_NOT_FOUND
                and item.namespace
                and exc.details
                and exc.details.get("kind") == "namespaces"
            ):
                exc.msg = f"namespace {item.namespace} does not exist (metadata.namespace)"
            raise _conflict_hint(exc.with_ref(item.ref), self.options) from None

    def dry_run(self, items: list) -> None:
        """Server dry-run apply of every item; sets ``dry`` and the predicted ``action``."""
        manager = self.options.field_manager

        def _one(item):
            if not item.fetched:
                self._get(item)
            item.dry = self._apply_one(item, dry_run=True)
            if item.live is not None and resource_version(item.dry) != resource_version(item.live):
                item.live = self.client.request("GET", item.path())  # changed since read (a controller wrote)
            if item.live is None:
                item.action = "created"
            elif comparable(item.dry, manager) == comparable(item.live, manager):
                item.action = "unchanged"
            else:
                item.action = "configured"

        failed = ("server-side validation (dry-run)", "nothing was applied")
        run_parallel(self.client, _one, items, self.workers, failed)

    # --- writing --------------------------------------------------------------------------------------
    def _write_stage(self, items):
        def _one(item):
            item.result = self._apply_one(item, dry_run=False)
            if item.live is None:
                item.action = "created"
                self.undo.add_created(item.ref, item.path(), item.result)
            elif resource_version(item.result) == resource_version(item.live):
                item.action = "unchanged"
            else:
                item.action = "configured"
                self.undo.add_applied(item.ref, item.path(), item.live, item.result, item.body)

        def _rolled_back():
            self.undo.run()
            return self.undo.note()

        todo = [i for i in items if i.action != "unchanged"]
        try:
            run_parallel(self.client, _one, todo, self.workers, ("to apply", _rolled_back))
        except KubeforgeError as error:
            error.partial = self.undo.partial()
            raise

    def _resolve_deferred(self, deferred):
        """Objects whose namespace or CRD this call creates: resolve and validate them once those exist."""
        crds = [i for i in self.items if i.kind == "CustomResourceDefinition" and i.action == "created"]
        if crds:
            wait_for(self.client, [(i.resource, i.name, None) for i in crds], self.options.wait_timeout, 0.5)
        for item in deferred:
            if item.resource is None:
                item.resource = self.discovery.resolve(item.body["apiVersion"], item.kind)
                if not item.resource.namespaced:
                    item.namespace = None
                    item.body["metadata"].pop("namespace", None)
        self.fetch_live(deferred)
        self.dry_run(deferred)

    def _undo_on_error(self, step, *args):
        """Run ``step(*args)``; if it fails, undo what this call wrote and say so in the error."""
        try:
            step(*args)
        except KubeforgeError as exc:
            self.undo.run()
            raise self.undo.annotate(exc) from None

    def apply(self, after_namespaces: Callable | None = None) -> None:
        """Validate the whole batch, then write changed objects stage by stage.

        ``after_namespaces()`` runs once the batch's Namespaces are written (in check mode: after validation),
        before any other object: the apply set parent, which may live in one of them.
        """
        self.fetch_live([i for i in self.items if i.kind == "Namespace"])
        new_namespaces = {i.name for i in self.items if i.kind == "Namespace" and i.live is None}
        for item in self.items:
            if item.resource is not None and item.namespace in new_namespaces and item.kind != "Namespace":
                item.deferred = True
        deferred = [i for i in self.items if i.deferred]
        self.fetch_live([i for i in self.items if not i.deferred and not i.fetched], lists_only=True)
        self.dry_run([i for i in self.items if not i.deferred])
        if self.check_mode:
            for item in deferred:
                item.action = "created"
                item.dry = item.body
            if after_namespaces:
                after_namespaces()
            return
        early = [i for i in self.items if i.stage < FIRST_LATE_STAGE]
        for stage in sorted({i.stage for i in early}):
            self._write_stage([i for i in early if i.stage == stage])
            if stage == 0 and after_namespaces:
                self._undo_on_error(after_namespaces)
                after_namespaces = None
        if after_namespaces:
            self._undo_on_error(after_namespaces)
        if deferred:
            self._undo_on_error(self._resolve_deferred, deferred)
        late = [i for i in self.items if i.stage >= FIRST_LATE_STAGE]
        for stage in sorted({i.stage for i in late}):
            self._write_stage([i for i in late if i.stage == stage])

    def delete(self, propagation: str = "Background") -> None:
        """Delete every item (dry-run first for the whole batch), last stage first."""
        query = {"propagationPolicy": propagation}

        def _delete(item, dry_run):
            response = delete_item(self.client, item, dict(query, dryRun="All") if dry_run else query)
            if response is None:
                item.action = "absent"
                return
            if dry_run and response.get("kind") == item.kind:
                item.live = response
            item.action = "deleted"

        failed = ("the deletion dry-run", "nothing was deleted")
        run_parallel(self.client, lambda i: _delete(i, True), self.items, self.workers, failed)
        if self.check_mode:
            return
        present = [i for i in self.items if i.action == "deleted"]
        for stage in sorted({i.stage for i in present}, reverse=True):
            members = [i for i in present if i.stage == stage]
            failed = ("to delete", "later stages were not deleted")
            run_parallel(self.client, lambda i: _delete(i, False), members, self.workers, failed)

    @property
    def changed(self) -> bool:
        return any(i.action not in ("unchanged", "absent") for i in self.items) or bool(self.pruned)


def _wait(client, batch, options, result):
    timeout, sleep = options.wait_timeout, options.wait_sleep
    targets = [(i.resource, i.name, i.namespace) for i in batch.items if i.action != "absent"]
    try:
        wait_for(client, targets, timeout, sleep, absent=options.state == "absent")
        if batch.pruned:
            wait_for(client, [(i.resource, i.name, i.namespace) for i in batch.pruned], timeout, sleep, absent=True)
    except KubeforgeError as exc:
        exc.partial = result
        raise


def _result(batch, applyset, options):
    result = {
        "changed": batch.changed or bool(applyset and applyset.changed),
        "objects": [i.summary() for i in batch.items],
        "pruned": [i.summary() for i in batch.pruned],
    }
    if options.wait and not options.check_mode:
        _wait(batch.client, batch, options, result)
    if applyset:
        result["apply_set"] = applyset.summary()
    if options.return_objects:
        result["resources"] = [
            redact(strip_noise(i.result or i.dry or i.live, keep_status=True))
            for i in batch.items
            if i.action != "absent"
        ]
    if options.diff:
        result["diff"] = diffs(list(batch.items) + list(batch.pruned))
    return result


def run_batch(client: ApiClient, discovery: Discovery, manifests: list, options: dict) -> dict:
    """Apply (``state=present``) or delete (``state=absent``) ``manifests`` as one batch; return the result dict.

    ``options``: state, namespace, field_manager, force_conflicts, apply_set, prune, wait, wait_timeout,
    wait_sleep, delete_propagation, return_objects, labels, workers, check_mode, diff.
    """
    options = BatchOptions.parse(options)
    applyset = None
    if options.apply_set:
        namespace = default_namespace(client, options.namespace)
        applyset = ApplySet(client, discovery, options.apply_set, namespace, options)
        options = dataclasses.replace(options, labels=dict(options.labels, **{APPLYSET_PART_OF: applyset.id}))
    elif options.prune:
        raise KubeforgeError("prune=true needs apply_set: the name of the apply set whose old members to delete")
    batch = Batch(client, discovery, options)
    batch.prepare(manifests, allow_deferred=options.state == "present")
    if options.state == "absent":
        batch.delete(options.delete_propagation)
    elif applyset:
        record = applyset.begin(batch.items)
        # The parent is recorded once the batch's Namespaces exist: it may live in one of them.
        batch.apply(after_namespaces=record)
        if options.prune:
            batch.pruned = applyset.prune(batch.items)
        applyset.finish(batch.items)
    else:
        batch.apply()
    return _result(batch, applyset, options)


def protect_secrets(module: Any, objects: list) -> None:
    """Register the values of Secret manifests as no_log values, so no output ever shows them."""
    for obj in objects:
        module.no_log_values.update(secret_values(obj))


def apply_manifests(module: Any, client: ApiClient, objects: list, **overrides) -> dict:
    """Apply or delete ``objects`` with the module's options (the one apply path of every module)."""
    protect_secrets(module, objects)
    options = {name: module.params.get(name) for name in _DEFAULTS}
    options.update(overrides)
    options["check_mode"] = module.check_mode
    options["diff"] = module._diff
    return run_batch(client, Discovery(client), objects, options)
