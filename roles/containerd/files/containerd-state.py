# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Everything the containerd role compares, read in one pass (tasks/main.yml runs it with the host's Python).

Argument: JSON {"package_tool" ("dpkg", "rpm" or ""), "packages", "candidate_of" (a package name or ""),
"binaries", "unit", "paths"}. Prints JSON:
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
Reads only. A failure (a package manager or apt-cache that fails or answers in an unknown way, a file that cannot be
read) exits 1 with the reason on stderr, so the read task fails; it never reports a state it did not read.
"""

import grp
import hashlib
import json
import os
import pwd
import re
import stat
import subprocess
import sys
import time

ENV = dict(os.environ, LC_ALL="C")  # apt, dpkg and rpm translate their output
NOT_FOUND = 127  # the shell's exit status for a command it cannot run, used here for the same


def run(argv):
    try:
        proc = subprocess.run(argv, check=False, capture_output=True, text=True, env=ENV)
    except OSError as exc:
        return NOT_FOUND, "", str(exc)
    return proc.returncode, proc.stdout, proc.stderr


def fail(message):
    sys.stderr.write(f"containerd-state: {message}\n")
    sys.exit(1)


def packages(tool, names):
    if not tool or not names:
        return {}
    if tool == "dpkg":
        rc, out, err = run(["dpkg-query", "--show", "--showformat=${Package} ${db:Status-Status}\\n", *names])
        if rc > 1:  # 1: a name dpkg does not know (it says so on stderr)
            fail(f"dpkg-query failed (rc {rc}): {err.strip()}")
        found = dict(line.split(" ", 1) for line in out.splitlines() if " " in line)
    elif tool == "rpm":
        # rpm logs "package <name> is not installed" at notice level (lib/query.c), on stdout with rpm 4 but read
        # from both streams; its warnings are skipped, anything else is an answer this read does not know.
        rc, out, err = run(["rpm", "-q", "--queryformat", "%{NAME} installed\\n", *names])
        found = {}
        for line in (out + err).splitlines():
            if line.startswith("warning:"):
                continue
            missing = re.fullmatch(r"package (\S+) is not installed", line)
            if missing:
                found[missing.group(1)] = "not-installed"
            elif line.endswith(" installed"):
                found[line.split(" ", 1)[0]] = "installed"
            else:
                fail(f"rpm -q answered {line!r} (rc {rc}): {err.strip()}")
        if rc == NOT_FOUND or set(names) - set(found):
            fail(f"rpm -q did not answer for every package (rc {rc}): {err.strip()}")
    else:
        fail(f"unknown package tool {tool!r}")
    return {name: found.get(name, "not-installed").strip() for name in names}


def candidate(name):
    if not name:
        return None, None
    rc, out, err = run(["apt-cache", "policy", name])
    if rc != 0:
        fail(f"apt-cache policy {name} failed (rc {rc}): {err.strip()}")
    match = re.search(r"^\s*Candidate:\s*(\S+)", out, re.MULTILINE)
    mtime = 0
    for path in ("/var/lib/apt/periodic/update-success-stamp", "/var/lib/apt/lists"):
        if os.path.exists(path):
            mtime = os.stat(path).st_mtime
            break
    return (match.group(1) if match else ""), time.time() - mtime


def file_state(path):
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        fail(f"cannot read {path}: {exc}")
    if stat.S_ISREG(info.st_mode):
        sha = hashlib.sha256()
        try:
            with open(path, "rb") as stream:
                for block in iter(lambda: stream.read(1 << 20), b""):
                    sha.update(block)
        except OSError as exc:
            fail(f"cannot read {path}: {exc}")
        kind = sha.hexdigest()
    else:
        kind = "dir" if stat.S_ISDIR(info.st_mode) else "other"
    owner, group = name_of(pwd.getpwuid, info.st_uid), name_of(grp.getgrgid, info.st_gid)
    return f"{stat.S_IMODE(info.st_mode):04o} {owner} {group} {kind}"


def name_of(lookup, number):
    try:
        return lookup(number)[0]
    except KeyError:
        return str(number)


def answer(argv):
    rc, out, err = run(argv)
    return (out.strip() or err.strip() or f"rc {rc}").replace("\n", " ")


def main():
    query = json.loads(sys.argv[1])
    found_candidate, apt_cache_age = candidate(query["candidate_of"])
    versions = {}
    for binary in query["binaries"]:
        rc, out, err = run([binary, "--version"])
        versions[binary] = {"rc": rc, "output": (out + err).strip()}
    unit = query["unit"]
    files = {path: file_state(path) for path in query["paths"]}
    result = {
        "packages": packages(query["package_tool"], query["packages"]),
        "candidate": found_candidate,
        "apt_cache_age": apt_cache_age,
        "versions": versions,
        "service": f"{answer(['systemctl', 'is-enabled', unit])} {answer(['systemctl', 'is-active', unit])}",
        "files": {path: state for path, state in files.items() if state is not None},
    }
    json.dump(result, sys.stdout)


main()
