"""One request's parameters (Ctx), the patch media types and the timestamps the API writes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from . import resources

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"
APPLY_PATCH_CBOR = "application/apply-patch+cbor"
PATCH_TYPES = (JSON_PATCH, MERGE_PATCH, STRATEGIC_PATCH, APPLY_PATCH)
SYSTEM_META = (
    "uid",
    "creationTimestamp",
    "resourceVersion",
    "generation",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "selfLink",
)


def now_iso():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Ctx:
    """One request's parameters."""

    res: resources.Resource
    namespace: str | None = None
    name: str | None = None
    subresource: str = ""
    query: dict = field(default_factory=dict)
    user_agent: str = ""
    content_type: str = ""
    warnings: list = field(default_factory=list)

    def param(self, key, default=None):
        return self.query.get(key, default)

    @property
    def dry_run(self):
        return self.query.get("dryRun") == "All"

    @property
    def manager(self):
        explicit = self.query.get("fieldManager")
        if explicit:
            return explicit
        agent = self.user_agent.split("/", 1)[0].strip()
        return agent or "unknown"

    @property
    def validation_mode(self):
        return self.query.get("fieldValidation") or "Warn"
