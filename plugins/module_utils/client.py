# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTP client for the Kubernetes API: stdlib only, keep-alive connection per thread, retries.

Transport only: TLS and HTTP from ConnectionSettings whose credentials kubeconfig.connection_settings resolved.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import ssl
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode, urlsplit

from ansible_collections.kubeforge.cluster.plugins.module_utils.errors import (
    HTTP_FORBIDDEN,
    HTTP_NOT_FOUND,
    HTTP_TOO_MANY_REQUESTS,
    HTTP_UNAUTHORIZED,
    RETRYABLE_STATUS,
    KubeforgeError,
    object_ref,
)
from ansible_collections.kubeforge.cluster.plugins.module_utils.kubeconfig import (
    ConnectionSettings,
    connection_settings,
)

if TYPE_CHECKING:
    from ansible_collections.kubeforge.cluster.plugins.module_utils.discovery import Resource

APPLY_PATCH = "application/apply-patch+yaml"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"

_HTTP_ERROR = 400
_READS = frozenset(("GET", "HEAD"))
# A write is sent again only when the server cannot have run it: 429 and 503 answer before any handler (API
# priority and fairness, an apiserver not ready yet), a refused connection sent nothing, and a kept-alive
# connection the server had already closed fails before the request reaches it. 500/502/504 or a connection lost
# later may follow a stored write.
_WRITE_RETRY_STATUS = frozenset((HTTP_TOO_MANY_REQUESTS, 503))
_CONNECTION_ERRORS = (ConnectionError, http.client.RemoteDisconnected, http.client.BadStatusLine, socket.timeout)


def _retry_after(headers, attempt):
    value = headers.get("Retry-After") if headers else None
    if value:
        try:
            return min(max(float(value), 0.0), 30.0)
        except ValueError:
            pass
    return min(0.1 * (2**attempt), 5.0)


def _status_error(status, reason, body, method, path):
    """KubeforgeError from an error response, using the Kubernetes Status object when there is one."""
    try:
        data = json.loads(body) if body else {}
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    message = data.get("message") or (body.decode(errors="replace").strip()[:300] if body else "") or reason
    details = data.get("details") or {}
    causes = details.get("causes") or []
    if status == HTTP_UNAUTHORIZED:
        message = "authentication failed (401 Unauthorized): the token or client certificate was rejected"
    elif status == HTTP_FORBIDDEN and not data:
        message = f"forbidden (403) for {method} {path}"
    return KubeforgeError(
        message,
        status=status,
        reason=data.get("reason") or reason,
        causes=causes,
        details=details,
    )


def ssl_context(settings: ConnectionSettings) -> ssl.SSLContext:
    """TLS context for ``settings``: its CA (or none checked with ``insecure``) and its client certificate."""
    try:
        context = ssl.create_default_context(cafile=settings.ca_file, cadata=settings.ca_data)
    except (OSError, ssl.SSLError) as exc:
        raise KubeforgeError(f"cannot load the CA certificate for {settings.server}: {exc}") from exc
    if settings.insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if settings.cert_data or settings.cert_file:
        _load_client_cert(context, settings)
    return context


def _load_client_cert(context, settings):
    temp_paths = []
    try:
        paths = []
        for data, path in ((settings.cert_data, settings.cert_file), (settings.key_data, settings.key_file)):
            if data:
                handle, temp = tempfile.mkstemp(prefix="kubeforge-", suffix=".pem")
                temp_paths.append(temp)
                with os.fdopen(handle, "wb") as out:
                    out.write(data)
                paths.append(temp)
            else:
                paths.append(path)
        context.load_cert_chain(paths[0], paths[1])
    except (OSError, ssl.SSLError) as exc:
        raise KubeforgeError(f"cannot load the client certificate/key from {settings.source}: {exc}") from exc
    finally:
        for temp in temp_paths:
            os.unlink(temp)


