"""host_prep and cni_plugins read each host once (issue 18): every check that moved into the read still catches what it
caught, and the writing tasks run only for what the read found different.

The whole roles run on localhost against a fake host in tmp_path: /proc and /sys files, the files the roles write and
the plugin directories (the roles' vars/main.yml names each path the read takes, so a test points them elsewhere).
Runs that are not in check mode only write into tmp_path: the fake host needs nothing that would touch this machine
(packages installed, no swap, modules and parameters as wanted), except where a test says so.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

HP = "kubeforge.cluster.host_prep : "
CNI = "kubeforge.cluster.cni_plugins : "
HOST_READ = HP + (
    "Read the host (product UUID, swap, CPUs, memory, ports, packages, kernel modules and parameters, files)"
)
CNI_READ = CNI + "Read the CNI plugin directory and the distribution's plugins"
PREFLIGHT = HP + "Check the preflight results (fail or warn per host_prep_preflight)"
APPLY = HP + "Change what the read found different"
REPORT = HP + "Report the kernel parameters check mode would set"
LINK = CNI + "Link each plugin that no other package installed there"
MKDIR = CNI + "Create the CNI plugin directory"
CNI_APPLY = CNI + "Change what the read found different"
# Tasks that run on the controller only; every other task that is not skipped is a module run on the host.
CONTROLLER = {"assert", "debug", "fail", "set_fact", "include_tasks", "include_role", "include_vars", "meta"}
CONTROLLER |= {f"ansible.builtin.{name}" for name in CONTROLLER} | {"ansible.builtin.validate_argument_spec"}
HARDWARE_FACTS = "{{ [ansible_facts.processor_vcpus, ansible_facts.memtotal_mb] }}"
FACTS = {"name": "facts", "ansible.builtin.setup": {"gather_subset": ["!all", "min", "network"]}}
ABSENT_PACKAGE = "kubeforge-test-no-such-package"
ROLE = Path(__file__).resolve().parents[2] / "roles"


def _stand_in(tmp_path, name, script):
    """An executable NAME on a PATH ahead of the system's (environment for the fixture and for subprocess)."""
    bin_dir = tmp_path / "stand-ins"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / name).write_text("#!/bin/sh\n" + script)
    (bin_dir / name).chmod(0o755)
    return {"PATH": f"{bin_dir}:{os.environ['PATH']}"}


BROKEN = "echo broken >&2\nexit 2\n"


def _module_runs(run):
    return [
        t.name for t in run.tasks if t.action not in CONTROLLER and not t.result.get("skipped") and t.name != "facts"
    ]


def _text(run):
    return " ".join(run.stdout.split())


def _fake_host(tmp_path, cpus=2, memory_mb=2048, ip_forward="1"):
    """A healthy fake host: its read paths and the role variables that point host_prep at them."""
    root = tmp_path / "host"
    (root / "sys" / "module" / "overlay").mkdir(parents=True)
    (root / "bridge").mkdir()
    (root / "etc").mkdir()
    (root / "swaps").write_text("Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n")
    (root / "fstab").write_text("UUID=1 / ext4 errors=remount-ro 0 1\n")
    (root / "cpuinfo").write_text("".join(f"processor\t: {n}\nmodel name\t: test\n\n" for n in range(cpus)))
    (root / "meminfo").write_text(f"MemTotal:       {memory_mb * 1024} kB\nMemFree:         1024 kB\n")
    (root / "product_uuid").write_text("6b1c4a2e-0000-4000-8000-000000000001\n")
    (root / "ip_forward").write_text(ip_forward + "\n")
    return root, {
        "host_prep_state_paths": {
            "uuid": str(root / "product_uuid"),
            "swaps": str(root / "swaps"),
            "fstab": str(root / "fstab"),
            "cpuinfo": str(root / "cpuinfo"),
            "meminfo": str(root / "meminfo"),
            "modules": str(root / "sys" / "module"),
        },
        "host_prep_sysctls": {"net.ipv4.ip_forward": 1},
        "host_prep_sysctl_files": {"net.ipv4.ip_forward": str(root / "ip_forward")},
        "host_prep_kernel_modules": ["overlay", "br_netfilter"],
        "host_prep_kernel_module_evidence": {"br_netfilter": str(root / "bridge")},
        "host_prep_os_packages": ["coreutils"],
        "host_prep_extra_packages": [],
        "host_prep_modules_conf_path": str(root / "etc" / "kubeforge-modules.conf"),
        "host_prep_sysctl_conf_path": str(root / "etc" / "99-kubeforge.conf"),
        "host_prep_read_paths": [str(root / "etc" / "kubeforge-modules.conf"), str(root / "etc" / "99-kubeforge.conf")],
        "host_prep_preflight_ports": [],
    }


