# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Server-side apply of a batch of objects: validate whole (server dry-run), write in order, prune, wait."""

from __future__ import annotations

import base64
import hashlib

from ansible_collections.kubeforge.cluster.plugins.module_utils.args import (
    APPLY_ARG_SPEC,
    BATCH_ARG_SPEC,
    WAIT_ARG_SPEC,
    spec_defaults,
)
from ansible_collections.kubeforge.cluster.plugins.module_utils.client import (
    APPLY_PATCH,
    api_path,
    default_namespace,
    get_or_none,
    resource_path,
)
from ansible_collections.kubeforge.cluster.plugins.module_utils.discovery import split_api_version
from ansible_collections.kubeforge.cluster.plugins.module_utils.errors import (
    HTTP_CONFLICT,
    HTTP_NOT_FOUND,
    KubeforgeError,
    describe_object,
    object_ref,
)
from ansible_collections.kubeforge.cluster.plugins.module_utils.manifests import redact, strip_noise, to_yaml
from ansible_collections.kubeforge.cluster.plugins.module_utils.rollback import Undo
from ansible_collections.kubeforge.cluster.plugins.module_utils.waiters import wait_for

# Write stages: objects of one stage go in parallel, stages one after the other (deletion in reverse).
_STAGES = (
    ("Namespace",),
    ("CustomResourceDefinition",),
    (
        "PriorityClass",
        "StorageClass",
        "PersistentVolume",
        "ResourceQuota",
        "LimitRange",
        "ServiceAccount",
        "Secret",
        "ConfigMap",
        "PersistentVolumeClaim",
        "ClusterRole",
        "Role",
        "ClusterRoleBinding",
        "RoleBinding",
        "NetworkPolicy",
        "IngressClass",
    ),
    (
        "Service",
        "Pod",
        "ReplicationController",
        "ReplicaSet",
        "Deployment",
        "StatefulSet",
        "DaemonSet",
        "Job",
        "CronJob",
    ),
    ("HorizontalPodAutoscaler", "PodDisruptionBudget", "Ingress", "Endpoints", "EndpointSlice"),
)
_BUILTIN_GROUPS = (
    "",
    "apps",
    "batch",
    "autoscaling",
    "policy",
    "networking.k8s.io",
    "rbac.authorization.k8s.io",
    "storage.k8s.io",
    "scheduling.k8s.io",
    "apiextensions.k8s.io",
    "discovery.k8s.io",
)
_STAGE_OF = {kind: index for index, kinds in enumerate(_STAGES) for kind in kinds}
_LIST_THRESHOLD = 10
# Namespaces and CRDs (stages 0 and 1) are written before the objects that may live in them.
_FIRST_LATE_STAGE = 2

APPLYSET_PART_OF = "applyset.kubernetes.io/part-of"
APPLYSET_ID = "applyset.kubernetes.io/id"
APPLYSET_TOOLING = "applyset.kubernetes.io/tooling"
APPLYSET_KINDS = "applyset.kubernetes.io/contains-group-kinds"
APPLYSET_NAMESPACES = "applyset.kubernetes.io/additional-namespaces"
TOOLING = "kubeforge/v1"


# Defaults of the options a batch reads, as the argument specs state them.
_DEFAULTS = spec_defaults(APPLY_ARG_SPEC, WAIT_ARG_SPEC, BATCH_ARG_SPEC)


def option(options, name):
    """``options[name]``, or the argument spec's default when it is unset or empty."""
    return options.get(name) or _DEFAULTS[name]


def stage_of(kind, group):
    """Write stage of a kind: Namespaces, then CRDs, then config, workloads, dependants, custom resources."""
    if group in _BUILTIN_GROUPS and kind in _STAGE_OF:
        return _STAGE_OF[kind]
    return len(_STAGES)


