"""Fixtures of the etcd backup/restore tests: a real etcd as the static pod of a private control-plane root."""

from __future__ import annotations

import pytest
from etcd_node import EtcdNode, available


@pytest.fixture
def etcd_node(tmp_path):
    if not available():
        pytest.fail(
            "Debian's etcd-server and etcd-client packages are needed (apt-get install etcd-server etcd-client)"
        )
    node = EtcdNode(tmp_path / "root").create()
    node.start_kubelet()
    yield node
    node.stop()
