"""The roles' cheap no-op paths (issue 18) find the same drift as the per-item tasks they replaced.

Run on localhost against files in tmp_path: cni_plugins' one listing of the plugin directory (instead of a stat per
plugin), host_prep's one read of the kernel parameters (instead of a slurp per parameter) and dpkg before apt; and
the reads that --check now runs too (control_plane's API server readiness, host_prep's listening ports).
"""

from __future__ import annotations

import os
import socket
import sys

LINK = "kubeforge.cluster.cni_plugins : Link each plugin that no other package installed there"
LIST = "kubeforge.cluster.cni_plugins : List what the plugin directory already holds"
DRIFT = "kubeforge.cluster.host_prep : Report the kernel parameters check mode would set"
READ = "kubeforge.cluster.host_prep : Read the live kernel parameters"


def _plugins(tmp_path):
    packaged, bin_dir = tmp_path / "packaged", tmp_path / "bin"
    packaged.mkdir()
    bin_dir.mkdir()
    for name in ("bridge", "host-local", "loopback", "portmap"):
        (packaged / name).write_text(name)
    (bin_dir / "bridge").write_text("another package's plugin")  # a regular file: kept
    (bin_dir / "host-local").symlink_to(packaged / "host-local")  # already linked
    (bin_dir / "loopback").symlink_to(tmp_path / "elsewhere")  # a link pointing elsewhere: relinked
    # portmap is missing: linked
    task = {
        "ansible.builtin.include_role": {"name": "kubeforge.cluster.cni_plugins", "tasks_from": "link-package"},
        "vars": {
            "cni_plugins_os_package": "containernetworking-plugins",
            "cni_plugins_os_package_dir": str(packaged),
            "cni_plugins_bin_dir": str(bin_dir),
        },
    }
    return packaged, bin_dir, task


def _linked(result):
    return sorted(item["item"]["path"].rsplit("/", 1)[1] for item in result.get("results", []) if item.get("changed"))


def test_cni_links_only_what_is_missing_or_wrong_and_a_second_run_runs_no_file_task(tmp_path, ansible_playbook):
    packaged, bin_dir, task = _plugins(tmp_path)

    check = ansible_playbook([task], check=True)
    assert check.rc == 0, check.stdout
    assert _linked(check.task(LINK).result) == ["loopback", "portmap"]
    assert not (bin_dir / "portmap").exists()
    assert os.readlink(bin_dir / "loopback") == str(tmp_path / "elsewhere")

    first = ansible_playbook([task])
    assert first.rc == 0, first.stdout
    assert _linked(first.task(LINK).result) == ["loopback", "portmap"]
    assert (bin_dir / "bridge").read_text() == "another package's plugin"
    for name in ("host-local", "loopback", "portmap"):
        assert os.readlink(bin_dir / name) == str(packaged / name)

    second = ansible_playbook([task])
    assert second.rc == 0, second.stdout
    assert not any(t.changed for t in second.tasks)
    # One listing, and no file task per plugin (the old stat + file loops ran one module per plugin each).
    assert second.task(LIST).action == "ansible.builtin.command"
    assert second.task(LINK).result.get("skipped") is True


def test_kernel_parameters_read_once_and_drift_reported(tmp_path, ansible_playbook):
    proc = tmp_path / "proc"
    proc.mkdir()
    (proc / "ip_forward").write_text("1\n")
    (proc / "pid_max").write_text("32768\n")
    (proc / "port_range").write_text("32768\t60999\n")
    (proc / "vlan_forwarding").write_text("1\n")
    files = {
        "net.ipv4.ip_forward": str(proc / "ip_forward"),
        "kernel.pid_max": str(proc / "pid_max"),
        "net.ipv4.ip_local_port_range": str(proc / "port_range"),
        "net.bridge.bridge-nf-call-iptables": str(proc / "absent"),
        "net.ipv4.conf.eth0/100.forwarding": str(proc / "vlan_forwarding"),
    }
    sysctls = {
        "net.ipv4.ip_forward": 1,
        "kernel.pid_max": 4194304,
        "net.ipv4.ip_local_port_range": "32768 60999",
        "net.bridge.bridge-nf-call-iptables": 1,
        "net.ipv4.conf.eth0/100.forwarding": 1,
    }
    task = {"ansible.builtin.include_role": {"name": "kubeforge.cluster.host_prep", "tasks_from": "sysctl"}}
    # Check mode: the file in /etc/sysctl.d is not written and sysctl -w is not run; the drift is reported.
    run = ansible_playbook(
        [task], check=True, extra_vars={"host_prep_sysctls": sysctls, "host_prep_sysctl_files": files}
    )
    assert run.rc == 0, run.stdout
    assert run.task(READ).action == "ansible.builtin.command"
    assert run.task(DRIFT).changed
    assert run.task(DRIFT).msg == [
        {"setting": "kernel.pid_max=4194304", "live": "32768"},
        {"setting": "net.bridge.bridge-nf-call-iptables=1", "live": "absent"},
    ]


