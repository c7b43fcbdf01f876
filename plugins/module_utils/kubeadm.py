# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Join material from kubeadm: bootstrap tokens (reused when still valid), the CA certificate hash, certificate keys.

Layers: parsing (token list, Go durations, certificates) is pure and unit-tested; ``KubeadmCli`` runs the
``kubeadm`` binary; ``join_material`` is the runner the ``kubeforge.cluster.kubeadm_token`` module calls.
Tokens and certificate keys never go on a command line and never appear in error messages.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import json
import re
from typing import Any

from ansible_collections.kubeforge.cluster.plugins.module_utils.errors import KubeforgeError

DEFAULT_NODE_GROUP = "system:bootstrappers:kubeadm:default-node-token"
JOIN_USAGES = ("authentication", "signing")
_TOKEN_RE = re.compile(r"^[a-z0-9]{6}\.[a-z0-9]{16}$")
_CERT_KEY_RE = re.compile(r"^[0-9a-f]{64}$")
_DURATION_RE = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s)")
_DURATION_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
_DER_SEQUENCE = 0x30
_DER_VERSION = 0xA0  # [0] EXPLICIT, the certificate version
_DER_MAX_LENGTH_BYTES = 4
# Options of kubeforge.cluster.kubeadm_token (documented in plugins/modules/kubeadm_token.yml).
TOKEN_ARG_SPEC = {
    "kubeadm_path": {"type": "str", "default": "kubeadm"},
    "kubeconfig": {"type": "path", "default": "/etc/kubernetes/admin.conf"},
    "ca_cert": {"type": "path", "default": "/etc/kubernetes/pki/ca.crt"},
    "ttl": {"type": "str", "default": "24h"},
    "min_ttl": {"type": "str", "default": "1h"},
    "description": {"type": "str", "default": "kubeforge.cluster join token"},
    "upload_certs": {"type": "bool", "default": False},
}
_SERVER_RE = re.compile(r"^\s*server:\s*['\"]?(https?://[^'\"\s]+)", re.MULTILINE)


def parse_duration(text: str, field: str = "ttl") -> float:
    """Seconds in a Go duration (``24h``, ``1h30m``, ``90s``, ``0`` = never expires)."""
    value = str(text).strip()
    if value == "0":
        return 0.0
    parts = _DURATION_RE.findall(value)
    if not parts or "".join(number + unit for number, unit in parts) != value:
        raise KubeforgeError(f"{field}: {text!r} is not a duration like 24h, 1h30m or 90s")
    return sum(float(number) * _DURATION_UNITS[unit] for number, unit in parts)


def _parse_time(text):
    """A kubeadm RFC 3339 timestamp as an aware datetime (``None`` when empty: the token never expires)."""
    if not text:
        return None
    value = str(text).strip().replace("Z", "+00:00")
    try:
        return datetime.datetime.fromisoformat(value)
    except ValueError as exc:
        raise KubeforgeError(f"kubeadm token list: cannot read the expiry time {text!r}") from exc


def _token_string(raw):
    """kubeadm prints the token as ``id.secret`` (newer) or ``{"id": ..., "secret": ...}`` (older)."""
    if isinstance(raw, dict):
        return "{}.{}".format(raw.get("id", ""), raw.get("secret", ""))
    return str(raw or "")


def parse_token_list(text: str) -> list:
    """Tokens from ``kubeadm token list -o json`` (a stream of JSON objects, one per token)."""
    decoder = json.JSONDecoder()
    tokens = []
    pos = 0
    text = text or ""
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            return tokens
        try:
            obj, pos = decoder.raw_decode(text, pos)
        except ValueError as exc:
            # The message names the position only: the output holds token secrets.
            raise KubeforgeError(f"kubeadm token list: output is not JSON at character {pos}") from exc
        items = obj if isinstance(obj, list) else [obj]
        for item in items:
            token = _token_string(item.get("token"))
            if not _TOKEN_RE.match(token):
                continue
            tokens.append(
                {
                    "token": token,
                    "id": token.split(".", 1)[0],
                    "expires": _parse_time(item.get("expires")),
                    "usages": list(item.get("usages") or []),
                    "groups": list(item.get("groups") or []),
                    "description": item.get("description") or "",
                }
            )


def reusable_token(tokens: list, now: datetime.datetime | None, min_ttl_seconds: float) -> dict | None:
    """The join token that stays valid longest (and at least ``min_ttl_seconds``), or ``None``."""
    best = None
    for token in tokens:
        if not all(usage in token["usages"] for usage in JOIN_USAGES):
            continue
        if DEFAULT_NODE_GROUP not in token["groups"]:
            continue
        expires = token["expires"]
        if expires is not None and (expires - now).total_seconds() < min_ttl_seconds:
            continue
        if best is None or (best["expires"] is not None and (expires is None or expires > best["expires"])):
            best = token
    return best


def _der_element(data, pos):
    """(tag, content start, content end) of the DER element at ``pos``."""
    if pos + 2 > len(data):
        raise KubeforgeError("CA certificate: truncated DER data")
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > _DER_MAX_LENGTH_BYTES or pos + count > len(data):
            raise KubeforgeError("CA certificate: unsupported DER length")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    if pos + length > len(data):
        raise KubeforgeError("CA certificate: truncated DER data")
    return tag, pos, pos + length


