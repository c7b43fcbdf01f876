"""Pure parts of plugins/module_utils/kubeadm.py: durations, token lists, token reuse, CA hash, kubeconfig server."""

from __future__ import annotations

import datetime
import hashlib
import json

import pytest
from ansible_collections.kubeforge.cluster.plugins.module_utils import kubeadm
from ansible_collections.kubeforge.cluster.plugins.module_utils.errors import KubeforgeError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

NOW = datetime.datetime(2026, 11, 24, 9, 0, tzinfo=datetime.timezone.utc)
NODE_GROUP = "system:bootstrappers:kubeadm:default-node-token"


def _token(token, expires, usages=("authentication", "signing"), groups=(NODE_GROUP,)):
    return {
        "kind": "BootstrapToken",
        "token": token,
        "expires": expires,
        "usages": list(usages),
        "groups": list(groups),
    }


def _ca_pem(key):
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kubernetes")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(NOW - datetime.timedelta(days=1))
        .not_valid_after(NOW + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    spki = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return cert.public_bytes(serialization.Encoding.PEM).decode(), "sha256:" + hashlib.sha256(spki).hexdigest()


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("24h", 86400), ("1h30m", 5400), ("90s", 90), ("0", 0), ("1.5h", 5400), ("2m0s", 120), ("500ms", 0.5)],
)
def test_parse_duration(text, seconds):
    assert kubeadm.parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "24", "1d", "h", "24h junk", "-1h"])
def test_parse_duration_rejects_bad_input_naming_the_field(text):
    with pytest.raises(KubeforgeError, match=r"^min_ttl: "):
        kubeadm.parse_duration(text, "min_ttl")


def test_parse_token_list_reads_a_json_stream_and_both_token_shapes():
    text = (
        json.dumps(_token("abcdef.0123456789abcdef", "2026-11-25T09:00:00Z"), indent=4)
        + "\n"
        + json.dumps(_token({"id": "ghijkl", "secret": "0123456789abcdef"}, None))
    )
    tokens = kubeadm.parse_token_list(text)
    assert [t["token"] for t in tokens] == ["abcdef.0123456789abcdef", "ghijkl.0123456789abcdef"]
    assert tokens[0]["expires"] == datetime.datetime(2026, 11, 25, 9, 0, tzinfo=datetime.timezone.utc)
    assert tokens[1]["expires"] is None
    assert tokens[0]["id"] == "abcdef"


def test_parse_token_list_empty_and_garbage():
    assert kubeadm.parse_token_list("") == []
    assert kubeadm.parse_token_list("\n  \n") == []
    with pytest.raises(KubeforgeError) as info:
        kubeadm.parse_token_list('{"token": "abcdef.0123456789abcdef"} TOKEN abcdef.0123456789abcdef')
    assert "0123456789abcdef" not in str(info.value)


def test_reusable_token_picks_the_longest_lived_valid_join_token():
    tokens = kubeadm.parse_token_list(
        "".join(
            json.dumps(item)
            for item in [
                _token("aaaaaa.aaaaaaaaaaaaaaaa", "2026-11-24T09:30:00Z"),  # expires within min_ttl
                _token("bbbbbb.bbbbbbbbbbbbbbbb", "2026-11-24T20:00:00Z"),
                _token("cccccc.cccccccccccccccc", "2026-11-25T08:00:00Z"),
                _token("dddddd.dddddddddddddddd", "2026-11-30T08:00:00Z", usages=("signing",)),
                _token("eeeeee.eeeeeeeeeeeeeeee", "2026-11-30T08:00:00Z", groups=("system:bootstrappers:other",)),
            ]
        )
    )
    assert kubeadm.reusable_token(tokens, NOW, 3600)["token"] == "cccccc.cccccccccccccccc"
    assert kubeadm.reusable_token(tokens[:1], NOW, 3600) is None
    assert kubeadm.reusable_token(tokens[:1], NOW, 60)["token"] == "aaaaaa.aaaaaaaaaaaaaaaa"


def test_reusable_token_prefers_a_token_that_never_expires():
    tokens = kubeadm.parse_token_list(
        json.dumps(_token("bbbbbb.bbbbbbbbbbbbbbbb", "2026-11-30T00:00:00Z"))
        + json.dumps(_token("ffffff.ffffffffffffffff", ""))
    )
    assert kubeadm.reusable_token(tokens, NOW, 3600)["token"] == "ffffff.ffffffffffffffff"
    assert kubeadm.reusable_token(list(reversed(tokens)), NOW, 3600)["token"] == "ffffff.ffffffffffffffff"


@pytest.mark.parametrize(
    "key",
    [rsa.generate_private_key(public_exponent=65537, key_size=2048), ec.generate_private_key(ec.SECP256R1())],
    ids=["rsa", "ecdsa"],
)
def test_ca_cert_hash_matches_the_public_key_info_digest(key):
    pem, expected = _ca_pem(key)
    assert kubeadm.ca_cert_hash("junk before\n" + pem) == expected


@pytest.mark.parametrize(
    ("pem", "message"),
    [
        ("no certificate here", "no PEM CERTIFICATE block"),
        ("-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----", "not valid base64"),
        ("-----BEGIN CERTIFICATE-----\nMAM=\n-----END CERTIFICATE-----", "truncated DER"),
    ],
)
def test_ca_cert_hash_bad_input(pem, message):
    with pytest.raises(KubeforgeError, match=message):
        kubeadm.ca_cert_hash(pem)


def test_server_from_kubeconfig():
    text = "apiVersion: v1\nclusters:\n- cluster:\n    server: https://kube-master:6443\n  name: kubernetes\n"
    assert kubeadm.server_from_kubeconfig(text) == "kube-master:6443"
    assert kubeadm.server_from_kubeconfig("    server: 'https://10.0.0.1:6443/'\n") == "10.0.0.1:6443"
    with pytest.raises(KubeforgeError, match="no cluster server URL"):
        kubeadm.server_from_kubeconfig("apiVersion: v1\n")


def test_certificate_key_from_output():
    key = "3f" * 32
    out = f"[upload-certs] Storing the certificates in Secret\n[upload-certs] Using certificate key:\n{key}\n"
    assert kubeadm.certificate_key_from_output(out) == key
    with pytest.raises(KubeforgeError, match="no certificate key"):
        kubeadm.certificate_key_from_output("[upload-certs] done\n")