def _host_prep(ansible_playbook, extra, **options):
    tasks = [FACTS, {"ansible.builtin.include_role": {"name": "kubeforge.cluster.host_prep"}}]
    return ansible_playbook(tasks, extra_vars=extra, **options)


def test_host_prep_runs_one_module_on_a_host_where_nothing_differs(tmp_path, ansible_playbook):
    """The first run writes the two files (into the fake host); the second runs the read and nothing else on the host,
    and skips the writing tasks as one."""
    root, extra = _fake_host(tmp_path)
    first = _host_prep(ansible_playbook, extra)
    assert first.rc == 0, first.stdout
    assert (root / "etc" / "99-kubeforge.conf").read_text().endswith("net.ipv4.ip_forward=1\n")
    assert (root / "etc" / "kubeforge-modules.conf").read_text().endswith("overlay\nbr_netfilter\n")
    second = _host_prep(ansible_playbook, extra)
    assert second.rc == 0, second.stdout
    assert not any(t.changed for t in second.tasks)
    assert _module_runs(second) == [HOST_READ]
    assert second.task(APPLY).result.get("skipped") is True
    host = second.task(HOST_READ).result["state"]["host"]
    assert host.pop("ports") is not None  # read (the preflight's port check is on)
    uuid = "6b1c4a2e-0000-4000-8000-000000000001"
    assert host == {"uuid": uuid, "swaps": 0, "fstab": 0, "cpus": 2, "memory_mb": 2048}
    # A file changed behind the role's back: the read sees it, the template task runs for it alone.
    (root / "etc" / "99-kubeforge.conf").write_text("net.ipv4.ip_forward=0\n")
    third = _host_prep(ansible_playbook, extra, check=True)
    assert third.rc == 0, third.stdout
    assert [t.name for t in third.tasks if t.changed] == [HP + "Write the kernel parameters file"]


def test_the_read_counts_cpus_and_memory_as_the_setup_module_did(ansible_playbook):
    """The preflight's CPUs and memory came from the hardware facts (processor_vcpus, memtotal_mb); the read takes them
    from /proc itself and must give the same numbers on this machine."""
    tasks = [
        {"ansible.builtin.setup": {"gather_subset": ["!all", "min", "hardware"]}},
        {"ansible.builtin.include_role": {"name": "kubeforge.cluster.host_prep", "tasks_from": "read"}},
        {"name": "facts", "ansible.builtin.debug": {"msg": HARDWARE_FACTS}},
    ]
    run = ansible_playbook(tasks, check=True, extra_vars={"host_prep_preflight_ports": []})
    assert run.rc == 0, run.stdout
    host = run.task(HOST_READ).result["state"]["host"]
    assert [host["cpus"], host["memory_mb"]] == run.task("facts").msg


