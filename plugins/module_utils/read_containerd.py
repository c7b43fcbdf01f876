# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Everything the containerd role compares, read in one pass (kubeforge.cluster.host_read, reader containerd).

Query: {"package_tool" ("dpkg", "rpm" or ""), "packages", "candidate_of" (a package name or ""), "binaries", "unit",
"paths"}. Returns:
- packages: {name: "installed" or what the package manager says instead}. dpkg: ``dpkg-query --show`` with
  ``${db:Status-Status}`` (exit 1 for a name it does not know, dpkg-query(1)); rpm: ``rpm -q --queryformat`` (a
  name that is not installed prints ``package <name> is not installed``).
- candidate: the ``Candidate:`` value of ``apt-cache policy <candidate_of>`` (apt's policy output prints the lines
  ``  Installed: <version>`` and ``  Candidate: <version>`` per package, ``(none)`` when there is none:
  apt-private/private-cachefile.cc / cmdline/apt-cache.cc Policy); "" when apt lists no such package.
- apt_cache_age: seconds since the apt index was refreshed, as ansible.builtin.apt's cache_valid_time measures it
  (the mtime of /var/lib/apt/periodic/update-success-stamp, else of /var/lib/apt/lists, else 0: modules/apt.py
  get_cache_mtime); null when no candidate was asked.
- versions: {binary: {"rc", "output"}} of ``<binary> --version`` (a missing binary is rc 127, not an error).
- service: ``systemctl is-enabled`` and ``is-active`` of the unit, their answers joined by a space.
- files: {path: "<mode> <owner> <group> <sha256 | dir | other>"} of each path that exists (not followed), the
  format of the kubeforge.cluster.file_states filter.
Reads only. A package manager or apt-cache that fails or answers in an unknown way, or a file that cannot be read,
fails the read: it never reports a state it did not read.
"""

from __future__ import annotations

import os
import re
import time
from typing import Any

from ansible_collections.kubeforge.cluster.plugins.module_utils.errors import KubeforgeError
from ansible_collections.kubeforge.cluster.plugins.module_utils.host_read import NOT_FOUND, command, file_states

APT_STAMPS = ("/var/lib/apt/periodic/update-success-stamp", "/var/lib/apt/lists")
CANDIDATE = re.compile(r"^\s*Candidate:\s*(\S+)", re.MULTILINE)
RPM_MISSING = re.compile(r"package (\S+) is not installed")


def rpm_answers(text: str) -> dict:
    """{name: "installed" | "not-installed"} from ``rpm -q --queryformat "%{NAME} installed\\n"``'s output.

    rpm logs "package <name> is not installed" at notice level (lib/query.c), on stdout with rpm 4 but read from both
    streams; its warnings are skipped, anything else is an answer this read does not know (ValueError naming it)."""
    found = {}
    for line in text.splitlines():
        if line.startswith("warning:"):
            continue
        missing = RPM_MISSING.fullmatch(line)
        if missing:
            found[missing.group(1)] = "not-installed"
        elif line.endswith(" installed"):
            found[line.split(" ", 1)[0]] = "installed"
        else:
            raise ValueError(line)
    return found


def packages(module: Any, tool: str, names: list) -> dict:
    if not tool or not names:
        return {}
    if tool == "dpkg":
        argv = ["dpkg-query", "--show", "--showformat=${Package} ${db:Status-Status}\\n", *names]
        rc, out, err = command(module, argv)
        if rc > 1:  # 1: a name dpkg does not know (it says so on stderr)
            raise KubeforgeError(f"dpkg-query failed (rc {rc}): {err.strip()}")
        found = dict(line.split(" ", 1) for line in out.splitlines() if " " in line)
    elif tool == "rpm":
        rc, out, err = command(module, ["rpm", "-q", "--queryformat", "%{NAME} installed\\n", *names])
        try:
            found = rpm_answers(out + err)
        except ValueError as exc:
            raise KubeforgeError(f"rpm -q answered {exc.args[0]!r} (rc {rc}): {err.strip()}") from exc
        if rc == NOT_FOUND or set(names) - set(found):
            raise KubeforgeError(f"rpm -q did not answer for every package (rc {rc}): {err.strip()}")
    else:
        raise KubeforgeError(f"unknown package tool {tool!r}")
    return {name: found.get(name, "not-installed").strip() for name in names}


def apt_cache_mtime() -> float:
    for path in APT_STAMPS:
        if os.path.exists(path):
            return os.stat(path).st_mtime
    return 0


def candidate(module: Any, name: str) -> tuple:
    if not name:
        return None, None
    rc, out, err = command(module, ["apt-cache", "policy", name])
    if rc != 0:
        raise KubeforgeError(f"apt-cache policy {name} failed (rc {rc}): {err.strip()}")
    match = CANDIDATE.search(out)
    return (match.group(1) if match else ""), time.time() - apt_cache_mtime()


def answer(module: Any, argv: list) -> str:
    rc, out, err = command(module, argv)
    return (out.strip() or err.strip() or f"rc {rc}").replace("\n", " ")


def read(module: Any, query: dict) -> dict:
    found_candidate, apt_cache_age = candidate(module, query["candidate_of"])
    versions = {}
    for binary in query["binaries"]:
        rc, out, err = command(module, [binary, "--version"])
        versions[binary] = {"rc": rc, "output": (out + err).strip()}
    unit = query["unit"]
    files = file_states(query["paths"])
    return {
        "packages": packages(module, query["package_tool"], query["packages"]),
        "candidate": found_candidate,
        "apt_cache_age": apt_cache_age,
        "versions": versions,
        "service": " ".join(answer(module, ["systemctl", verb, unit]) for verb in ("is-enabled", "is-active")),
        "files": files,
    }
