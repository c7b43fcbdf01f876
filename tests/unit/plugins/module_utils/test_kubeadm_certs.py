"""plugins/module_utils/kubeadm_certs.py: kubeadm's check-expiration output, text and JSON, and what is due.

The samples follow kubeadm's printers (cmd/kubeadm/app/cmd/certs.go: tabwriter minwidth 10, padding 3; dates as
``Jan 02, 2006 15:04 MST``; residual time by duration.ShortHumanDuration) and output.kubeadm.k8s.io/v1alpha3.
"""

from __future__ import annotations

import json

import pytest
from ansible_collections.kubeforge.cluster.plugins.module_utils import kubeadm_certs
from ansible_collections.kubeforge.cluster.plugins.module_utils.errors import KubeforgeError

EXPIRED = kubeadm_certs.INVALID_SECONDS
DAY = kubeadm_certs.DAY
APISERVER_TEXT_LEFT = 30  # the "30s" row
PEER_DAYS = 256  # the "256d" rows
ADMIN_JSON_LEFT = 3599
APISERVER_JSON_LEFT = -357000  # expired 4 days 3 hours ago: -5 whole days (floor)

TEXT = """\
[check-expiration] Reading configuration from the "kubeadm-config" ConfigMap in namespace "kube-system"...
[check-expiration] Use 'kubeadm init phase upload-config kubeadm --config your-config-file' to re-upload it.

CERTIFICATE                EXPIRES                  RESIDUAL TIME   CERTIFICATE AUTHORITY   EXTERNALLY MANAGED
admin.conf                 Dec 05, 2026 13:15 UTC   59m             ca                      no
apiserver                  Dec 05, 2026 12:17 UTC   30s             ca                      no
apiserver-etcd-client      Dec 01, 2026 09:03 UTC   <invalid>       etcd-ca                 no
apiserver-kubelet-client   Dec 06, 2026 09:03 UTC   20h             ca                      no
controller-manager.conf    Aug 19, 2027 09:03 UTC   256d            ca                      no
!MISSING! etcd-healthcheck-client
etcd-peer                  Aug 19, 2027 09:03 UTC   256d            etcd-ca                 no
front-proxy-client         Dec 05, 2026 12:20 UTC   3m              front-proxy-ca          yes

CERTIFICATE AUTHORITY   EXPIRES                  RESIDUAL TIME   EXTERNALLY MANAGED
ca                      Aug 17, 2035 09:03 UTC   8y              no
etcd-ca                 Nov 30, 2026 09:03 UTC   <invalid>       no
!MISSING! front-proxy-ca
"""


def _json_sample():
    return {
        "kind": "CertificateExpirationInfo",
        "apiVersion": "output.kubeadm.k8s.io/v1alpha3",
        "certificates": [
            {
                "name": "admin.conf",
                "expirationDate": "2026-12-05T13:15:00Z",
                "residualTime": ADMIN_JSON_LEFT,
                "externallyManaged": False,
                "caName": "ca",
                "missing": False,
            },
            {
                "name": "apiserver",
                "expirationDate": "2026-12-01T09:03:00Z",
                "residualTime": APISERVER_JSON_LEFT,
                "externallyManaged": False,
                "caName": "ca",
                "missing": False,
            },
            {
                "name": "etcd-peer",
                "expirationDate": "2027-08-19T09:03:00Z",
                "residualTime": 22118400,
                "externallyManaged": False,
                "caName": "etcd-ca",
                "missing": False,
            },
            {
                "name": "etcd-server",
                "expirationDate": "0001-01-01T00:00:00Z",
                "residualTime": 0,
                "externallyManaged": False,
                "missing": True,
            },
        ],
        "certificateAuthorities": [
            {
                "name": "ca",
                "expirationDate": "2035-08-17T09:03:00Z",
                "residualTime": 276000000,
                "externallyManaged": False,
                "missing": False,
            },
        ],
    }


@pytest.mark.parametrize(
    ("cell", "seconds"),
    [
        ("<invalid>", -2),
        ("0s", 0),
        ("30s", 30),
        ("59m", 3540),
        ("20h", 72000),
        ("256d", 256 * 86400),
        ("8y", 8 * 365 * 86400),
    ],
)
def test_residual_time_cells(cell, seconds):
    assert kubeadm_certs.residual_seconds(cell) == seconds


def test_an_unknown_residual_time_is_an_error():
    with pytest.raises(KubeforgeError, match="unknown residual time '5w'"):
        kubeadm_certs.residual_seconds("5w")


