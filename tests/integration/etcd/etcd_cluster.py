"""Three control planes' etcd on this machine: three EtcdNode roots (etcd_node.py), one real etcd cluster on loopback,
grown the way kubeadm grows it. `kubeadm init` writes a manifest whose --initial-cluster names the first member alone;
`kubeadm join --control-plane` adds the member through the etcd API first (etcdctl member add here), then writes a
manifest with --initial-cluster listing the members so far and --initial-cluster-state=existing (kubeadm
cmd/kubeadm/app/phases/etcd/local.go, getEtcdCommand). The control planes share the etcd CA (kubeadm copies etcd/ca
to a joining control plane); each has its own server, peer and healthcheck-client certificates.
The inventory names the three as hosts cp-0..cp-2 (connection local), each with its private root in host variables.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from etcd_node import CTR_DOUBLE, EtcdNode, issue


class EtcdCluster:
    def __init__(self, root, size=3):
        self.root = Path(root)
        self.nodes = [EtcdNode(self.root / f"cp-{i}", name=f"cp-{i}") for i in range(size)]
        self.ctr_log = self.root / "ctr-calls.jsonl"
        # Short: ansible-playbook puts unix sockets under TMPDIR (the path limit is 108 bytes).
        self.controller_tmp = Path(tempfile.mkdtemp(prefix="kf-etcd-"))

    def create(self, joined=True):
        """joined=False: each control plane runs `kubeadm init` of its own (separate etcd clusters, separate CAs)."""
        if not joined:
            for node in self.nodes:
                node.create().start_kubelet()
            return self
        ca = issue(None, None, "etcd-ca", None)
        first, *joining = self.nodes
        first.create(ca)
        first.start_kubelet()
        for node in joining:
            self._add_member(first, node)
            node.initial_cluster = ",".join(f"{n.name}={n.peer_url}" for n in self.nodes[: self.nodes.index(node) + 1])
            node.cluster_state = "existing"
            node.create(ca)
            node.start_kubelet()
        return self

    @staticmethod
    def _add_member(first, node, timeout=30):
        """etcd refuses a member add that would leave it without quorum until the last member joined has been
        active a while ("etcdserver: unhealthy cluster", strict reconfig check); kubeadm's etcd client retries the
        add with a back-off (cmd/kubeadm/app/util/etcd/etcd.go, AddMember), and so does this."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                first.etcdctl("member", "add", node.name, f"--peer-urls={node.peer_url}")
                return
            except subprocess.CalledProcessError as exc:
                if "unhealthy cluster" not in exc.stderr or time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def env(self):
        """One image store for all (the same image on every control plane), one log of the ctr calls, and the
        controller's own temporary directory (to see what a run leaves there)."""
        return {
            "CTR_DOUBLE_IMAGES": str(self.nodes[0].images),
            "CTR_DOUBLE_LOG": str(self.ctr_log),
            "TMPDIR": str(self.controller_tmp),
        }

    def inventory_lines(self):
        lines = ["[control_plane]"]
        for node in self.nodes:
            host = {
                "ansible_connection": "local",
                "ansible_python_interpreter": sys.executable,
                "ansible_become": False,
                "etcd_kubernetes_dir": node.k8s,
                "etcd_snapshot_dir": node.snapshots,
                "etcd_ctr_path": CTR_DOUBLE,
            }
            lines.append(" ".join([node.name, *(f"{key}={value}" for key, value in host.items())]))
        return lines

    def ctr_calls(self):
        return [json.loads(line) for line in self.ctr_log.read_text().splitlines()] if self.ctr_log.exists() else []

    def member_list(self, node):
        return json.loads(node.etcdctl("member", "list", "-w", "json"))

    def stop(self):
        for node in self.nodes:
            node.stop()
        shutil.rmtree(self.controller_tmp, ignore_errors=True)
