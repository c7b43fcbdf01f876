"""`tests/apiserver/serve` started by a Python without the server's packages (issue 13).

The Debian system Python (/usr/bin/python3, run isolated with -I) has cryptography and PyYAML but not
kubernetes-validate: serve must re-execute itself with the clone's .venv, or say in one line what to run.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

APISERVER = Path(__file__).resolve().parents[2] / "apiserver"
SYSTEM_PYTHON = "/usr/bin/python3"
START_TIMEOUT = 30
USAGE_EXIT = 2  # what serve exits with when it cannot run


def _lacks_kubernetes_validate(python):
    probe = [python, "-I", "-c", "import importlib.util as u; print(u.find_spec('kubernetes_validate') is None)"]
    return subprocess.run(probe, capture_output=True, text=True, check=False).stdout.strip() == "True"


@pytest.fixture
def bare_python():
    if not Path(SYSTEM_PYTHON).exists() or not _lacks_kubernetes_validate(SYSTEM_PYTHON):
        pytest.skip(f"{SYSTEM_PYTHON} (a Python without kubernetes-validate) is not on this machine")
    assert not _lacks_kubernetes_validate(sys.executable)  # the venv running the tests has it
    return SYSTEM_PYTHON


def test_serve_reexecutes_with_the_venv(bare_python, tmp_path):
    kubeconfig = tmp_path / "kubeconfig"
    cmd = [bare_python, "-I", str(APISERVER / "serve"), "--port", "0", "--kubeconfig", str(kubeconfig)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline().strip()
    finally:
        proc.terminate()
        _out, err = proc.communicate(timeout=START_TIMEOUT)
    assert line.startswith("ready https://127.0.0.1:"), err
    assert kubeconfig.exists()


def test_serve_without_venv_says_what_to_run(bare_python, tmp_path):
    # A clone where `make setup` has not run yet: the same files, no .venv next to them.
    clone = tmp_path / "clone" / "tests" / "apiserver"
    shutil.copytree(APISERVER, clone, ignore=shutil.ignore_patterns("__pycache__"))
    cmd = [bare_python, "-I", str(clone / "serve"), "--port", "0", "--kubeconfig", str(tmp_path / "kc")]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=START_TIMEOUT, check=False)
    assert proc.returncode == USAGE_EXIT
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr  # one clear line, no traceback
    assert "lacks kubernetes-validate" in lines[0]
    assert "make setup" in lines[0]
    assert ".venv/bin/python tests/apiserver/serve --port 0 --kubeconfig" in lines[0]
    assert not (tmp_path / "kc").exists()
