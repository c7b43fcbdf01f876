"""HTTPS front end: routing, authentication, content negotiation, watch streaming."""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import sys
import threading
import time
import traceback
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, urlsplit

from . import auth, discovery, healthz, openapi, resources, subresources, tables
from .api import Api, Ctx
from .errors import (
    HTTP_BAD_REQUEST,
    HTTP_INTERNAL,
    HTTP_METHOD_NOT_ALLOWED,
    HTTP_NOT_ACCEPTABLE,
    HTTP_NOT_FOUND,
    HTTP_UNSUPPORTED_MEDIA,
    ApiError,
)
from .watch import serve_watch

HTTP_OK = 200
HTTP_CREATED = 201
_NOT_FOUND_TEXT = "the server could not find the requested resource"
_GROUP_PREFIX = 3  # /apis/<group>/<version>
_MAX_REST = 3  # <plural>/<name>/<subresource>
_BODY_TYPES = ("application/json", "application/yaml")
_PROTOBUF = "application/vnd.kubernetes.protobuf"


class Route:
    """A parsed resource path."""

    def __init__(self, res, namespace=None, name=None, subresource=""):
        self.res, self.namespace, self.name, self.subresource = res, namespace, name, subresource


def parse_route(path):
    # Segments are percent-decoded one by one, as clients escape names (`system%3Ametrics-server`).
    parts = [unquote(p) for p in path.split("/") if p]
    if parts[:2] == ["api", "v1"]:
        group, version, rest = "", "v1", parts[2:]
    elif parts[:1] == ["apis"] and len(parts) >= _GROUP_PREFIX:
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    if (group, version) not in resources.BY_GV or not rest:
        return None
    namespace = None
    if rest[0] == "namespaces" and len(rest) >= _MAX_REST and resources.lookup(group, version, rest[2]):
        namespace, rest = rest[1], rest[2:]
    res = resources.lookup(group, version, rest[0])
    if res is None or len(rest) > _MAX_REST or (namespace is not None and not res.namespaced):
        return None
    name = rest[1] if len(rest) > 1 else None
    sub = rest[2] if len(rest) == _MAX_REST else ""
    if sub and sub not in res.subresources:
        return None
    return Route(res, namespace, name, sub)


