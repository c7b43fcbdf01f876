"""Global pytest fixtures: the kubesim Kubernetes API test server (see docs/apiserver.md)."""

from __future__ import annotations

import contextlib
import http.server
import importlib
import os
import sys
import threading
import uuid
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "apiserver"))
# `make setup` links the working tree as .venv/collections/ansible_collections/kubeforge/cluster: the tests import
# the collection's Python code as ansible_collections.kubeforge.cluster.* (ANSIBLE_COLLECTIONS_PATH first, if set).
for _entry in [
    *os.environ.get("ANSIBLE_COLLECTIONS_PATH", "").split(os.pathsep),
    str(HERE.parent / ".venv" / "collections"),
]:
    if _entry and (Path(_entry) / "ansible_collections" / "kubeforge" / "cluster").is_dir() and _entry not in sys.path:
        sys.path.insert(0, _entry)

ApiServer = importlib.import_module("kubesim.testing").ApiServer
HTTP_CREATED = 201


@pytest.fixture(scope="session")
def apiserver(tmp_path_factory):
    """One kubesim server for the whole run (tests isolate themselves by namespace)."""
    server = ApiServer(tmp_path_factory.mktemp("kubesim"))
    yield server
    server.stop()


@pytest.fixture
def apiserver_factory(tmp_path_factory):
    """Start private servers: `apiserver_factory("--pod-stop-seconds", "1")`; all stopped after the test."""
    started = []

    def start(*options):
        server = ApiServer(tmp_path_factory.mktemp("kubesim-private"), options)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def namespace(apiserver, request):
    """A fresh namespace on `apiserver` (deleted afterwards); returns its name."""
    base = "".join(c if c.isalnum() else "-" for c in request.node.name.lower())[:40].strip("-")
    name = f"{base}-{uuid.uuid4().hex[:6]}"
    status, body = apiserver.request(
        "POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
    )
    assert status == HTTP_CREATED, body
    yield name
    apiserver.request("DELETE", f"/api/v1/namespaces/{name}")


def pytest_report_header(config):
    del config
    return f"kubesim: {HERE / 'apiserver' / 'serve'} (KUBECONFIG_REAL={os.environ.get('KUBECONFIG_REAL', '')})"


@contextlib.contextmanager
def _serve(handler):
    """Serve ``handler`` (an http.server request handler class) on 127.0.0.1; yields the base URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def local_http_server():
    """``with local_http_server(handler) as url``: serve an http.server request handler class on 127.0.0.1."""
    return _serve


@pytest.fixture
def host_reader():
    """``host_reader(reader, query, check=False)``: the ``state`` kubeforge.cluster.host_read returns for ``reader`` and
    ``query``, its logic run in this process with a real AnsibleModule (its run_command, this process's environment:
    stand-ins go on PATH with monkeypatch). A read that fails raises the module's KubeforgeError."""
    basic = importlib.import_module("ansible.module_utils.basic")
    testing = importlib.import_module("ansible.module_utils.testing")
    readers = importlib.import_module("ansible_collections.kubeforge.cluster.plugins.module_utils.host_readers")

    def read(reader, query, check=False):
        with testing.patch_module_args({"reader": reader, "query": query, "_ansible_check_mode": check}):
            module = basic.AnsibleModule(argument_spec=readers.HOST_READ_ARG_SPEC, supports_check_mode=True)
        result = readers.host_read(module)
        assert result["changed"] is False
        return result["state"]

    return read
