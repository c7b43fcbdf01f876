"""Local stand-ins for the upstream sources of an offline bundle, and the test images they serve.

- ``Registry``: Debian's ``docker-registry`` (the real distribution server, 2.8), run by hand on 127.0.0.1 with its
  own config and storage directory, optionally behind htpasswd Basic auth; its access log is the request log.
- ``FileServer``: a local HTTP server laid out like dl.k8s.io and GitHub releases (www/dl.k8s.io/...,
  www/github.com/...), recording every request.
- ``seed_images``: tiny images under the names the cluster needs. Each is an index with linux/amd64 (Debian's
  busybox-static binary with sh, echo, cat, sleep), linux/arm64 and linux/s390x. TEST DATA: the arm64 and s390x
  entries carry a one-file text layer, not a runnable image; they exist to prove platform selection.
- ``seed_files``: stand-in bytes for each file of the artifact table with its published checksum file.

Run as a script (Molecule's bundle step): ``python standins.py BUNDLE_DIR WORK_DIR`` starts both stand-ins, runs
playbooks/bundle.yml against them for amd64 and stops them.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import io
import json
import os
import socket
import subprocess
import sys
import tarfile
import threading
import time
import urllib.request
import warnings
from pathlib import Path

import yaml
from ansible.template import Templar, trust_as_template
from ansible_collections.kubeforge.cluster.plugins.module_utils import registry as reg
from ansible_collections.kubeforge.cluster.plugins.module_utils.registry_layout import Layout, push

with warnings.catch_warnings():  # deprecated in 3.11, still in 3.12: the one stdlib way to bcrypt
    warnings.simplefilter("ignore", DeprecationWarning)
    import crypt

REPO = Path(__file__).resolve().parents[3]

REGISTRY_BIN = "/usr/bin/docker-registry"
BUSYBOX = "/bin/busybox"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
ROLE_DEFAULTS = ("control_plane", "cni", "addons", "cni_plugins", "containerd", "kube_packages")
CONTAINERD_TABLES = "roles/containerd/vars/main.yml"
ARTIFACTS = "playbooks/vars/artifacts.yml"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def htpasswd_line(user, password):
    # bcrypt through libxcrypt (the registry accepts only bcrypt); cost 4 (16 rounds) keeps each request cheap
    return f"{user}:{crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16))}\n"


class Registry:
    """A docker-registry process on 127.0.0.1; ``requests()`` parses its access log ("METHOD /path")."""

    def __init__(self, workdir, users=None):
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        config = {
            "version": 0.1,
            "log": {"level": "info", "formatter": "text", "accesslog": {"disabled": False}},
            "storage": {"filesystem": {"rootdirectory": str(self.dir / "storage")}, "delete": {"enabled": True}},
            "http": {"addr": self.host},
        }
        if users:
            (self.dir / "htpasswd").write_text("".join(htpasswd_line(u, p) for u, p in users.items()))
            config["auth"] = {"htpasswd": {"realm": "kubeforge-test", "path": str(self.dir / "htpasswd")}}
        (self.dir / "config.yml").write_text(yaml.safe_dump(config))
        self.log = self.dir / "registry.log"
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen([REGISTRY_BIN, "serve", str(self.dir / "config.yml")], stdout=log, stderr=log)
        self._wait()

    def _wait(self):
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://{self.host}/v2/", timeout=1).close()
                return
            except urllib.error.HTTPError:
                return  # 401 with auth: it answers
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"docker-registry exited: {self.log.read_text()}") from None
                time.sleep(0.1)
        raise RuntimeError("docker-registry did not answer within 20 s")

    def requests(self):
        out = []
        for line in self.log.read_text(errors="replace").splitlines():
            if '"' in line and " HTTP/1." in line:
                method, path = line.split('"', 2)[1].split(" ")[:2]
                if path != "/v2/" or method != "GET":
                    out.append(f"{method} {path}")
        return out

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


class FileServer:
    """``python -m http.server``-like server of ``root`` in a thread; ``requests`` lists the paths asked for."""

    def __init__(self, root):
        self.root = Path(root)
        self.requests = []
        server = self

        class _Handler(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args):
                server.requests.append(self.path)

        handler = functools.partial(_Handler, directory=str(self.root))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def _tar(entries):
    """Reproducible tar: entries are (name, bytes | None for a symlink to busybox, mode)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data, mode in entries:
            info = tarfile.TarInfo(name)
            info.mode = mode
            if data is None:
                info.type, info.linkname = tarfile.SYMTYPE, "busybox"
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@functools.cache
def _layers():
    busybox = Path(BUSYBOX).read_bytes()
    applets = [(f"bin/{a}", None, 0o777) for a in ("sh", "echo", "cat", "sleep", "hostname")]
    runnable = _tar([("bin/busybox", busybox, 0o755), *applets])
    note = _tar([("README", b"kubeforge test image: this platform's entry is not runnable\n", 0o644)])
    return {"amd64": runnable, "other": note}


