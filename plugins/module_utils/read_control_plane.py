# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the control_plane role compares, read in one pass (kubeforge.cluster.host_read, reader control_plane).

Query: {"paths": [paths whose state is wanted], "admin_conf": path, "admin_user": name or ""}. Returns:
- "pyyaml": whether the Python of the modules imports yaml (the role's API modules need it);
- "files": {path: "<mode> <owner> <group> <sha256 | dir | other>"} for each of "paths", admin_conf and, when
  admin_user is set, its ~/.kube and ~/.kube/config: the format of the kubeforge.cluster.file_states filter (what the
  find read of tasks/config.yml gives), links not followed (a link is "other", so the task that writes it always runs);
- "admin": the admin user's home, owner and group name of its primary group, gid (what getent passwd gives).
Reads only. Fails for an admin_user the passwd database does not know (as getent would) or a path that exists but
cannot be read.
"""

from __future__ import annotations

import grp
import importlib
import os
import pwd
from typing import Any

from ansible_collections.kubeforge.cluster.plugins.module_utils.errors import KubeforgeError
from ansible_collections.kubeforge.cluster.plugins.module_utils.host_read import file_states, name_of


def admin_entry(user: str) -> dict:
    try:
        entry = pwd.getpwnam(user)
    except KeyError as exc:
        raise KubeforgeError(f"control_plane_admin_user {user}: no such user in the passwd database") from exc
    group = name_of(grp.getgrgid, entry.pw_gid)
    return {"home": entry.pw_dir, "owner": entry.pw_name, "gid": entry.pw_gid, "group": group}


def has_pyyaml() -> bool:
    try:
        importlib.import_module("yaml")
    except ImportError:
        return False
    return True


def read(module: Any, query: dict) -> dict:
    paths = [*query["paths"], query["admin_conf"]]
    admin = None
    if query["admin_user"]:
        admin = admin_entry(query["admin_user"])
        paths += [os.path.join(admin["home"], ".kube"), os.path.join(admin["home"], ".kube", "config")]
    return {"pyyaml": has_pyyaml(), "files": file_states(paths), "admin": admin}
