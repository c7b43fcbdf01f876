"""The readers of kubeforge.cluster.host_read: what each parses (plugins/module_utils/read_*.py) and the dispatch."""

from __future__ import annotations

import io
import tarfile

import pytest
from ansible_collections.kubeforge.cluster.plugins.module_utils import (
    read_containerd,
    read_control_plane,
    read_host_prep,
    read_kube_packages_mirror,
)
from ansible_collections.kubeforge.cluster.plugins.module_utils.errors import KubeforgeError

SHA = "0123456789abcdef" * 4
TWO_GIB_KIB = 2 * 1024 * 1024


@pytest.mark.parametrize(
    ("line", "counted"),
    [
        ("UUID=1 none swap sw 0 0", 1),
        ("/swapfile\tnone\tswap\tdefaults\t0\t0", 1),
        ("/dev/sdb2 none swap", 1),  # swap at the end of the line
        ("# UUID=2 none swap sw 0 0", 0),
        ("  UUID=5 none swap sw 0 0", 0),  # the replace's pattern wants the device at the line's start
        ("UUID=4 /swap ext4 defaults 0 2", 0),
        ("/dev/sdc1 /mnt swapfs defaults 0 0", 0),
    ],
)
def test_fstab_swap_lines(line, counted):
    assert read_host_prep.fstab_swap_lines(line + "\n") == counted


def test_meminfo_and_ss():
    meminfo = f"MemFree: 10 kB\nMemTotal:  {TWO_GIB_KIB} kB\n"
    assert read_host_prep.memory_mb(meminfo, "/proc/meminfo") == TWO_GIB_KIB // 1024
    with pytest.raises(KubeforgeError, match="no MemTotal in /x/meminfo"):
        read_host_prep.memory_mb("MemFree: 10 kB\n", "/x/meminfo")
    ss = "LISTEN 0 4096 127.0.0.1:10250 0.0.0.0:*\nLISTEN 0 4096 [::]:22 [::]:*\nLISTEN 0 128 0.0.0.0:22 0.0.0.0:*\n"
    assert read_host_prep.listening_ports(ss) == [22, 10250]


