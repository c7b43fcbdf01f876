# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the control_plane role compares, read in one pass (tasks/main.yml runs it with the Python of the modules).

Argument: JSON {"paths": [paths whose state is wanted], "admin_conf": path, "admin_user": name or ""}.
Prints JSON:
- "pyyaml": whether this Python imports yaml (the role's API modules need it);
- "files": {path: "<mode> <owner> <group> <sha256 | dir | other>"} for each of "paths" and, when admin_user is set,
  its ~/.kube and ~/.kube/config: the format of the kubeforge.cluster.file_states filter (what the find read of
  tasks/config.yml gives), links not followed (a link is "other", so the task that writes it always runs);
- "admin": the admin user's home, owner and group name of its primary group, gid (what getent passwd gives).
Reads only. A failure shows as the task failing: an admin_user the passwd database does not know (as getent would
fail) or a path that exists but cannot be read, with the error on stderr.
"""

import grp
import hashlib
import importlib
import json
import os
import pwd
import stat
import sys


def name(lookup, number):
    try:
        return lookup(number)[0]
    except KeyError:
        return str(number)


def state(path):
    """file_states' string for a path, None when absent."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    if stat.S_ISREG(info.st_mode):
        sha = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                sha.update(block)
        kind = sha.hexdigest()
    else:
        kind = "dir" if stat.S_ISDIR(info.st_mode) else "other"
    mode = f"{stat.S_IMODE(info.st_mode):04o}"
    return " ".join((mode, name(pwd.getpwuid, info.st_uid), name(grp.getgrgid, info.st_gid), kind))


def main():
    query = json.loads(sys.argv[1])
    paths = [*query["paths"], query["admin_conf"]]
    admin = None
    if query["admin_user"]:
        try:
            entry = pwd.getpwnam(query["admin_user"])
        except KeyError:
            sys.exit(f"control_plane_admin_user {query['admin_user']}: no such user in the passwd database")
        admin = {
            "home": entry.pw_dir,
            "owner": entry.pw_name,
            "gid": entry.pw_gid,
            "group": name(grp.getgrgid, entry.pw_gid),
        }
        paths += [os.path.join(entry.pw_dir, ".kube"), os.path.join(entry.pw_dir, ".kube", "config")]
    try:
        importlib.import_module("yaml")
        pyyaml = True
    except ImportError:
        pyyaml = False
    files = {}
    for path in paths:
        found = state(path)
        if found is not None:
            files[path] = found
    print(json.dumps({"pyyaml": pyyaml, "files": files, "admin": admin}))


main()