class ApiClient:
    """Talks to one API server.

    ``request()`` is safe to call from many threads: each thread keeps its own keep-alive connection.
    Retries with backoff on 429/5xx and dropped connections (honouring ``Retry-After``) unless the call
    passes ``retry=False``; a write only where the server cannot have run it (429, 503, connection refused, a
    stale kept-alive connection), so writes happen at most once.
    """

    def __init__(self, settings: ConnectionSettings, timeout: float = 30.0, retries: int = 5) -> None:
        self.settings = settings
        self.timeout = timeout
        self.retries = retries
        url = urlsplit(settings.server)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise KubeforgeError(f"server URL {settings.server!r} (from {settings.source}) is not an http(s) URL")
        self.scheme = url.scheme
        self.hostname = url.hostname
        self.port = url.port or (443 if url.scheme == "https" else 80)
        self.base_path = url.path.rstrip("/")
        self.server = settings.server
        self._local = threading.local()
        self._connections = []
        self._lock = threading.Lock()
        # One thread pool per client, kept across map() calls so its threads' keep-alive connections are reused.
        self._pool = None
        self._pool_size = 0
        self._ssl_context = ssl_context(settings) if self.scheme == "https" else None

    @classmethod
    def from_params(cls, params: dict, run_command: Callable | None = None) -> ApiClient:
        """Build from the AUTH_ARG_SPEC options of a module (``run_command``: the module's, for exec plugins)."""
        settings = connection_settings(params, run_command)
        return cls(settings, timeout=params.get("request_timeout") or 30.0)

    def _authorization(self):
        token = self.settings.bearer_token()
        return "Bearer " + token if token else None

    # --- connections ---------------------------------------------------------------------------------
    def _connection(self):
        conn = getattr(self._local, "conn", None)
        if conn is None:
            if self.scheme == "https":
                conn = _HTTPSConnection(
                    self.hostname,
                    self.port,
                    timeout=self.timeout,
                    context=self._ssl_context,
                    tls_server_name=self.settings.tls_server_name,
                )
            else:
                conn = http.client.HTTPConnection(self.hostname, self.port, timeout=self.timeout)
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def _drop_connection(self):
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool, self._pool_size = None, 0
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections = []
        self._local = threading.local()

    def _transport_error(self, exc):
        if isinstance(exc, ssl.SSLCertVerificationError):
            return KubeforgeError(
                f"TLS verification of {self.server} failed: {exc.verify_message or exc}; set ca_cert (or the "
                "kubeconfig's certificate-authority) to the CA that signed the API server's certificate"
            )
        # A TLS stream cut short (the server went away mid-handshake) is a lost connection, not a TLS problem.
        cut = isinstance(exc, (ssl.SSLEOFError, ssl.SSLZeroReturnError))
        if isinstance(exc, ssl.SSLError) and not cut:
            return KubeforgeError(f"TLS error talking to {self.server}: {exc}")
        reason = getattr(exc, "strerror", None) or str(exc) or exc.__class__.__name__
        return KubeforgeError(
            f"cannot reach the API server at {self.server} ({self.settings.source}): {reason}",
            transient=not isinstance(exc, socket.gaierror),
        )

    # --- requests ------------------------------------------------------------------------------------
    def url_path(self, path: str, query: dict | None = None) -> str:
        if query:
            items = [(k, v) for k, v in query.items() if v is not None and v != ""]
            if items:
                path = f"{path}?{urlencode(items, doseq=True)}"
        return self.base_path + path

    def request(
        self, method: str, path: str, body: dict | bytes | None = None, query: dict | None = None, **options
    ) -> Any:
        """Send one request; return the parsed JSON body (``None`` when empty).

        Raises KubeforgeError with the HTTP status, the Status reason and its causes on errors.
        ``retry=False`` turns off the retries on 429/5xx (connection resets are still retried once,
        before any response).
        """
        content_type, retry, raw = options.get("content_type"), options.get("retry", True), options.get("raw", False)
        full_path = self.url_path(path, query)
        headers = {"Accept": "application/json", "User-Agent": "kubeforge.cluster"}
        authorization = self._authorization()
        if authorization:
            headers["Authorization"] = authorization
        payload = None
        if body is not None:
            payload = body if isinstance(body, bytes) else json.dumps(body, separators=(",", ":")).encode()
            headers["Content-Type"] = content_type or "application/json"
        attempts = self.retries if retry else 0
        read = method in _READS
        attempt = 0
        while True:
            conn = self._connection()
            reused = conn.sock is not None
            try:
                conn.request(method, full_path, body=payload, headers=headers)
                response = conn.getresponse()
                data = response.read()
            except _CONNECTION_ERRORS as exc:
                self._drop_connection()
                # refused: nothing was sent; a reused connection failing at once: the server had closed it idle
                unsent = isinstance(exc, ConnectionRefusedError) or (attempt == 0 and reused)
                if attempt < max(attempts, 1) and (read or unsent):
                    time.sleep(0 if attempt == 0 else _retry_after(None, attempt))
                    attempt += 1
                    continue
                raise self._transport_error(exc) from exc
            except (OSError, ssl.SSLError) as exc:
                self._drop_connection()
                raise self._transport_error(exc) from exc
            if response.will_close:
                self._drop_connection()
            status = response.status
            if status < _HTTP_ERROR:
                if raw:
                    return data
                return json.loads(data) if data else None
            if status in (RETRYABLE_STATUS if read else _WRITE_RETRY_STATUS) and attempt < attempts:
                time.sleep(_retry_after(response.headers, attempt))
                attempt += 1
                continue
            error = _status_error(status, response.reason, data, method, full_path)
            if status == HTTP_TOO_MANY_REQUESTS:
                error.details = dict(error.details or {}, retryAfterSeconds=_retry_after(response.headers, 0))
            raise error

    def get(self, path: str, query: dict | None = None, **kwargs) -> Any:
        return self.request("GET", path, query=query, **kwargs)

    def list_all(self, path: str, query: dict | None = None, limit: int = 500) -> tuple[list, dict]:
        """Every item of a list endpoint, following ``continue`` tokens; returns (items, list metadata)."""
        query = dict(query or {}, limit=limit)
        items = []
        while True:
            page = self.request("GET", path, query=query)
            items.extend(page.get("items") or [])
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                return items, page
            query["continue"] = token

    def map(self, fn: Callable, items: Iterable, workers: int = 8) -> list:
        """``[fn(item) for item in items]`` run on up to ``workers`` threads, results in order.

        Each result is either the return value or the KubeforgeError the call raised (never raised here),
        so a caller can report every failure of a batch at once.
        """
        items = list(items)

        def _call(item):
            try:
                return fn(item)
            except KubeforgeError as exc:
                return exc

        if len(items) <= 1 or workers <= 1:
            return [_call(item) for item in items]
        return list(self._executor(workers).map(_call, items))

    def _executor(self, workers):
        with self._lock:
            if self._pool_size < workers:
                if self._pool is not None:
                    self._pool.shutdown(wait=False)
                self._pool = ThreadPoolExecutor(max_workers=workers)
                self._pool_size = workers
            return self._pool


