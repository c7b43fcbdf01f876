# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""host_prep's one read of the host (kubeforge.cluster.host_read, reader host_prep; roles/host_prep/tasks/read.yml).

Query: {"sections": [...], "paths": {...}, "ports": bool, "packages": {"manager": "dpkg"|"rpm", "names": [...]},
"modules": {name: evidence path or ""}, "sysctls": {name: /proc/sys file}, "files": [paths]}.
Returns one key per section asked for:
  host     - uuid (product UUID, "" when the machine has none), swaps (active swap areas in /proc/swaps), fstab (lines
             of /etc/fstab tasks/swap.yml's replace could comment out, null when there is no fstab), cpus (the
             "processor" entries of /proc/cpuinfo), memory_mb (MemTotal of /proc/meminfo in MiB, as the setup
             module's memtotal_mb), ports (the listening TCP ports from `ss -Hltn`, with "ports": true)
  packages - the names dpkg-query / rpm -q does not report installed (a name it does not know counts as missing)
  modules  - the kernel modules neither loaded nor built in: /sys/module/NAME missing, modules.builtin not listing
             NAME.ko and the evidence path (if any) missing
  sysctls  - name -> live value, whitespace normalised (multi-value parameters read back tab-separated), null when
             the file is missing (br_netfilter's parameters until the module is loaded)
  files    - path -> "<mode> <owner> <group> <sha256 | dir | other>" (as kubeforge.cluster.file_states words a find)
             for each of "files" that exists
Failures: an unreadable /proc/swaps, /proc/cpuinfo or /proc/meminfo, a failing ss, or a package query that fails
for another reason than a name not installed.
"""

from __future__ import annotations

import os
import re
from typing import Any

from ansible_collections.kubeforge.cluster.plugins.module_utils.errors import KubeforgeError
from ansible_collections.kubeforge.cluster.plugins.module_utils.host_read import checked, file_states, read_text

# tasks/swap.yml's replace pattern (Python, multiline): ^([^#\s]\S*\s+\S+\s+swap\s.*)$ . Per line here, with "swap" at
# the end of a line counted too (there \s matched the newline): every line the replace could change is counted.
FSTAB_SWAP = re.compile(r"^[^#\s]\S*\s+\S+\s+swap(\s|$)")


def fstab_swap_lines(text: str) -> int:
    """How many lines of an fstab the swap replace could comment out."""
    return sum(1 for line in text.splitlines() if FSTAB_SWAP.match(line))


def memory_mb(text: str, path: str) -> int:
    """MemTotal of a /proc/meminfo text in MiB."""
    memory_kib = [line.split()[1] for line in text.splitlines() if line.startswith("MemTotal:")]
    if not memory_kib:
        raise KubeforgeError(f"no MemTotal in {path}")
    return int(memory_kib[0]) // 1024


def listening_ports(text: str) -> list:
    """The ports of `ss -Hltn` (State Recv-Q Send-Q Local-Address:Port Peer-Address:Port), sorted, once each."""
    return sorted({int(line.split()[3].rsplit(":", 1)[1]) for line in text.splitlines()})


def host(module: Any, query: dict) -> dict:
    paths = query["paths"]
    try:
        uuid = read_text(paths["uuid"]).strip()
    except KubeforgeError:
        uuid = ""
    swaps = len(read_text(paths["swaps"]).splitlines()) - 1
    fstab = fstab_swap_lines(read_text(paths["fstab"])) if os.path.exists(paths["fstab"]) else None
    cpuinfo = read_text(paths["cpuinfo"]).splitlines()
    cpus = sum(1 for line in cpuinfo if line.split(":", 1)[0].strip() == "processor")
    memory = memory_mb(read_text(paths["meminfo"]), paths["meminfo"])
    result = {"uuid": uuid, "swaps": swaps, "fstab": fstab, "cpus": cpus, "memory_mb": memory}
    if query.get("ports"):
        result["ports"] = listening_ports(checked(module, ["ss", "-Hltn"]))
    return result


def packages(module: Any, query: dict) -> list:
    manager, names = query["packages"]["manager"], query["packages"]["names"]
    if not names:
        return []
    if manager == "dpkg":
        # dpkg-query exits 1 when a name is not installed or unknown (it then says so on stderr).
        argv = ["dpkg-query", "--show", "--showformat=${Package} ${db:Status-Status}\\n", *names]
        out = checked(module, argv, (0, 1))
        installed = {line.split()[0] for line in out.splitlines() if line.endswith(" installed")}
    else:
        # rpm -q exits with the number of names not installed ("package NAME is not installed" on stdout); a
        # capability such as a virtual name counts as missing here, and dnf decides.
        out = checked(module, ["rpm", "-q", "--queryformat", "%{NAME}\\n", *names], range(len(names) + 1))
        installed = set(out.splitlines())
    return [name for name in names if name not in installed]


def modules(module: Any, query: dict) -> list:
    try:
        builtin_text = read_text(f"/lib/modules/{os.uname().release}/modules.builtin")
    except KubeforgeError:
        builtin_text = ""
    builtin = {os.path.basename(line.strip()) for line in builtin_text.splitlines()}
    missing = []
    for name, evidence in query["modules"].items():
        present = os.path.exists(os.path.join(query["paths"]["modules"], name)) or name + ".ko" in builtin
        if not present and not (evidence and os.path.exists(evidence)):
            missing.append(name)
    return missing


def sysctls(module: Any, query: dict) -> dict:
    return {
        name: " ".join(read_text(path).split()) if os.path.exists(path) else None
        for name, path in query["sysctls"].items()
    }


def files(module: Any, query: dict) -> dict:
    return file_states(query["files"])


SECTIONS = {"host": host, "packages": packages, "modules": modules, "sysctls": sysctls, "files": files}


def read(module: Any, query: dict) -> dict:
    return {section: SECTIONS[section](module, query) for section in query["sections"]}