@pytest.mark.parametrize(
    "case",
    [
        (1, 2048, "1 CPUs, at least 2 required", "cpus"),
        (2, 1000, "1000 MiB of memory, at least 1700 MiB required", "memory"),
        (1, 1000, "1 CPUs, at least 2 required; 1000 MiB of memory, at least 1700 MiB required", "cpus/memory"),
    ],
)
def test_too_few_cpus_or_too_little_memory_is_refused_with_the_same_message(tmp_path, ansible_playbook, case):
    """The message the hardware facts gave (tasks/preflight.yml), now from the read's /proc counts."""
    cpus, memory_mb, problems, checks = case
    root, extra = _fake_host(tmp_path, cpus=cpus, memory_mb=memory_mb)
    refused = _host_prep(ansible_playbook, extra)
    assert refused.rc != 0
    assert refused.task(PREFLIGHT).failed
    assert (
        f"host_prep preflight on localhost failed: {problems} (set host_prep_preflight.{checks} to warn or ignore "
        "to go on)" in _text(refused)
    )
    assert not list((root / "etc").iterdir())  # nothing written
    warned = _host_prep(ansible_playbook, {**extra, "host_prep_preflight": dict.fromkeys(["cpus", "memory"], "warn")})
    assert warned.rc == 0, warned.stdout
    assert warned.task(PREFLIGHT).msg == f"WARNING host_prep preflight on localhost: {problems}"


def test_a_peer_with_the_same_mac_or_product_uuid_is_named_and_an_ignored_check_is_not_reported(
    tmp_path, ansible_playbook
):
    """Two play hosts on one machine (localhost and "twin", reading the same fake product_uuid): each check names the
    peer it shares the value with, failing or warning as host_prep_preflight says; ignored, the task is skipped."""
    _root, extra = _fake_host(tmp_path)
    twin = [f"twin ansible_connection=local ansible_python_interpreter={sys.executable}"]
    options = {"play_hosts": "localhost:twin", "inventory_lines": twin, "check": True}
    checks = dict.fromkeys(["cpus", "memory", "ports"], "fail")
    shared = {"unique_mac": "fail", "unique_product_uuid": "warn"}
    refused = _host_prep(ansible_playbook, {**extra, "host_prep_preflight": {**checks, **shared}}, **options)
    assert refused.rc != 0
    assert refused.task(PREFLIGHT).failed
    assert re.search(
        r"host_prep preflight on localhost failed: MAC address \S+ is shared with twin "
        r"\(set host_prep_preflight.unique_mac to warn or ignore to go on\); "
        r"warnings: product_uuid 6b1c4a2e-0000-4000-8000-000000000001 is shared with twin$",
        " ".join(refused.task(PREFLIGHT).msg.split()),
    ), refused.task(PREFLIGHT).msg
    ignored = dict.fromkeys(shared, "ignore")
    quiet = _host_prep(ansible_playbook, {**extra, "host_prep_preflight": {**checks, **ignored}}, **options)
    assert quiet.rc == 0, quiet.stdout
    assert quiet.task(PREFLIGHT).result.get("skipped") is True


def test_an_unsupported_platform_is_refused_before_the_read_and_a_supported_one_skips_the_check(ansible_playbook):
    task = {"ansible.builtin.include_role": {"name": "kubeforge.cluster.host_prep", "tasks_from": "validate"}}
    check = HP + "Check that the platform is supported"
    supported = ansible_playbook([FACTS, task], check=True)
    assert supported.rc == 0, supported.stdout
    assert supported.task(check).result.get("skipped") is True
    only_gentoo = {"host_prep_supported_platforms": {"Gentoo": ["1"]}}
    refused = ansible_playbook([FACTS, task], check=True, extra_vars=only_gentoo)
    assert refused.rc != 0
    assert re.fullmatch(
        r"host_prep: unsupported platform \S+ \S+ on localhost; "
        r'supported: \{"Gentoo": \["1"\]\}\. Nothing was changed\.',
        refused.task(check).msg,
    ), refused.task(check).msg


def test_a_missing_base_package_sends_the_packages_to_apt(tmp_path, ansible_playbook):
    """dpkg-query in the read finds the package not installed, so apt runs (in check mode apt then says it has no such
    package: it was asked); with every package installed apt is not run (test_noop_paths.py)."""
    _root, extra = _fake_host(tmp_path)
    run = _host_prep(ansible_playbook, {**extra, "host_prep_extra_packages": [ABSENT_PACKAGE]}, check=True)
    assert run.task(HOST_READ).result["state"]["packages"] == [ABSENT_PACKAGE]
    apt = run.task(HP + "Install the base packages (apt)")
    assert apt.action == "ansible.builtin.apt"
    assert not apt.result.get("skipped")
    assert ABSENT_PACKAGE in apt.msg


