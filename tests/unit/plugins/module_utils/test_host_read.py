"""The helpers every reader of kubeforge.cluster.host_read shares (plugins/module_utils/host_read.py)."""

from __future__ import annotations

import getpass
import grp
import hashlib
import os
import pwd

import pytest
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.testing import patch_module_args
from ansible_collections.kubeforge.cluster.plugins.module_utils import host_read
from ansible_collections.kubeforge.cluster.plugins.module_utils.errors import KubeforgeError
from ansible_collections.kubeforge.cluster.plugins.module_utils.host_readers import HOST_READ_ARG_SPEC

ME = getpass.getuser()
MY_GROUP = grp.getgrgid(os.getgid()).gr_name


@pytest.fixture
def module():
    with patch_module_args({"reader": "host_prep", "query": {}}):
        return AnsibleModule(argument_spec=HOST_READ_ARG_SPEC, supports_check_mode=True)


def test_file_state_words_a_file_a_directory_and_a_link_as_file_states_does(tmp_path):
    data = tmp_path / "config.toml"
    data.write_bytes(b"version = 3\n")
    data.chmod(0o640)
    (tmp_path / "link").symlink_to(data)
    sha = hashlib.sha256(b"version = 3\n").hexdigest()
    assert host_read.file_state(str(data)) == f"0640 {ME} {MY_GROUP} {sha}"
    assert host_read.file_state(str(tmp_path)) == f"{oct(tmp_path.stat().st_mode & 0o7777)[2:]:0>4} {ME} {MY_GROUP} dir"
    assert host_read.file_state(str(tmp_path / "link")).endswith(" other")  # links not followed
    assert host_read.file_state(str(tmp_path / "link"), follow=True) == f"0640 {ME} {MY_GROUP} {sha}"
    assert host_read.file_state(str(data), checksum=False) == f"0640 {ME} {MY_GROUP} other"


def test_a_missing_path_has_no_state_and_file_states_leaves_it_out(tmp_path):
    data = tmp_path / "present"
    data.write_text("x")
    assert host_read.file_state(str(tmp_path / "absent")) is None
    with pytest.raises(KubeforgeError, match=f"cannot read {data}/under-a-file: Not a directory"):
        host_read.file_state(str(data / "under-a-file"))
    assert list(host_read.file_states([str(data), str(tmp_path / "absent")])) == [str(data)]


def test_owner_and_group_without_a_name_are_their_numbers(tmp_path, monkeypatch):
    def unknown(number):
        raise KeyError(number)

    monkeypatch.setattr(pwd, "getpwuid", unknown)
    monkeypatch.setattr(grp, "getgrgid", unknown)
    info = tmp_path.stat()
    assert host_read.owner_group(info) == (str(info.st_uid), str(info.st_gid))
    assert host_read.file_state(str(tmp_path)).split()[1:3] == [str(info.st_uid), str(info.st_gid)]


def test_a_path_that_cannot_be_read_fails_naming_it(tmp_path, monkeypatch):
    def denied(path, *args, **kwargs):
        raise PermissionError(13, "Permission denied", path)

    data = tmp_path / "secret"
    data.write_text("x")
    monkeypatch.setattr(host_read, "open", denied, raising=False)
    with pytest.raises(KubeforgeError, match=f"cannot read {data}: Permission denied"):
        host_read.file_state(str(data))
    with pytest.raises(KubeforgeError, match=f"cannot read {data}: Permission denied"):
        host_read.read_text(str(data))
    monkeypatch.setattr(os, "lstat", denied)
    with pytest.raises(KubeforgeError, match=f"cannot read {data}: Permission denied"):
        host_read.file_state(str(data))
    monkeypatch.setattr(os, "listdir", denied)
    with pytest.raises(KubeforgeError, match=f"cannot list {tmp_path}: Permission denied"):
        host_read.entries(str(tmp_path))


def test_read_text_and_entries(tmp_path):
    (tmp_path / "b").write_text("two\n")
    (tmp_path / "a").write_text("one\n")
    assert host_read.read_text(str(tmp_path / "a")) == "one\n"
    assert host_read.entries(str(tmp_path)) == ["a", "b"]
    assert host_read.entries(str(tmp_path / "absent")) == []


def test_digest_reads_in_blocks():
    class Stream:
        def __init__(self, blocks):
            self.blocks = list(blocks)

        def read(self, size):
            assert size == 1 << 20
            return self.blocks.pop(0) if self.blocks else b""

    assert host_read.digest(Stream([b"ab", b"c"])) == hashlib.sha256(b"abc").hexdigest()


def test_commands_run_in_the_c_locale_with_their_words_untouched(module, monkeypatch):
    monkeypatch.setenv("LC_ALL", "de_DE.UTF-8")
    rc, out, err = host_read.command(module, ["sh", "-c", 'echo "$LC_ALL" "$1"', "sh", "${Package} ~"])
    assert (rc, out, err) == (0, "C ${Package} ~\n", "")


def test_a_command_that_cannot_run(module):
    rc, out, err = host_read.command(module, ["/nonexistent/kubeforge-tool", "--version"])
    assert (rc, out) == (host_read.NOT_FOUND, "")
    assert "No such file or directory" in err
    with pytest.raises(KubeforgeError, match=r"^/nonexistent/kubeforge-tool: No such file or directory$"):
        host_read.checked(module, ["/nonexistent/kubeforge-tool"])


def test_checked_fails_with_the_command_and_its_stderr_unless_the_status_is_allowed(module):
    failing = ["sh", "-c", "echo out; echo broken >&2; exit 2"]
    with pytest.raises(KubeforgeError, match=r"^sh exited 2: broken$"):
        host_read.checked(module, failing)
    assert host_read.checked(module, failing, (0, 2)) == "out\n"
    assert host_read.answered(module, failing, range(3)) == (2, "out\n")