class _HTTPSConnection(http.client.HTTPSConnection):
    """HTTPS connection that checks the certificate against ``tls_server_name`` (kubeconfig ``tls-server-name``)
    instead of the host it connects to, when one is set."""

    def __init__(self, host, port=None, tls_server_name=None, **kwargs):
        super().__init__(host, port, **kwargs)
        self._tls_server_name = tls_server_name

    def connect(self):
        if not self._tls_server_name:
            super().connect()
            return
        http.client.HTTPConnection.connect(self)
        self.sock = self._context.wrap_socket(self.sock, server_hostname=self._tls_server_name)


def api_path(
    api_version: str,
    plural: str,
    namespace: str | None = None,
    name: str | None = None,
    subresource: str | None = None,
) -> str:
    """URL path of a collection, an object or an object's subresource: the one place URLs are built.

    ``api_version`` is ``v1`` (core group) or ``group/version``; the namespace and the name are quoted.
    """
    group, _slash, version = api_version.rpartition("/")
    parts = [f"/apis/{group}/{version}" if group else f"/api/{version}"]
    if namespace:
        parts.append("namespaces/" + quote(namespace, safe=""))
    parts.append(plural)
    if name:
        parts.append(quote(name, safe=""))
        if subresource:
            parts.append(subresource)
    return "/".join(parts)


def resource_path(
    resource: Resource, name: str | None = None, namespace: str | None = None, subresource: str | None = None
) -> str:
    """URL path of a resource (see discovery.Resource) or one of its objects/subresources."""
    namespace = namespace if resource.namespaced else None
    return api_path(resource.api_version, resource.plural, namespace, name, subresource)


def default_namespace(client: ApiClient, namespace: str | None = None) -> str:
    """``namespace`` (an option), else the kubeconfig context's namespace, else ``default``."""
    return namespace or getattr(client.settings, "namespace", None) or "default"


def get_or_none(client: ApiClient, path: str, **options) -> dict | None:
    """GET ``path``: the object, or ``None`` when the server answers 404 (other errors are raised)."""
    try:
        return client.request("GET", path, **options)
    except KubeforgeError as exc:
        if exc.status == HTTP_NOT_FOUND:
            return None
        raise


def get_object(client: ApiClient, resource: Resource, name: str, namespace: str | None = None) -> dict:
    """The live object ``name``; a missing one fails as ``Kind/namespace/name: not found (name)`` (status 404)."""
    live = get_or_none(client, resource_path(resource, name, namespace))
    if live is None:
        ref = object_ref(resource.kind, namespace if resource.namespaced else None, name)
        raise KubeforgeError("not found (name)", status=HTTP_NOT_FOUND, ref=ref)
    return live
