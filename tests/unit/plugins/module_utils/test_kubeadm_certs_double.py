"""kubeforge.cluster.kubeadm_certs's runner against the kubeadm contract double (its -o json and its text table)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from ansible_collections.kubeforge.cluster.plugins.module_utils import kubeadm, kubeadm_certs

DOUBLE = Path(__file__).resolve().parents[4] / "tests" / "doubles" / "kubeadm"
DOUBLE_DAYS_LEFT = 65  # the double's certificates were issued 300 days ago for 365 days
# kubeadm's certificate list (cmd/kubeadm/app/phases/certs/renewal, as `certs check-expiration` prints it); CAs are
# never due for renewal.
CERTIFICATES = 11


class _Module:
    def __init__(self, root, renew_days, argv_filter=None):
        self.env = dict(os.environ, KUBEADM_DOUBLE_ROOT=str(root))
        # Like kubeadm, the double reads the cluster CA first and fails without it: a control plane has one.
        pki = Path(root) / "etc" / "kubernetes" / "pki"
        pki.mkdir(parents=True, exist_ok=True)
        (pki / "ca.crt").write_text("test CA\n")
        self.params = {"renew_days": renew_days}
        self.argv_filter = argv_filter or (lambda argv: argv)
        self.calls = []

    def get_bin_path(self, _name, required=False):
        return None if not required else str(DOUBLE)

    def run_command(self, argv):
        self.calls.append(argv[1:])
        proc = subprocess.run(self.argv_filter(argv), env=self.env, capture_output=True, text=True, check=False)
        return proc.returncode, proc.stdout, proc.stderr


@pytest.mark.parametrize(("renew_days", "due"), [(30, 0), (DOUBLE_DAYS_LEFT + 1, CERTIFICATES)])
def test_json_output_of_the_double(tmp_path, renew_days, due):
    module = _Module(tmp_path, renew_days)

    result = kubeadm_certs.check_expiration(module, kubeadm.KubeadmCli(module, str(DOUBLE), "/dev/null"))

    assert module.calls == [["certs", "check-expiration", "-o", "json", "--kubeconfig", "/dev/null"]]
    assert len(result["due"]) == due and result["expired"] == [] and result["changed"] is False
    assert result["min_days"] in (DOUBLE_DAYS_LEFT - 1, DOUBLE_DAYS_LEFT)


def test_text_table_of_the_double_when_o_is_unknown(tmp_path):
    """An older kubeadm: `-o` is refused like cobra refuses an unknown shorthand flag; the table is read instead."""

    def old_kubeadm(argv):
        if "-o" in argv:
            return ["sh", "-c", "echo \"unknown shorthand flag: 'o' in -o\" >&2; exit 1"]
        return argv

    module = _Module(tmp_path, 30, old_kubeadm)

    result = kubeadm_certs.check_expiration(module, kubeadm.KubeadmCli(module, str(DOUBLE), "/dev/null"))

    assert [call[:3] for call in module.calls] == [
        ["certs", "check-expiration", "-o"],
        ["certs", "check-expiration", "--kubeconfig"],
    ]
    assert [c["name"] for c in result["certificates"]][:2] == ["admin.conf", "apiserver"]
    assert result["min_days"] in (DOUBLE_DAYS_LEFT - 1, DOUBLE_DAYS_LEFT) and result["due"] == []
