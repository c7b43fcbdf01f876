"""A tiny stdlib HTTPS client for tests and helpers (bearer token or client certificate from a kubeconfig)."""

from __future__ import annotations

import base64
import http.client
import json
import os
import ssl
import tempfile
import threading
from urllib.parse import urlsplit

import yaml

_ATTEMPTS = 2
HTTP_OK = 200


class KubeClient:
    """`request(method, path, body=None, content_type=...) -> (status, parsed JSON or text)`."""

    def __init__(self, kubeconfig, context=None):
        with open(kubeconfig) as handle:
            config = yaml.safe_load(handle)
        name = context or config["current-context"]
        ctx = next(c["context"] for c in config["contexts"] if c["name"] == name)
        cluster = next(c["cluster"] for c in config["clusters"] if c["name"] == ctx["cluster"])
        user = next(u["user"] for u in config["users"] if u["name"] == ctx["user"])
        self.url = cluster["server"]
        self.ssl = ssl.create_default_context(cadata=base64.b64decode(cluster["certificate-authority-data"]).decode())
        self.token = user.get("token")
        if "client-certificate-data" in user:
            self._load_cert(user)
        parts = urlsplit(self.url)
        self.host, self.port = parts.hostname, parts.port
        self._local = threading.local()

    def _load_cert(self, user):
        folder = tempfile.mkdtemp(prefix="kubesim-client-")
        cert, key = os.path.join(folder, "c.crt"), os.path.join(folder, "c.key")
        for path, field in ((cert, "client-certificate-data"), (key, "client-key-data")):
            with open(path, "wb") as handle:
                handle.write(base64.b64decode(user[field]))
        self.ssl.load_cert_chain(cert, key)
        os.unlink(cert)
        os.unlink(key)
        os.rmdir(folder)

    def _conn(self):
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = http.client.HTTPSConnection(self.host, self.port, context=self.ssl, timeout=60)
            self._local.conn = conn
        return conn

    def request(self, method, path, body=None, content_type="application/json", headers=None):
        data = None
        if body is not None:
            data = body if isinstance(body, (bytes, str)) else json.dumps(body)
            data = data.encode() if isinstance(data, str) else data
        head = {"Accept": "application/json", "User-Agent": "kubesim-tests/1.0"}
        if data is not None:
            head["Content-Type"] = content_type
        if self.token:
            head["Authorization"] = f"Bearer {self.token}"
        head.update(headers or {})
        for attempt in range(_ATTEMPTS):
            conn = self._conn()
            try:
                conn.request(method, path, body=data, headers=head)
                resp = conn.getresponse()
                raw = resp.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                conn.close()
                self._local.conn = None
                if attempt == _ATTEMPTS - 1:
                    raise
        self.last_headers = resp.headers
        try:
            return resp.status, json.loads(raw) if raw else None
        except ValueError:
            return resp.status, raw.decode(errors="replace")

    def watch(self, path, max_events=10000):
        """Events of a watch request (a fresh connection), read until the server ends the stream."""
        conn = http.client.HTTPSConnection(self.host, self.port, context=self.ssl, timeout=60)
        head = {"Accept": "application/json"}
        if self.token:
            head["Authorization"] = f"Bearer {self.token}"
        try:
            conn.request("GET", path, headers=head)
            resp = conn.getresponse()
            if resp.status != HTTP_OK:
                raise RuntimeError(f"watch {path}: {resp.status} {resp.read()[:500]!r}")
            events = []
            while len(events) < max_events:
                line = resp.readline()
                if not line:
                    break
                events.append(json.loads(line))
            return events
        finally:
            conn.close()

    def close(self):
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
