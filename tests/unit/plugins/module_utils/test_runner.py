"""runner.run_logic: a missing kubeconfig the module reports is answered before PyYAML or a client is needed."""

from __future__ import annotations

import pytest
from ansible_collections.kubeforge.cluster.plugins.module_utils import runner
from ansible_collections.kubeforge.cluster.plugins.module_utils.errors import KubeforgeError


class _Module:
    def __init__(self, **params):
        self.params = params


def _logic(module, client):
    return {"client": client}


def test_a_missing_kubeconfig_reported_needs_neither_pyyaml_nor_a_client(monkeypatch, tmp_path):
    monkeypatch.setattr(runner, "HAS_YAML", False)
    module = _Module(kubeconfig=str(tmp_path / "absent.conf"), missing_kubeconfig="report")
    made = []

    assert runner.run_logic(module, _logic, client_for=made.append) == {"client": None}
    assert made == []


@pytest.mark.parametrize("missing_kubeconfig", ["fail", None])
def test_otherwise_pyyaml_is_still_required(monkeypatch, tmp_path, missing_kubeconfig):
    monkeypatch.setattr(runner, "HAS_YAML", False)
    module = _Module(kubeconfig=str(tmp_path / "absent.conf"), missing_kubeconfig=missing_kubeconfig)

    with pytest.raises(KubeforgeError, match="PyYAML"):
        runner.run_logic(module, _logic, client_for=lambda module: "client")


def test_an_existing_kubeconfig_gets_the_client(tmp_path):
    config = tmp_path / "admin.conf"
    config.write_text("{}")
    module = _Module(kubeconfig=str(config), missing_kubeconfig="report")

    assert runner.run_logic(module, _logic, client_for=lambda module: "client") == {"client": "client"}
