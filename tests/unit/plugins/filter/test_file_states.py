"""Unit tests of the file_states filter (the roles' one-find reads of the files they write)."""

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.kubeforge.cluster.plugins.filter.file_states import FilterModule, file_states


def _entry(path, mode="0644", checksum=None, **stat):
    entry = {"path": path, "mode": mode, "pw_name": "root", "gr_name": "root", "isdir": False, **stat}
    if checksum:
        entry["checksum"] = checksum
    return entry


def test_registered_under_its_name():
    assert FilterModule().filters()["file_states"] is file_states


def test_files_dirs_and_only_the_paths_asked_for():
    files = [
        _entry("/etc/containerd", "0755", isdir=True),
        _entry("/etc/containerd/config.toml", checksum="ab" * 32),
        _entry("/etc/crictl.yaml", "0600", checksum="cd" * 32, gr_name="adm"),
        _entry("/etc/other/config.toml", checksum="ef" * 32),
    ]
    assert file_states(files, ["/etc/containerd", "/etc/containerd/config.toml", "/etc/crictl.yaml", "/etc/x"]) == {
        "/etc/containerd": "0755 root root dir",
        "/etc/containerd/config.toml": "0644 root root " + "ab" * 32,
        "/etc/crictl.yaml": "0600 root adm " + "cd" * 32,
    }


def test_a_path_that_is_neither_file_nor_directory_never_matches_a_wanted_state():
    assert file_states([_entry("/etc/crictl.yaml", isdir=False)], ["/etc/crictl.yaml"]) == {
        "/etc/crictl.yaml": "0644 root root other"
    }


def test_not_a_find_result():
    with pytest.raises(AnsibleFilterError, match=r"files list of ansible\.builtin\.find"):
        file_states([{"name": "x"}], ["/x"])
