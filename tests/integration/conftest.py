"""Fixtures that run playbooks with ansible-playbook against the API test server (``apiserver`` fixture).

``playbook(tasks, ...)`` runs a one-play playbook on localhost with ``module_defaults`` pointing every module of
``group/kubeforge.cluster.k8s`` at the test server, and returns the per-task results (ansible.posix.json callback)
plus the raw stdout/stderr and the Ansible log, so tests can also assert that secrets never appear.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
COLLECTIONS = REPO / ".venv" / "collections"


class TaskResult:
    """One task of a playbook run on localhost."""

    def __init__(self, name, action, result, duration=None):
        self.name = name
        self.action = action
        self.result = result
        self.duration = duration

    @property
    def changed(self):
        return bool(self.result.get("changed"))

    @property
    def failed(self):
        return bool(self.result.get("failed"))

    @property
    def msg(self):
        return self.result.get("msg", "")

    @property
    def diff(self):
        diff = self.result.get("diff")
        if isinstance(diff, dict):
            return [diff]
        return diff or []

    def __repr__(self):
        return f"TaskResult({self.name!r}, changed={self.changed}, failed={self.failed}, msg={self.msg!r})"


class PlaybookRun:
    def __init__(self, rc, stdout, stderr, log, tasks):
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        self.log = log
        self.tasks = tasks

    @property
    def last(self):
        return self.tasks[-1]

    def task(self, name):
        for task in self.tasks:
            if task.name == name:
                return task
        raise KeyError(f"no task named {name!r} in {[t.name for t in self.tasks]}")

    @property
    def output(self):
        """Everything the run printed or logged (to assert that a secret appears nowhere)."""
        return "\n".join((self.stdout, self.stderr, self.log))


def _parse(stdout):
    start = stdout.find("{")
    if start < 0:
        return []
    data = json.loads(stdout[start:])
    tasks = []
    for play in data.get("plays", []):
        for entry in play.get("tasks", []):
            task = entry.get("task", {})
            result = (entry.get("hosts") or {}).get("localhost", {})
            duration = (task.get("duration") or {}).get("end"), (task.get("duration") or {}).get("start")
            tasks.append(TaskResult(task.get("name"), result.get("action"), result, duration))
    return tasks


def ansible_env(tmp_path, extra=None):
    """Environment for ansible-playbook: the venv first on PATH, the collection by FQCN, JSON output."""
    env = dict(os.environ)
    env.update(
        {
            "PATH": f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
            "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS),
            "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
            "ANSIBLE_LOG_PATH": str(tmp_path / "ansible.log"),
            "ANSIBLE_LOCAL_TEMP": str(tmp_path / ".ansible-tmp"),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_RETRY_FILES_ENABLED": "0",
            "ANSIBLE_DEPRECATION_WARNINGS": "0",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    env.update(extra or {})
    return env


def run_playbook(path_or_tasks, tmp_path, **options):
    """Run a playbook file or a list of tasks (one play on localhost); return a PlaybookRun.

    options: check, diff, extra_vars (dict), kubeconfig (module_defaults for group/kubeforge.cluster.k8s),
    env (extra environment), vars (play vars), verbosity (int), timeout (seconds), in_process (False: the API
    modules run as modules, as on a remote host, instead of inside their action plugins on the controller),
    groups (inventory groups localhost also belongs to, for roles that delegate to a group's first host),
    play_hosts (the play's hosts pattern, default localhost), inventory_lines (more inventory lines, e.g. hosts).
    """
    tmp_path = Path(tmp_path)
    if isinstance(path_or_tasks, (str, Path)) and str(path_or_tasks).endswith((".yml", ".yaml")):
        playbook = Path(path_or_tasks)
    else:
        tasks = path_or_tasks if isinstance(path_or_tasks, list) else [path_or_tasks]
        play = {"name": "test", "hosts": options.get("play_hosts", "localhost"), "gather_facts": False, "tasks": tasks}
        if options.get("kubeconfig"):
            play["module_defaults"] = {"group/kubeforge.cluster.k8s": {"kubeconfig": str(options["kubeconfig"])}}
        if options.get("vars"):
            play["vars"] = options["vars"]
        playbook = tmp_path / f"playbook-{len(list(tmp_path.glob('playbook-*.yml')))}.yml"
        playbook.write_text(yaml.safe_dump([play], sort_keys=False))
    inventory = tmp_path / "inventory.ini"
    host_vars = f"ansible_connection=local ansible_python_interpreter={sys.executable}"
    if options.get("in_process") is False:
        host_vars += " kubeforge_cluster_in_process=false"
    groups = "".join(f"[{group}]\nlocalhost\n" for group in options.get("groups") or ())
    extra = "".join(f"{line}\n" for line in options.get("inventory_lines") or ())
    inventory.write_text(f"localhost {host_vars}\n{extra}{groups}")
    argv = [str(VENV_BIN / "ansible-playbook"), "-i", str(inventory), str(playbook)]
    if options.get("check"):
        argv.append("--check")
    if options.get("diff"):
        argv.append("--diff")
    if options.get("extra_vars"):
        argv += ["--extra-vars", json.dumps(options["extra_vars"])]
    if options.get("verbosity"):
        argv.append("-" + "v" * options["verbosity"])
    proc = subprocess.run(
        argv,
        cwd=str(playbook.parent),
        env=ansible_env(tmp_path, options.get("env")),
        capture_output=True,
        text=True,
        timeout=options.get("timeout", 300),
        check=False,
    )
    log_path = tmp_path / "ansible.log"
    log = log_path.read_text() if log_path.exists() else ""
    return PlaybookRun(proc.returncode, proc.stdout, proc.stderr, log, _parse(proc.stdout))


@pytest.fixture
def ansible_playbook(tmp_path):
    """``ansible_playbook(path_or_tasks, **options)``: ``run_playbook`` in this test's tmp_path, no API server."""

    def _run(path_or_tasks, **options):
        return run_playbook(path_or_tasks, tmp_path, **options)

    return _run


@pytest.fixture(scope="session")
def discovery_cache(tmp_path_factory):
    """One discovery cache directory for the whole session (what a user's home would keep)."""
    return tmp_path_factory.mktemp("discovery-cache")


@pytest.fixture
def playbook(apiserver, tmp_path, discovery_cache):
    """``playbook(tasks, check=False, diff=False, extra_vars=None, ...)`` against the ``apiserver`` fixture."""

    def _run(tasks, **options):
        options.setdefault("kubeconfig", apiserver.kubeconfig)
        env = {"KUBEFORGE_DISCOVERY_CACHE": str(discovery_cache)}
        env.update(options.pop("env", None) or {})
        return run_playbook(tasks, tmp_path, env=env, **options)

    return _run
