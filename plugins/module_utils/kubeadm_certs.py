# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Certificate expiry as kubeadm reports it (``kubeadm certs check-expiration``), and what is due for renewal.

kubeadm prints the expiry in two formats (kubernetes/kubernetes cmd/kubeadm/app/cmd/certs.go):
- ``-o json``/``-o yaml`` (kubeadm versions with the output flag; output.kubeadm.k8s.io/v1alpha3
  ``CertificateExpirationInfo``, fields ``certificates``/``certificateAuthorities`` of ``{name, expirationDate,
  residualTime (seconds, negative once expired), caName, externallyManaged, missing}``,
  cmd/kubeadm/app/apis/output/v1alpha3/types.go);
- the text table (every version, the default): columns CERTIFICATE, EXPIRES (``Jan 02, 2006 15:04 MST``),
  RESIDUAL TIME, CERTIFICATE AUTHORITY, EXTERNALLY MANAGED, separated by tabwriter padding (3+ spaces), a
  ``!MISSING! <name>`` row for a missing certificate, then a blank line and the CERTIFICATE AUTHORITY table.
  RESIDUAL TIME is ``duration.ShortHumanDuration`` (k8s.io/apimachinery/pkg/util/duration): ``<invalid>`` below
  -1 s (expired), ``0s`` from -1 s, then ``Ns`` under a minute, ``Nm`` under an hour, ``Nh`` under a day, ``Nd``
  under 365 days, ``Ny``. A text row gives the lower bound of its unit.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ansible_collections.kubeforge.cluster.plugins.module_utils.errors import KubeforgeError
from ansible_collections.kubeforge.cluster.plugins.module_utils.kubeadm import KubeadmCli

# Options of kubeforge.cluster.kubeadm_certs (documented in plugins/modules/kubeadm_certs.yml).
CERTS_ARG_SPEC = {
    "kubeadm_path": {"type": "str", "default": "kubeadm"},
    "kubeconfig": {"type": "path", "default": "/etc/kubernetes/admin.conf"},
    "renew_days": {"type": "int", "default": 30},
}

DAY = 86400
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": DAY, "y": 365 * DAY}
_RESIDUAL_RE = re.compile(r"^(\d+)([smhdy])$")
INVALID = "<invalid>"
# ShortHumanDuration prints <invalid> for less than -1 s: the most a text row can say is "at most -2 s".
INVALID_SECONDS = -2
_MISSING = "!MISSING!"
_COLUMNS_RE = re.compile(r"\s{2,}")
_CERT_COLUMNS, _CA_COLUMNS = 5, 4


def residual_seconds(text: str) -> int | None:
    """Seconds left in a RESIDUAL TIME cell (the lower bound of its unit); ``<invalid>`` is expired."""
    value = text.strip()
    if value == INVALID:
        return INVALID_SECONDS
    match = _RESIDUAL_RE.match(value)
    if not match:
        raise KubeforgeError(f"kubeadm certs check-expiration: unknown residual time {text!r}")
    return int(match.group(1)) * _UNITS[match.group(2)]


def _entry(name, kind, **fields):
    entry = {
        "name": name,
        "kind": kind,
        "expires": None,
        "residual_seconds": None,
        "ca": None,
        "externally_managed": False,
        "missing": False,
    }
    entry.update(fields)
    return entry


def _text_row(cells, kind):
    if cells[0].startswith(_MISSING):
        return _entry(cells[0][len(_MISSING) :].strip(), kind, missing=True)
    if kind == "certificate" and len(cells) >= _CERT_COLUMNS:
        name, expires, residual, ca, external = cells[:_CERT_COLUMNS]
    elif kind == "ca" and len(cells) >= _CA_COLUMNS:
        name, expires, residual, external = cells[:_CA_COLUMNS]
        ca = None
    else:
        raise KubeforgeError(f"kubeadm certs check-expiration: cannot read the row {'   '.join(cells)!r}")
    return _entry(
        name,
        kind,
        expires=expires,
        residual_seconds=residual_seconds(residual),
        ca=ca,
        externally_managed=external.strip() == "yes",
    )


