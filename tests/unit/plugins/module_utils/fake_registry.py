"""An in-memory OCI distribution registry with a token service, for the registry client's unit tests.

Modelled on the distribution specification (opencontainers/distribution-spec spec.md) and on what
distribution/distribution 2.8 does, including how it refuses: every /v2/ request without a token gets 401 with
``WWW-Authenticate: Bearer realm="<url>/token",service="fake",scope="repository:<name>:<actions>"`` (the token flow of
docs/spec/auth/token.md, as registry.k8s.io and ghcr.io use it); the token endpoint returns ``{"token": ...}`` and,
with ``users`` set, 401 for wrong Basic credentials; manifests answer with ``Docker-Content-Digest`` and their media
type; an upload PUT whose bytes do not hash to ``?digest=`` is refused with 400 DIGEST_INVALID; a manifest PUT that
names a blob or a manifest the repository lacks is refused with 400 MANIFEST_BLOB_UNKNOWN (distribution's manifest
list handler verifies every referenced manifest). ``corrupt`` serves altered bytes for a digest; ``redirect`` sends
blob GETs to another server (object storage) with 307.
"""

from __future__ import annotations

import base64
import hashlib
import json
import urllib.parse
import uuid


def digest_of(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


class FakeRegistry:
    def __init__(self, start, users=None, ssl_context=None, anonymous_pull=True):
        """``start(handler, ssl_context)`` is the ``fake_server`` fixture of conftest.py."""
        self.users = users or {}
        self.anonymous_pull = anonymous_pull
        self.blobs = {}  # (repo, digest) -> bytes
        self.manifests = {}  # (repo, reference) -> (media type, bytes)
        self.uploads = {}
        self.tokens = {}  # token -> (user, scope)
        self.corrupt = set()
        self.redirect = None
        self.server = start(self.handle, ssl_context)
        self.url = self.server.url
        self.host = self.url.split("://", 1)[1]

    @property
    def requests(self):
        """(method, path, Authorization header) of every request."""
        return [
            (method, path, headers.get("Authorization")) for method, path, headers, _body, _conn in self.server.requests
        ]

    # -- content helpers for tests ----------------------------------------------------------------------------
    def add_blob(self, repo, data):
        self.blobs[(repo, digest_of(data))] = data
        return digest_of(data)

    def add_manifest(self, repo, tag, media_type, data):
        digest = digest_of(data)
        self.manifests[(repo, digest)] = (media_type, data)
        if tag:
            self.manifests[(repo, tag)] = (media_type, data)
        return digest

    # -- protocol -----------------------------------------------------------------------------------------------
    @staticmethod
    def _error(status, code, message, extra=None):
        body = json.dumps({"errors": [{"code": code, "message": message}]}).encode()
        return status, dict({"Content-Type": "application/json"}, **(extra or {})), body

    def _token(self, headers, query):
        auth = headers.get("Authorization") or ""
        user = None
        if auth.startswith("Basic "):
            user, _colon, password = base64.b64decode(auth[6:]).decode().partition(":")
            if self.users.get(user) != password:
                return self._error(401, "UNAUTHORIZED", "authentication required")
        token = uuid.uuid4().hex
        self.tokens[token] = (user, query.get("scope", [""])[0])
        return 200, {"Content-Type": "application/json"}, json.dumps({"token": token}).encode()

    def _authorized(self, headers, repo, push):
        auth = headers.get("Authorization") or ""
        user, scope = self.tokens.get(auth[7:], (None, None)) if auth.startswith("Bearer ") else (None, None)
        if scope is None or not scope.startswith(f"repository:{repo}:"):
            return False
        if push:
            return "push" in scope and user is not None
        return user is not None or self.anonymous_pull

    def handle(self, method, path, headers, body):
        url = urllib.parse.urlsplit(path)
        query = urllib.parse.parse_qs(url.query)
        if url.path == "/token":
            return self._token(headers, query)
        parts = url.path[len("/v2/") :].split("/")
        kind_at = max(i for i, p in enumerate(parts) if p in ("manifests", "blobs"))
        repo, kind, rest = "/".join(parts[:kind_at]), parts[kind_at], parts[kind_at + 1 :]
        push = method in ("POST", "PUT", "PATCH") or (method == "HEAD" and kind == "blobs")
        if not self._authorized(headers, repo, push):
            actions = "pull,push" if push else "pull"
            challenge = f'Bearer realm="{self.url}/token",service="fake",scope="repository:{repo}:{actions}"'
            return self._error(401, "UNAUTHORIZED", "authentication required", {"WWW-Authenticate": challenge})
        if kind == "manifests":
            return self._manifest(method, repo, rest[0], headers, body)
        if rest and rest[0] == "uploads":
            return self._upload(method, repo, rest, query, body)
        return self._blob(method, repo, rest[0])

    def _manifest(self, method, repo, reference, headers, body):
        if method == "PUT":
            media = headers.get("Content-Type")
            doc = json.loads(body)
            refs = [m["digest"] for m in doc.get("manifests", [])]
            blobs = (
                [doc["config"]["digest"], *[layer["digest"] for layer in doc.get("layers", [])]]
                if "config" in doc
                else []
            )
            if any((repo, d) not in self.manifests for d in refs) or any((repo, d) not in self.blobs for d in blobs):
                return self._error(400, "MANIFEST_BLOB_UNKNOWN", "blob unknown to registry")
            digest = self.add_manifest(repo, None if reference.startswith("sha256:") else reference, media, body)
            return 201, {"Docker-Content-Digest": digest, "Location": f"/v2/{repo}/manifests/{digest}"}, b""
        if (repo, reference) not in self.manifests:
            return self._error(404, "MANIFEST_UNKNOWN", "manifest unknown")
        media, data = self.manifests[(repo, reference)]
        digest = digest_of(data)
        if digest in self.corrupt:
            data = data.replace(b"{", b"{ ", 1)
        return 200, {"Content-Type": media, "Docker-Content-Digest": digest}, data

    def _blob(self, method, repo, digest):
        if (repo, digest) not in self.blobs:
            return self._error(404, "BLOB_UNKNOWN", "blob unknown to registry")
        if method == "GET" and self.redirect:
            return 307, {"Location": f"{self.redirect}/storage/{digest}"}, b""
        data = self.blobs[(repo, digest)]
        if digest in self.corrupt:
            data = data[:-1] + bytes([data[-1] ^ 1])
        return 200, {"Docker-Content-Digest": digest, "Content-Type": "application/octet-stream"}, data

    def _upload(self, method, repo, rest, query, body):
        if method == "POST":
            upload = uuid.uuid4().hex
            self.uploads[upload] = b""
            return 202, {"Location": f"/v2/{repo}/blobs/uploads/{upload}?_state=x"}, b""
        data = self.uploads.pop(rest[1]) + body
        digest = query["digest"][0]
        if digest_of(data) != digest:
            return self._error(400, "DIGEST_INVALID", "provided digest did not match uploaded content")
        self.blobs[(repo, digest)] = data
        return 201, {"Docker-Content-Digest": digest, "Location": f"/v2/{repo}/blobs/{digest}"}, b""
