# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small OCI distribution API client on the standard library: resolve, fetch (verified by digest), push.

Follows the OCI distribution specification (opencontainers/distribution-spec spec.md): manifests at
``/v2/<name>/manifests/<reference>`` (GET/HEAD/PUT), blobs at ``/v2/<name>/blobs/<digest>`` (GET/HEAD), uploads by
``POST /v2/<name>/blobs/uploads/`` then ``PUT <location>?digest=<digest>`` (monolithic). Authentication follows the
token flow registry.k8s.io, ghcr.io and Docker Hub use (distribution docs/spec/auth/token.md): a 401 with
``WWW-Authenticate: Bearer realm=...,service=...,scope=...`` is answered by ``GET <realm>?service=&scope=`` (with
basic credentials when given) returning ``{"token"|"access_token": ...}``; ``WWW-Authenticate: Basic`` (htpasswd
registries such as Debian's docker-registry) gets the basic credentials.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import ssl
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from ansible_collections.kubeforge.cluster.plugins.module_utils.errors import (
    HTTP_NOT_FOUND,
    HTTP_UNAUTHORIZED,
    KubeforgeError,
)

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
INDEX_TYPES = (OCI_INDEX, DOCKER_LIST)
MANIFEST_TYPES = (OCI_MANIFEST, DOCKER_MANIFEST)
ACCEPT = ", ".join(INDEX_TYPES + MANIFEST_TYPES)
CHUNK = 1 << 20
TIMEOUT = 60
HTTP_OK, HTTP_CREATED, HTTP_ACCEPTED = 200, 201, 202
OK_OR_MISSING = (HTTP_OK, HTTP_NOT_FOUND)
DOCKER_HUB = "registry-1.docker.io"
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_CHALLENGE = re.compile(r'(\w+)="([^"]*)"')


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def check_digest(digest: str, what: str) -> str:
    if not _DIGEST.match(digest or ""):
        raise KubeforgeError(f"{what}: {digest!r} is not a sha256 digest")
    return digest


def parse_reference(ref: str) -> tuple:
    """``registry.k8s.io/pause:3.10`` -> (registry host, repository, tag, digest); Docker Hub names as docker does."""
    name, _at, digest = ref.partition("@")
    digest = digest or None
    tag = None
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name, tag = name.rsplit(":", 1)
    first, _slash, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        host, repo = first, rest
    else:
        host, repo = "docker.io", name
    if host == "docker.io" and "/" not in repo:
        repo = "library/" + repo
    if not repo or not re.match(r"^[a-z0-9]+([._/-][a-z0-9]+)*$", repo.replace("__", "_")):
        raise KubeforgeError(f"image reference {ref!r}: invalid repository name {repo!r}")
    if digest:
        check_digest(digest, f"image reference {ref!r}")
    elif not tag:
        tag = "latest"
    return host, repo, tag, digest


def _challenge(header):
    scheme, _space, params = (header or "").partition(" ")
    return scheme.strip().lower(), dict(_CHALLENGE.findall(params))


class _NoRedirectAuth(urllib.request.HTTPRedirectHandler):
    """Follow redirects (blob downloads go to object storage) without carrying the registry's Authorization."""

    def redirect_request(self, req: Any, *args: Any) -> Any:
        new = super().redirect_request(req, *args)
        if new is not None:
            new.remove_header("Authorization")
        return new


class Registry:
    """One registry host. ``auth`` is (username, password) for Basic and token auth; ``ca_file`` adds a CA;
    ``plain_http`` talks HTTP."""

    def __init__(
        self, host: str, auth: tuple | None = None, ca_file: str | None = None, plain_http: bool = False
    ) -> None:
        self.host = DOCKER_HUB if host == "docker.io" else host
        self.base = ("http://" if plain_http else "https://") + self.host
        self.username, self.password = auth or (None, None)
        self.timeout = TIMEOUT
        self._auth = {}  # scope -> Authorization header value
        context = ssl.create_default_context(cafile=ca_file) if ca_file else ssl.create_default_context()
        self._opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context), _NoRedirectAuth())

    # -- transport ------------------------------------------------------------------------------------------------
    def _open(self, method, url, scope, headers=None, data=None):
        request = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
        if scope in self._auth:
            request.add_unredirected_header("Authorization", self._auth[scope])
        return self._opener.open(request, timeout=self.timeout)

    def request(self, method: str, path: str, scope: str, **options: Any) -> Any:
        """Send ``method path`` (options: headers, data, ok = accepted statuses), authenticating for ``scope`` and
        retrying once after a 401; return the open response."""
        url = path if path.startswith("http") else self.base + path
        headers, data, ok = options.get("headers"), options.get("data"), options.get("ok", (HTTP_OK,))
        for attempt in (1, 2):
            if attempt > 1 and hasattr(data, "seek"):
                data.seek(0)
            try:
                response = self._open(method, url, scope, headers, data)
            except urllib.error.HTTPError as exc:
                if exc.code == HTTP_UNAUTHORIZED and attempt == 1:
                    self._authenticate(scope, exc.headers.get("WWW-Authenticate"))
                    continue
                if exc.code in ok:
                    return exc
                raise self._error(method, url, exc) from None
            except (urllib.error.URLError, OSError) as exc:
                raise KubeforgeError(f"registry {self.host}: {method} {url} failed: {exc}") from None
            if response.status not in ok:
                raise KubeforgeError(
                    f"registry {self.host}: {method} {url} answered {response.status}", response.status
                )
            return response
        raise AssertionError("unreachable")

    def _error(self, method, url, exc):
        body = exc.read(4096).decode("utf-8", "replace")
        try:
            errors = json.loads(body).get("errors") or []
            detail = "; ".join(f"{e.get('code')}: {e.get('message')}" for e in errors) or body
        except (ValueError, AttributeError):
            detail = body.strip()[:300]
        if exc.code == HTTP_UNAUTHORIZED:
            who = f"the credentials of {self.username!r}" if self.username else "anonymous access"
            return KubeforgeError(f"registry {self.host} refused {who} ({method} {url}): {detail}", exc.code)
        return KubeforgeError(f"registry {self.host}: {method} {url} answered {exc.code}: {detail}", exc.code)

    def _basic(self):
        if self.username is None:
            return None
        raw = f"{self.username}:{self.password or ''}".encode()
        return "Basic " + base64.b64encode(raw).decode()

    def _authenticate(self, scope, header):
        scheme, params = _challenge(header)
        if scheme == "basic":
            if self.username is None:
                raise KubeforgeError(f"registry {self.host} needs credentials (Basic auth) and none were given", 401)
            self._auth[scope] = self._basic()
            return
        if scheme != "bearer" or "realm" not in params:
            raise KubeforgeError(f"registry {self.host}: unsupported authentication challenge {header!r}", 401)
        query = {"service": params.get("service", "")}
        if scope:
            query["scope"] = scope
        url = params["realm"] + "?" + urllib.parse.urlencode({k: v for k, v in query.items() if v})
        request = urllib.request.Request(url, headers={"Authorization": self._basic()} if self.username else {})
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                token = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise self._error("GET", url, exc) from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise KubeforgeError(f"registry {self.host}: token request {url} failed: {exc}") from None
        value = token.get("token") or token.get("access_token")
        if not value:
            raise KubeforgeError(f"registry {self.host}: token endpoint {params['realm']} returned no token")
        self._auth[scope] = "Bearer " + value

    # -- reading --------------------------------------------------------------------------------------------------
    @staticmethod
    def scope(repo: str, push: bool = False) -> str:
        return f"repository:{repo}:{'pull,push' if push else 'pull'}"

    def check_access(self, repo: str, push: bool = False) -> None:
        """Authenticate for ``repo`` now (a manifest HEAD), so refused credentials fail before anything is sent."""
        accept = {"Accept": ACCEPT}
        self.request("HEAD", f"/v2/{repo}/manifests/latest", self.scope(repo, push), headers=accept, ok=OK_OR_MISSING)

    def manifest(self, repo: str, reference: str, expect: str | None = None) -> tuple:
        """GET a manifest -> (digest, media type, bytes); by digest the bytes must hash to it."""
        response = self.request(
            "GET", f"/v2/{repo}/manifests/{reference}", self.scope(repo), headers={"Accept": ACCEPT}
        )
        with response:
            body = response.read()
            media = (response.headers.get("Content-Type") or "").split(";")[0].strip()
            header = response.headers.get("Docker-Content-Digest")
        digest = sha256_digest(body)
        wanted = expect or (reference if reference.startswith("sha256:") else header)
        if wanted and wanted != digest:
            raise KubeforgeError(f"registry {self.host}: manifest {repo}@{wanted} arrived with digest {digest}")
        media = media if media in INDEX_TYPES + MANIFEST_TYPES else json.loads(body).get("mediaType", media)
        return digest, media, body

    def download_blob(self, repo: str, digest: str, dest: str) -> None:
        """Stream blob ``digest`` to ``dest`` (via a temporary file); the bytes must hash to the digest."""
        check_digest(digest, f"{repo} blob")
        partial = dest + ".part"
        sha = hashlib.sha256()
        response = self.request("GET", f"/v2/{repo}/blobs/{digest}", self.scope(repo))
        with response, open(partial, "wb") as out:
            for chunk in iter(lambda: response.read(CHUNK), b""):
                sha.update(chunk)
                out.write(chunk)
        got = "sha256:" + sha.hexdigest()
        if got != digest:
            os.unlink(partial)
            raise KubeforgeError(f"registry {self.host}: blob {repo}@{digest} arrived with digest {got}")
        os.replace(partial, dest)

    # -- writing --------------------------------------------------------------------------------------------------
    def has_blob(self, repo: str, digest: str) -> bool:
        response = self.request("HEAD", f"/v2/{repo}/blobs/{digest}", self.scope(repo, push=True), ok=OK_OR_MISSING)
        return response.status == HTTP_OK

    def has_manifest(self, repo: str, reference: str, digest: str) -> bool:
        """Whether ``repo:reference`` exists and is exactly ``digest``."""
        path, accept = f"/v2/{repo}/manifests/{reference}", {"Accept": ACCEPT}
        response = self.request("HEAD", path, self.scope(repo, push=True), headers=accept, ok=OK_OR_MISSING)
        return response.status == HTTP_OK and response.headers.get("Docker-Content-Digest") == digest

    def push_blob(self, repo: str, digest: str, path: str) -> bool:
        """Monolithic upload of the file ``path`` as ``digest`` unless the registry has it. Returns True if pushed."""
        if self.has_blob(repo, digest):
            return False
        scope = self.scope(repo, push=True)
        response = self.request("POST", f"/v2/{repo}/blobs/uploads/", scope, data=b"", ok=(HTTP_ACCEPTED,))
        location = urllib.parse.urljoin(self.base + "/", response.headers.get("Location") or "")
        separator = "&" if "?" in location else "?"
        with open(path, "rb") as data:
            headers = {"Content-Type": "application/octet-stream", "Content-Length": str(os.path.getsize(path))}
            url = f"{location}{separator}digest={digest}"
            self.request("PUT", url, scope, headers=headers, data=data, ok=(HTTP_CREATED,))
        return True

    def put_manifest(self, repo: str, reference: str, media_type: str, body: bytes) -> None:
        headers, path = {"Content-Type": media_type}, f"/v2/{repo}/manifests/{reference}"
        response = self.request("PUT", path, self.scope(repo, True), headers=headers, data=body, ok=(HTTP_CREATED,))
        digest = response.headers.get("Docker-Content-Digest")
        if digest and digest != sha256_digest(body):
            raise KubeforgeError(f"registry {self.host}: manifest {repo}:{reference} stored as {digest}")
