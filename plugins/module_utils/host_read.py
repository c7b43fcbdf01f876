# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every reader of kubeforge.cluster.host_read shares: file states, owner names, commands and text files.

A reader never reports a state it did not read: what it cannot read raises KubeforgeError naming the path or the
command, and the module fails with it.
"""

from __future__ import annotations

import grp
import hashlib
import os
import pwd
import stat
from typing import Any

from ansible_collections.kubeforge.cluster.plugins.module_utils.errors import KubeforgeError

# Package managers, apt and ss translate their messages: every command runs in the C locale.
C_LOCALE = {"LC_ALL": "C"}
NOT_FOUND = 127  # the shell's exit status for a command it cannot run, used here for the same


def name_of(lookup: Any, number: int) -> str:
    """The name ``lookup`` (pwd.getpwuid or grp.getgrgid) gives ``number``; the number itself when it has none."""
    try:
        return lookup(number)[0]
    except KeyError:
        return str(number)


def owner_group(info: os.stat_result) -> tuple[str, str]:
    """Owner and group names of a stat result (numbers where the databases have no name)."""
    return name_of(pwd.getpwuid, info.st_uid), name_of(grp.getgrgid, info.st_gid)


def digest(stream: Any) -> str:
    """SHA-256 (hex) of a binary stream, read in 1 MiB blocks."""
    sha = hashlib.sha256()
    for block in iter(lambda: stream.read(1 << 20), b""):
        sha.update(block)
    return sha.hexdigest()


def file_digest(path: str) -> str:
    """SHA-256 of a file's content."""
    try:
        with open(path, "rb") as stream:
            return digest(stream)
    except OSError as exc:
        raise KubeforgeError(f"cannot read {path}: {exc.strerror}") from exc


def path_info(path: str, follow: bool = False) -> os.stat_result | None:
    """stat (``follow``) or lstat of a path; None when it does not exist (a path below a file cannot be read)."""
    try:
        return os.stat(path) if follow else os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise KubeforgeError(f"cannot read {path}: {exc.strerror}") from exc


def file_state(path: str, follow: bool = False, checksum: bool = True) -> str | None:
    """``"<mode> <owner> <group> <sha256 | dir | other>"`` of a path, the format of the kubeforge.cluster.file_states
    filter; None when it does not exist. Links are not followed unless ``follow`` (a link is ``other``);
    ``checksum=False`` words a regular file ``other`` too (a read that only asks for a directory)."""
    info = path_info(path, follow)
    if info is None:
        return None
    if checksum and stat.S_ISREG(info.st_mode):
        kind = file_digest(path)
    else:
        kind = "dir" if stat.S_ISDIR(info.st_mode) else "other"
    return " ".join((f"{stat.S_IMODE(info.st_mode):04o}", *owner_group(info), kind))


def file_states(paths: list) -> dict:
    """``{path: file_state(path)}`` for each of ``paths`` that exists."""
    found = {}
    for path in paths:
        state = file_state(path)
        if state is not None:
            found[path] = state
    return found


def read_text(path: str) -> str:
    """A text file's content."""
    try:
        with open(path) as handle:
            return handle.read()
    except OSError as exc:
        raise KubeforgeError(f"cannot read {path}: {exc.strerror}") from exc


def entries(path: str) -> list:
    """The names in a directory, sorted; [] when it does not exist."""
    try:
        return sorted(os.listdir(path))
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise KubeforgeError(f"cannot list {path}: {exc.strerror}") from exc


def command(module: Any, argv: list) -> tuple[int, str, str]:
    """``(rc, stdout, stderr)`` of a command in the C locale; rc 127 with the reason as stderr when it cannot run."""
    try:
        return _spawn(module, argv)
    except OSError as exc:
        return NOT_FOUND, "", str(exc)


def checked(module: Any, argv: list, ok_codes: Any = (0,)) -> str:
    """The stdout of a command whose exit status is one of ``ok_codes`` (see answered)."""
    return answered(module, argv, ok_codes)[1]


def answered(module: Any, argv: list, ok_codes: Any = (0,)) -> tuple[int, str]:
    """``(rc, stdout)`` of a command whose exit status is one of ``ok_codes``; otherwise (or when it cannot run)
    KubeforgeError naming the command and its stderr."""
    try:
        rc, out, err = _spawn(module, argv)
    except OSError as exc:
        raise KubeforgeError(f"{argv[0]}: {exc.strerror}") from exc
    if rc not in ok_codes:
        raise KubeforgeError(f"{argv[0]} exited {rc}: {err.strip()}")
    return rc, out


def _spawn(module: Any, argv: list) -> tuple[int, str, str]:
    return module.run_command(
        argv, environ_update=C_LOCALE, expand_user_and_vars=False, handle_exceptions=False, check_rc=False
    )