def test_the_rpm_query_counts_what_rpm_does_not_report_installed(tmp_path, host_reader, monkeypatch):
    """On the RedHat family the read asks rpm -q, which prints each installed name in the query format and "package
    NAME is not installed" (on stdout) for each other name, and exits with the number of names not found (rpm's query
    mode counts the failed arguments). The read relies on the names printed and accepts any status up to that
    number; dnf then runs for a missing name. rpm here is a stand-in on PATH answering so for one of two names."""
    env = _stand_in(
        tmp_path,
        "rpm",
        'shift 3\nmissing=0\nfor n in "$@"; do\n  if [ "$n" = socat ]; then echo socat\n'
        '  else echo "package $n is not installed"; missing=$((missing + 1)); fi\ndone\nexit $missing\n',
    )
    monkeypatch.setenv("PATH", env["PATH"])
    query = {"sections": ["packages"], "packages": {"manager": "rpm", "names": ["socat", "ipset"]}}
    assert host_reader("host_prep", query) == {"packages": ["ipset"]}


def test_a_kernel_module_not_loaded_is_loaded(tmp_path, ansible_playbook):
    """A module with no /sys/module entry, no modules.builtin line and no evidence path is sent to modprobe (and
    only that one); modprobe failing for it stops the role naming it."""
    _root, extra = _fake_host(tmp_path)
    absent = "kubeforge_test_absent"
    run = _host_prep(ansible_playbook, {**extra, "host_prep_kernel_modules": ["overlay", "br_netfilter", absent]})
    assert run.rc != 0
    assert run.task(HOST_READ).result["state"]["modules"] == [absent]
    modprobe = run.task(HP + "Load the missing kernel modules").result["results"]
    assert [item["item"] for item in modprobe] == [absent]
    assert f"kernel module(s) {absent} on localhost are neither loaded nor built in, and modprobe failed" in _text(run)


def test_a_drifted_kernel_parameter_is_reported_in_check_mode_and_not_set(tmp_path, ansible_playbook):
    """The read's live value differs from the wanted one: check mode reports it (the report health.yml turns into a
    finding) and sets nothing; the sysctl -w task runs only outside check mode (Molecule host_prep side_effect)."""
    root, extra = _fake_host(tmp_path, ip_forward="0")
    run = _host_prep(ansible_playbook, extra, check=True)
    assert run.rc == 0, run.stdout
    assert run.task(HOST_READ).result["state"]["sysctls"] == {"net.ipv4.ip_forward": "0"}
    assert run.task(REPORT).changed
    assert run.task(REPORT).msg == [{"setting": "net.ipv4.ip_forward=1", "live": "0"}]
    assert run.task(HP + "Set the kernel parameters whose live value differs").result.get("skipped") is True
    assert (root / "ip_forward").read_text() == "0\n"
    assert not list((root / "etc").iterdir())


