"""Manifest parsing, noise stripping and Secret redaction."""

from __future__ import annotations

import pytest
from ansible_collections.kubeforge.cluster.plugins.module_utils import manifests
from ansible_collections.kubeforge.cluster.plugins.module_utils.errors import KubeforgeError

MULTI = """
apiVersion: v1
kind: Pod
metadata: {name: static-web}
---
---
apiVersion: v1
kind: List
items:
  - {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}
  - {apiVersion: v1, kind: ConfigMap, metadata: {name: b}}
"""


def test_flatten_multi_document_yaml_and_lists():
    objects = manifests.flatten(MULTI)
    assert [o["metadata"]["name"] for o in objects] == ["static-web", "a", "b"]
    assert manifests.flatten([{"kind": "Pod"}, [{"kind": "Service"}], None]) == [{"kind": "Pod"}, {"kind": "Service"}]


def test_invalid_yaml_names_the_line():
    with pytest.raises(KubeforgeError, match=r"definition is not valid YAML at line 4 column 1: did not find expected"):
        manifests.flatten("apiVersion: v1\nkind: Pod\nmetadata: {name: [x\n")


def test_wrong_type_is_named():
    with pytest.raises(KubeforgeError, match="definition item 1 is a int, not an object"):
        manifests.flatten([{"kind": "Pod"}, 3])


def test_strip_noise_removes_bookkeeping():
    live = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "a",
            "uid": "u",
            "resourceVersion": "5",
            "managedFields": [{"manager": "kubeforge"}],
            "creationTimestamp": "now",
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"},
        },
        "data": {"k": "v"},
        "status": {},
    }
    assert manifests.strip_noise(live) == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "a"},
        "data": {"k": "v"},
    }


def test_redact_marks_changed_keys_without_values():
    before = {"apiVersion": "v1", "kind": "Secret", "data": {"password": "b2xk", "user": "cm9vdA=="}}
    after = {"apiVersion": "v1", "kind": "Secret", "data": {"password": "bmV3", "user": "cm9vdA=="}}
    assert manifests.redact(before)["data"] == {"password": "<redacted>", "user": "<redacted>"}
    assert manifests.redact(after, before)["data"] == {"password": "<redacted, changed>", "user": "<redacted>"}
    assert manifests.redact({"kind": "ConfigMap", "data": {"a": "b"}})["data"] == {"a": "b"}


def test_secret_values_include_decoded_data():
    secret = {"apiVersion": "v1", "kind": "Secret", "data": {"p": "bXlfcGFzc3dvcmQ="}, "stringData": {"q": "hunter22"}}
    assert set(manifests.secret_values(secret)) == {"bXlfcGFzc3dvcmQ=", "my_password", "hunter22"}
