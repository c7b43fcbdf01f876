"""Who a request is and what it may do, as a kubeadm cluster's kube-apiserver decides it.

Authentication (k8s.io/kubernetes pkg/kubeapiserver/authenticator/config.go, New): the credential authenticators are
tried first; with anonymous auth on (kube-apiserver's default, and kubeadm's), ``union.NewFailOnError(...,
anonymous.NewAuthenticator())`` makes a request that carries *no* credential the user ``system:anonymous`` in the
group ``system:unauthenticated`` (k8s.io/apiserver pkg/authentication/request/anonymous/anonymous.go), while a
credential that is presented and rejected (a wrong bearer token) fails with 401 and is never treated as anonymous.

Authorization (RBAC bootstrap policy, k8s.io/kubernetes plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go
and its cluster role bindings): the ClusterRole ``system:public-info-viewer`` allows ``get`` on the non-resource URLs
``/livez``, ``/readyz``, ``/healthz``, ``/version`` and ``/version/`` and is bound to ``system:authenticated`` and
``system:unauthenticated``; ``system:discovery`` and ``system:basic-user`` are bound to ``system:authenticated`` only.
Everything else is denied to the anonymous user with 403 Forbidden, the Status built by
k8s.io/apiserver pkg/endpoints/handlers/responsewriters/errors.go (forbiddenMessage) and
k8s.io/apimachinery pkg/api/errors/errors.go (NewForbidden). kubesim's own credentials (its client certificate and
its bearer token) are allowed everything, like cluster-admin.
"""

from __future__ import annotations

from .errors import HTTP_FORBIDDEN, HTTP_UNAUTHORIZED, ApiError

ANONYMOUS = "system:anonymous"
# system:public-info-viewer's URLs: exact paths (no trailing-slash variants but /version/, no /readyz/<check>).
PUBLIC_PATHS = frozenset(("/livez", "/readyz", "/healthz", "/version", "/version/"))


def authenticate(peer_cert, authorization, token):
    """The user name of a request: kubesim's own credential -> "admin", none -> ANONYMOUS; a rejected one -> 401."""
    if peer_cert:
        return "admin"
    scheme, _sep, value = (authorization or "").partition(" ")
    if scheme.lower() != "bearer":  # no bearer token: no authenticator of a kubeadm cluster claims the request
        return ANONYMOUS
    if value.strip() == token:
        return "admin"
    raise ApiError(HTTP_UNAUTHORIZED, "Unauthorized")


def public(method, raw_path):
    """True when system:public-info-viewer lets everyone do this request (a non-resource ``get``)."""
    return method == "GET" and raw_path in PUBLIC_PATHS


def _resource_verb(method, route, query):
    # k8s.io/apiserver pkg/endpoints/request/requestinfo.go (NewRequestInfo): the HTTP method mapped to the API verb.
    if method in ("GET", "HEAD"):
        if query.get("watch") in ("true", "1"):
            return "watch"
        return "get" if route.name else "list"
    if method == "DELETE" and not route.name:
        return "deletecollection"
    return {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}.get(method, method.lower())


def forbidden(user, method, raw_path, route, query):
    """The 403 a kube-apiserver sends when RBAC denies ``user`` this request."""
    if route is None:
        # A non-resource request: the verb is the lowercased method; no resource (NewForbidden: "forbidden: ...").
        message = f'forbidden: User "{user}" cannot {method.lower()} path "{raw_path}"'
        return ApiError(HTTP_FORBIDDEN, message, details={})
    res = route.res
    resource = res.plural + ("/" + route.subresource if route.subresource else "")
    verb = _resource_verb(method, route, query)
    where = f'in the namespace "{route.namespace}"' if route.namespace else "at the cluster scope"
    reason = f'User "{user}" cannot {verb} resource "{resource}" in API group "{res.group}" {where}'
    qualified = res.plural + ("." + res.group if res.group else "")
    subject = f'{qualified} "{route.name}"' if route.name else qualified
    details = {"name": route.name or "", "group": res.group, "kind": res.plural}
    return ApiError(HTTP_FORBIDDEN, f"{subject} is forbidden: {reason}", details=details)