def test_check_mode_reports_the_swap_and_the_kernel_modules_it_would_change(tmp_path, ansible_playbook):
    """swapoff and modprobe are commands, skipped in check mode: --check reports each as a change (as it reports a
    kernel parameter) and runs neither; the fstab line it would comment out is reported and left as it is."""
    root, extra = _fake_host(tmp_path)
    (root / "swaps").write_text(
        "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n/swapfile file\t\t1048572\t\t0\t\t-2\n"
    )
    fstab = "UUID=1 / ext4 errors=remount-ro 0 1\n/swapfile none swap sw 0 0\n"
    (root / "fstab").write_text(fstab)
    absent = "kubeforge_test_absent"
    extra = {**extra, "host_prep_kernel_modules": ["overlay", "br_netfilter", absent]}
    run = _host_prep(ansible_playbook, extra, check=True)
    assert run.rc == 0, run.stdout
    assert run.task(HP + "Turn swap off now").result.get("skipped") is True
    assert run.task(HP + "Report the swap check mode would turn off").changed
    assert run.task(HP + "Comment out swap entries in /etc/fstab").changed
    assert (root / "fstab").read_text() == fstab
    assert run.task(HP + "Report the kernel modules check mode would load").changed
    assert run.task(HP + "Report the kernel modules check mode would load").msg == [absent]
    # Where nothing differs neither report runs.
    (root / "swaps").write_text("Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n")
    (root / "fstab").write_text("UUID=1 / ext4 errors=remount-ro 0 1\n")
    quiet = _host_prep(ansible_playbook, {**extra, "host_prep_kernel_modules": ["overlay", "br_netfilter"]}, check=True)
    assert quiet.rc == 0, quiet.stdout
    assert [t.name for t in quiet.tasks if t.changed] == [
        HP + "Persist the kernel modules in /etc/modules-load.d",
        HP + "Write the kernel parameters file",
    ]


@pytest.mark.parametrize("broken", ["swaps", "meminfo", "ss", "dpkg-query"])
def test_a_failing_read_fails_before_anything_changes(tmp_path, ansible_playbook, broken):
    root, extra = _fake_host(tmp_path)
    env = None
    if broken in ("swaps", "meminfo"):
        (root / broken).unlink()
    else:
        env = _stand_in(tmp_path, broken, BROKEN)
    run = _host_prep(ansible_playbook, extra, env=env)
    assert run.rc != 0
    read = run.task(HOST_READ)
    assert read.failed
    assert broken in read.result["msg"]
    assert [t.name for t in run.tasks][-1] == HOST_READ
    assert not list((root / "etc").iterdir())


def _cni_host(tmp_path, package="coreutils"):
    packaged, bin_dir = tmp_path / "packaged", tmp_path / "bin"
    packaged.mkdir()
    bin_dir.mkdir()
    bin_dir.chmod(0o755)
    for name in ("bridge", "host-local", "loopback", "portmap"):
        (packaged / name).write_text(name)
    (bin_dir / "bridge").write_text("another package's plugin")  # a regular file: kept
    (bin_dir / "host-local").symlink_to(packaged / "host-local")  # already linked
    (bin_dir / "loopback").symlink_to(tmp_path / "elsewhere")  # a link pointing elsewhere: relinked
    extra = {
        "cni_plugins_os_package": package,
        "cni_plugins_os_package_dir": str(packaged),
        "cni_plugins_bin_dir": str(bin_dir),
    }
    return packaged, bin_dir, extra


def _cni(ansible_playbook, extra, **options):
    tasks = [FACTS, {"ansible.builtin.include_role": {"name": "kubeforge.cluster.cni_plugins"}}]
    return ansible_playbook(tasks, extra_vars=extra, **options)


def _linked(run):
    return sorted(Path(item["item"]).name for item in run.task(LINK).result.get("results", []) if item.get("changed"))


def test_cni_plugins_one_read_fixes_a_missing_or_wrong_link_and_check_reports_it(tmp_path, ansible_playbook):
    packaged, bin_dir, extra = _cni_host(tmp_path)
    check = _cni(ansible_playbook, extra, check=True)
    assert check.rc == 0, check.stdout
    assert _linked(check) == ["loopback", "portmap"]
    assert not (bin_dir / "portmap").exists()
    assert check.task(MKDIR).result.get("skipped") is True
    first = _cni(ansible_playbook, extra)
    assert first.rc == 0, first.stdout
    assert _linked(first) == ["loopback", "portmap"]
    assert (bin_dir / "bridge").read_text() == "another package's plugin"
    for name in ("host-local", "loopback", "portmap"):
        assert os.readlink(bin_dir / name) == str(packaged / name)
    second = _cni(ansible_playbook, extra)
    assert second.rc == 0, second.stdout
    assert not any(t.changed for t in second.tasks)
    assert _module_runs(second) == [CNI_READ]
    # Nothing differs: the writing tasks are skipped as one include (cni_plugins_differs), not one by one (the other
    # skips: validate.yml's fact gathering, the facts being there, and its input check, a fail task with no problem).
    role_tasks = [t for t in second.tasks if t.name.startswith(CNI)]
    assert [t.name for t in role_tasks if t.result.get("skipped")] == [
        CNI + "Gather the facts this role needs",
        CNI + "Check the platform, and the release version and architecture",
        CNI_APPLY,
    ]
    # The directory with another mode: the file task runs for it (check mode reports it), and only then.
    bin_dir.chmod(0o775)
    drift = _cni(ansible_playbook, extra, check=True)
    assert [t.name for t in drift.tasks if t.changed] == [MKDIR]