class Item:
    """One object of a batch and what happened to it."""

    __slots__ = ("action", "body", "deferred", "dry", "fetched", "live", "name", "namespace", "resource", "result")

    def __init__(self, body, resource, name, namespace):
        self.body = body
        self.resource = resource
        self.name = name
        self.namespace = namespace
        self.live = None
        self.dry = None
        self.result = None
        self.action = None
        self.deferred = False
        self.fetched = False  # live state read (live is None when the object does not exist)

    @property
    def kind(self):
        return self.body["kind"]

    @property
    def ref(self):
        return object_ref(self.kind, self.namespace, self.name)

    @property
    def key(self):
        group = split_api_version(self.body["apiVersion"])[0]
        return group, self.kind, self.namespace or "", self.name

    @property
    def stage(self):
        return stage_of(self.kind, split_api_version(self.body["apiVersion"])[0])

    def path(self, with_name=True):
        return resource_path(self.resource, self.name if with_name else None, self.namespace)

    def summary(self):
        out = {"apiVersion": self.body["apiVersion"], "kind": self.kind, "name": self.name, "action": self.action}
        if self.namespace:
            out["namespace"] = self.namespace
        obj = self.result or self.dry or self.live
        if obj:
            out["uid"] = (obj.get("metadata") or {}).get("uid")
            out["resourceVersion"] = (obj.get("metadata") or {}).get("resourceVersion")
        return out


def _comparable(obj, manager):
    """What an apply by ``manager`` can change: the object without status and server bookkeeping, plus the
    manager's own managedFields entries (other managers' entries move whenever controllers write status)."""
    meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in ("resourceVersion", "managedFields")}
    owned = [
        {k: v for k, v in entry.items() if k != "time"}
        for entry in (obj.get("metadata") or {}).get("managedFields") or []
        if entry.get("manager") == manager
    ]
    body = {k: v for k, v in obj.items() if k not in ("status", "metadata")}
    return body, meta, sorted(owned, key=lambda e: (e.get("operation", ""), e.get("subresource", "")))


def _resource_version(obj):
    return ((obj or {}).get("metadata") or {}).get("resourceVersion")


def batch_error(failures, what, note):
    """One KubeforgeError naming every failed object of a batch."""
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


def _conflict_hint(error, options):
    if error.status == HTTP_CONFLICT and error.reason == "Conflict" and not options.get("force_conflicts"):
        error.msg += " - set force_conflicts=true to take over these fields"
        error.args = (error.render(),)
    return error


def _shape_problem(index, manifest, where):
    """KubeforgeError naming the missing fields of a manifest, or None."""
    if not isinstance(manifest, dict):
        return KubeforgeError(f"object {index} is not a mapping")
    missing = [f for f in ("apiVersion", "kind") if not isinstance(manifest.get(f), str) or not manifest.get(f)]
    meta = manifest.get("metadata")
    if not isinstance(meta, dict) or not meta.get("name"):
        missing.append("metadata.name")
    if missing:
        return KubeforgeError(f"object {index} ({where}): " + ", ".join(missing) + " missing")
    return None


def applyset_id(name, namespace):
    """ApplySet id of a parent Secret, as kubectl computes it."""
    digest = hashlib.sha256((f"{name}.{namespace}.Secret.").encode()).digest()
    return "applyset-{}-v1".format(base64.urlsafe_b64encode(digest).decode().rstrip("="))