def test_kernel_parameter_files_follow_sysctl_names(ansible_playbook):
    """'.' separates the levels, '/' stands for a '.' inside one (sysctl.d(5)): vars/main.yml host_prep_sysctl_files."""
    sysctls = {"net.ipv4.ip_forward": 1, "net.ipv4.conf.eth0/100.forwarding": 1}
    task = {"ansible.builtin.include_role": {"name": "kubeforge.cluster.host_prep", "tasks_from": "sysctl"}}
    run = ansible_playbook([task], check=True, extra_vars={"host_prep_sysctls": sysctls})
    assert run.rc == 0, run.stdout
    assert run.task(READ).result["cmd"][4:] == [
        "/proc/sys/net/ipv4/ip_forward",
        "/proc/sys/net/ipv4/conf/eth0.100/forwarding",
    ]


def test_apt_does_not_run_when_dpkg_lists_every_package_installed(ansible_playbook):
    """host_prep's base packages on a Debian controller: dpkg-query answers, apt is skipped (installed: coreutils,
    dpkg); a name dpkg does not know would leave the decision to apt (not run here: it would touch this machine)."""
    task = {"ansible.builtin.include_role": {"name": "kubeforge.cluster.host_prep", "tasks_from": "packages-Debian"}}
    run = ansible_playbook(
        [task],
        check=True,
        extra_vars={"host_prep_os_packages": ["coreutils"], "host_prep_extra_packages": ["dpkg"]},
    )
    assert run.rc == 0, run.stdout
    query = run.task("kubeforge.cluster.host_prep : Find the base packages that are not installed (dpkg)")
    assert query.result["stdout_lines"] == ["coreutils installed", "dpkg installed"]
    assert run.task("kubeforge.cluster.host_prep : Install the base packages (apt)").result.get("skipped") is True


def _init(ansible_playbook, kubeconfig):
    task = {"ansible.builtin.include_role": {"name": "kubeforge.cluster.control_plane", "tasks_from": "init"}}
    kubectl = os.path.join(os.path.dirname(sys.executable), "kubectl")
    return ansible_playbook(
        [task],
        check=True,
        extra_vars={
            "control_plane_admin_conf": str(kubeconfig),
            "control_plane_kubectl_path": kubectl,
            "control_plane_kubeadm_path": "/nonexistent/kubeadm",
            "ansible_become": False,
        },
    )


def test_check_mode_asks_a_running_api_server_and_does_not_init(apiserver_factory, ansible_playbook):
    """site.yml --check on a healthy cluster: the readiness read runs in check mode (it was skipped, and the next
    check refused the healthy cluster); kubeadm init is not planned."""
    server = apiserver_factory()
    run = _init(ansible_playbook, server.kubeconfig)
    assert run.rc == 0, run.stdout
    assert run.task("kubeforge.cluster.control_plane : Ask the API server whether it is ready").result["rc"] == 0
    assert run.task("kubeforge.cluster.control_plane : Run kubeadm init").result.get("skipped") is True


def test_check_mode_still_refuses_an_initialised_cluster_that_does_not_answer(apiserver_factory, ansible_playbook):
    server = apiserver_factory()
    kubeconfig = server.kubeconfig
    server.stop_apiserver()  # connections refused, as from a stopped kube-apiserver
    run = _init(ansible_playbook, kubeconfig)
    assert run.rc != 0
    assert "exists (the cluster was initialised) but the API server" in " ".join(run.stdout.split())


def test_check_mode_runs_the_port_check(ansible_playbook):
    """host_prep's preflight in --check: the listening ports are read (the listing was skipped in check mode, so a
    busy port passed --check and failed the real run)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        tasks = [
            {"ansible.builtin.setup": {"gather_subset": ["!all", "min", "hardware", "network"]}},
            {"ansible.builtin.include_role": {"name": "kubeforge.cluster.host_prep", "tasks_from": "preflight"}},
        ]
        checks = ("cpus", "memory", "unique_mac", "unique_product_uuid")
        preflight = {"ports": "fail", **dict.fromkeys(checks, "ignore")}
        run = ansible_playbook(
            tasks, check=True, extra_vars={"host_prep_preflight": preflight, "host_prep_preflight_ports": [port]}
        )
    assert run.rc != 0
    assert f"TCP ports in use: {port}" in run.stdout
