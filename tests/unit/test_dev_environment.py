"""The development set-up: CI runs as a new user's first run, tests never touch the lab, state stays in the clone."""

import os
import pathlib
import re
import subprocess

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
STUB_STATUS = 3
# What the stub `make` below reports about the run .ci/run starts.
STUB_MAKE = """#!/bin/sh
{
  echo "args=$*"
  echo "home_entries=$(ls -A "$HOME" | wc -l)"
  echo "venv=$(test -e .venv && echo present || echo absent)"
  echo "head=$(git rev-parse HEAD)"
  env | grep -E '^(ANSIBLE_|MOLECULE_|XDG_|KUBECONFIG|VIRTUAL_ENV|PYTHONPATH)' | sed 's/^/leak=/'
  env | grep -E '^PIP_' | sed 's/^/pip=/'
} > "$STUB_REPORT"
exit $STUB_STATUS
"""


def test_ci_run_is_a_first_run_and_fails_when_make_fails(tmp_path):
    """.ci/run: fresh clone of HEAD, empty HOME, no user variables; make's failure is CI's failure."""
    stub = tmp_path / "bin"
    stub.mkdir()
    report = tmp_path / "report"
    (stub / "make").write_text(STUB_MAKE.replace("$STUB_REPORT", str(report)).replace("$STUB_STATUS", str(STUB_STATUS)))
    (stub / "make").chmod(0o755)
    env = dict(
        os.environ,
        PATH=f"{stub}{os.pathsep}{os.environ['PATH']}",
        TMPDIR=str(tmp_path),
        ANSIBLE_COLLECTIONS_PATH="/home/someone/.ansible/collections",
        XDG_CACHE_HOME="/home/someone/.cache",
        KUBECONFIG="/home/someone/.kube/config",
        PIP_INDEX_URL="file:///srv/pypi/simple",
    )
    run = subprocess.run(
        [str(ROOT / ".ci" / "run"), "lint", "unit"], env=env, capture_output=True, text=True, timeout=300, check=False
    )

    assert run.returncode == STUB_STATUS, run.stderr
    lines = report.read_text().splitlines()
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True)
    assert "args=lint unit" in lines
    assert "home_entries=0" in lines
    assert "venv=absent" in lines
    assert f"head={head.stdout.strip()}" in lines
    assert [line for line in lines if line.startswith("leak=")] == []
    assert "pip=PIP_INDEX_URL=file:///srv/pypi/simple" in lines
    assert "kept" in run.stderr, "a failing run keeps its clone for inspection"


def _environment(argv, stdin=None):
    out = subprocess.run(argv, cwd=ROOT, input=stdin, capture_output=True, text=True, check=True, timeout=60)
    return dict(item.split("=", 1) for item in out.stdout.split("\0") if item)


def test_makefile_and_scripts_share_the_hermetic_environment():
    """Every variable scripts/dev-env.sh sets, the Makefile exports with the same value (state inside the clone)."""
    script = _environment(["bash", "-c", ". scripts/dev-env.sh && env -0"])
    # The environment make gives its recipes: the Makefile plus one target that prints it.
    make = _environment(["make", "-s", "-f", "Makefile", "-f", "-", "print-env"], "print-env:\n\t@env -0\n")
    hermetic = (
        "ANSIBLE_COLLECTIONS_PATH",
        "ANSIBLE_ROLES_PATH",
        "ANSIBLE_HOME",
        "XDG_CACHE_HOME",
        "ANSIBLE_ASYNC_DIR",
        "KUBECACHEDIR",
    )
    for name in hermetic:
        assert make[name] == script[name], name
        assert pathlib.Path(script[name]).is_relative_to(ROOT), f"{name} leaves the clone"
    assert script["PATH"].startswith(f"{ROOT}/.venv/bin:")


def test_lab_containers_are_not_test_hosts():
    """The lab's containers (ansible_host of inventory/lab) never carry a Molecule test host's name."""
    lab = yaml.safe_load((ROOT / "inventory" / "lab" / "hosts.yml").read_text())
    lab_hosts = {
        name: (vars_ or {}).get("ansible_host", name)
        for group in lab["all"]["children"].values()
        for name, vars_ in group["hosts"].items()
    }
    molecule = yaml.safe_load((ROOT / "extensions" / "molecule" / "config.yml").read_text())
    test_hosts = {platform["name"] for platform in molecule["platforms"]}
    # The lab keeps the tutorial's host names; only its containers are named apart.
    assert set(lab_hosts) == {"kube-master", "kubenode-1", "kubenode-2"}
    assert set(lab_hosts.values()) & test_hosts == set()


def _host_setup_function(name, script):
    """Run bash `script` with one function of scripts/host-setup.sh defined (the script itself needs root/Docker)."""
    body = re.search(rf"^{name}\(\) {{\n.*?^}}\n", (ROOT / "scripts" / "host-setup.sh").read_text(), re.M | re.S)
    return subprocess.run(
        ["bash", "-c", body.group(0) + script], capture_output=True, text=True, timeout=60, check=False
    )


def test_image_build_wait_prints_progress_and_fails_with_a_job():
    """The base image build (minutes) prints a line with the elapsed time while it runs."""
    run = _host_setup_function(
        "wait_with_progress",
        "STEP_START=$SECONDS PROGRESS_SECONDS=1; sleep 3.5 & a=$!; sleep 1 & wait_with_progress $a $!",
    )
    assert run.returncode == 0, run.stderr
    progress = [line for line in run.stdout.splitlines() if "still building" in line]
    assert progress, run.stdout
    assert all(re.fullmatch(r"host-setup: {3}still building \([12] of 2 running\), \d+ s so far", p) for p in progress)
    failed = _host_setup_function("wait_with_progress", "PROGRESS_SECONDS=1; (exit 4) & a=$!; wait_with_progress $a")
    assert failed.returncode == 1


def test_example_inventory_shows_the_default_kubernetes_version():
    """The commented version settings of inventory/example are the roles' defaults, not an older release."""
    text = (ROOT / "inventory" / "example" / "hosts.yml").read_text()
    shown = dict(re.findall(r"^\s*# (\w+_kubernetes_version): (\S+)$", text, re.M))
    defaults = {}
    for role in ("control_plane", "kube_packages"):
        defaults.update(yaml.safe_load((ROOT / "roles" / role / "defaults" / "main.yml").read_text()))
    assert set(shown) == {"control_plane_kubernetes_version", "kube_packages_kubernetes_version"}
    for name, value in shown.items():
        assert yaml.safe_load(value) == defaults[name], name
