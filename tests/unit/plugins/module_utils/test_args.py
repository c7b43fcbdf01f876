"""Defaults are stated once, in the argument specs, and derived everywhere else."""

from __future__ import annotations

from ansible_collections.kubeforge.cluster.plugins.module_utils import apply, node
from ansible_collections.kubeforge.cluster.plugins.module_utils.args import (
    APPLY_ARG_SPEC,
    AUTH_ARG_SPEC,
    BATCH_ARG_SPEC,
    WAIT_ARG_SPEC,
    spec_defaults,
)
from ansible_collections.kubeforge.cluster.plugins.modules.node import SPEC as NODE_SPEC
from ansible_collections.kubeforge.cluster.plugins.plugin_utils import inprocess


def test_spec_defaults_gives_every_option_its_default_or_none():
    spec = {"a": {"type": "int", "default": 3}, "b": {"type": "str"}}
    assert spec_defaults(spec, {"c": {"type": "bool", "default": False}}) == {"a": 3, "b": None, "c": False}


def test_batch_option_falls_back_to_the_spec_default_when_unset_or_empty():
    assert apply.option({}, "field_manager") == APPLY_ARG_SPEC["field_manager"]["default"]
    assert apply.option({"field_manager": ""}, "field_manager") == "kubeforge"
    assert apply.option({"field_manager": "me"}, "field_manager") == "me"
    assert apply.option({"wait_timeout": None}, "wait_timeout") == WAIT_ARG_SPEC["wait_timeout"]["default"]
    assert apply.option({}, "workers") == BATCH_ARG_SPEC["workers"]["default"]
    assert apply.option({}, "apply_set") is None


def test_drain_defaults_are_the_node_module_spec_defaults():
    spec = NODE_SPEC.options["argument_spec"]
    assert {name: spec[name].get("default") for name in node.DRAIN_DEFAULTS} == node.DRAIN_DEFAULTS
    assert node.DRAIN_DEFAULTS["poll_interval"] == node.DRAIN_ARG_SPEC["poll_interval"]["default"]


def test_in_process_auth_options_are_the_auth_spec_options():
    assert set(inprocess._AUTH_OPTIONS) == set(AUTH_ARG_SPEC)
