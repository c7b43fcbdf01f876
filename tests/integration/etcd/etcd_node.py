"""A control plane's etcd on this machine, for etcd_backup.yml / etcd_restore.yml: a REAL etcd (Debian's etcd-server
3.4) run as the static pod of a kubeadm-shaped manifest under a private root, TLS like kubeadm's etcd PKI, a
"kubelet" thread that starts etcd while the manifest is in the manifest directory and stops it when it leaves
(what the kubelet does with static pods), and the ctr double (tests/doubles/ctr) whose etcd image holds Debian's
etcdctl. The host's etcdctl is never on the playbooks' PATH: they reach it only through the image.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

REPO = Path(__file__).resolve().parents[3]
ETCD, ETCDCTL = Path("/usr/bin/etcd"), Path("/usr/bin/etcdctl")
IMAGE = "registry.k8s.io/etcd:3.4.23-0"
CTR_DOUBLE = REPO / "tests" / "doubles" / "ctr"


def available():
    return ETCD.exists() and ETCDCTL.exists()


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def flip_a_bit(path):
    """Flip one bit in the middle of a file: damage that keeps its size, which only a checksum notices."""
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def _name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def write_pair(directory, stem, cert, key):
    (directory / f"{stem}.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / f"{stem}.key").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    (directory / f"{stem}.key").chmod(0o600)


def issue(ca_cert, ca_key, common_name, usages, ip=False):
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(ca_cert.subject if ca_cert else _name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
    )
    if ca_cert is None:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        return builder.sign(key, hashes.SHA256()), key
    builder = builder.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
    if ip:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
            critical=False,
        )
    return builder.sign(ca_key, hashes.SHA256()), key


class EtcdNode:
    """One control plane under ``root``: kubeadm's /etc/kubernetes layout with an etcd static pod manifest."""

    def __init__(self, root, name="cp-0"):
        self.root = Path(root)
        self.name = name
        self.k8s = self.root / "etc" / "kubernetes"
        self.manifests = self.k8s / "manifests"
        self.pki = self.k8s / "pki" / "etcd"
        self.data_dir = self.root / "var" / "lib" / "etcd"
        self.snapshots = self.root / "var" / "lib" / "kubeforge" / "etcd-snapshots"
        self.client_port, self.peer_port = _free_port(), _free_port()
        self.endpoint = f"https://127.0.0.1:{self.client_port}"
        self.ctr_log = self.root / "ctr-calls.jsonl"
        self._proc = None
        self._log = None
        self._stop = threading.Event()
        self._thread = None
        self.starts = 0
        self.peer_url = f"https://127.0.0.1:{self.peer_port}"
        self.initial_cluster = f"{self.name}={self.peer_url}"  # kubeadm init: this member alone
        self.cluster_state = None  # kubeadm join --control-plane writes "existing" (etcd.go CreateStackedEtcd...)

    # --- setup -----------------------------------------------------------------------------------------------
    def create(self, ca=None):
        """``ca``: (certificate, key) of the etcd CA the control planes share (kubeadm copies etcd/ca to joining
        control planes); a new one when None."""
        self.pki.mkdir(parents=True)
        self.manifests.mkdir(parents=True)
        ca, ca_key = ca or issue(None, None, "etcd-ca", None)
        write_pair(self.pki, "ca", ca, ca_key)
        server_usages = [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
        write_pair(self.pki, "server", *issue(ca, ca_key, self.name, server_usages, ip=True))
        write_pair(self.pki, "peer", *issue(ca, ca_key, self.name, server_usages, ip=True))
        client = issue(ca, ca_key, "kube-etcd-healthcheck-client", [ExtendedKeyUsageOID.CLIENT_AUTH])
        write_pair(self.pki, "healthcheck-client", *client)
        image_bin = self.root / "image-bin"
        image_bin.mkdir()
        for tool in (ETCD, ETCDCTL):  # what the etcd 3.4 image holds (no etcdutl before 3.5)
            (image_bin / tool.name).symlink_to(tool)
        self.images = self.root / "ctr-images.json"
        self.images.write_text(json.dumps({f"k8s.io/{IMAGE}": str(image_bin)}))
        (self.manifests / "etcd.yaml").write_text(yaml.safe_dump(self.manifest(), sort_keys=False))
        return self

    def flags(self):
        peer = self.peer_url
        state = [f"--initial-cluster-state={self.cluster_state}"] if self.cluster_state else []
        return [
            f"--advertise-client-urls={self.endpoint}",
            f"--cert-file={self.pki}/server.crt",
            "--client-cert-auth=true",
            f"--data-dir={self.data_dir}",
            f"--initial-advertise-peer-urls={peer}",
            f"--initial-cluster={self.initial_cluster}",
            *state,
            f"--key-file={self.pki}/server.key",
            f"--listen-client-urls={self.endpoint}",
            f"--listen-peer-urls={peer}",
            f"--name={self.name}",
            f"--peer-cert-file={self.pki}/peer.crt",
            "--peer-client-cert-auth=true",
            f"--peer-key-file={self.pki}/peer.key",
            f"--peer-trusted-ca-file={self.pki}/ca.crt",
            "--snapshot-count=10000",
            f"--trusted-ca-file={self.pki}/ca.crt",
        ]

    def manifest(self):
        """The shape kubeadm writes (cmd/kubeadm/app/phases/etcd/local.go: command etcd + flags, hostPath volumes)."""
        return {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": "etcd",
                "namespace": "kube-system",
                "labels": {"component": "etcd", "tier": "control-plane"},
            },
            "spec": {
                "hostNetwork": True,
                "containers": [
                    {
                        "name": "etcd",
                        "image": IMAGE,
                        "command": ["etcd", *self.flags()],
                        "volumeMounts": [
                            {"mountPath": str(self.data_dir), "name": "etcd-data"},
                            {"mountPath": str(self.pki), "name": "etcd-certs"},
                        ],
                    }
                ],
                "volumes": [
                    {"hostPath": {"path": str(self.pki), "type": "DirectoryOrCreate"}, "name": "etcd-certs"},
                    {"hostPath": {"path": str(self.data_dir), "type": "DirectoryOrCreate"}, "name": "etcd-data"},
                ],
            },
        }

    # --- the kubelet's part ----------------------------------------------------------------------------------
    def _sync(self):
        present = (self.manifests / "etcd.yaml").exists()
        running = self._proc is not None and self._proc.poll() is None
        if present and not running:
            command = yaml.safe_load((self.manifests / "etcd.yaml").read_text())["spec"]["containers"][0]["command"]
            self.data_dir.mkdir(parents=True, exist_ok=True)  # hostPath type DirectoryOrCreate
            self._log = self._log or (self.root / "etcd.log").open("a")
            self._proc = subprocess.Popen([str(ETCD), *command[1:]], stdout=self._log, stderr=self._log)
            self.starts += 1
        elif not present and running:
            self._proc.terminate()
            self._proc.wait(timeout=30)
            self._proc = None

    def _loop(self):
        while not self._stop.is_set():
            self._sync()
            self._stop.wait(0.2)

    def start_kubelet(self, wait=True):
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        if wait:
            self.wait_healthy()

    def stop(self):
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=10)
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            self._proc.wait(timeout=30)
        if self._log:
            self._log.close()

    # --- a client (the test's own, not the playbooks') ---------------------------------------------------------
    def etcdctl(self, *args):
        argv = [
            str(ETCDCTL),
            f"--endpoints={self.endpoint}",
            f"--cacert={self.pki}/ca.crt",
            f"--cert={self.pki}/healthcheck-client.crt",
            f"--key={self.pki}/healthcheck-client.key",
            *args,
        ]
        env = dict(os.environ, ETCDCTL_API="3")
        return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=30, check=True).stdout

    def wait_healthy(self, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.etcdctl("endpoint", "health")
                return
            except subprocess.CalledProcessError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)

    def put(self, key, value):
        self.etcdctl("put", key, value)

    def get(self, key):
        return self.etcdctl("get", "--print-value-only", key).strip()

    # --- ansible-playbook --------------------------------------------------------------------------------------
    def inventory(self, path, extra_hosts=()):
        host = {
            "ansible_connection": "local",
            "ansible_python_interpreter": sys.executable,
            "ansible_become": False,
            "etcd_kubernetes_dir": str(self.k8s),
            "etcd_snapshot_dir": str(self.snapshots),
            "etcd_ctr_path": str(CTR_DOUBLE),
        }
        hosts = {self.name: host}
        data = {
            "all": {
                "children": {"control_plane": {"hosts": hosts}, "workers": {"hosts": dict.fromkeys(extra_hosts, host)}}
            }
        }
        path.write_text(yaml.safe_dump(data))
        return path

    def env(self):
        return {"CTR_DOUBLE_IMAGES": str(self.images), "CTR_DOUBLE_LOG": str(self.ctr_log)}

    def snapshots_taken(self):
        return sorted(p.name for p in self.snapshots.glob("*.db")) if self.snapshots.exists() else []

    def remove(self):
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
