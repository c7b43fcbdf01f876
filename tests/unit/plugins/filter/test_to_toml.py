"""Unit tests of the to_toml filter: every document it writes is read back by Python's own TOML parser."""

import pytest
import tomllib
from ansible.errors import AnsibleFilterError
from ansible_collections.kubeforge.cluster.plugins.filter.to_toml import FilterModule, to_toml


def test_registered_under_its_name():
    assert FilterModule().filters()["to_toml"] is to_toml


def test_containerd_v3_layout_round_trips_with_quoted_plugin_names():
    config = {
        "version": 3,
        "root": "/var/lib/containerd",
        "grpc": {"address": "/run/containerd/containerd.sock"},
        "plugins": {
            "io.containerd.cri.v1.images": {"pinned_images": {"sandbox": "registry.k8s.io/pause:3.10.1"}},
            "io.containerd.cri.v1.runtime": {
                "restrict_oom_score_adj": True,
                "containerd": {"runtimes": {"runc": {"options": {"SystemdCgroup": True}}}},
            },
        },
    }
    text = to_toml(config)
    assert tomllib.loads(text) == config
    assert text.startswith("version = 3\n")
    assert '[plugins."io.containerd.cri.v1.runtime"]\nrestrict_oom_score_adj = true\n' in text
    # Tables holding only tables get no header of their own.
    assert "[plugins]\n" not in text


def test_scalars_strings_and_arrays():
    data = {
        "s": 'quote " backslash \\ tab \t newline \n bell \x07 unicode é',
        "i": -3,
        "f": 0.5,
        "big": float("inf"),
        "b": False,
        "a": ["x", 1, [True]],
        "empty": {},
        "inline": [["a"], []],
        "key with.dots": 1,
    }
    parsed = tomllib.loads(to_toml(data))
    assert parsed == data


def test_array_of_tables():
    data = {"host": [{"name": "a", "tls": {"skip": True}}, {"name": "b"}]}
    text = to_toml(data)
    assert text.count("[[host]]") == len(data["host"])
    assert tomllib.loads(text) == data


def test_dict_inside_an_array_is_an_inline_table():
    data = {"mixed": [{"a": 1}, "x"]}
    assert tomllib.loads(to_toml(data)) == data


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"plugins": {"cri": {"sandbox": None}}}, "plugins.cri.sandbox is null"),
        ({"when": object()}, "when has a value of type object"),
        ({1: "x"}, "key 1 under the top level is not a string"),
    ],
)
def test_bad_input_names_the_key(data, message):
    with pytest.raises(AnsibleFilterError, match=message):
        to_toml(data)


def test_refuses_a_non_mapping():
    with pytest.raises(AnsibleFilterError, match="expects a mapping, got list"):
        to_toml(["a"])