def test_cni_link_tasks_on_their_own_read_first_and_link_only_what_is_missing_or_wrong(tmp_path, ansible_playbook):
    """tasks_from link-package (no read before it): the task file reads the directories itself."""
    _packaged, bin_dir, extra = _cni_host(tmp_path)
    task = {
        "ansible.builtin.include_role": {"name": "kubeforge.cluster.cni_plugins", "tasks_from": "link-package"},
        "vars": extra,
    }
    check = ansible_playbook([task], check=True)
    assert check.rc == 0, check.stdout
    assert _linked(check) == ["loopback", "portmap"]
    assert not (bin_dir / "portmap").exists()
    assert os.readlink(bin_dir / "loopback") == str(tmp_path / "elsewhere")
    first = ansible_playbook([task])
    assert first.rc == 0, first.stdout
    assert _linked(first) == ["loopback", "portmap"]
    second = ansible_playbook([task])
    assert second.rc == 0, second.stdout
    assert not any(t.changed for t in second.tasks)
    assert _module_runs(second) == [CNI_READ]


def test_cni_plugins_a_missing_package_goes_to_apt_and_an_empty_package_is_refused(tmp_path, ansible_playbook):
    packaged, _bin_dir, extra = _cni_host(tmp_path, package=ABSENT_PACKAGE)
    missing = _cni(ansible_playbook, extra, check=True)
    apt = missing.task(CNI + "Install the distribution's CNI plugins (apt)")
    assert not apt.result.get("skipped")
    assert ABSENT_PACKAGE in apt.msg
    for plugin in packaged.iterdir():
        plugin.unlink()
    empty = _cni(ansible_playbook, {**extra, "cni_plugins_os_package": "coreutils"}, check=True)
    assert empty.rc != 0
    assert f"cni_plugins: no plugins found in {packaged} after installing coreutils." in _text(empty)


def test_cni_plugins_a_failing_read_fails(tmp_path, ansible_playbook):
    _packaged, bin_dir, extra = _cni_host(tmp_path)
    run = _cni(ansible_playbook, extra, env=_stand_in(tmp_path, "dpkg-query", BROKEN))
    assert run.rc != 0
    assert run.task(CNI_READ).failed
    assert "dpkg-query exited 2: broken" in run.task(CNI_READ).result["msg"]
    assert os.readlink(bin_dir / "loopback") == str(tmp_path / "elsewhere")


def test_cni_plugins_input_problems_are_refused_with_the_message_they_had(ansible_playbook):
    """One check of platform and input (tasks/validate.yml) keeps the release check's message."""
    task = {"ansible.builtin.include_role": {"name": "kubeforge.cluster.cni_plugins", "tasks_from": "validate"}}
    extra = {"cni_plugins_install_method": "release", "cni_plugins_release_version": "v1.8"}
    run = ansible_playbook([FACTS, task], check=True, extra_vars=extra)
    assert run.rc != 0
    check = run.task(CNI + "Check the platform, and the release version and architecture")
    assert 'cni_plugins: cni_plugins_release_version must look like 1.8.0 (no leading v); got "v1.8"' in check.msg