def _pem_to_der(pem_text):
    match = re.search(r"-----BEGIN CERTIFICATE-----(.+?)-----END CERTIFICATE-----", pem_text, re.DOTALL)
    if not match:
        raise KubeforgeError("CA certificate: no PEM CERTIFICATE block found")
    try:
        return base64.b64decode("".join(match.group(1).split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise KubeforgeError("CA certificate: the PEM block is not valid base64") from exc


def ca_cert_hash(pem_text: str) -> str:
    """``sha256:<hex>`` of the CA's SubjectPublicKeyInfo, the value of ``--discovery-token-ca-cert-hash``."""
    der = _pem_to_der(pem_text)
    _tag, cert_start, _cert_end = _der_element(der, 0)
    tag, pos, tbs_end = _der_element(der, cert_start)
    if tag != _DER_SEQUENCE:
        raise KubeforgeError("CA certificate: tbsCertificate is not a SEQUENCE")
    tag, _start, end = _der_element(der, pos)
    if tag == _DER_VERSION:
        pos = end
    # serialNumber, signature, issuer, validity, subject, then subjectPublicKeyInfo.
    for _field in ("serialNumber", "signature", "issuer", "validity", "subject"):
        _tag, _start, pos = _der_element(der, pos)
    spki_start = pos
    tag, _start, spki_end = _der_element(der, pos)
    if tag != _DER_SEQUENCE or spki_end > tbs_end:
        raise KubeforgeError("CA certificate: subjectPublicKeyInfo not found")
    return "sha256:" + hashlib.sha256(der[spki_start:spki_end]).hexdigest()


def server_from_kubeconfig(text: str) -> str:
    """``host:port`` of the first cluster ``server:`` in a kubeconfig (the join endpoint)."""
    match = _SERVER_RE.search(text or "")
    if not match:
        raise KubeforgeError("kubeconfig: no cluster server URL found")
    return match.group(1).split("://", 1)[1].rstrip("/")


def certificate_key_from_output(text: str) -> str:
    """The certificate key printed by ``kubeadm init phase upload-certs --upload-certs`` (its last hex line)."""
    keys = [line.strip() for line in (text or "").splitlines() if _CERT_KEY_RE.match(line.strip())]
    if not keys:
        raise KubeforgeError("kubeadm init phase upload-certs: no certificate key in the output")
    return keys[-1]


def _read_text(path, what):
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError as exc:
        raise KubeforgeError(f"{what}: cannot read {path}: {exc.strerror}") from exc


def _command_name(args):
    """The sub-command words of a kubeadm call (``token create``), without flags or their values."""
    words = []
    for arg in args:
        if arg.startswith("-"):
            break
        words.append(arg)
    return " ".join(words)


class KubeadmCli:
    """Runs ``kubeadm`` through AnsibleModule.run_command; a failure raises KubeforgeError with stderr."""

    def __init__(self, module: Any, binary: str, kubeconfig: str | dict | None) -> None:
        self.module = module
        self.binary = module.get_bin_path(binary, required=False) or binary
        self.kubeconfig = kubeconfig

    def run(self, *args) -> str:
        cmd = [self.binary, *args, "--kubeconfig", self.kubeconfig]
        rc, out, err = self.module.run_command(cmd)
        if rc != 0:
            # kubeadm's own messages never echo a token secret; stdout (which may) is left out.
            raise KubeforgeError(
                f"kubeadm {_command_name(args)} failed (rc={rc}): {(err or '').strip() or 'no error output'}"
            )
        return out


def join_material(module: Any, now: datetime.datetime | None = None) -> dict:
    """Runner of kubeforge.cluster.kubeadm_token: find or create a join token, hash the CA, upload certs."""
    params = module.params
    now = now or datetime.datetime.now(datetime.timezone.utc)
    min_ttl = parse_duration(params["min_ttl"], "min_ttl")
    ttl = parse_duration(params["ttl"], "ttl")
    if ttl and ttl <= min_ttl:
        raise KubeforgeError("ttl: {} must be longer than min_ttl {}".format(params["ttl"], params["min_ttl"]))
    cli = KubeadmCli(module, params["kubeadm_path"], params["kubeconfig"])
    result = {
        "changed": False,
        "api_server_endpoint": server_from_kubeconfig(_read_text(params["kubeconfig"], "kubeconfig")),
        "ca_cert_hash": ca_cert_hash(_read_text(params["ca_cert"], "ca_cert")),
    }
    found = reusable_token(parse_token_list(cli.run("token", "list", "-o", "json")), now, min_ttl)
    if found is not None:
        result.update(token=found["token"], token_id=found["id"], created=False)
        result["expires"] = found["expires"].isoformat() if found["expires"] else None
    else:
        result.update(changed=True, created=True)
        if not module.check_mode:
            token = cli.run(
                "token",
                "create",
                "--ttl",
                params["ttl"],
                "--description",
                params["description"],
                "--usages",
                ",".join(JOIN_USAGES),
                "--groups",
                DEFAULT_NODE_GROUP,
            ).strip()
            if not _TOKEN_RE.match(token):
                raise KubeforgeError("kubeadm token create: unexpected output (not a bootstrap token)")
            result.update(token=token, token_id=token.split(".", 1)[0])
            result["expires"] = (now + datetime.timedelta(seconds=ttl)).isoformat() if ttl else None
    if params["upload_certs"]:
        result["changed"] = True
        if not module.check_mode:
            out = cli.run("init", "phase", "upload-certs", "--upload-certs")
            result["certificate_key"] = certificate_key_from_output(out)
    return result
