"""Node selection, labels, taints and schedulability (plugins/module_utils/node.py)."""

from __future__ import annotations

import pytest
from ansible_collections.kubeforge.cluster.plugins.module_utils import node as node_utils
from ansible_collections.kubeforge.cluster.plugins.module_utils import pods as pod_utils
from ansible_collections.kubeforge.cluster.plugins.module_utils.errors import KubeforgeError

MASTER = {"key": "node-role.kubernetes.io/master", "effect": "NoSchedule"}
CONTROL_PLANE = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}


def test_desired_taints_removes_key_with_every_effect():
    current = [MASTER, dict(MASTER, effect="NoExecute"), CONTROL_PLANE]
    result = node_utils.desired_taints(current, [{"key": MASTER["key"], "state": "absent"}])
    assert result == [CONTROL_PLANE]


def test_desired_taints_removes_only_the_named_effect():
    current = [MASTER, dict(MASTER, effect="NoExecute")]
    wanted = [{"key": MASTER["key"], "effect": "NoExecute", "state": "absent"}]
    assert node_utils.desired_taints(current, wanted) == [MASTER]


def test_desired_taints_adds_updates_and_keeps_order():
    current = [{"key": "gpu", "value": "a", "effect": "NoSchedule"}, CONTROL_PLANE]
    wanted = [
        {"key": "gpu", "value": "b", "effect": "NoSchedule", "state": "present"},
        {"key": "spot", "effect": "PreferNoSchedule", "state": "present"},
    ]
    assert node_utils.desired_taints(current, wanted) == [
        {"key": "gpu", "value": "b", "effect": "NoSchedule"},
        CONTROL_PLANE,
        {"key": "spot", "effect": "PreferNoSchedule"},
    ]


def test_desired_taints_same_key_other_effect_is_another_taint():
    wanted = [{"key": MASTER["key"], "effect": "NoExecute", "state": "present"}]
    assert node_utils.desired_taints([MASTER], wanted) == [MASTER, dict(MASTER, effect="NoExecute")]


@pytest.mark.parametrize(
    ("taint", "field"),
    [
        ({"key": "", "state": "present", "effect": "NoSchedule"}, "taints[0].key"),
        ({"key": "a", "state": "present", "effect": None}, "taints[0].effect is required"),
        ({"key": "a", "state": "absent", "effect": "Sometimes"}, "taints[0].effect must be one of"),
    ],
)
def test_check_taints_names_the_field(taint, field):
    with pytest.raises(KubeforgeError, match=field.replace("[", r"\[").replace("]", r"\]")):
        node_utils.check_taints([taint])


def test_node_patch_none_when_node_already_matches(fake):
    node = fake.add_node("n1", unschedulable=True, taints=[CONTROL_PLANE])
    node["metadata"]["labels"]["zone"] = "a"
    wanted = {
        "unschedulable": True,
        "labels": {"zone": "a", "gone": None},
        "taints": [{"key": MASTER["key"], "state": "absent"}, dict(CONTROL_PLANE, state="present")],
    }
    assert node_utils.node_patch(node, **wanted) is None


def test_node_patch_cordon_uncordon_labels(fake):
    node = fake.add_node("n1")
    node["metadata"]["labels"]["old"] = "x"
    assert node_utils.node_patch(node, unschedulable=True) == {"spec": {"unschedulable": True}}
    assert node_utils.node_patch(node, unschedulable=False) is None
    patch = node_utils.node_patch(node, labels={"old": None, "zone": 3})
    assert patch == {"metadata": {"labels": {"old": None, "zone": "3"}}}
    cordoned = fake.add_node("n2", unschedulable=True)
    assert node_utils.node_patch(cordoned, unschedulable=False) == {"spec": {"unschedulable": None}}


def test_node_patch_taints_carry_resource_version(fake):
    node = fake.add_node("n1", taints=[MASTER])
    patch = node_utils.node_patch(node, taints=[{"key": MASTER["key"], "state": "absent"}])
    assert patch == {"spec": {"taints": None}, "metadata": {"resourceVersion": "1"}}


def test_reconcile_node_retries_on_conflict(fake):
    node = fake.add_node("n1", taints=[MASTER])
    fake.conflicts = 2
    new, changed = node_utils.reconcile_node(fake, node, taints=[{"key": MASTER["key"], "state": "absent"}])
    assert changed is True
    assert "taints" not in new["spec"]
    assert "taints" not in fake.nodes["n1"]["spec"]
    assert [m for m, _p, _q in fake.calls if m == "PATCH"] == ["PATCH"] * 3


def test_reconcile_node_check_mode_is_a_dry_run(fake):
    node = fake.add_node("n1")
    new, changed = node_utils.reconcile_node(fake, node, check_mode=True, unschedulable=True)
    assert changed is True
    assert new["spec"]["unschedulable"] is True
    assert "unschedulable" not in fake.nodes["n1"]["spec"]
    assert fake.writes() == [("PATCH", "/api/v1/nodes/n1", {"dryRun": "All"})]


def test_select_nodes_missing_node_is_named(fake):
    fake.add_node("n1")
    with pytest.raises(KubeforgeError, match="Node/k8s9: node not found"):
        node_utils.select_nodes(fake, ["n1", "k8s9"])


def test_select_nodes_all_and_nothing_selected(fake):
    fake.add_node("b")
    fake.add_node("a")
    assert [n["metadata"]["name"] for n in node_utils.select_nodes(fake, all_nodes=True)] == ["a", "b"]
    with pytest.raises(KubeforgeError, match="no nodes selected"):
        node_utils.select_nodes(fake)


def test_selector_matches():
    labels = {"app": "web", "tier": "front"}
    assert pod_utils.selector_matches({}, labels)
    assert pod_utils.selector_matches({"matchLabels": {"app": "web"}}, labels)
    assert not pod_utils.selector_matches({"matchLabels": {"app": "db"}}, labels)
    assert not pod_utils.selector_matches(None, labels)
    expressions = [
        {"key": "tier", "operator": "In", "values": ["front", "back"]},
        {"key": "app", "operator": "NotIn", "values": ["db"]},
        {"key": "app", "operator": "Exists"},
        {"key": "canary", "operator": "DoesNotExist"},
    ]
    assert pod_utils.selector_matches({"matchExpressions": expressions}, labels)
    assert not pod_utils.selector_matches({"matchExpressions": [{"key": "app", "operator": "DoesNotExist"}]}, labels)
