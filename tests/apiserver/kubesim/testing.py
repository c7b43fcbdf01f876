"""Test harness: start/stop a kubesim server process (used by tests/conftest.py and the conformance tests)."""

from __future__ import annotations

import base64
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from .client import KubeClient
from .helpers import add_nodes

APISERVER_DIR = Path(__file__).resolve().parent.parent
SERVE = APISERVER_DIR / "serve"
START_TIMEOUT = 20
STOP_TIMEOUT = 5
HTTP_CREATED = 201
HTTP_OK = 200


class ApiServer:
    """A running kubesim process."""

    context = "kubesim"
    token_context = "kubesim-token"
    contexts = ("kubesim", "kubesim-token")

    def __init__(self, workdir, options=()):
        workdir = Path(workdir)
        workdir.mkdir(parents=True, exist_ok=True)
        self.kubeconfig = str(workdir / "kubeconfig")
        self.ca_file = str(workdir / "ca.crt")
        cmd = [
            sys.executable,
            str(SERVE),
            "--port",
            "0",
            "--kubeconfig",
            self.kubeconfig,
            "--exit-with-parent",
            *options,
        ]
        with open(workdir / "server.log", "wb") as log:
            self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, cwd=str(APISERVER_DIR.parent.parent))
        self.pid = self.proc.pid
        self.url = self._wait_ready()
        with open(self.kubeconfig) as handle:
            config = yaml.safe_load(handle)
        Path(self.ca_file).write_bytes(base64.b64decode(config["clusters"][0]["cluster"]["certificate-authority-data"]))
        self.token = next(u["user"]["token"] for u in config["users"] if "token" in u["user"])
        self.client = KubeClient(self.kubeconfig, self.token_context)

    def _wait_ready(self):
        ready, _writable, _failed = select.select([self.proc.stdout], [], [], START_TIMEOUT)
        line = self.proc.stdout.readline().decode().strip() if ready else ""
        if not line.startswith("ready "):
            self.stop()
            raise RuntimeError(f"kubesim did not start: {line!r}")
        return line.split(" ", 1)[1]

    def request(self, method, path, body=None, content_type="application/json", headers=None):
        """(status, JSON body) of one HTTPS request authenticated with the bearer token."""
        return self.client.request(method, path, body, content_type, headers)

    def add_nodes(self, n, prefix="node", labels=None, taints=None):
        return add_nodes(self, n, prefix, labels, taints)

    def stop_apiserver(self):
        """Stop serving as a stopped kube-apiserver does (connections refused); the data stays, as etcd's does."""
        self.proc.send_signal(signal.SIGUSR1)
        self._wait_port(listening=False)

    def start_apiserver(self):
        """Serve again on the same port, with the same objects and credentials."""
        self.proc.send_signal(signal.SIGUSR2)
        self._wait_port(listening=True)

    def _wait_port(self, listening):
        parts = urlsplit(self.url)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            try:
                socket.create_connection((parts.hostname, parts.port), timeout=1).close()
                up = True
            except OSError:
                up = False
            if up == listening:
                return
            time.sleep(0.05)
        raise RuntimeError(f"kubesim at {self.url} did not {'come back' if listening else 'stop'}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if hasattr(self, "client"):
            self.client.close()
        self.proc.stdout.close()
