"""The one exception type of the server: an API error rendered as a meta/v1 Status."""

from __future__ import annotations

HTTP_BAD_REQUEST = 400
HTTP_UNAUTHORIZED = 401
HTTP_FORBIDDEN = 403
HTTP_NOT_FOUND = 404
HTTP_METHOD_NOT_ALLOWED = 405
HTTP_NOT_ACCEPTABLE = 406
HTTP_CONFLICT = 409
HTTP_GONE = 410
HTTP_UNSUPPORTED_MEDIA = 415
HTTP_INVALID = 422
HTTP_TOO_MANY = 429
HTTP_INTERNAL = 500

_REASONS = {
    HTTP_BAD_REQUEST: "BadRequest",
    HTTP_UNAUTHORIZED: "Unauthorized",
    HTTP_FORBIDDEN: "Forbidden",
    HTTP_NOT_FOUND: "NotFound",
    HTTP_METHOD_NOT_ALLOWED: "MethodNotAllowed",
    HTTP_NOT_ACCEPTABLE: "NotAcceptable",
    HTTP_CONFLICT: "Conflict",
    HTTP_GONE: "Expired",
    HTTP_UNSUPPORTED_MEDIA: "UnsupportedMediaType",
    HTTP_INVALID: "Invalid",
    HTTP_TOO_MANY: "TooManyRequests",
    HTTP_INTERNAL: "InternalError",
}


# metav1.Status and its parts, as k8s.io/apimachinery pkg/apis/meta/v1/types.go declares them (types Status,
# StatusDetails, StatusCause). Every field is `omitempty` except `metadata` (a ListMeta struct, always `{}`), and a
# StatusCause carries its CauseType under the JSON key "reason" (`Type CauseType json:"reason,omitempty"`), never
# "type". Every Status the server sends is built by status_object(), which refuses any other key.
STATUS_FIELDS = frozenset(("kind", "apiVersion", "metadata", "status", "message", "reason", "details", "code"))
DETAILS_FIELDS = frozenset(("name", "group", "kind", "uid", "causes", "retryAfterSeconds"))
CAUSE_FIELDS = frozenset(("reason", "message", "field"))


def _omit_empty(values, allowed, what):
    unknown = set(values) - allowed
    if unknown:
        raise ValueError(f"kubesim bug: {what} has no field {sorted(unknown)} (k8s.io/apimachinery meta/v1)")
    return {k: v for k, v in values.items() if v not in (None, "", 0, [], {})}


def status_object(status, message="", reason="", code=0, details=None):
    """A meta/v1 Status; `details` None leaves it out, `{}` sends `"details": {}` (a non-nil empty pointer)."""
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": status}
    body.update(_omit_empty({"message": message, "reason": reason}, STATUS_FIELDS, "Status"))
    if details is not None:
        details = _omit_empty(details, DETAILS_FIELDS, "StatusDetails")
        if "causes" in details:
            details["causes"] = [_omit_empty(c, CAUSE_FIELDS, "StatusCause") for c in details["causes"]]
        body["details"] = details
    if code:
        body["code"] = code
    return body


def success_status(code=0, details=None):
    return status_object("Success", code=code, details=details)


class ApiError(Exception):
    """An API failure; `status()` is the body a kube-apiserver would send."""

    def __init__(self, code, message, reason=None, details=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.reason = reason or _REASONS.get(code, "Unknown")
        self.details = details

    def status(self):
        return status_object("Failure", self.message, self.reason, self.code, self.details)

    def retry_after(self):
        """Seconds for the Retry-After header: a Status with details.retryAfterSeconds has one (apiserver's
        responsewriters.ErrorNegotiated sets it from the same field)."""
        return (self.details or {}).get("retryAfterSeconds") or 0


def _qualified(res):
    return f"{res.plural}.{res.group}" if res.group else res.plural


def not_found(res, name):
    return ApiError(
        HTTP_NOT_FOUND,
        f'{_qualified(res)} "{name}" not found',
        details={"name": name, "group": res.group, "kind": res.plural},
    )


def already_exists(res, name):
    return ApiError(
        HTTP_CONFLICT,
        f'{_qualified(res)} "{name}" already exists',
        reason="AlreadyExists",
        details={"name": name, "group": res.group, "kind": res.plural},
    )


def conflict(res, name, why):
    return ApiError(
        HTTP_CONFLICT,
        f'Operation cannot be fulfilled on {_qualified(res)} "{name}": {why}',
        details={"name": name, "group": res.group, "kind": res.plural},
    )


def bad_request(message):
    return ApiError(HTTP_BAD_REQUEST, message)


def invalid(res, name, causes):
    """422 with field causes; causes are (reason, field, message) tuples."""
    kind = f"{res.kind}.{res.group}" if res.group else res.kind
    text = "; ".join(f"{field}: {msg}" for _reason, field, msg in causes)
    return ApiError(
        HTTP_INVALID,
        f'{kind} "{name}" is invalid: {text}',
        details={
            "name": name,
            "group": res.group,
            "kind": res.kind,
            "causes": [{"reason": r, "message": m, "field": f} for r, f, m in causes],
        },
    )
