# Copyright: kubeforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""host_prep's one read of the host (tasks/read.yml runs it with the host's Python, also in check mode).

Argument: JSON {"sections": [...], "paths": {...}, "ports": bool, "packages": {"manager": "dpkg"|"rpm", "names": [...]},
"modules": {name: evidence path or ""}, "sysctls": {name: /proc/sys file}, "files": [paths]}.
Prints JSON with one key per section asked for:
  host     - uuid (product UUID, "" when the machine has none), swaps (active swap areas in /proc/swaps), fstab (lines
             of /etc/fstab tasks/swap.yml's replace could comment out, null when there is no fstab), cpus (the
             "processor" entries of /proc/cpuinfo), memory_mb (MemTotal of /proc/meminfo in MiB, as the setup
             module's memtotal_mb), ports (the listening TCP ports from `ss -Hltn`, with "ports": true)
  packages - the names dpkg-query / rpm -q does not report installed (a name it does not know counts as missing)
  modules  - the kernel modules neither loaded nor built in: /sys/module/NAME missing, modules.builtin not listing
             NAME.ko and the evidence path (if any) missing
  sysctls  - name -> live value, whitespace normalised (multi-value parameters read back tab-separated), null when
             the file is missing (br_netfilter's parameters until the module is loaded)
  files    - path -> "<mode> <owner> <group> <sha256>" (as kubeforge.cluster.file_states words a find) for each of
             "files" that exists
Failures: an unreadable /proc/swaps, /proc/cpuinfo or /proc/meminfo, a failing ss, or a package query that fails
for another reason than a name not installed prints the reason on stderr and exits 1: the read task fails.
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

# tasks/swap.yml's replace pattern (Python, multiline): ^([^#\s]\S*\s+\S+\s+swap\s.*)$ . Per line here, with "swap" at
# the end of a line counted too (there \s matched the newline): every line the replace could change is counted.
FSTAB_SWAP = re.compile(r"^[^#\s]\S*\s+\S+\s+swap(\s|$)")


class ReadError(Exception):
    """Something the role needs could not be read."""


def text(path):
    try:
        with open(path) as handle:
            return handle.read()
    except OSError as exc:
        raise ReadError(f"cannot read {path}: {exc.strerror}") from exc


def run(argv, ok_codes=(0,)):
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise ReadError(f"{argv[0]}: {exc.strerror}") from exc
    if proc.returncode not in ok_codes:
        raise ReadError(f"{' '.join(argv[:2])} exited {proc.returncode}: {proc.stderr.strip()}")
    return proc.stdout


def host(query):
    paths = query["paths"]
    try:
        uuid = text(paths["uuid"]).strip()
    except ReadError:
        uuid = ""
    swaps = len(text(paths["swaps"]).splitlines()) - 1
    fstab = None
    if os.path.exists(paths["fstab"]):
        fstab = sum(1 for line in text(paths["fstab"]).splitlines() if FSTAB_SWAP.match(line))
    cpus = sum(1 for line in text(paths["cpuinfo"]).splitlines() if line.split(":", 1)[0].strip() == "processor")
    memory_kib = [line.split()[1] for line in text(paths["meminfo"]).splitlines() if line.startswith("MemTotal:")]
    if not memory_kib:
        raise ReadError(f"no MemTotal in {paths['meminfo']}")
    result = {"uuid": uuid, "swaps": swaps, "fstab": fstab, "cpus": cpus, "memory_mb": int(memory_kib[0]) // 1024}
    if query.get("ports"):
        # ss -Hltn: State Recv-Q Send-Q Local-Address:Port Peer-Address:Port
        result["ports"] = sorted({int(line.split()[3].rsplit(":", 1)[1]) for line in run(["ss", "-Hltn"]).splitlines()})
    return result


def packages(query):
    manager, names = query["packages"]["manager"], query["packages"]["names"]
    if not names:
        return []
    if manager == "dpkg":
        # dpkg-query exits 1 when a name is not installed or unknown (it then says so on stderr).
        out = run(["dpkg-query", "--show", "--showformat=${Package} ${db:Status-Status}\\n", *names], (0, 1))
        installed = {line.split()[0] for line in out.splitlines() if line.endswith(" installed")}
    else:
        # rpm -q exits with the number of names not installed ("package NAME is not installed" on stdout); a
        # capability such as a virtual name counts as missing here, and dnf decides.
        out = run(["rpm", "-q", "--queryformat", "%{NAME}\\n", *names], range(len(names) + 1))
        installed = set(out.splitlines())
    return [name for name in names if name not in installed]


def modules(query):
    builtin_list = f"/lib/modules/{os.uname().release}/modules.builtin"
    try:
        builtin = {os.path.basename(line.strip()) for line in text(builtin_list).splitlines()}
    except ReadError:
        builtin = set()
    missing = []
    for name, evidence in query["modules"].items():
        present = os.path.exists(os.path.join(query["paths"]["modules"], name)) or name + ".ko" in builtin
        if not present and not (evidence and os.path.exists(evidence)):
            missing.append(name)
    return missing


def sysctls(query):
    live = {}
    for name, path in query["sysctls"].items():
        live[name] = " ".join(text(path).split()) if os.path.exists(path) else None
    return live


def owners(info):
    """The owner and group names of a file ("<owner> <group>"), numbers when a name is unknown."""
    names = []
    for lookup, number in ((pwd.getpwuid, info.st_uid), (grp.getgrgid, info.st_gid)):
        try:
            names.append(lookup(number)[0])
        except KeyError:
            names.append(str(number))
    return " ".join(names)


def files(query):
    found = {}
    for path in query["files"]:
        try:
            info = os.lstat(path)
        except OSError:
            continue
        if stat.S_ISREG(info.st_mode):
            sha = hashlib.sha256()
            with open(path, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    sha.update(block)
            kind = sha.hexdigest()
        else:
            kind = "dir" if stat.S_ISDIR(info.st_mode) else "other"
        found[path] = f"{stat.S_IMODE(info.st_mode):04o} {owners(info)} {kind}"
    return found


SECTIONS = {"host": host, "packages": packages, "modules": modules, "sysctls": sysctls, "files": files}


if __name__ == "__main__":
    QUERY = json.loads(sys.argv[1])
    try:
        print(json.dumps({section: SECTIONS[section](QUERY) for section in QUERY["sections"]}, sort_keys=True))
    except ReadError as exc:
        sys.exit(f"host-state: {exc}")
