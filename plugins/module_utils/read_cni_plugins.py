# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""cni_plugins' one read of the host (kubeforge.cluster.host_read, reader cni_plugins; its tasks/read.yml).

Query: {"bin_dir": path, "package": {"manager": "dpkg"|"rpm"|null, "name": str}, "package_dir": path or null}.
Returns:
  bin_dir   - "<mode> <owner> <group> dir" of the plugin directory (links followed, as the file module follows them),
              "<mode> <owner> <group> other" when it is not a directory, null when it does not exist
  package   - "installed" or "missing" (dpkg-query / rpm -q; a name it does not know counts as missing), null without
              a manager
  packaged  - the regular, not hidden files in package_dir (the packaged plugins), sorted; [] when it does not exist
  present   - name -> [type, link target] of each entry of bin_dir (type "link", "file", "dir" or "other"; the target
              only for a link)
Failures: a package query failing for another reason than the name not being installed, or a directory that exists
but cannot be listed.
"""

from __future__ import annotations

import os
import stat
from typing import Any

from ansible_collections.kubeforge.cluster.plugins.module_utils.host_read import answered, entries, file_state


def package(module: Any, query: dict) -> str | None:
    manager, name = query["package"]["manager"], query["package"]["name"]
    if manager == "dpkg":
        # dpkg-query exits 1 when the name is not installed or unknown.
        argv = ["dpkg-query", "--show", "--showformat=${db:Status-Status}", name]
    elif manager == "rpm":
        # rpm -q exits 1 when the name is not installed ("package NAME is not installed").
        argv = ["rpm", "-q", "--queryformat", "installed", name]
    else:
        return None
    rc, out = answered(module, argv, (0, 1))
    # dpkg-query exits 0 for a package it knows in any state (config-files, half-installed): only "installed" counts.
    installed = rc == 0 and (manager == "rpm" or out == "installed")
    return "installed" if installed else "missing"


def kind(path: str) -> str:
    mode = os.lstat(path).st_mode
    for test, name in ((stat.S_ISLNK, "link"), (stat.S_ISREG, "file"), (stat.S_ISDIR, "dir")):
        if test(mode):
            return name
    return "other"


def read(module: Any, query: dict) -> dict:
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
    return {
        "bin_dir": file_state(bin_dir, follow=True, checksum=False),
        "package": package(module, query),
        "packaged": packaged,
        "present": present,
    }
