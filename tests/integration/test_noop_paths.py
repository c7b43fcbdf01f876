"""The roles' cheap no-op paths (issue 18) find the same drift as the per-item tasks they replaced.

Run on localhost against files in tmp_path: host_prep's one read of the host (kernel parameters instead of a slurp per
parameter, packages before apt);
and the reads that --check now runs too (control_plane's API server readiness, host_prep's listening ports); one read
per role instead of a task per file (kube_packages' mirror, cache and installed binaries; host_prep's files and host
state). tests/integration/test_noop_host_reads.py runs the whole host_prep and cni_plugins roles on their reads.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import os
import re
import socket
import sys
import tarfile
import threading
from pathlib import Path

import yaml
from test_noop_runtime_reads import Host  # its systemctl double

DRIFT = "kubeforge.cluster.host_prep : Report the kernel parameters check mode would set"
READ = (
    "kubeforge.cluster.host_prep : Read the host (product UUID, swap, CPUs, memory, ports, packages, kernel modules "
    + ("and parameters, files)")
)
REPO_ROOT = Path(__file__).resolve().parents[2]


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
    assert run.task(READ).action == "kubeforge.cluster.host_read"
    assert run.task(DRIFT).changed
    assert run.task(DRIFT).msg == [
        {"setting": "kernel.pid_max=4194304", "live": "32768"},
        {"setting": "net.bridge.bridge-nf-call-iptables=1", "live": "absent"},
    ]


def test_kernel_parameter_files_follow_sysctl_names(ansible_playbook):
    """'.' separates the levels, '/' stands for a '.' inside one (sysctl.d(5)): vars/main.yml host_prep_sysctl_files."""
    sysctls = {"net.ipv4.ip_forward": 1, "net.ipv4.conf.eth0/100.forwarding": 1}
    role = {"name": "kubeforge.cluster.host_prep", "tasks_from": "sysctl", "public": True}
    task = {"ansible.builtin.include_role": role}
    asked = {"name": "asked", "ansible.builtin.debug": {"msg": "{{ host_prep_state_query.sysctls }}"}}
    run = ansible_playbook([task, asked], check=True, extra_vars={"host_prep_sysctls": sysctls})
    assert run.rc == 0, run.stdout
    assert not run.task(READ).failed
    assert run.task("asked").result["msg"] == {
        "net.ipv4.ip_forward": "/proc/sys/net/ipv4/ip_forward",
        "net.ipv4.conf.eth0/100.forwarding": "/proc/sys/net/ipv4/conf/eth0.100/forwarding",
    }


def test_apt_does_not_run_when_dpkg_lists_every_package_installed(ansible_playbook):
    """host_prep's base packages on a Debian controller: the read's dpkg-query answers, apt is not included (installed:
    coreutils, dpkg). test_noop_host_reads.py::test_a_missing_base_package_sends_the_packages_to_apt: the other way."""
    tasks = [
        {"ansible.builtin.setup": {"gather_subset": ["!all", "min"]}},
        {"ansible.builtin.include_role": {"name": "kubeforge.cluster.host_prep", "tasks_from": "read", "public": True}},
        {"ansible.builtin.include_role": {"name": "kubeforge.cluster.host_prep", "tasks_from": "apply"}},
    ]
    run = ansible_playbook(
        tasks,
        check=True,
        extra_vars={
            "host_prep_os_packages": ["coreutils"],
            "host_prep_extra_packages": ["dpkg"],
            "host_prep_state_sections": ["packages"],
        },
    )
    assert run.rc == 0, run.stdout
    assert run.task(READ).result["state"] == {"packages": []}
    assert run.task("kubeforge.cluster.host_prep : Install the base packages").result.get("skipped") is True


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
            {"ansible.builtin.setup": {"gather_subset": ["!all", "min", "network"]}},
            {"ansible.builtin.include_role": {"name": "kubeforge.cluster.host_prep", "tasks_from": "preflight"}},
        ]
        checks = ("cpus", "memory", "unique_mac", "unique_product_uuid")
        preflight = {"ports": "fail", **dict.fromkeys(checks, "ignore")}
        run = ansible_playbook(
            tasks, check=True, extra_vars={"host_prep_preflight": preflight, "host_prep_preflight_ports": [port]}
        )
    assert run.rc != 0
    assert f"TCP ports in use: {port}" in run.stdout


def _mirror(tmp_path):
    """A dl.k8s.io-like mirror in tmp_path served on loopback: kubeadm and kubectl 1.2.3, crictl 1.2.0."""
    root = tmp_path / "mirror"
    release = root / "release" / "v1.2.3" / "bin" / "linux" / "amd64"
    release.mkdir(parents=True)
    for name in ("kubeadm", "kubectl"):
        _publish(release / name, f"#!/bin/sh\necho {name}\n".encode())
    crictl_dir = root / "crictl" / "v1.2.0"
    crictl_dir.mkdir(parents=True)
    source = tmp_path / "crictl"
    source.write_text("#!/bin/sh\necho crictl\n")
    tarball = crictl_dir / "crictl-v1.2.0-linux-amd64.tar.gz"
    with tarfile.open(tarball, "w:gz") as archive:
        archive.add(source, arcname="crictl")
    _publish(tarball, tarball.read_bytes())
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    http.server.SimpleHTTPRequestHandler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    extra = {
        "kube_packages_install_method": "mirror",
        "kube_packages_kubernetes_version": "1.2.3",
        "kube_packages_components": ["kubeadm", "kubectl"],
        "kube_packages_mirror_url": url,
        "kube_packages_crictl_mirror": f"{url}/crictl",
        "kube_packages_crictl_version": "1.2.0",
        "kube_packages_bin_dir": str(tmp_path / "bin"),
        "kube_packages_cache_dir": str(tmp_path / "cache"),
        "ansible_become": False,
    }
    (tmp_path / "bin").mkdir()
    return server, release, extra


def _publish(path, data):
    path.write_bytes(data)
    path.with_name(path.name + ".sha256").write_text(hashlib.sha256(data).hexdigest() + "\n")


KP = "kubeforge.cluster.kube_packages : "
READ_KP = "Read what is installed and what the mirror publishes"
APPLY_KP = "Install and set up what the read found different"
KP_ACTS = {
    "Create the download cache": "file",
    "Download each binary and check it against the mirror's .sha256 file": "get_url",
    "Download crictl (cri-tools) and check it against its .sha256 file": "get_url",
    "Install the binaries": "copy",
    "Unpack crictl into the cache": "unarchive",
    "Install crictl": "copy",
}


def _acted(run):
    """The mirror tasks that ran a module, with the loop items they ran for (a task of a skipped include: none)."""
    acted = {}
    names = [task.name for task in run.tasks]
    for name in KP_ACTS:
        if KP + name not in names:
            continue
        result = run.task(KP + name).result
        if result.get("skipped"):
            continue
        items = [item.get("item") for item in result.get("results", []) if not item.get("skipped")]
        acted[name] = items or True
    return acted


def test_kube_packages_mirror_second_run_runs_no_module_but_the_read_and_still_finds_drift(tmp_path, ansible_playbook):
    """The mirror method: a host that has the mirror's binaries runs one read and no get_url, copy or unarchive
    (the old tasks ran 11 modules per run); each kind of drift the old tasks caught is still acted on."""
    server, release, extra = _mirror(tmp_path)
    task = {"ansible.builtin.include_role": {"name": "kubeforge.cluster.kube_packages"}}
    try:
        first = ansible_playbook([task], extra_vars=extra)
        assert first.rc == 0, first.stdout
        assert set(_acted(first)) == set(KP_ACTS)
        bin_dir, cache = tmp_path / "bin", tmp_path / "cache"
        assert (bin_dir / "kubectl").read_text() == "#!/bin/sh\necho kubectl\n"
        assert (bin_dir / "crictl").read_text() == "#!/bin/sh\necho crictl\n"

        second = ansible_playbook([task], extra_vars=extra)
        assert second.rc == 0, second.stdout
        assert not any(t.changed for t in second.tasks)
        assert _acted(second) == {}
        assert second.task(KP + READ_KP).action == "kubeforge.cluster.host_read"
        # After the read, one task: the include of the writing tasks, skipped (nothing differs).
        names = [t.name for t in second.tasks]
        after = second.tasks[names.index(KP + READ_KP) + 1 :]
        assert [(t.name, t.result.get("skipped")) for t in after] == [(KP + APPLY_KP, True)], names

        # Drift: an installed binary changed, the unpacked crictl changed, the mirror republished kubeadm.
        (bin_dir / "kubectl").write_text("tampered")
        (cache / "crictl").write_text("tampered")
        _publish(release / "kubeadm", b"#!/bin/sh\necho kubeadm, rebuilt\n")
        check = ansible_playbook([task], extra_vars=extra, check=True)
        assert check.rc == 0, check.stdout
        assert (bin_dir / "kubectl").read_text() == "tampered"
        drift = _acted(check)
        assert drift["Download each binary and check it against the mirror's .sha256 file"] == ["kubeadm"]
        assert drift["Install the binaries"] == ["kubeadm", "kubectl"]
        assert "Install crictl" not in drift  # the installed crictl is still the tarball's
        # (unarchive does not run in check mode with gtar: it skips, as it did before)

        third = ansible_playbook([task], extra_vars=extra)
        assert third.rc == 0, third.stdout
        assert set(_acted(third)) == {
            "Download each binary and check it against the mirror's .sha256 file",
            "Install the binaries",
            "Unpack crictl into the cache",
        }
        assert (bin_dir / "kubectl").read_text() == "#!/bin/sh\necho kubectl\n"
        assert (bin_dir / "kubeadm").read_text() == "#!/bin/sh\necho kubeadm, rebuilt\n"
        assert (cache / "crictl").read_text() == "#!/bin/sh\necho crictl\n"
        assert _acted(ansible_playbook([task], extra_vars=extra)) == {}

        # A published checksum that does not match: nothing installed, the binary named.
        (release / "kubectl.sha256").write_text("0" * 64 + "\n")
        bad = ansible_playbook([task], extra_vars=extra)
        assert bad.rc != 0
        assert "no verified copy of kubectl" in bad.stdout
        assert (bin_dir / "kubectl").read_text() == "#!/bin/sh\necho kubectl\n"
    finally:
        server.shutdown()


def _state(path, mode="0644"):
    return f"{mode} root root {hashlib.sha256(path.read_bytes()).hexdigest()}"


def test_host_prep_reads_its_files_in_the_host_read(tmp_path, ansible_playbook):
    """host_prep's preflight reads the files of an existing node and the files it writes in its one read of the host
    (it ran a stat per node file, then one find): path -> "<mode> <owner> <group> <sha256>"."""
    (tmp_path / "kubernetes").mkdir()
    kubelet_conf = tmp_path / "kubernetes" / "kubelet.conf"
    kubelet_conf.write_text("kubelet\n")
    kubelet_conf.chmod(0o600)
    (tmp_path / "kubernetes" / "manifests").mkdir()
    apiserver = tmp_path / "kubernetes" / "manifests" / "kube-apiserver.yaml"
    apiserver.write_text("kind: Pod\n")
    apiserver.chmod(0o600)
    (tmp_path / "sysctl.d").mkdir()
    sysctl = tmp_path / "sysctl.d" / "99-kubeforge.conf"
    sysctl.write_text("net.ipv4.ip_forward = 1\n")
    sysctl.chmod(0o644)
    (tmp_path / "sysctl.d" / "other.conf").write_text("not asked for\n")
    paths = [str(kubelet_conf), str(apiserver), str(tmp_path / "modules-load.d" / "kubeforge.conf"), str(sysctl)]
    run = ansible_playbook(
        [
            {"ansible.builtin.setup": {"gather_subset": ["!all", "min", "network"]}},
            {
                "ansible.builtin.include_role": {
                    "name": "kubeforge.cluster.host_prep",
                    "tasks_from": "preflight",
                    "public": True,
                }
            },
            {"name": "found", "ansible.builtin.debug": {"var": "host_prep_found"}},
        ],
        check=True,
        extra_vars={
            "host_prep_read_paths": paths,
            "host_prep_preflight": dict.fromkeys(("cpus", "memory", "unique_mac", "unique_product_uuid"), "ignore"),
        },
    )
    assert run.rc == 0, run.stdout
    assert run.task(READ).action == "kubeforge.cluster.host_read"
    assert run.task("found").result["host_prep_found"] == {
        str(kubelet_conf): _state(kubelet_conf, "0600"),
        str(apiserver): _state(apiserver, "0600"),
        str(sysctl): _state(sysctl),
    }


MODULES = "kubeforge.cluster.host_prep : Persist the kernel modules in /etc/modules-load.d"


def test_host_prep_writes_a_file_only_when_its_checksum_mode_or_owner_differ(ansible_playbook):
    """Check mode (nothing is written): the template task runs (reporting the change, with a diff) when the file is
    missing or its content, mode or owner differ, and is skipped when the read state is what it would write -- the
    checksum of the template module's own rendering (its diff), so the role's lookup renders the same text."""
    dest = "/etc/modules-load.d/kubeforge.conf"
    task = {"ansible.builtin.include_role": {"name": "kubeforge.cluster.host_prep", "tasks_from": "modules"}}

    def run(found):
        result = ansible_playbook(
            [task],
            check=True,
            diff=True,
            extra_vars={"host_prep_found": found, "host_prep_kernel_modules": ["overlay", "br_netfilter"]},
        )
        assert result.rc == 0, result.stdout
        return result.task(MODULES)

    missing = run({})
    assert missing.changed
    rendered = missing.diff[0]["after"]
    assert rendered.endswith("overlay\nbr_netfilter\n")
    same = "0644 root root " + hashlib.sha256(rendered.encode()).hexdigest()
    assert run({dest: same}).result.get("skipped") is True
    for drift in (
        "0644 root root " + "0" * 64,
        same.replace("0644", "0664", 1),
        same.replace("root root", "root adm", 1),
    ):
        assert run({dest: drift}).changed, drift


FSTAB_LINES = [
    "UUID=1 none swap sw 0 0",
    "/swapfile\tnone\tswap\tdefaults\t0\t0",
    "/dev/sdb2 none swap",
    "# UUID=2 none swap sw 0 0",
    "UUID=3 / ext4 errors=remount-ro 0 1",
    "UUID=4 /swap ext4 defaults 0 2",
    "  UUID=5 none swap sw 0 0",
    "/dev/sdc1 /mnt swapfs defaults 0 0",
]


def test_host_state_counts_every_fstab_line_the_swap_replace_would_change(tmp_path, host_reader):
    """host_prep reads /proc/swaps and counts the fstab swap lines in its one read (kubeforge.cluster.host_read, reader
    host_prep) and skips the replace task when there are none: the count must cover every line the replace's own
    pattern would change."""
    role = REPO_ROOT / "roles" / "host_prep"
    tasks = yaml.safe_load((role / "tasks" / "swap.yml").read_text())
    swap_task = next(task["ansible.builtin.replace"] for task in tasks if "ansible.builtin.replace" in task)
    pattern = re.compile(swap_task["regexp"], re.MULTILINE)
    paths = yaml.safe_load((role / "vars" / "main.yml").read_text())["host_prep_state_paths"]
    for count in range(len(FSTAB_LINES) + 1):
        fstab = tmp_path / f"fstab-{count}"
        fstab.write_text("".join(line + "\n" for line in FSTAB_LINES[:count]))
        changed = len(pattern.findall(fstab.read_text()))
        query = {"sections": ["host"], "paths": {**paths, "fstab": str(fstab)}, "ports": False}
        counted = host_reader("host_prep", query)["host"]["fstab"]
        assert (counted == 0) == (changed == 0), (count, counted, changed)
        assert counted >= changed


WRITE_CONFIG = "kubeforge.cluster.control_plane : Write the kubeadm configuration"


def test_control_plane_writes_the_kubeadm_config_only_when_it_differs(tmp_path, ansible_playbook):
    """control_plane reads its kubeadm configuration and directory in one find: check mode plans the write while the
    file is missing or differs (content, mode), and runs no module for it once it is what the template writes."""
    config = tmp_path / "kubernetes" / "kubeadm-config.yaml"
    tasks = [
        {"ansible.builtin.setup": {"gather_subset": ["!all", "min", "network"]}},
        {"ansible.builtin.include_role": {"name": "kubeforge.cluster.control_plane", "tasks_from": "config"}},
    ]
    extra = {
        "control_plane_read_root": str(tmp_path),
        "control_plane_config_path": str(config),
        "control_plane_kubernetes_version": "v1.36.4",
        "control_plane_advertise_address": "192.0.2.10",
        "ansible_become": False,
    }

    def run():
        result = ansible_playbook(tasks, check=True, diff=True, extra_vars=extra, groups=["control_plane"])
        assert result.rc == 0, result.stdout
        return result.task(WRITE_CONFIG)

    missing = run()
    assert missing.changed
    config.parent.mkdir(mode=0o755)
    config.write_text(missing.diff[0]["after"])
    config.chmod(0o644)
    assert run().changed  # mode 0644, the task wants 0600
    config.chmod(0o600)
    same = run()
    assert same.result.get("skipped") is True
    config.write_text(missing.diff[0]["after"] + "# drift\n")
    assert run().changed


APPLY_TASKS = {
    "unit": "Install the kubelet systemd unit",
    "dropin_dir": "Create the kubelet drop-in directory",
    "dropin": "Install the kubeadm drop-in for kubelet",
    "env": "Write the kubelet environment file",
    "enable": "Enable kubelet",
    "cache_dir": "Create the download cache",
}


def test_kube_packages_each_drift_alone_runs_the_writing_tasks(tmp_path, ansible_playbook):
    """The one comparison (kube_packages_plan, kube_packages_differs) covers every file and state the writing tasks
    compare: from a read that matches what the role writes (no task after the read but the skipped include), each
    drift alone runs the include and exactly the task for it, in --check (nothing is written). The read is given
    (kube_packages_state as an extra variable) so that the kubelet's files under /etc/systemd stay this machine's."""
    host = Host(tmp_path)
    want_file = {"type": "file", "mode": "0644", "owner": "root", "group": "root"}
    want_dir = {"type": "directory", "mode": "0755", "owner": "root", "group": "root", "sha256": None}
    unit, dropin_dir = "/etc/systemd/system/kubelet.service", "/etc/systemd/system/kubelet.service.d"
    dropin, env_file, cache = dropin_dir + "/10-kubeadm.conf", str(tmp_path / "kubelet.env"), str(tmp_path / "cache")
    extra = {
        "kube_packages_install_method": "mirror",
        "kube_packages_kubernetes_version": "1.2.3",
        "kube_packages_components": ["kubelet"],
        "kube_packages_crictl": False,
        "kube_packages_mirror_url": "http://127.0.0.1:9",
        "kube_packages_bin_dir": str(tmp_path / "bin"),
        "kube_packages_cache_dir": cache,
        "kube_packages_os_kubelet_env_file": env_file,
        "ansible_become": False,
    }
    task = {"ansible.builtin.include_role": {"name": "kubeforge.cluster.kube_packages"}}

    def run(paths, enabled="enabled"):
        state = {"binaries": {}, "crictl": None, "paths": paths, "units": {"kubelet.service": enabled}}
        result = ansible_playbook(
            [task], check=True, diff=True, env=host.env, extra_vars={**extra, "kube_packages_state": {"state": state}}
        )
        assert result.rc == 0, result.stdout
        return result

    # Nothing there: every task runs; their diffs are the texts the role writes.
    first = run(dict.fromkeys([cache, unit, dropin_dir, dropin, env_file]), enabled="disabled")
    acted = {name for name, task_name in APPLY_TASKS.items() if first.task(KP + task_name).changed}
    assert acted == set(APPLY_TASKS)

    def written(name):
        text = first.task(KP + APPLY_TASKS[name]).diff[0]["after"]
        return dict(want_file, sha256=hashlib.sha256(text.encode()).hexdigest())

    clean = {
        cache: want_dir,
        unit: written("unit"),
        dropin_dir: want_dir,
        dropin: written("dropin"),
        env_file: written("env"),
    }
    noop = run(clean)
    names = [t.name for t in noop.tasks]
    after = noop.tasks[names.index(KP + READ_KP) + 1 :]
    assert [(t.name, t.result.get("skipped")) for t in after] == [(KP + APPLY_KP, True)], names

    drifts = {
        "unit": {unit: dict(clean[unit], sha256="0" * 64)},
        "dropin_dir": {dropin_dir: dict(want_dir, mode="0700")},
        "dropin": {dropin: dict(clean[dropin], owner="nobody")},
        "env": {env_file: None},
        "cache_dir": {cache: None},
    }
    for name, drift in drifts.items():
        drifted = run({**clean, **drift})
        changed = [
            key
            for key, task_name in APPLY_TASKS.items()
            if KP + task_name in names_of(drifted) and drifted.task(KP + task_name).changed
        ]
        assert changed == [name], (name, changed)
    disabled = run(clean, enabled="disabled")
    assert [
        key
        for key, task_name in APPLY_TASKS.items()
        if KP + task_name in names_of(disabled) and disabled.task(KP + task_name).changed
    ] == ["enable"]


def names_of(run):
    return [task.name for task in run.tasks]
