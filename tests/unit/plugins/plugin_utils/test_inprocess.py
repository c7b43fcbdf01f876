"""The controller-side runner of the API modules (plugins/plugin_utils/inprocess.py), without a server."""

from __future__ import annotations

from collections import OrderedDict

import pytest
from ansible_collections.kubeforge.cluster.plugins.module_utils.errors import KubeforgeError
from ansible_collections.kubeforge.cluster.plugins.module_utils.runner import ModuleSpec
from ansible_collections.kubeforge.cluster.plugins.plugin_utils import inprocess

TOKEN = "tok-3b9e0c7a"  # an api_key value: never in a result
UNPROCESSABLE = 422
NOT_FOUND_RC = 127


class _TaggedStr(str):
    """Stands in for the str subclasses Ansible's templating hands to action plugins."""


@pytest.fixture
def fake_client(monkeypatch):
    made = []

    def _from_params(params, run_command=None):
        client = type("Client", (), {"close": lambda self: None, "params": dict(params)})()
        made.append(client)
        return client

    monkeypatch.setattr(inprocess.ApiClient, "from_params", staticmethod(_from_params))
    monkeypatch.setattr(inprocess, "_CLIENTS", {})
    return made


def _spec(logic, **options):
    spec = {"api_key": {"type": "str", "no_log": True}, "host": {"type": "str"}, "name": {"type": "str"}}
    return ModuleSpec(logic, argument_spec=spec, **options)


def test_plain_turns_wrappers_into_json_types():
    value = OrderedDict(a=_TaggedStr("x"), b=(1, 2.5, True, None), c={_TaggedStr("k"): b"bytes"}, d={3})
    plain = inprocess._plain(value)
    assert plain == {"a": "x", "b": [1, 2.5, True, None], "c": {"k": "bytes"}, "d": [3]}
    assert not isinstance(plain["a"], _TaggedStr) and not isinstance(next(iter(plain["c"])), _TaggedStr)
    assert not isinstance(plain, OrderedDict)


def test_validation_errors_read_like_ansible_modules(fake_client):
    spec = _spec(lambda module, client: {"changed": False}, required_if=[("name", "x", ("host",))])
    unknown = inprocess.run_in_process(spec, "kubeforge.cluster.demo", {"bogus": 1}, False, False)
    assert unknown["failed"] and unknown["msg"].startswith("Unsupported parameters for (kubeforge.cluster.demo) module")
    assert "bogus" in unknown["msg"]
    missing = inprocess.run_in_process(spec, "demo", {"name": "x"}, False, False)
    assert missing == {"failed": True, "msg": "name is x but all of the following are missing: host"}
    assert fake_client == [], "no client is made for invalid arguments"


def test_no_log_and_secret_values_are_masked(fake_client):
    def _logic(module, client):
        module.no_log_values.add("s3cret-value")
        module.warn(f"token {module.params['api_key']} seen")
        return {"changed": True, "echo": [module.params["api_key"], "s3cret-value", "plain"]}

    result = inprocess.run_in_process(_spec(_logic), "demo", {"api_key": _TaggedStr(TOKEN)}, True, True)
    assert TOKEN not in repr(result) and "s3cret-value" not in repr(result)
    assert result["echo"][2] == "plain" and result["changed"] is True
    assert result["warnings"] and TOKEN not in result["warnings"][0]


def test_errors_become_failed_results_with_details(fake_client):
    def _logic(module, client):
        cause = {"field": "data", "message": "x"}
        raise KubeforgeError("is invalid", status=UNPROCESSABLE, ref="ConfigMap/ns/cm", causes=[cause])

    result = inprocess.run_in_process(_spec(_logic), "demo", {}, False, False)
    assert result["failed"] and result["status"] == UNPROCESSABLE and result["object"] == "ConfigMap/ns/cm"
    assert result["msg"] == "ConfigMap/ns/cm: is invalid (data: x)"


def test_check_and_diff_modes_reach_the_logic(fake_client):
    seen = []
    spec = _spec(lambda module, client: seen.append((module.check_mode, module._diff)) or {"changed": False})
    inprocess.run_in_process(spec, "demo", {}, True, False)
    inprocess.run_in_process(spec, "demo", {}, False, True)
    assert seen == [(True, False), (False, True)]


def test_one_client_per_connection_options(fake_client):
    spec = _spec(lambda module, client: {"changed": False, "client": id(client)})
    first = inprocess.run_in_process(spec, "demo", {"host": "https://a"}, False, False)
    second = inprocess.run_in_process(spec, "demo", {"host": "https://a", "name": "other"}, False, False)
    third = inprocess.run_in_process(spec, "demo", {"host": "https://b"}, False, False)
    assert first["client"] == second["client"] != third["client"]
    assert [c.params["host"] for c in fake_client] == ["https://a", "https://b"]


def test_exec_plugin_runner_reports_rc_and_output():
    rc, out, err = inprocess._ControllerModule.run_command(["sh", "-c", 'echo "$X"; echo e >&2; exit 3'], {"X": "1"})
    assert (rc, out, err) == (3, "1\n", "e\n")
    rc, _out, err = inprocess._ControllerModule.run_command(["/nonexistent/kubeforge-exec"])
    assert rc == NOT_FOUND_RC and "nonexistent" in err
