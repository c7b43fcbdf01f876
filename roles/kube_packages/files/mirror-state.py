# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the mirror method would change, read in one pass (tasks/install-mirror.yml runs it with the host's Python).

Argument: JSON {"release_url", "components", "cache_dir", "bin_dir", "crictl_url" (or null), "paths", "units"}.
Prints JSON: per binary the mirror's published SHA-256 (its .sha256 file, read as get_url reads a checksum
URL), the cached and the installed copy's SHA-256, mode and owner; for crictl the
same for its tarball plus the SHA-256 of the crictl inside it; the state of each of ``paths``; ``systemctl
is-enabled`` of each of ``units``. Reads only; an unreachable mirror is reported (the download task then fails with
the error get_url gives).
"""

import grp
import hashlib
import json
import os
import pwd
import stat
import subprocess
import sys
import tarfile
import urllib.request


def digest(stream):
    sha = hashlib.sha256()
    for block in iter(lambda: stream.read(1 << 20), b""):
        sha.update(block)
    return sha.hexdigest()


def state(path):
    """type, mode, owner, group and (regular files) SHA-256 of a path, None when absent (links not followed)."""
    try:
        info = os.lstat(path)
    except OSError:
        return None
    kinds = {stat.S_IFREG: "file", stat.S_IFDIR: "directory", stat.S_IFLNK: "link"}
    result = {
        "type": kinds.get(stat.S_IFMT(info.st_mode), "other"),
        "mode": f"{stat.S_IMODE(info.st_mode):04o}",
        "owner": name_of(pwd.getpwuid, info.st_uid),
        "group": name_of(grp.getgrgid, info.st_gid),
        "sha256": None,
    }
    if result["type"] == "file":
        with open(path, "rb") as stream:
            result["sha256"] = digest(stream)
    return result


def name_of(lookup, number):
    try:
        return lookup(number)[0]
    except KeyError:
        return str(number)


def published(url):
    """(checksum, error) from a .sha256 URL, read as get_url reads a checksum URL: a file of one word is the checksum;
    otherwise the line ``<checksum> [*]<name>`` naming the file; anything else is an error (get_url fails too)."""
    try:
        with urllib.request.urlopen(url + ".sha256", timeout=30) as response:
            lines = [line.split() for line in response.read().decode("utf-8", "replace").splitlines() if line.strip()]
    except (OSError, ValueError) as exc:
        return None, f"{url}.sha256: {exc}"
    name = url.rsplit("/", 1)[-1]
    if len(lines) == 1 and len(lines[0]) == 1:
        return lines[0][0].lower(), None
    for words in lines:
        if len(words) > 1 and words[1].lstrip("*").lstrip("./") == name:
            return words[0].lower(), None
    return None, f"{url}.sha256: no checksum for {name}"


def member_digest(tarball, member):
    """SHA-256 of one member (by base name) of a tar.gz, None when the tarball or the member is missing."""
    try:
        with tarfile.open(tarball) as archive:
            for entry in archive:
                if entry.isfile() and os.path.basename(entry.name) == member:
                    return digest(archive.extractfile(entry))
    except (OSError, tarfile.TarError):
        return None
    return None


def download(url, cached, installed):
    checksum, error = published(url)
    return {"published": checksum, "error": error, "cached": state(cached), "installed": state(installed)}


def main():
    query = json.loads(sys.argv[1])
    cache, bin_dir = query["cache_dir"], query["bin_dir"]
    result = {
        "binaries": {
            name: download(f"{query['release_url']}/{name}", os.path.join(cache, name), os.path.join(bin_dir, name))
            for name in query["components"]
        },
        "crictl": None,
        "paths": {path: state(path) for path in query["paths"]},
        "units": {},
    }
    if query["crictl_url"]:
        tarball = os.path.join(cache, query["crictl_url"].rsplit("/", 1)[-1])
        crictl = download(query["crictl_url"], tarball, os.path.join(bin_dir, "crictl"))
        crictl["member"] = member_digest(tarball, "crictl")
        crictl["unpacked"] = state(os.path.join(cache, "crictl"))
        result["crictl"] = crictl
    for unit in query["units"]:
        try:
            run = subprocess.run(
                ["systemctl", "is-enabled", unit], check=False, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
            )
        except OSError as exc:  # no systemctl: the enable task runs and reports what systemd says
            result["units"][unit] = str(exc)
            continue
        result["units"][unit] = run.stdout.decode("utf-8", "replace").strip()
    json.dump(result, sys.stdout)


main()
