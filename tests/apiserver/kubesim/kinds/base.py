"""What describes a kind: its API resources (discovery data and storage keys) and, in one object, the kind's
defaults, validation and table columns (the registry is kinds/__init__.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
SUB_VERBS = ("get", "patch", "update")
ALL = ("all",)
# How metadata.name is checked (validation.check_name): an RFC 1123 subdomain unless the kind says otherwise.
SUBDOMAIN, LABEL, DNS1035, PATH_SEGMENT = "subdomain", "label", "dns1035", "path-segment"
# When the registry strategy maintains metadata.generation: on objects with a spec, always, or never.
WITH_SPEC, ALWAYS, NEVER = "with-spec", "always", "never"


@dataclass(frozen=True)
class Resource:
    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool
    short_names: tuple = ()
    subresources: tuple = ()
    categories: tuple = ()
    verbs: tuple = ALL_VERBS
    storage: str = ""  # group/plural of the stored form when several versions share storage
    definition: str = ""
    singular: str = field(default="")
    field_labels: tuple = ()  # fieldSelector labels besides metadata.name and metadata.namespace

    @property
    def api_version(self):
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def key(self):
        return self.storage or f"{self.group}/{self.plural}"

    @property
    def list_kind(self):
        return f"{self.kind}List"


def _no_cells(obj):
    del obj
    return []


@dataclass(frozen=True)
class Kind:
    """Everything kubesim knows about one kind besides its schema (the bundled OpenAPI definitions).

    resources: the served versions, the stored (preferred) one first. defaults(obj, allocator) fills in what the
    registry strategy and the defaulting functions do. validate(obj, old) returns (reason, field, message) causes
    beyond the generic ones (name, labels, enumerated fields). columns/cells: the extra Table columns (name, type)
    and their values. on_create(obj, now): what the strategy sets on a new object. conversions: version ->
    (from_storage, to_storage) for versions stored in another one. enums(obj): the FieldValueNotSupported causes
    of its enumerated fields (helpers and value lists in enums.py).
    """

    resources: tuple
    defaults: Callable | None = None
    validate: Callable | None = None
    columns: tuple = ()
    cells: Callable = _no_cells
    name_rule: str = SUBDOMAIN
    generation: str = WITH_SPEC
    on_create: Callable | None = None
    conversions: dict = field(default_factory=dict)
    enums: Callable | None = None

    @property
    def name(self):
        return self.resources[0].kind

    def has_generation(self, obj):
        return self.generation == ALWAYS or (self.generation == WITH_SPEC and "spec" in obj)


# Groups whose OpenAPI definitions do not live under io.k8s.api.<group>.
_DEF_PACKAGES = {
    "apiregistration.k8s.io": "io.k8s.kube-aggregator.pkg.apis.apiregistration",
    "apiextensions.k8s.io": "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions",
}


def _def_prefix(group, version):
    if group in _DEF_PACKAGES:
        return f"{_DEF_PACKAGES[group]}.{version}"
    short = {"": "core", "rbac.authorization.k8s.io": "rbac"}.get(group, group.split(".")[0])
    return f"io.k8s.api.{short}.{version}"


def resource(gv, kind, plural, namespaced, **kw):
    """A Resource from its group/version, kind and plural; ``short`` and ``subs`` are the short names and
    subresources."""
    group, _sep, version = gv.rpartition("/")
    short, subs, labels = kw.pop("short", ()), kw.pop("subs", ()), kw.pop("field_labels", ())
    return Resource(
        group=group,
        version=version,
        kind=kind,
        plural=plural,
        namespaced=namespaced,
        short_names=tuple(short),
        subresources=tuple(subs),
        definition=f"{_def_prefix(group, version)}.{kind}",
        singular=kind.lower(),
        field_labels=tuple(labels),
        **kw,
    )


def simple(gv, kind, plural, namespaced, **kw):
    """A kind that is only its resource: stored and served, no defaults, rules or columns of its own."""
    name_rule = kw.pop("name_rule", SUBDOMAIN)
    generation = kw.pop("generation", WITH_SPEC)
    return Kind((resource(gv, kind, plural, namespaced, **kw),), name_rule=name_rule, generation=generation)