class Batch:
    """Applies or deletes one call's objects as a unit."""

    def __init__(self, client, discovery, options):
        self.client = client
        self.discovery = discovery
        self.options = options
        self.workers = option(options, "workers")
        self.check_mode = bool(options.get("check_mode"))
        self.items = []
        self.pruned = []
        self.parent_changed = False
        self.undo = Undo(client, option(options, "field_manager"), bool(options.get("force_conflicts")))

    # --- preparing ------------------------------------------------------------------------------------
    def _default_namespace(self):
        return default_namespace(self.client, self.options.get("namespace"))

    def prepare(self, manifests, allow_deferred=True):
        """Check each manifest, resolve its kind, fill in its namespace; every problem reported at once."""
        failures = []
        batch_crds = {
            ((m.get("spec") or {}).get("group"), ((m.get("spec") or {}).get("names") or {}).get("kind"))
            for m in manifests
            if isinstance(m, dict) and m.get("kind") == "CustomResourceDefinition"
        }
        seen = {}
        for index, manifest in enumerate(manifests):
            where = describe_object(manifest) or f"object {index}"
            problem = _shape_problem(index, manifest, where)
            if problem:
                failures.append(problem)
                continue
            api_version, kind = manifest["apiVersion"], manifest["kind"]
            deferred = False
            try:
                resource = self.discovery.resolve(api_version, kind)
            except KubeforgeError as exc:
                if not allow_deferred or (split_api_version(api_version)[0], kind) not in batch_crds:
                    failures.append(exc.with_ref(where))
                    continue
                resource, deferred = None, True
            if resource is not None and resource.kind != kind:
                failures.append(KubeforgeError(f"kind must be the exact kind {resource.kind}, not {kind}", ref=where))
                continue
            item = self._item(manifest, resource)
            item.deferred = deferred
            if item.key in seen:
                failures.append(
                    KubeforgeError(f"declared twice in one call (objects {seen[item.key]} and {index})", ref=item.ref)
                )
                continue
            seen[item.key] = index
            self.items.append(item)
        if failures:
            raise batch_error(failures, "validation", "nothing was applied")
        self.items.sort(key=lambda i: i.stage)
        return self.items

    def _item(self, manifest, resource):
        """Item for a checked manifest: namespace filled in (or dropped for cluster-scoped kinds), labels added."""
        meta = dict(manifest["metadata"])
        namespaced = resource.namespaced if resource is not None else True
        namespace = (meta.get("namespace") or self._default_namespace()) if namespaced else None
        if namespace:
            meta["namespace"] = namespace
        else:
            meta.pop("namespace", None)
        extra_labels = self.options.get("labels") or {}
        if extra_labels:
            meta["labels"] = dict(meta.get("labels") or {}, **extra_labels)
        return Item(dict(manifest, metadata=meta), resource, meta["name"], namespace)

    # --- reading --------------------------------------------------------------------------------------
    def fetch_live(self, items, lists_only=False):
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
        outcomes = self.client.map(lambda call: call[0](call[1]), calls, self.workers)
        failures = [o for o in outcomes if isinstance(o, KubeforgeError)]
        if failures:
            raise batch_error(failures, "to read", "nothing was applied")

    def _get(self, item):
        try:
            item.live = get_or_none(self.client, item.path())
        except KubeforgeError as exc:
            raise exc.with_ref(item.ref) from None
        item.fetched = True

    def _apply_one(self, item, dry_run):
        query = {"fieldManager": option(self.options, "field_manager"), "fieldValidation": "Strict"}
        if self.options.get("force_conflicts"):
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

    def dry_run(self, items):
        """Server dry-run apply of every item; sets ``dry`` and the predicted ``action``."""

        manager = option(self.options, "field_manager")

        def _one(item):
            if not item.fetched:
                self._get(item)
            item.dry = self._apply_one(item, dry_run=True)
            if item.live is not None and _resource_version(item.dry) != _resource_version(item.live):
                item.live = self.client.request("GET", item.path())  # changed since read (a controller wrote)
            if item.live is None:
                item.action = "created"
            elif _comparable(item.dry, manager) == _comparable(item.live, manager):
                item.action = "unchanged"
            else:
                item.action = "configured"

        failures = [o for o in self.client.map(_one, items, self.workers) if isinstance(o, KubeforgeError)]
        if failures:
            raise batch_error(failures, "server-side validation (dry-run)", "nothing was applied")

    # --- writing --------------------------------------------------------------------------------------
    def _write_stage(self, items):
        def _one(item):
            item.result = self._apply_one(item, dry_run=False)
            if item.live is None:
                item.action = "created"
                self.undo.add_created(item.ref, item.path(), item.result)
            elif _resource_version(item.result) == _resource_version(item.live):
                item.action = "unchanged"
            else:
                item.action = "configured"
                self.undo.add_applied(item.ref, item.path(), item.live, item.result, item.body)

        todo = [i for i in items if i.action != "unchanged"]
        failures = [o for o in self.client.map(_one, todo, self.workers) if isinstance(o, KubeforgeError)]
        if failures:
            self.undo.run()
            error = batch_error(failures, "to apply", self.undo.note())
            error.partial = self.undo.partial()
            raise error

    def _resolve_deferred(self, deferred):
        """Objects whose namespace or CRD this call creates: resolve and validate them once those exist."""
        crds = [i for i in self.items if i.kind == "CustomResourceDefinition" and i.action == "created"]
        if crds:
            timeout = self.options.get("wait_timeout") or 60
            wait_for(self.client, [(i.resource, i.name, None) for i in crds], timeout, 0.5)
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

    def apply(self, after_namespaces=None):
        """Validate the whole batch, then write changed objects stage by stage.

        ``after_namespaces()`` runs once the batch's Namespaces are written (in check mode: after validation),
        before any other object: the apply set parent, which may live in one of them.
        """
        new_namespaces = set()
        self.fetch_live([i for i in self.items if i.kind == "Namespace"])
        for item in self.items:
            if item.kind == "Namespace" and item.live is None:
                new_namespaces.add(item.name)
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
        early = [i for i in self.items if i.stage < _FIRST_LATE_STAGE]
        for stage in sorted({i.stage for i in early}):
            self._write_stage([i for i in early if i.stage == stage])
            if stage == 0 and after_namespaces:
                self._undo_on_error(after_namespaces)
                after_namespaces = None
        if after_namespaces:
            self._undo_on_error(after_namespaces)
        if deferred:
            self._undo_on_error(self._resolve_deferred, deferred)
        late = [i for i in self.items if i.stage >= _FIRST_LATE_STAGE]
        for stage in sorted({i.stage for i in late}):
            self._write_stage([i for i in late if i.stage == stage])

    def delete(self, propagation="Background"):
        """Delete every item (dry-run first for the whole batch), last stage first."""
        query = {"propagationPolicy": propagation}

        def _delete(item, dry_run):
            try:
                response = self.client.request(
                    "DELETE", item.path(), query=dict(query, dryRun="All") if dry_run else query
                )
            except KubeforgeError as exc:
                if exc.status == HTTP_NOT_FOUND:
                    item.action = "absent"
                    return
                raise exc.with_ref(item.ref) from None
            if dry_run and response and response.get("kind") == item.kind:
                item.live = response
            item.action = "deleted"

        failures = [
            o
            for o in self.client.map(lambda i: _delete(i, True), self.items, self.workers)
            if isinstance(o, KubeforgeError)
        ]
        if failures:
            raise batch_error(failures, "the deletion dry-run", "nothing was deleted")
        if self.check_mode:
            return
        present = [i for i in self.items if i.action == "deleted"]
        for stage in sorted({i.stage for i in present}, reverse=True):
            members = [i for i in present if i.stage == stage]
            failures = [
                o
                for o in self.client.map(lambda i: _delete(i, False), members, self.workers)
                if isinstance(o, KubeforgeError)
            ]
            if failures:
                raise batch_error(failures, "to delete", "later stages were not deleted")

    # --- apply sets and prune -------------------------------------------------------------------------
    def applyset_parent(self, name):
        namespace = self._default_namespace()
        return {"name": name, "namespace": namespace, "id": applyset_id(name, namespace)}

    def _parent_body(self, parent, group_kinds, namespaces):
        extra = sorted(ns for ns in namespaces if ns and ns != parent["namespace"])
        return {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {
                "name": parent["name"],
                "namespace": parent["namespace"],
                "labels": {APPLYSET_ID: parent["id"]},
                "annotations": {
                    APPLYSET_TOOLING: TOOLING,
                    APPLYSET_KINDS: ",".join(sorted(group_kinds)),
                    APPLYSET_NAMESPACES: ",".join(extra),
                },
            },
        }

    def _write_parent(self, parent, group_kinds, namespaces, previous):
        body = self._parent_body(parent, group_kinds, namespaces)
        if previous is not None:
            old = (previous.get("metadata") or {}).get("annotations") or {}
            if all(old.get(k) == v for k, v in body["metadata"]["annotations"].items()):
                return
        self.parent_changed = True
        if self.check_mode:
            return
        path = api_path("v1", "secrets", parent["namespace"], parent["name"])
        query = {"fieldManager": option(self.options, "field_manager"), "force": "true"}
        try:
            self.client.request("PATCH", path, body=body, query=query, content_type=APPLY_PATCH)
        except KubeforgeError as exc:
            ref = object_ref("Secret", parent["namespace"], parent["name"])
            raise exc.with_ref(f"apply set parent {ref}") from None

    def read_parent(self, parent):
        live = get_or_none(self.client, api_path("v1", "secrets", parent["namespace"], parent["name"]))
        if live is None:
            return None
        meta = live.get("metadata") or {}
        if (meta.get("labels") or {}).get(APPLYSET_ID) != parent["id"]:
            raise KubeforgeError(
                "Secret {}/{} exists but is not the parent of apply set {} (label {})".format(
                    parent["namespace"], parent["name"], parent["name"], APPLYSET_ID
                )
            )
        tooling = (meta.get("annotations") or {}).get(APPLYSET_TOOLING)
        if tooling and not tooling.startswith("kubeforge/"):
            raise KubeforgeError("apply set {} is managed by {}, not kubeforge".format(parent["name"], tooling))
        return live

    @staticmethod
    def _recorded(previous):
        annotations = ((previous or {}).get("metadata") or {}).get("annotations") or {}
        kinds = {k for k in (annotations.get(APPLYSET_KINDS) or "").split(",") if k}
        namespaces = {n for n in (annotations.get(APPLYSET_NAMESPACES) or "").split(",") if n}
        return kinds, namespaces

    def begin_applyset(self, parent):
        """Read and check the parent; return it, the union of old and new kinds and namespaces, and the step that
        records that union in the parent before the objects are written (kubectl's ApplySet order)."""
        previous = self.read_parent(parent)
        old_kinds, old_namespaces = self._recorded(previous)
        kinds = {
            i.resource.group_kind if i.resource else "{}.{}".format(i.kind, split_api_version(i.body["apiVersion"])[0])
            for i in self.items
        }
        namespaces = {i.namespace for i in self.items if i.namespace}

        def _record():
            self._write_parent(parent, kinds | old_kinds, namespaces | old_namespaces, previous)

        return previous, old_kinds | kinds, old_namespaces | namespaces | {parent["namespace"]}, _record

    def prune(self, parent, group_kinds, namespaces):
        """Delete members of the apply set that this call no longer declares."""
        keep = {i.key for i in self.items}
        known = {i.resource.group_kind: i.resource for i in self.items if i.resource is not None}
        selector = "{}={}".format(APPLYSET_PART_OF, parent["id"])
        lists = []
        for group_kind in sorted(group_kinds):
            resource = known.get(group_kind) or self.discovery.resolve_group_kind(group_kind)
            if resource is None:
                continue
            for namespace in sorted(namespaces) if resource.namespaced else [None]:
                lists.append((resource, namespace))

        def _list(entry):
            resource, namespace = entry
            objs, _page = self.client.list_all(resource_path(resource, None, namespace), {"labelSelector": selector})
            return resource, objs

        candidates = []
        for outcome in self.client.map(_list, lists, self.workers):
            if isinstance(outcome, KubeforgeError):
                raise outcome
            resource, objs = outcome
            for listed in objs:
                obj = dict(listed, apiVersion=resource.api_version, kind=resource.kind)
                meta = obj.get("metadata") or {}
                item = Item(obj, resource, meta.get("name"), meta.get("namespace"))
                if item.key not in keep:
                    item.live = obj
                    candidates.append(item)

        def _delete(item):
            query = {"propagationPolicy": "Background"}
            if self.check_mode:
                query["dryRun"] = "All"
            try:
                self.client.request("DELETE", item.path(), query=query)
            except KubeforgeError as exc:
                if exc.status != HTTP_NOT_FOUND:
                    raise exc.with_ref(item.ref) from None
            item.action = "pruned"

        failures = [o for o in self.client.map(_delete, candidates, self.workers) if isinstance(o, KubeforgeError)]
        if failures:
            raise batch_error(failures, "to prune", "the apply set still lists their kinds")
        self.pruned = candidates

    def finish_applyset(self, parent, previous):
        kinds = {i.resource.group_kind for i in self.items}
        namespaces = {i.namespace for i in self.items if i.namespace}
        if not self.check_mode:
            previous = self.read_parent(parent)
        self._write_parent(parent, kinds, namespaces, previous)

    # --- results --------------------------------------------------------------------------------------
    def diffs(self):
        out = []
        for item in list(self.items) + list(self.pruned):
            if item.action in ("unchanged", "absent"):
                continue
            before = strip_noise(item.live) if item.live else None
            after = None if item.action in ("deleted", "pruned") else strip_noise(item.result or item.dry)
            out.append(
                {
                    "before_header": item.ref,
                    "after_header": item.ref,
                    "before": to_yaml(redact(before)) if before else "",
                    "after": to_yaml(redact(after, before)) if after else "",
                }
            )
        return out

    @property
    def changed(self):
        return (
            self.parent_changed or any(i.action not in ("unchanged", "absent") for i in self.items) or bool(self.pruned)
        )


