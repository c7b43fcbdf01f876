# Copyright: kubeforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""cni_plugins' one read of the host (tasks/read.yml runs it with the host's Python, also in check mode).

Argument: JSON {"bin_dir": path, "package": {"manager": "dpkg"|"rpm"|null, "name": str}, "package_dir": path or null}.
Prints JSON:
  bin_dir   - "<mode> <owner> <group> dir" of the plugin directory (links followed, as the file module follows them),
              "<mode> <owner> <group> other" when it is not a directory, null when it does not exist
  package   - "installed" or "missing" (dpkg-query / rpm -q; a name it does not know counts as missing), null without
              a manager
  packaged  - the regular, not hidden files in package_dir (the packaged plugins), sorted; [] when it does not exist
  present   - name -> [type, link target] of each entry of bin_dir (type "link", "file", "dir" or "other"; the target
              only for a link)
Failures: a package query failing for another reason than the name not being installed, or a directory that exists
but cannot be listed, prints the reason on stderr and exits 1: the read task fails.
"""

import grp
import json
import os
import pwd
import stat
import subprocess
import sys


class ReadError(Exception):
    """Something the role needs could not be read."""


def owner(info):
    try:
        user = pwd.getpwuid(info.st_uid).pw_name
    except KeyError:
        user = str(info.st_uid)
    try:
        group = grp.getgrgid(info.st_gid).gr_name
    except KeyError:
        group = str(info.st_gid)
    return f"{stat.S_IMODE(info.st_mode):04o} {user} {group}"


def directory(path):
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ReadError(f"cannot read {path}: {exc.strerror}") from exc
    return f"{owner(info)} {'dir' if stat.S_ISDIR(info.st_mode) else 'other'}"


def entries(path):
    try:
        return sorted(os.listdir(path))
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise ReadError(f"cannot list {path}: {exc.strerror}") from exc


def package(query):
    manager, name = query["package"]["manager"], query["package"]["name"]
    if manager == "dpkg":
        # dpkg-query exits 1 when the name is not installed or unknown.
        argv = ["dpkg-query", "--show", "--showformat=${db:Status-Status}", name]
    elif manager == "rpm":
        # rpm -q exits 1 when the name is not installed ("package NAME is not installed").
        argv = ["rpm", "-q", "--queryformat", "installed", name]
    else:
        return None
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise ReadError(f"{argv[0]}: {exc.strerror}") from exc
    if proc.returncode > 1:
        raise ReadError(f"{argv[0]} exited {proc.returncode}: {proc.stderr.strip()}")
    # dpkg-query exits 0 for a package it knows in any state (config-files, half-installed): only "installed" counts.
    installed = proc.returncode == 0 and (manager == "rpm" or proc.stdout == "installed")
    return "installed" if installed else "missing"


def kind(path):
    mode = os.lstat(path).st_mode
    for test, name in ((stat.S_ISLNK, "link"), (stat.S_ISREG, "file"), (stat.S_ISDIR, "dir")):
        if test(mode):
            return name
    return "other"


def read(query):
    bin_dir, package_dir = query["bin_dir"], query["package_dir"]
    packaged = []
    if package_dir:
        packaged = [
            os.path.join(package_dir, name)
            for name in entries(package_dir)
            # as ansible.builtin.find read it: regular files (links not followed), hidden ones left out
            if not name.startswith(".") and stat.S_ISREG(os.lstat(os.path.join(package_dir, name)).st_mode)
        ]
    present = {}
    for name in entries(bin_dir):
        path = os.path.join(bin_dir, name)
        entry_kind = kind(path)
        present[name] = [entry_kind, os.readlink(path) if entry_kind == "link" else ""]
    return {"bin_dir": directory(bin_dir), "package": package(query), "packaged": packaged, "present": present}


if __name__ == "__main__":
    try:
        print(json.dumps(read(json.loads(sys.argv[1])), sort_keys=True))
    except ReadError as exc:
        sys.exit(f"plugins-state: {exc}")