def make_image(layout, name, architectures=("amd64", "arm64", "s390x"), docker_types=False):
    """Write a multi-platform test image ``name`` into ``layout``; returns the index digest."""
    layer_type, config_type = (DOCKER_LAYER, DOCKER_CONFIG) if docker_types else (OCI_LAYER, OCI_CONFIG)
    manifest_type, index_type = (
        (reg.DOCKER_MANIFEST, reg.DOCKER_LIST) if docker_types else (reg.OCI_MANIFEST, reg.OCI_INDEX)
    )
    entries = []
    for arch in architectures:
        raw = _layers()["amd64" if arch == "amd64" else "other"]
        layer = gzip.compress(raw, mtime=0)
        config = {
            "architecture": arch,
            "os": "linux",
            "config": {"Cmd": ["/bin/sh"], "Labels": {"org.kubeforge.test-image": name}},
            "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(raw).hexdigest()]},
        }
        config_bytes = json.dumps(config, sort_keys=True).encode()
        manifest = {
            "schemaVersion": 2,
            "mediaType": manifest_type,
            "config": {"mediaType": config_type, "digest": layout.put(config_bytes), "size": len(config_bytes)},
            "layers": [{"mediaType": layer_type, "digest": layout.put(layer), "size": len(layer)}],
        }
        body = json.dumps(manifest, sort_keys=True).encode()
        entries.append(
            {
                "mediaType": manifest_type,
                "digest": layout.put(body),
                "size": len(body),
                "platform": {"architecture": arch, "os": "linux"},
            }
        )
    index = json.dumps({"schemaVersion": 2, "mediaType": index_type, "manifests": entries}, sort_keys=True).encode()
    digest = layout.put(index)
    tag = name.rsplit(":", 1)[1]
    layout.set_image(name, tag, {"mediaType": index_type, "digest": digest, "size": len(index)})
    return digest


def seed_images(registry, names, workdir):
    """Push a test image for each upstream reference in ``names`` into the stand-in ``registry``."""
    layout = Layout(str(Path(workdir) / "seed-layout"))
    client = reg.Registry(registry.host, plain_http=True)
    digests = {}
    for name in names:
        digests[name] = make_image(layout, name, docker_types="flannel" in name)
        _host, repo, tag, _digest = reg.parse_reference(name)
        push(client, layout, name, (repo, tag))
    return digests


def _trusted(data):
    """YAML read as Ansible reads a vars file: every string may be a template."""
    if isinstance(data, str):
        return trust_as_template(data)
    if isinstance(data, dict):
        return {key: _trusted(value) for key, value in data.items()}
    if isinstance(data, list):
        return [_trusted(value) for value in data]
    return data


def _load(relative):
    return _trusted(yaml.safe_load((REPO / relative).read_text()))


def table(overrides=None):
    """The artifact table rendered as bundle.yml renders it, by Ansible's own templating (filters such as
    regex_replace, defaults built from other defaults) over the role defaults, the containerd role's tables (the
    pause tag) and ``overrides``: (files, image references, the table's raw file entries)."""
    values = {}
    for relative in [f"roles/{role}/defaults/main.yml" for role in ROLE_DEFAULTS] + [CONTAINERD_TABLES]:
        values.update(_load(relative))
    values.update({"artifacts_file_base_url": "https://dl.k8s.io"}, **(overrides or {}))
    raw = yaml.safe_load((REPO / ARTIFACTS).read_text())
    rendered = Templar(variables=values).template(_load(ARTIFACTS))
    return rendered["artifacts_files"], [i["source"] for i in rendered["artifacts_images"]], raw["artifacts_files"]


def seed_files(www, files, architectures):
    """Stand-in bytes for each file and architecture, with the published checksum in upstream's format: a lone
    value on dl.k8s.io, "<sha256>  <name>" lines on GitHub releases (runc's one file lists every architecture)."""
    sums = {}
    for spec in files:
        for arch in architectures:
            url, published = spec["url"].replace("{arch}", arch), spec["published"].replace("{arch}", arch)
            path = Path(www) / url.split("://", 1)[1]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(f"stand-in {spec['name']} {spec['version']} linux/{arch}\n".encode())
            sha = hashlib.sha256(path.read_bytes()).hexdigest()
            lone = published.startswith("https://dl.k8s.io/")
            sums.setdefault(published, []).append(sha if lone else f"{sha}  {path.name}")
    for published, lines in sums.items():
        target = Path(www) / published.split("://", 1)[1]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("\n".join(lines) + "\n")


class StandIns:
    """Both stand-ins seeded for the table's files and images; ``extra_vars`` points bundle.yml at them."""

    def __init__(self, workdir, architectures=("amd64", "arm64")):
        workdir = Path(workdir)
        self.files, self.images, self.raw_files = table()
        seed_files(workdir / "www", self.files, architectures)
        self.http = FileServer(workdir / "www")
        self.registry = Registry(workdir / "upstream")
        try:
            self.digests = seed_images(self.registry, self.images, workdir)
        except Exception:
            self.stop()
            raise
        self.seeded = len(self.registry.requests())

    def extra_vars(self, bundle_dir, architectures):
        unpinned = [dict(f, sha256={}) for f in self.raw_files]  # pins are for the real upstream bytes
        return {
            "bundle_dir": str(bundle_dir),
            "bundle_architectures": list(architectures),
            "artifacts_files": unpinned,
            "bundle_file_sources": {
                "https://dl.k8s.io": f"{self.http.url}/dl.k8s.io",
                "https://github.com": f"{self.http.url}/github.com",
            },
            "bundle_registry_endpoints": {
                host: f"http://{self.registry.host}" for host in {reg.parse_reference(i)[0] for i in self.images}
            },
        }

    def upstream_requests(self):
        """Requests to both stand-ins since they were seeded."""
        return self.http.requests + self.registry.requests()[self.seeded :]

    def stop(self):
        self.http.stop()
        self.registry.stop()


def main(bundle_dir, workdir):
    standins = StandIns(workdir, architectures=("amd64",))
    try:
        extra = standins.extra_vars(bundle_dir, ["amd64"])
        argv = [
            str(Path(sys.executable).parent / "ansible-playbook"),
            str(REPO / "playbooks" / "bundle.yml"),
            "-e",
            json.dumps(extra),
        ]
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(REPO / ".venv" / "collections"))
        subprocess.run(argv, check=True, env=env)
    finally:
        standins.stop()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