def _wait(client, batch, options, result):
    timeout, sleep = option(options, "wait_timeout"), option(options, "wait_sleep")
    absent = option(options, "state") == "absent"
    targets = [(i.resource, i.name, i.namespace) for i in batch.items if i.action != "absent"]
    try:
        wait_for(client, targets, timeout, sleep, absent=absent)
        if batch.pruned:
            wait_for(client, [(i.resource, i.name, i.namespace) for i in batch.pruned], timeout, sleep, absent=True)
    except KubeforgeError as exc:
        exc.partial = result
        raise


def run_batch(client, discovery, manifests, options):
    """Apply (``state=present``) or delete (``state=absent``) ``manifests`` as one batch; return the result dict.

    ``options``: state, namespace, field_manager, force_conflicts, apply_set, prune, wait, wait_timeout,
    wait_sleep, delete_propagation, return_objects, labels, workers, check_mode, diff.
    """
    batch = Batch(client, discovery, options)
    state = option(options, "state")
    parent = previous = None
    if options.get("apply_set"):
        parent = batch.applyset_parent(options["apply_set"])
        options = dict(options, labels=dict(options.get("labels") or {}, **{APPLYSET_PART_OF: parent["id"]}))
        batch.options = options
    elif options.get("prune"):
        raise KubeforgeError("prune=true needs apply_set: the name of the apply set whose old members to delete")
    batch.prepare(manifests, allow_deferred=state == "present")
    if state == "absent":
        batch.delete(option(options, "delete_propagation"))
    else:
        record = None
        if parent:
            previous, group_kinds, namespaces, record = batch.begin_applyset(parent)
        # The parent is recorded once the batch's Namespaces exist: it may live in one of them.
        batch.apply(after_namespaces=record)
        if parent and options.get("prune"):
            batch.prune(parent, group_kinds, namespaces)
        if parent:
            batch.finish_applyset(parent, previous)
    result = {
        "changed": batch.changed,
        "objects": [i.summary() for i in batch.items],
        "pruned": [i.summary() for i in batch.pruned],
    }
    if options.get("wait") and not options.get("check_mode"):
        _wait(client, batch, options, result)
    if parent:
        result["apply_set"] = {"name": parent["name"], "namespace": parent["namespace"], "id": parent["id"]}
    if options.get("return_objects"):
        result["resources"] = [
            redact(strip_noise(i.result or i.dry or i.live, keep_status=True))
            for i in batch.items
            if i.action != "absent"
        ]
    if options.get("diff"):
        result["diff"] = batch.diffs()
    return result
