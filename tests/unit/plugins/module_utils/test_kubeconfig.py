"""Kubeconfig and parameter resolution: contexts, relative paths, tokens, exec plugins, overrides."""

from __future__ import annotations

import json
import os
import stat
import subprocess

import pytest
import yaml
from ansible_collections.kubeforge.cluster.plugins.module_utils.client import ApiClient
from ansible_collections.kubeforge.cluster.plugins.module_utils.errors import KubeforgeError
from ansible_collections.kubeforge.cluster.plugins.module_utils.kubeconfig import connection_settings


def _config(**user):
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": "lab", "cluster": {"server": "https://192.168.1.8:6443", "certificate-authority": "pki/ca.crt"}},
            {"name": "other", "cluster": {"server": "https://10.0.0.1:6443", "insecure-skip-tls-verify": True}},
        ],
        "users": [{"name": "admin", "user": user or {"token": "abc"}}],
        "contexts": [
            {"name": "kubernetes-admin@lab", "context": {"cluster": "lab", "user": "admin", "namespace": "web"}},
            {"name": "other", "context": {"cluster": "other", "user": "admin"}},
        ],
        "current-context": "kubernetes-admin@lab",
    }


def _write(tmp_path, config, name="config"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(config))
    return str(path)


def _run_command(argv, environ_update=None):
    """What AnsibleModule.run_command does for the client: (rc, stdout, stderr)."""
    proc = subprocess.run(
        argv, env=dict(os.environ, **(environ_update or {})), capture_output=True, text=True, check=False
    )
    return proc.returncode, proc.stdout, proc.stderr


def test_current_context_with_relative_ca_path(tmp_path):
    settings = connection_settings({"kubeconfig": _write(tmp_path, _config())})
    assert settings.server == "https://192.168.1.8:6443"
    assert settings.ca_file == str(tmp_path / "pki" / "ca.crt")
    assert settings.namespace == "web"
    assert settings.bearer_token() == "abc"
    assert settings.insecure is False


def test_named_context_and_insecure_only_when_the_kubeconfig_says_so(tmp_path):
    settings = connection_settings({"kubeconfig": _write(tmp_path, _config()), "context": "other"})
    assert settings.server == "https://10.0.0.1:6443"
    assert settings.insecure is True


def test_missing_context_lists_the_known_ones(tmp_path):
    with pytest.raises(KubeforgeError) as caught:
        connection_settings({"kubeconfig": _write(tmp_path, _config()), "context": "prod"})
    assert "context 'prod' not found" in str(caught.value)
    assert "kubernetes-admin@lab, other" in str(caught.value)


def test_missing_kubeconfig_file_is_named(tmp_path):
    with pytest.raises(KubeforgeError, match="does not exist"):
        connection_settings({"kubeconfig": str(tmp_path / "nope")})


def test_token_file_is_read_at_request_time(tmp_path):
    token = tmp_path / "token"
    token.write_text("first\n")
    settings = connection_settings({"kubeconfig": _write(tmp_path, _config(tokenFile="token"))})
    assert settings.bearer_token() == "first"
    token.write_text("rotated\n")
    assert settings.bearer_token() == "rotated"


def test_exec_plugin_token(tmp_path):
    plugin = tmp_path / "plugin.py"
    plugin.write_text(
        "import json, os, sys\n"
        "info = json.loads(os.environ['KUBERNETES_EXEC_INFO'])\n"
        "print(json.dumps({'apiVersion': info['apiVersion'], 'kind': 'ExecCredential',"
        " 'status': {'token': 'from-exec-' + os.environ['EXTRA']}}))\n"
    )
    plugin.chmod(plugin.stat().st_mode | stat.S_IEXEC)
    exec_config = {
        "apiVersion": "client.authentication.k8s.io/v1",
        "command": "python3",
        "args": [str(plugin)],
        "env": [{"name": "EXTRA", "value": "42"}],
    }
    client = ApiClient.from_params(
        {"kubeconfig": _write(tmp_path, _config(exec=exec_config)), "context": "other"}, run_command=_run_command
    )
    assert client._authorization() == "Bearer from-exec-42"


def test_exec_plugin_failure_is_reported(tmp_path):
    settings_params = {"kubeconfig": _write(tmp_path, _config(exec={"command": "false"})), "context": "other"}
    with pytest.raises(KubeforgeError, match="exec credential plugin false exited with 1"):
        ApiClient.from_params(settings_params, run_command=_run_command)._authorization()


def test_explicit_options_override_the_kubeconfig(tmp_path):
    settings = connection_settings(
        {
            "kubeconfig": _write(tmp_path, _config()),
            "host": "https://127.0.0.1:7443/",
            "api_key": "override",
            "ca_cert": "/etc/kubernetes/pki/ca.crt",
            "validate_certs": False,
        }
    )
    assert settings.server == "https://127.0.0.1:7443"
    assert settings.bearer_token() == "override"
    assert settings.ca_file == "/etc/kubernetes/pki/ca.crt"
    assert settings.insecure is True


def test_kubeconfig_env_merges_files_first_wins(tmp_path, monkeypatch):
    first = _config()
    second = _config()
    second["clusters"][0]["cluster"]["server"] = "https://ignored:6443"
    second["contexts"].append({"name": "extra", "context": {"cluster": "other", "user": "admin"}})
    paths = [_write(tmp_path, first, "a"), _write(tmp_path, second, "b")]
    monkeypatch.setenv("KUBECONFIG", ":".join(paths))
    assert connection_settings({}).server == "https://192.168.1.8:6443"
    assert connection_settings({"context": "extra"}).server == "https://10.0.0.1:6443"


def test_no_kubeconfig_and_not_in_cluster(tmp_path, monkeypatch):
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(KubeforgeError, match="no kubeconfig found"):
        connection_settings({})


def test_inline_kubeconfig_dict():
    settings = connection_settings({"kubeconfig": json.loads(json.dumps(_config())), "context": "other"})
    assert settings.server == "https://10.0.0.1:6443"
