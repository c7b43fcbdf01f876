"""scripts/lab.sh's closing message: "cluster ready" only after a full site.yml run, "checks passed" after a run
that ran part of it (``--tags preflight``, check mode...). Docker and ansible-playbook are stand-ins on PATH (the
script puts VENV_BIN first): this tests the script's own logic, not the lab."""

from __future__ import annotations

import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
READY = "lab: cluster ready"
CHECKS = "lab: checks passed"

# docker: every lab container exists, carries the lab label and has booted; ansible-playbook: records its argv.
DOCKER = """#!/bin/sh
case "$1" in
exec) echo running ;;
inspect) echo 1 ;;
esac
exit 0
"""
PLAYBOOK = """#!/bin/sh
echo "$@" > "$(dirname "$0")/playbook-args"
exit "${PLAYBOOK_RC:-0}"
"""


@pytest.fixture
def stubs(tmp_path):
    for name, text in (("docker", DOCKER), ("ansible-playbook", PLAYBOOK)):
        path = tmp_path / name
        path.write_text(text)
        path.chmod(0o755)
    return tmp_path


def _lab(stubs, *args, rc=0):
    env = dict(os.environ, VENV_BIN=str(stubs), PLAYBOOK_RC=str(rc))
    return subprocess.run(
        [str(ROOT / "scripts" / "lab.sh"), "up", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_full_run_reports_the_cluster_ready(stubs):
    run = _lab(stubs, "-e", "@mirror.yml")
    assert run.returncode == 0, run.stderr
    assert READY in run.stdout
    assert CHECKS not in run.stdout
    assert (stubs / "playbook-args").read_text().split()[-2:] == ["-e", "@mirror.yml"]


@pytest.mark.parametrize(
    "args",
    [("--tags", "preflight"), ("--tags=preflight",), ("-t", "preflight"), ("--check",), ("--skip-tags", "cni")],
)
def test_partial_run_reports_checks_only(stubs, args):
    run = _lab(stubs, *args)
    assert run.returncode == 0, run.stderr
    assert CHECKS in run.stdout
    assert READY not in run.stdout, "a run of part of site.yml claimed a ready cluster"


def test_failed_run_claims_nothing(stubs):
    run = _lab(stubs, "--tags", "preflight", rc=2)
    assert run.returncode == 1
    assert READY not in run.stdout and CHECKS not in run.stdout
    assert "lab: site.yml stopped" in run.stderr
