"""Collection-level checks: every module is documented, listed by ansible-doc and grouped for module_defaults."""

import json
import os
import pathlib
import re
import subprocess
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
MODULES = sorted(p.stem for p in (ROOT / "plugins" / "modules").glob("*.py") if p.stem != "__init__")
# Modules that do not call the Kubernetes API (commands on a host; the offline bundle's files and registries) stay
# out of the `k8s` group.
HOST_MODULES = {"kubeadm_token", "kubeadm_certs", "bundle_check", "bundle_fetch", "image_push", "host_read"}


def _ansible_doc(*args):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".venv" / "collections"))
    argv = [str(pathlib.Path(sys.executable).parent / "ansible-doc"), *args]
    out = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, check=True, timeout=120)
    return out.stdout


def test_collection_has_modules():
    assert MODULES, "plugins/modules holds no module"


def test_ansible_doc_lists_every_module():
    listed = json.loads(_ansible_doc("-l", "kubeforge.cluster", "--json"))
    assert sorted(name.removeprefix("kubeforge.cluster.") for name in listed) == MODULES


def test_every_module_renders_with_examples_and_attributes():
    docs = json.loads(_ansible_doc("--json", *[f"kubeforge.cluster.{m}" for m in MODULES]))
    for name in MODULES:
        entry = docs[f"kubeforge.cluster.{name}"]
        assert entry["examples"].strip(), f"{name} has no EXAMPLES"
        attributes = entry["doc"].get("attributes", {})
        assert {"check_mode", "diff_mode"} <= set(attributes), f"{name} does not declare check_mode/diff_mode"
        if name not in HOST_MODULES:
            assert "action" in attributes, f"{name} does not say where its logic runs (attributes.action)"


def test_action_group_holds_every_api_module():
    runtime = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text())
    assert sorted(runtime["action_groups"]["k8s"]) == sorted(set(MODULES) - HOST_MODULES)


def test_galaxy_metadata():
    galaxy = yaml.safe_load((ROOT / "galaxy.yml").read_text())
    assert (galaxy["namespace"], galaxy["name"]) == ("kubeforge", "cluster")
    assert re.fullmatch(r"\d+\.\d+\.\d+", galaxy["version"]), galaxy["version"]


def test_every_api_module_has_an_in_process_action_plugin():
    """Each API module exposes SPEC and has an action plugin built on ApiAction (plugin_utils/inprocess.py)."""
    text_of = {m: (ROOT / "plugins" / "action" / f"{m}.py") for m in set(MODULES) - HOST_MODULES}
    for name, path in sorted(text_of.items()):
        assert path.is_file(), f"{name} has no action plugin"
        assert "ApiAction" in path.read_text(), f"plugins/action/{name}.py does not build on ApiAction"
        assert re.search(r"^SPEC = ModuleSpec\(", (ROOT / "plugins" / "modules" / f"{name}.py").read_text(), re.M)


def test_every_module_runs_through_the_common_runner():
    """API and host modules alike: the spec is data (SPEC = ModuleSpec(...)) and main() is SPEC.main()."""
    for name in MODULES:
        text = (ROOT / "plugins" / "modules" / f"{name}.py").read_text()
        assert re.search(r"^SPEC = ModuleSpec\(", text, re.M), f"{name} declares no SPEC"
        assert re.search(r"^def main\(\):\n    SPEC\.main\(\)$", text, re.M), f"{name}: main() is not SPEC.main()"
        assert "AnsibleModule(" not in text, f"{name} builds its own AnsibleModule"
