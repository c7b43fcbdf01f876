# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""containerd_supported: is a containerd version in one of the supported release lines, at or above its minimum?"""

from __future__ import annotations

import re

from ansible.errors import AnsibleFilterError

_VERSION = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)")


def _parse(version, what):
    match = _VERSION.match(str(version).strip())
    if not match:
        raise AnsibleFilterError(f"containerd_supported: {what} {version!r} is not a MAJOR.MINOR.PATCH version")
    return tuple(int(part) for part in match.groups())


def containerd_supported(version, lines):
    """True when ``version``'s MAJOR.MINOR line is a key of ``lines`` and ``version`` >= that line's minimum.

    ``lines`` maps a release line to its lowest supported patch, e.g. ``{"1.7": "1.7.24", "2.1": "2.1.0"}`` (one row
    of the containerd role's containerd_kubernetes_support table). Suffixes such as ``~ds1`` are ignored.
    """
    if not isinstance(lines, dict):
        raise AnsibleFilterError(
            f"containerd_supported: expects a mapping of release lines, got {type(lines).__name__}"
        )
    parsed = _parse(version, "version")
    minimum = lines.get(f"{parsed[0]}.{parsed[1]}")
    return minimum is not None and parsed >= _parse(minimum, "minimum")


class TestModule:
    """kubeforge.cluster tests."""

    def tests(self):
        return {"containerd_supported": containerd_supported}
