"""/livez, /readyz and /healthz as kube-apiserver answers them (k8s.io/apiserver pkg/server/healthz/healthz.go,
handleRootHealth): each check is one line, ``[+]<name> ok`` or ``[-]<name> failed: reason withheld`` (the reason is
never sent: the endpoints are public); the list is sent with ``?verbose`` and always on a failure, which answers 500
and ends ``<endpoint> check failed`` (http.Error: text/plain, a trailing newline); a pass without ``verbose`` answers
``ok``, with it ``<endpoint> check passed``. The checks are a reduced set of kube-apiserver's (no post-start hooks);
a test makes some fail through the ``failing-checks`` key of the faults ConfigMap (faults.py)."""

from __future__ import annotations

HTTP_OK = 200
HTTP_INTERNAL = 500
CHECKS = {
    "/healthz": ("ping", "log", "etcd"),
    "/livez": ("ping", "log", "etcd"),
    "/readyz": ("ping", "log", "etcd", "etcd-readiness", "informer-sync", "shutdown"),
}


def answer(path, query, failing):
    """(status, text body) of a health endpoint; ``failing`` names the checks that fail now."""
    checks = CHECKS[path]
    failed = [name for name in checks if name in failing]
    if not failed and "verbose" not in query:
        return HTTP_OK, "ok"
    lines = "".join(f"[-]{name} failed: reason withheld\n" if name in failed else f"[+]{name} ok\n" for name in checks)
    endpoint = path.lstrip("/")
    if failed:
        return HTTP_INTERNAL, f"{lines}{endpoint} check failed\n"
    return HTTP_OK, f"{lines}{endpoint} check passed\n"