def test_host_section_reads_swaps_cpus_and_memory(tmp_path, host_reader):
    files = {
        "swaps": "Filename Type Size Used Priority\n/swapfile file 1024 0 -2\n",
        "cpuinfo": "processor\t: 0\nmodel name\t: x\n\nprocessor\t: 1\n",
        "meminfo": "MemTotal: 4194304 kB\n",
        "fstab": "UUID=1 / ext4 defaults 0 1\n",
        "uuid": "ABCD\n",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    paths = {name: str(tmp_path / name) for name in files}
    host = host_reader("host_prep", {"sections": ["host"], "paths": paths})["host"]
    assert host == {"uuid": "ABCD", "swaps": 1, "fstab": 0, "cpus": 2, "memory_mb": 4096}
    (tmp_path / "uuid").unlink()
    (tmp_path / "fstab").unlink()
    host = host_reader("host_prep", {"sections": ["host"], "paths": paths})["host"]
    assert (host["uuid"], host["fstab"]) == ("", None)
    (tmp_path / "swaps").unlink()
    with pytest.raises(KubeforgeError, match=f"^host_read host_prep: cannot read {tmp_path}/swaps: No such file"):
        host_reader("host_prep", {"sections": ["host"], "paths": paths})


def test_rpm_answers_installed_missing_warnings_and_what_it_does_not_know():
    text = "containerd.io installed\nwarning: rpmdb: something\npackage runc is not installed\n"
    assert read_containerd.rpm_answers(text) == {"containerd.io": "installed", "runc": "not-installed"}
    with pytest.raises(ValueError, match="error: rpmdb open failed"):
        read_containerd.rpm_answers("error: rpmdb open failed\n")


def test_apt_candidate(tmp_path, host_reader, monkeypatch):
    apt = tmp_path / "apt-cache"
    apt.write_text(
        '#!/bin/sh\n[ "$2" = containerd ] || exit 0\n'
        "printf 'containerd:\\n  Installed: (none)\\n  Candidate: 1.6.20~ds1-1+b1\\n  Version table:\\n'\n"
    )
    apt.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    query = {"package_tool": "", "packages": [], "binaries": [], "unit": "x.service", "paths": []}
    state = host_reader("containerd", {**query, "candidate_of": "containerd"})
    assert state["candidate"] == "1.6.20~ds1-1+b1"
    assert state["apt_cache_age"] >= 0
    assert host_reader("containerd", {**query, "candidate_of": "other"})["candidate"] == ""
    assert host_reader("containerd", {**query, "candidate_of": ""})["apt_cache_age"] is None


def _mirror_answers(monkeypatch, text):
    """open_url answering every URL with ``text`` (the mirror reader's fetch, timeout as it passes it)."""

    def open_url(url, timeout):
        assert url.endswith(".sha256")
        assert timeout == read_kube_packages_mirror.FETCH_TIMEOUT
        return io.BytesIO(text.encode())

    monkeypatch.setattr(read_kube_packages_mirror, "open_url", open_url)


@pytest.mark.parametrize(
    ("text", "found"),
    [
        (f"{SHA.upper()}\n", SHA),  # one word: the checksum
        (f"{'f' * 64}  kubectl\n{SHA}  kubeadm\n", SHA),
        (f"{SHA} *kubeadm\n", SHA),
        (f"{SHA}  ./kubeadm\n", SHA),
    ],
)
def test_published_checksum_forms(text, found, monkeypatch):
    _mirror_answers(monkeypatch, text)
    assert read_kube_packages_mirror.published("http://mirror/v1/kubeadm") == (found, None)


@pytest.mark.parametrize("text", [f"{SHA}  kubectl\n", ""])
def test_a_checksum_file_without_the_name_is_an_error_naming_the_url(text, monkeypatch):
    _mirror_answers(monkeypatch, text)
    url = "http://mirror/v1/kubeadm"
    assert read_kube_packages_mirror.published(url) == (None, f"{url}.sha256: no checksum for kubeadm")


def test_an_unreachable_mirror_is_reported_naming_the_url():
    url = "http://127.0.0.1:9/v1/kubeadm"
    checksum, error = read_kube_packages_mirror.published(url)
    assert checksum is None
    assert error.startswith(f"{url}.sha256: ")


def test_crictl_member_digest(tmp_path):
    tarball = tmp_path / "crictl.tar.gz"
    with tarfile.open(tarball, "w:gz") as archive:
        info = tarfile.TarInfo("./crictl")
        info.size = 5
        archive.addfile(info, io.BytesIO(b"bytes"))
    assert read_kube_packages_mirror.member_digest(str(tarball), "crictl") is not None
    assert read_kube_packages_mirror.member_digest(str(tarball), "other") is None
    assert read_kube_packages_mirror.member_digest(str(tmp_path / "absent.tar.gz"), "crictl") is None


def test_mirror_path_state(tmp_path):
    binary = tmp_path / "kubeadm"
    binary.write_bytes(b"")
    binary.chmod(0o755)
    state = read_kube_packages_mirror.state(str(binary))
    assert (state["type"], state["mode"], state["sha256"]) == (
        "file",
        "0755",
        read_kube_packages_mirror.digest(io.BytesIO()),
    )
    assert read_kube_packages_mirror.state(str(tmp_path))["type"] == "directory"
    assert read_kube_packages_mirror.state(str(tmp_path / "absent")) is None


def test_an_unknown_admin_user_fails_naming_the_variable():
    with pytest.raises(KubeforgeError, match="control_plane_admin_user no-such-user-kubeforge: no such user"):
        read_control_plane.admin_entry("no-such-user-kubeforge")


def test_the_module_changes_nothing_in_check_mode_and_names_a_missing_query_key(host_reader):
    assert host_reader(
        "cni_plugins",
        {"bin_dir": "/nonexistent", "package": {"manager": None, "name": ""}, "package_dir": None},
        check=True,
    ) == {"bin_dir": None, "package": None, "packaged": [], "present": {}}
    with pytest.raises(KubeforgeError, match="host_read cni_plugins: the query has no 'bin_dir'"):
        host_reader("cni_plugins", {})
