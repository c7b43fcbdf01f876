"""What the collection ships and needs: the built tarball's file list, and no collection besides ansible.builtin.

The README promises that ansible-core alone runs the collection (galaxy.yml declares no dependency), so every role
and playbook may use only ansible.builtin and kubeforge.cluster content. Test-only content (extensions/molecule,
tests/, inventory/lab for `make lab`) runs with the venv's `ansible` package and may use other collections.
"""

import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tarfile

import yaml
from ansible.parsing.mod_args import ModuleArgsParser

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(sys.executable).parent
ALLOWED = ("ansible.builtin", "kubeforge.cluster")
# The roles and playbooks use a few hundred modules and roles: far fewer found means the walk missed files.
MIN_USES = 100
# Tracked files that stay out of the tarball on purpose: the CI entry point and git/galaxy metadata (MANIFEST.json
# replaces galaxy.yml).
NOT_SHIPPED = (".ci/", ".gitignore", "galaxy.yml")
# A filter, test or lookup named by FQCN inside a Jinja expression.
JINJA_PLUGIN = re.compile(
    r"(?:\|\s*|\bis\s+(?:not\s+)?|\b(?:lookup|query|q)\(\s*['\"])([a-z0-9_]+\.[a-z0-9_]+)\.[a-z0-9_]+"
)


def _source_files():
    """Files of the working tree a build sees: tracked and new, not git-ignored (as scripts/sanity.sh copies)."""
    out = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    )
    return sorted(f for f in out.stdout.decode().split("\0") if f and (ROOT / f).is_file())


def _junk_paths():
    """One path per .gitignore entry (at the top and one level down): what tools and test runs leave behind."""
    paths = []
    for line in (ROOT / ".gitignore").read_text().splitlines():
        pattern = line.strip()
        if not pattern or pattern.startswith("#"):
            continue
        name = pattern.strip("/").replace("*", "junk")
        leaf = f"{name}/junk.txt" if pattern.endswith("/") else name
        paths.append(leaf)
        if not pattern.startswith("/") and "/" not in pattern.rstrip("/"):
            paths.append(f"plugins/modules/{leaf}")
    return paths


def _build(src, out):
    subprocess.run(
        [str(BIN / "ansible-galaxy"), "collection", "build", "--output-path", str(out), str(src)],
        capture_output=True,
        check=True,
        timeout=300,
    )
    (tarball,) = out.glob("kubeforge-cluster-*.tar.gz")
    return tarball


def test_tarball_holds_the_tree_and_no_leftovers(tmp_path):
    """Build from a copy of the tree with every kind of git-ignored leftover planted in it."""
    src = tmp_path / "src"
    files = _source_files()
    for name in files:
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, src / name)
    junk = _junk_paths()
    assert {".ruff_cache/junk.txt", ".venv/junk.txt", ".cache/junk.txt"} <= set(junk)
    for name in junk:
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        (src / name).write_text("left by a tool or an earlier run\n")

    with tarfile.open(_build(src, tmp_path / "out")) as tar:
        shipped = {member.name for member in tar.getmembers() if member.isfile()}

    assert sorted(shipped & set(junk)) == []
    expected = {name for name in files if not name.startswith(NOT_SHIPPED)} | {"MANIFEST.json", "FILES.json"}
    assert sorted(shipped - expected) == []
    assert sorted(expected - shipped) == []


def test_built_tarball_installs_offline_with_no_dependency(tmp_path):
    """`ansible-galaxy collection install` of the tarball needs no Galaxy and no other collection."""
    tarball = _build(ROOT, tmp_path / "out")
    with tarfile.open(tarball) as tar:
        manifest = json.load(tar.extractfile("MANIFEST.json"))
    assert manifest["collection_info"]["dependencies"] == {}
    env = dict(os.environ, ANSIBLE_HOME=str(tmp_path / "home"), ANSIBLE_COLLECTIONS_PATH=str(tmp_path / "c"))
    subprocess.run(
        [str(BIN / "ansible-galaxy"), "collection", "install", "--offline", "-p", str(tmp_path / "c"), str(tarball)],
        env=env,
        capture_output=True,
        check=True,
        timeout=300,
    )
    assert (tmp_path / "c" / "ansible_collections" / "kubeforge" / "cluster" / "playbooks" / "site.yml").is_file()


def _tasks(items):
    """Every task of a task list, blocks included."""
    for task in items or []:
        if not isinstance(task, dict):
            continue
        if "block" in task:
            for key in ("block", "rescue", "always"):
                yield from _tasks(task.get(key))
        else:
            yield task


def _plays_and_task_lists():
    """(file, task list) pairs of the roles' tasks and handlers and of the playbooks (plays and task files)."""
    for path in sorted(ROOT.glob("roles/*/tasks/*.yml")) + sorted(ROOT.glob("roles/*/handlers/*.yml")):
        yield path, yaml.safe_load(path.read_text()), []
    for path in sorted(ROOT.glob("playbooks/**/*.yml")):
        if "vars" in path.relative_to(ROOT / "playbooks").parts:
            continue
        data = yaml.safe_load(path.read_text()) or []
        if path.parent.name == "tasks":
            yield path, data, []
            continue
        for play in data:
            lists = [play.get(k) for k in ("pre_tasks", "tasks", "post_tasks", "handlers")]
            yield path, [t for tasks in lists for t in tasks or []], [play]


def _used_content():
    """(file, FQCN) of every module, role, playbook and play-level plugin the roles and playbooks use."""
    for path, tasks, plays in _plays_and_task_lists():
        for play in plays:
            for role in play.get("roles") or []:
                yield path, role["role"] if isinstance(role, dict) else role
            for key in ("import_playbook", "ansible.builtin.import_playbook", "connection", "strategy"):
                if key in play:
                    yield path, play[key]
        for task in _tasks(tasks):
            action = ModuleArgsParser(task).parse(skip_action_validation=True)[0]
            yield path, action
            if action.endswith(("include_role", "import_role")):
                yield path, task[action]["name"]
        for namespace in JINJA_PLUGIN.findall(path.read_text()):
            yield path, namespace + ".plugin"


def test_roles_and_playbooks_use_only_ansible_builtin_and_this_collection():
    used = list(_used_content())
    assert len(used) > MIN_USES, "the walk over roles and playbooks found almost nothing"
    outside = sorted({f"{path.relative_to(ROOT)}: {name}" for path, name in used if not str(name).startswith(ALLOWED)})
    assert outside == [], "only ansible.builtin and kubeforge.cluster content may be used (galaxy.yml: no dependency)"


def test_the_rule_catches_a_module_of_another_collection():
    task = {"name": "Apply", "ansible.posix.sysctl": {"name": "net.ipv4.ip_forward", "value": "1"}}
    assert ModuleArgsParser(task).parse(skip_action_validation=True)[0] == "ansible.posix.sysctl"
    assert JINJA_PLUGIN.findall("{{ x | community.general.dict_kv('a') }} {{ lookup('community.dns.a', 'b') }}") == [
        "community.general",
        "community.dns",
    ]
