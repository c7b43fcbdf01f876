# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""file_states: what an ``ansible.builtin.find`` read of a role's files says about each path the role writes.

The roles read the files they manage in one ``find`` (``get_checksum: true``, ``checksum_algorithm: sha256``) and
run a writing task only when the read differs from what the task would write. This turns find's ``files`` list into
``{path: "<mode> <owner> <group> <sha256>"}`` (``dir`` in place of the checksum for a directory, ``other`` for any
other type without one), keeping only the paths asked for, so a task compares one string with the one it wants.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ansible.errors import AnsibleFilterError


def _state(entry: Mapping) -> str:
    kind = entry.get("checksum") or ("dir" if entry.get("isdir") else "other")
    return f"{entry['mode']} {entry['pw_name']} {entry['gr_name']} {kind}"


def file_states(files: Iterable[Mapping], paths: Iterable[str]) -> dict:
    """``{path: "<mode> <owner> <group> <sha256 | dir | other>"}`` for each of ``paths`` that ``files`` lists."""
    wanted = set(paths)
    try:
        return {entry["path"]: _state(entry) for entry in files if entry["path"] in wanted}
    except (KeyError, TypeError) as exc:
        raise AnsibleFilterError(f"file_states: expects the files list of ansible.builtin.find, got {exc!r}") from exc


class FilterModule:
    """kubeforge.cluster filters."""

    def filters(self):
        return {"file_states": file_states}