def test_text_table_rows():
    entries = {(e["kind"], e["name"]): e for e in kubeadm_certs.parse_text(TEXT)}

    assert [kind for kind, _name in entries].count("certificate") == len(entries) - 3, "8 certificates, 3 CAs"
    assert entries["certificate", "apiserver"]["residual_seconds"] == APISERVER_TEXT_LEFT
    assert entries["certificate", "apiserver"]["expires"] == "Dec 05, 2026 12:17 UTC"
    assert entries["certificate", "apiserver-etcd-client"]["residual_seconds"] == EXPIRED
    assert entries["certificate", "apiserver-etcd-client"]["ca"] == "etcd-ca"
    assert entries["certificate", "etcd-healthcheck-client"]["missing"] is True
    assert entries["certificate", "front-proxy-client"]["externally_managed"] is True
    assert entries["ca", "etcd-ca"]["residual_seconds"] == EXPIRED and entries["ca", "etcd-ca"]["ca"] is None
    assert entries["ca", "front-proxy-ca"]["missing"] is True


def test_summary_of_the_text_table_counts_invalid_minutes_and_seconds():
    summary = kubeadm_certs.summarize(kubeadm_certs.parse_expiration(TEXT), renew_days=30)

    # the old y/d/h pattern saw 20h (0 days) and 256d only: <invalid>, 59m and 30s are what it missed
    assert summary["expired"] == ["apiserver-etcd-client", "etcd-ca"]
    assert summary["missing"] == ["etcd-healthcheck-client", "front-proxy-ca"]
    assert summary["due"] == ["admin.conf", "apiserver", "apiserver-etcd-client", "apiserver-kubelet-client"]
    assert summary["min_days"] == -1


def test_nothing_due_when_every_renewable_certificate_has_time():
    text = TEXT
    for short in ("59m ", "30s ", "20h ", "3m  "):
        text = text.replace(short, "300d")
    text = text.replace("<invalid>       etcd-ca                 no", "300d            etcd-ca                 no")
    summary = kubeadm_certs.summarize(kubeadm_certs.parse_expiration(text), renew_days=30)

    assert summary["due"] == [] and summary["min_days"] == PEER_DAYS
    assert summary["expired"] == ["etcd-ca"], "a CA is reported, never renewed by kubeadm certs renew"


def test_json_output():
    output = "[check-expiration] Reading configuration from the cluster...\n" + json.dumps(_json_sample())
    summary = kubeadm_certs.summarize(kubeadm_certs.parse_expiration(output), renew_days=30)

    assert summary["expired"] == ["apiserver"]
    assert summary["missing"] == ["etcd-server"]
    assert summary["due"] == ["admin.conf", "apiserver"]
    assert summary["min_days"] == APISERVER_JSON_LEFT // DAY
    admin = summary["certificates"][0]
    assert admin["residual_seconds"] == ADMIN_JSON_LEFT and admin["residual_days"] == 0 and admin["expired"] is False


def test_output_without_a_table_is_an_error():
    with pytest.raises(KubeforgeError, match="no certificate table"):
        kubeadm_certs.parse_expiration("error: something else")
    with pytest.raises(KubeforgeError, match="not a CertificateExpirationInfo"):
        kubeadm_certs.parse_expiration('{"kind": "UpgradePlan"}')


class _Cli:
    def __init__(self, outputs):
        self.outputs = list(outputs)
        self.calls = []

    def run(self, *args):
        self.calls.append(args)
        outcome = self.outputs.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


class _Module:
    def __init__(self):
        self.params = {"renew_days": 30}


def test_falls_back_to_the_text_table_when_kubeadm_has_no_output_flag():
    cli = _Cli(
        [KubeforgeError("kubeadm certs check-expiration failed (rc=1): unknown shorthand flag: 'o' in -o"), TEXT]
    )

    result = kubeadm_certs.check_expiration(_Module(), cli)

    assert cli.calls == [("certs", "check-expiration", "-o", "json"), ("certs", "check-expiration")]
    assert result["changed"] is False and "apiserver" in result["due"]


def test_other_kubeadm_failures_are_not_hidden():
    cli = _Cli([KubeforgeError("kubeadm certs check-expiration failed (rc=1): open /etc/kubernetes/admin.conf")])

    with pytest.raises(KubeforgeError, match=r"admin\.conf"):
        kubeadm_certs.check_expiration(_Module(), cli)