def parse_text(text: str) -> list:
    """Entries of kubeadm's text table (certificates, then certificate authorities)."""
    entries, kind = [], None
    for line in text.splitlines():
        cells = [cell for cell in _COLUMNS_RE.split(line.strip()) if cell]
        if not cells:
            continue
        if cells[0] == "CERTIFICATE" and len(cells) > 1 and cells[1] == "EXPIRES":
            kind = "certificate"
        elif cells[0] == "CERTIFICATE AUTHORITY" and len(cells) > 1 and cells[1] == "EXPIRES":
            kind = "ca"
        elif kind is not None:
            entries.append(_text_row(cells, kind))
    if not entries:
        raise KubeforgeError("kubeadm certs check-expiration: no certificate table in its output")
    return entries


def parse_json(data: dict) -> list:
    """Entries of kubeadm's ``-o json`` CertificateExpirationInfo (output.kubeadm.k8s.io/v1alpha3)."""
    if not isinstance(data, dict) or data.get("kind") != "CertificateExpirationInfo":
        raise KubeforgeError("kubeadm certs check-expiration -o json: not a CertificateExpirationInfo")
    entries = []
    for field, kind in (("certificates", "certificate"), ("certificateAuthorities", "ca")):
        for item in data.get(field) or []:
            if item.get("missing"):
                entries.append(_entry(item.get("name"), kind, missing=True))
                continue
            entries.append(
                _entry(
                    item.get("name"),
                    kind,
                    expires=item.get("expirationDate"),
                    residual_seconds=int(item.get("residualTime") or 0),
                    ca=item.get("caName") or None,
                    externally_managed=bool(item.get("externallyManaged")),
                )
            )
    return entries


def parse_expiration(output: str) -> list:
    """Entries from kubeadm's output in either format (JSON when it is JSON, the text table otherwise)."""
    stripped = (output or "").strip()
    start = stripped.find("{")
    if start >= 0 and stripped.rstrip().endswith("}"):
        try:
            return parse_json(json.loads(stripped[start:]))
        except ValueError:
            pass
    return parse_text(stripped)


def summarize(entries: list, renew_days: int) -> dict:
    """What certs.yml acts on: the renewable certificates due (``kubeadm certs renew`` skips CAs and externally
    managed ones), the expired ones, the missing ones, and the fewest whole days left among the renewable ones."""
    renewable = [e for e in entries if e["kind"] == "certificate" and not e["missing"] and not e["externally_managed"]]
    for entry in entries:
        seconds = entry["residual_seconds"]
        entry["expired"] = seconds is not None and seconds <= 0
        entry["residual_days"] = None if seconds is None else seconds // DAY
    return {
        "certificates": entries,
        "expired": [e["name"] for e in entries if e["expired"]],
        "missing": [e["name"] for e in entries if e["missing"]],
        "due": [e["name"] for e in renewable if e["residual_seconds"] < renew_days * DAY],
        "min_days": min((e["residual_days"] for e in renewable), default=None),
    }


def check_expiration(module: Any, cli: KubeadmCli) -> dict:
    """Runner of kubeforge.cluster.kubeadm_certs: read the expiry with ``-o json``, or the text table where this
    kubeadm has no ``-o`` (an older kubeadm fails with ``unknown shorthand flag: 'o'``)."""
    try:
        output = cli.run("certs", "check-expiration", "-o", "json")
    except KubeforgeError as exc:
        if "unknown" not in str(exc) or "flag" not in str(exc):
            raise
        output = cli.run("certs", "check-expiration")
    result = summarize(parse_expiration(output), module.params["renew_days"])
    result["changed"] = False
    return result


def certs_report(module: Any) -> dict:
    """Runner of the kubeforge.cluster.kubeadm_certs module: ``check_expiration`` with the module's kubeadm."""
    return check_expiration(module, KubeadmCli(module, module.params["kubeadm_path"], module.params["kubeconfig"]))