def _discovery(path):
    parts = [p for p in path.split("/") if p]
    doc = None
    if parts == ["version"]:
        doc = discovery.VERSION
    elif parts == ["api"]:
        doc = discovery.api_versions()
    elif parts == ["apis"]:
        doc = discovery.api_group_list()
    elif parts == ["api", "v1"]:
        doc = discovery.resource_list("", "v1")
    elif len(parts) == _GROUP_PREFIX - 1 and parts[0] == "apis":
        doc = discovery.api_group(parts[1])
    elif len(parts) == _GROUP_PREFIX and parts[0] == "apis":
        doc = discovery.resource_list(parts[1], parts[2])
    return doc


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wbufsize = 1 << 16  # one write per response (flushed by handle_one_request): no Nagle/delayed-ACK stalls
    server_version = "kubesim"
    sys_version = ""

    # ---- plumbing ---------------------------------------------------------------------------
    def log_message(self, format, *args):  # quiet
        del format, args

    def _send(self, code, body, content_type="application/json", warnings=(), retry_after=0):
        data = body if isinstance(body, bytes) else json.dumps(body, separators=(",", ":")).encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Audit-Id", str(uuid.uuid4()))
        if retry_after:
            self.send_header("Retry-After", str(retry_after))
        for text in warnings:
            self.send_header("Warning", '299 - "' + text.replace('"', '\\"') + '"')
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _error(self, exc):
        self._send(exc.code, exc.status(), retry_after=exc.retry_after())

    def _body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _user(self):
        """Who sent the request (auth.py): kubesim's credentials, system:anonymous, or 401 for a rejected token."""
        try:
            peer = self.connection.getpeercert()
        except (AttributeError, ValueError):
            peer = None
        return auth.authenticate(peer, self.headers.get("Authorization"), self.server.token)

    def _json_body(self, raw):
        ctype = (self.headers.get("Content-Type") or "application/json").split(";")[0].strip().lower()
        if ctype not in _BODY_TYPES:
            raise ApiError(
                HTTP_UNSUPPORTED_MEDIA,
                f"the body of the request was in an unknown format - accepted "
                f"media types include: application/json, application/yaml "
                f'(got "{ctype}"; protobuf and CBOR are not served)',
            )
        if not raw.strip():
            raise ApiError(HTTP_BAD_REQUEST, "the body of the request was empty")
        try:
            if ctype == "application/yaml":
                return subresources.parse_yaml(raw)
            return json.loads(raw)
        except ValueError as exc:
            raise ApiError(HTTP_BAD_REQUEST, f"couldn't get version/kind; json parse error: {exc}") from exc

    def _wants_aggregated(self):
        """The first acceptable type decides, as content negotiation does upstream."""
        for part in (self.headers.get("Accept") or "").split(","):
            params = {p.strip() for p in part.split(";")[1:]}
            if part.split(";")[0].strip() != "application/json":
                continue
            return {"g=apidiscovery.k8s.io", "v=v2", "as=APIGroupDiscoveryList"} <= params
        return False

    def _check_accept(self):
        accept = self.headers.get("Accept", "") or "*/*"
        wanted = [a.split(";")[0].strip() for a in accept.split(",")]
        if not any(w in ("*/*", "application/*", "application/json", "application/yaml") for w in wanted):
            raise ApiError(
                HTTP_NOT_ACCEPTABLE,
                f"only the following media types are accepted: application/json, "
                f"application/yaml (asked for {accept}; {_PROTOBUF} is not served)",
            )
        return "as=Table" in accept

    # ---- dispatch ---------------------------------------------------------------------------
    def _dispatch(self):
        url = urlsplit(self.path)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        path = url.path.rstrip("/") or "/"
        try:
            user = self._user()
        except ApiError:
            self._body()
            raise
        if user == auth.ANONYMOUS and not auth.public(self.command, url.path):
            self._body()
            raise auth.forbidden(user, self.command, url.path, parse_route(path), query)
        if path in healthz.CHECKS:
            code, text = healthz.answer(path, query, self.server.api.faults.failing_checks())
            self._send(code, text.encode(), "text/plain; charset=utf-8")
            return
        if path.startswith("/openapi/"):
            code, body = openapi.serve(path, query)
            self._send(code, body)
            return
        if self.command == "GET" and path in ("/api", "/apis") and self._wants_aggregated():
            self._send(HTTP_OK, discovery.aggregated(path == "/api"), discovery.AGGREGATED_TYPE)
            return
        doc = _discovery(path) if self.command == "GET" else None
        if doc is not None:
            self._send(HTTP_OK, doc)
            return
        route = parse_route(path)
        if route is None:
            self._body()
            raise ApiError(HTTP_NOT_FOUND, _NOT_FOUND_TEXT, details={})
        self._resource(route, query)

    def _resource(self, route, query):
        api = self.server.api
        ctx = Ctx(
            route.res,
            route.namespace,
            route.name,
            route.subresource,
            query,
            self.headers.get("User-Agent", ""),
            (self.headers.get("Content-Type") or "").split(";")[0].strip().lower(),
        )
        table = self._check_accept()
        method = self.command
        raw = self._body() if method in ("POST", "PUT", "PATCH", "DELETE") else b""
        if method == "GET" and query.get("watch") in ("true", "1") and not route.subresource:
            serve_watch(self, api, ctx, table)
            return
        code, body = self._call(api, ctx, method, raw)
        if table and method == "GET" and not route.subresource:
            body = tables.to_table(route.res, body)
        self._send(code, body, warnings=ctx.warnings)

    def _call(self, api, ctx, method, raw):
        if ctx.subresource and ctx.subresource != "status":
            return subresources.handle(api, ctx, method, raw, self._json_body)
        if method == "DELETE":
            return self._delete(api, ctx, raw)
        if method == "GET":
            return HTTP_OK, api.get(ctx) if ctx.name else api.list(ctx)
        if method == "POST" and not ctx.name:
            created = api.create(ctx, self._json_body(raw))
            return HTTP_CREATED, api.external(ctx.res, created)
        if method == "PUT" and ctx.name:
            return HTTP_OK, api.external(ctx.res, api.update(ctx, self._json_body(raw)))
        if method == "PATCH" and ctx.name:
            return self._patch(api, ctx, raw)
        raise ApiError(
            HTTP_METHOD_NOT_ALLOWED, f"the server does not allow this method on the requested resource ({method})"
        )

    @staticmethod
    def _delete(api, ctx, raw):
        options = json.loads(raw) if raw.strip() else {}
        if ctx.name:
            return HTTP_OK, api.delete(ctx, options)
        return HTTP_OK, api.delete_collection(ctx, options)

    def _patch(self, api, ctx, raw):
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        with api.store.lock:
            existed = api.store.get(ctx.res.key, ctx.namespace if ctx.res.namespaced else "", ctx.name) is not None
        result = api.external(ctx.res, api.patch(ctx, ctype, raw))
        return (HTTP_OK if existed else HTTP_CREATED), result

    def _handle(self):
        try:
            self._dispatch()
        except ApiError as exc:
            self._error(exc)
        except json.JSONDecodeError as exc:
            self._error(ApiError(HTTP_BAD_REQUEST, f"error decoding request body: {exc}"))
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            self.close_connection = True
        except Exception as exc:  # the server must answer, never die
            self._error(ApiError(HTTP_INTERNAL, f"internal error: {type(exc).__name__}: {exc}"))
            self.server.internal_errors.append(repr(exc))
            traceback.print_exc(file=sys.stderr)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle


class KubeSimServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address, pki, api):
        super().__init__(address, Handler)
        self.api, self.token, self.internal_errors = api, pki.token, []
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(pki.server_cert, pki.server_key)
        context.load_verify_locations(pki.ca_file)
        context.verify_mode = ssl.CERT_OPTIONAL
        context.set_alpn_protocols(["http/1.1"])
        self.ssl_context = context
        self.stopping = threading.Event()
        self.down = threading.Event()
        self._open, self._open_lock = set(), threading.Lock()

    def get_request(self):
        sock, addr = super().get_request()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn = self.ssl_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        with self._open_lock:
            self._open.add(conn)  # (wrap_socket took over the file descriptor of `sock`)
        return conn, addr

    def finish_request(self, request, client_address):
        try:
            request.do_handshake()
        except (ssl.SSLError, OSError):
            return
        super().finish_request(request, client_address)

    def shutdown_request(self, request):
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    # ---- an API server restart: the process (and the store, as etcd keeps the data) stays ----------------
    def go_down(self):
        """Stop answering as a stopped kube-apiserver does: the port refuses connections, open ones are cut."""
        self.down.set()
        threading.Thread(target=self.shutdown, daemon=True).start()

    def come_back(self):
        self.down.clear()

    def serve(self, poll_interval=0.2):
        """serve_forever, surviving go_down()/come_back() cycles until `stopping` is set."""
        while True:
            self.serve_forever(poll_interval=poll_interval)
            if self.stopping.is_set() or not self.down.is_set():
                return
            self._unbind()
            while self.down.is_set() and not self.stopping.is_set():
                time.sleep(poll_interval)
            if self.stopping.is_set():
                return
            self._rebind()

    def _unbind(self):
        self.socket.close()
        with self._open_lock:
            open_now, self._open = list(self._open), set()
        for sock in open_now:
            with contextlib.suppress(OSError):  # already closed by its handler
                sock.shutdown(socket.SHUT_RDWR)

    def _rebind(self):
        self.socket = socket.socket(self.address_family, self.socket_type)
        self.server_bind()  # same address and port (SO_REUSEADDR: allow_reuse_address)
        self.server_activate()


def make_server(port, pki, options):
    api = Api(options)
    server = KubeSimServer(("127.0.0.1", port), pki, api)
    return server, api
