"""The cluster part of site.yml reads once and acts only on what differs (issue 18), and still catches what it caught.

control_plane reads PyYAML, its kubeadm configuration, the admin kubeconfig and the admin user's ~/.kube/config in one
module run (tasks/read.yml, kubeforge.cluster.host_read) instead of a command, a find, a stat, a getent, a file and a
copy; the input checks are one assert each, listing every problem. Run on localhost against files in tmp_path, the
kubeadm double (tests/doubles/kubeadm) and kubesim (tests/apiserver). The wait of system_workloads.yml that does not
run when the lookup found everything ready: tests/integration/test_cluster_workloads.py.
"""

from __future__ import annotations

import getpass
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DOUBLE = REPO / "tests" / "doubles" / "kubeadm"
SITE = REPO / "playbooks" / "site.yml"
ROLE = "kubeforge.cluster.control_plane"
READ = f"{ROLE} : Read PyYAML, the kubeadm configuration, the admin kubeconfig and the admin user's copy of it"
FIND = f"{ROLE} : Read the kubeadm configuration file and its directory"
WRITE_CONFIG = f"{ROLE} : Write the kubeadm configuration"
VALIDATE = f"{ROLE} : Validate the kubeadm configuration with kubeadm"
KUBE_DIR = f"{ROLE} : Create ~/.kube for the admin user"
COPY = f"{ROLE} : Copy the admin kubeconfig to ~/.kube/config"
STAT_ADMIN = f"{ROLE} : Look for an admin kubeconfig from an earlier kubeadm init"
ASK = f"{ROLE} : Ask the API server whether it is ready"
CLIENT_KEY = "c2VjcmV0LWNsaWVudC1rZXktb2YtdGhlLXRlc3Q="  # made up; must never appear in output

# The read's Python with one change: the passwd database gives the admin user a home in tmp_path (the tests must not
# touch the real home). Everything else is the module as Ansible runs it: this Python is the read task's
# ansible_python_interpreter, given the module's AnsiballZ wrapper as a file argument or, pipelined, on stdin.
FAKE_PYTHON = """#!{python}
import pwd
import runpy
import sys

_real = pwd.getpwnam


def getpwnam(name):
    entry = _real(name)
    return pwd.struct_passwd(entry[:5] + ({home!r},) + entry[6:])


pwd.getpwnam = getpwnam
if len(sys.argv) > 1:
    sys.argv = sys.argv[1:]
    runpy.run_path(sys.argv[0], run_name="__main__")
else:
    exec(compile(sys.stdin.read(), "<stdin>", "exec"), {{"__name__": "__main__"}})
"""


def _read_env(tmp_path, home):
    """The fake Python; returns (env, the role's read task run with it as its interpreter)."""
    python = tmp_path / "fake-python"
    python.write_text(FAKE_PYTHON.format(python=sys.executable, home=str(home)))
    python.chmod(0o755)
    return {}, {**_include("read"), "vars": {"ansible_python_interpreter": str(python)}}


def _kubeadm(tmp_path, version="1.36.4"):
    binary = tmp_path / "bin" / "kubeadm"
    binary.parent.mkdir(exist_ok=True)
    binary.write_text(DOUBLE.read_text().replace("@VERSION@", version))
    binary.chmod(0o755)
    return binary


def _include(tasks_from):
    return {"ansible.builtin.include_role": {"name": ROLE, "tasks_from": tasks_from}}


def _admin_conf(tmp_path):
    conf = tmp_path / "admin.conf"
    users = [{"name": "kubernetes-admin", "user": {"client-key-data": CLIENT_KEY}}]
    conf.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "Config", "users": users}))
    conf.chmod(0o600)
    return conf


def test_kubeadm_config_drift_is_found_by_the_one_read_reported_by_check_and_rewritten(tmp_path, ansible_playbook):
    """The role's read (not the find of config.yml, which is skipped) decides the write: a missing file, a wrong mode
    and changed content are each reported by --check and written by a run; an unchanged file runs no module."""
    config = tmp_path / "etc" / "kubeadm-config.yaml"
    home = tmp_path / "home"
    env, read = _read_env(tmp_path, home)
    tasks = [
        {"ansible.builtin.setup": {"gather_subset": ["!all", "min", "network"]}},
        read,
        _include("config"),
    ]
    extra = {
        "control_plane_config_path": str(config),
        "control_plane_admin_conf": str(tmp_path / "no-admin.conf"),
        "control_plane_kubernetes_version": "v1.36.4",
        "control_plane_advertise_address": "192.0.2.10",
        "control_plane_kubeadm_path": str(_kubeadm(tmp_path)),
        "ansible_become": False,
    }
    env["KUBEADM_DOUBLE_ROOT"] = str(tmp_path / "root")

    def run(check=True):
        result = ansible_playbook(tasks, check=check, diff=check, extra_vars=extra, groups=["control_plane"], env=env)
        assert result.rc == 0, result.stdout
        assert result.task(FIND).result.get("skipped") is True
        assert "admin" in result.task(READ).result["state"]
        return result

    missing = run()
    assert missing.task(WRITE_CONFIG).changed
    assert not config.exists()
    written = run(check=False)
    assert written.task(WRITE_CONFIG).changed
    assert written.task(VALIDATE).result["rc"] == 0
    assert run().task(WRITE_CONFIG).result.get("skipped") is True
    config.chmod(0o644)
    assert run().task(WRITE_CONFIG).changed
    config.chmod(0o600)
    text = config.read_text()
    config.write_text(text + "# drift\n")
    assert run().task(WRITE_CONFIG).changed
    assert run(check=False).task(WRITE_CONFIG).changed
    assert config.read_text() == text
    assert run().task(WRITE_CONFIG).result.get("skipped") is True


def test_a_bad_kubeadm_config_still_fails_validation_after_the_read(tmp_path, ansible_playbook):
    env, read = _read_env(tmp_path, tmp_path / "home")
    env["KUBEADM_DOUBLE_ROOT"] = str(tmp_path / "root")
    extra = {
        "control_plane_config_path": str(tmp_path / "etc" / "kubeadm-config.yaml"),
        "control_plane_admin_conf": str(tmp_path / "no-admin.conf"),
        "control_plane_kubernetes_version": "v1.36.4",
        "control_plane_advertise_address": "192.0.2.10",
        "control_plane_kubeadm_path": str(_kubeadm(tmp_path)),
        "control_plane_cluster_config": {"apiServer": {"extraArg": [{"name": "v", "value": "2"}]}},
        "ansible_become": False,
    }
    tasks = [{"ansible.builtin.setup": {"gather_subset": ["!all", "min", "network"]}}, read]
    run = ansible_playbook([*tasks, _include("config")], extra_vars=extra, groups=["control_plane"], env=env)
    assert run.rc != 0
    assert run.task(VALIDATE).failed
    assert 'strict decoding error: unknown field "apiServer.extraArg"' in run.stdout.replace('\\"', '"')


def _kube_host(tmp_path):
    """The admin user's home in tmp_path, an admin kubeconfig: (home, env, read task, admin kubeconfig, extra vars)."""
    home = tmp_path / "home"
    home.mkdir()
    env, read = _read_env(tmp_path, home)
    admin_conf = _admin_conf(tmp_path)
    extra = {
        "control_plane_config_path": str(tmp_path / "etc" / "kubeadm-config.yaml"),
        "control_plane_admin_conf": str(admin_conf),
        "control_plane_admin_user": getpass.getuser(),
        "ansible_become": False,
    }
    return home, env, read, admin_conf, extra


def test_kube_config_missing_or_different_is_reported_by_check_and_written_without_showing_it(
    tmp_path, ansible_playbook
):
    """~/.kube and ~/.kube/config come from the one read: missing, changed content and a wrong mode are each reported
    by --check (nothing written) and fixed by a run; once equal no module runs for them. The client key never shows."""
    home, env, read, admin_conf, extra = _kube_host(tmp_path)
    tasks = [read, _include("kubeconfig")]
    kube_config = home / ".kube" / "config"

    def run(check=True):
        result = ansible_playbook(tasks, check=check, diff=True, extra_vars=extra, groups=["control_plane"], env=env)
        assert result.rc == 0, result.stdout
        assert result.task(READ).result["state"]["admin"]["home"] == str(home)  # never the real home
        assert CLIENT_KEY not in result.output
        return result

    # ~/.kube exists with the wrong mode (copy's check mode needs the directory, as before this read).
    (home / ".kube").mkdir(mode=0o755)
    missing = run()
    assert missing.task(KUBE_DIR).changed
    assert missing.task(COPY).changed
    assert not kube_config.exists()
    assert oct((home / ".kube").stat().st_mode & 0o777) == "0o755"
    run(check=False)
    assert kube_config.read_bytes() == admin_conf.read_bytes()
    assert oct(kube_config.stat().st_mode & 0o777) == "0o600"
    assert oct((home / ".kube").stat().st_mode & 0o777) == "0o700"
    same = run()
    assert same.task(KUBE_DIR).result.get("skipped") is True
    assert same.task(COPY).result.get("skipped") is True
    kube_config.write_text("apiVersion: v1\nkind: Config\n")
    assert run().task(COPY).changed
    assert kube_config.read_text() == "apiVersion: v1\nkind: Config\n"
    run(check=False)
    assert kube_config.read_bytes() == admin_conf.read_bytes()
    kube_config.chmod(0o644)
    assert run().task(COPY).changed
    (home / ".kube").chmod(0o755)
    assert run().task(KUBE_DIR).changed


def test_check_mode_with_the_admin_kubeconfig_and_no_kube_dir_reports_the_directory_and_does_not_fail(
    tmp_path, ansible_playbook
):
    """site.yml --check on a host with /etc/kubernetes/admin.conf and no ~/.kube: the copy's check mode needs the
    directory (it failed: "Destination directory ... does not exist"); the directory task reports the change, the copy
    is left to the run that creates the directory, nothing is written and the kubeconfig never shows."""
    home, env, read, _admin_conf_path, extra = _kube_host(tmp_path)
    run = ansible_playbook(
        [read, _include("kubeconfig")], check=True, diff=True, extra_vars=extra, groups=["control_plane"], env=env
    )
    assert run.rc == 0, run.stdout
    assert run.task(KUBE_DIR).changed
    assert run.task(COPY).result.get("skipped") is True
    assert not (home / ".kube").exists()
    assert CLIENT_KEY not in run.output


def test_an_admin_user_the_host_does_not_know_fails_the_read(tmp_path, ansible_playbook):
    extra = {
        "control_plane_config_path": str(tmp_path / "kubeadm-config.yaml"),
        "control_plane_admin_conf": str(tmp_path / "admin.conf"),
        "control_plane_admin_user": "no-such-user-kubeforge",
        "ansible_become": False,
    }
    run = ansible_playbook([_include("read")], check=True, extra_vars=extra, groups=["control_plane"])
    assert run.rc != 0
    assert "control_plane_admin_user no-such-user-kubeforge: no such user" in run.task(READ).result["msg"]


def _init_after_read(ansible_playbook, tmp_path, kubeconfig):
    extra = {
        "control_plane_config_path": str(tmp_path / "kubeadm-config.yaml"),
        "control_plane_admin_conf": str(kubeconfig),
        "control_plane_kubectl_path": os.path.join(os.path.dirname(sys.executable), "kubectl"),
        "control_plane_kubeadm_path": "/nonexistent/kubeadm",
        "control_plane_admin_user": "",
        "ansible_become": False,
    }
    tasks = [_include("read"), _include("init")]
    return ansible_playbook(tasks, check=True, extra_vars=extra, groups=["control_plane"])


def test_the_read_tells_init_that_the_cluster_exists_and_a_silent_api_server_is_still_refused(
    apiserver_factory, ansible_playbook, tmp_path
):
    server = apiserver_factory()
    healthy = _init_after_read(ansible_playbook, tmp_path, server.kubeconfig)
    assert healthy.rc == 0, healthy.stdout
    assert healthy.task(STAT_ADMIN).result.get("skipped") is True  # the read answered
    assert healthy.task(ASK).result["rc"] == 0
    assert healthy.task(f"{ROLE} : Run kubeadm init").result.get("skipped") is True
    kubeconfig = server.kubeconfig
    server.stop_apiserver()
    silent = _init_after_read(ansible_playbook, tmp_path, kubeconfig)
    assert silent.rc != 0
    assert "exists (the cluster was initialised) but the API server" in " ".join(silent.stdout.split())


# --- input checks: one assert each, every problem listed ------------------------------------------------------------


def _validate(ansible_playbook, role, extra):
    task = {"ansible.builtin.include_role": {"name": f"kubeforge.cluster.{role}", "tasks_from": "validate"}}
    run = ansible_playbook([task], extra_vars=extra, groups=["control_plane"])
    assert run.rc != 0
    return " ".join(run.stdout.replace("\\n", " ").split())


def test_control_plane_lists_every_bad_setting_at_once(ansible_playbook):
    message = _validate(
        ansible_playbook,
        "control_plane",
        {
            "control_plane_kubernetes_version": "1.34",
            "control_plane_pod_subnet": "10.244.0.0",
            "control_plane_kube_proxy_config": {"kind": "Other"},
            "control_plane_kube_proxy_mode": "bogus",
        },
    )
    assert "control_plane_kubernetes_version must look like v1.34.2 (is '1.34')" in message
    assert "control_plane_kube_proxy_config: an override dict changes fields of its kubeadm document" in message
    assert "control_plane_pod_subnet: not a network in CIDR notation (10.244.0.0)." in message
    assert "control_plane_kube_proxy_mode must be '', iptables, ipvs or nftables (is 'bogus')" in message


@pytest.mark.parametrize(
    ("pod", "service", "problem"),
    [
        ("10.0.0.0/8", "10.96.0.0/12", "control_plane_pod_subnet 10.0.0.0/8 overlaps control_plane_service_subnet"),
        ("10.96.0.0/16", "10.96.1.0/12", "control_plane_pod_subnet 10.96.0.0/16 overlaps control_plane_service_subnet"),
        ("10.244.0.0/16", "10.96.0.0/12", None),
        ("10.97.0.0/16", "10.96.0.0/16", None),
        ("fd00:10:244::/56", "fd00:10:96::/108", None),
        ("300.244.0.0/16", "10.96.0.0/12", "control_plane_pod_subnet: not a network in CIDR notation (300.244.0.0/16)"),
        (
            "10.244.0.0/33",
            "10.96.0.0",
            "control_plane_pod_subnet, control_plane_service_subnet: not a network in CIDR notation (10.244.0.0/33, "
            "10.96.0.0).",
        ),
    ],
    ids=["pod-around-service", "host-bits-inside", "apart", "adjacent", "ipv6", "octet", "both"],
)
def test_control_plane_subnets_are_checked_in_one_template(ansible_playbook, pod, service, problem):
    """The CIDR and overlap checks, computed once in the one template of tasks/validate.yml."""
    task = {"ansible.builtin.include_role": {"name": ROLE, "tasks_from": "validate"}}
    extra = {"control_plane_pod_subnet": pod, "control_plane_service_subnet": service}
    run = ansible_playbook([task], extra_vars=extra, groups=["control_plane"])
    if problem is None:
        assert run.rc == 0, run.stdout
        assert run.task(f"{ROLE} : Check the control-plane settings").result.get("skipped") is True
    else:
        assert run.rc != 0
        assert problem in " ".join(run.stdout.replace("\\n", " ").split())


def test_cni_lists_every_bad_setting_at_once(ansible_playbook):
    message = _validate(ansible_playbook, "cni", {"cni_plugin": "weave", "cni_flannel_backend": "udp"})
    assert "cni_plugin: unknown network add-on 'weave'; supported: flannel, calico, manifest, none." in message
    assert "cni_flannel_backend 'udp' is not vxlan, host-gw or wireguard." in message


@pytest.mark.slow
def test_site_preflight_lists_every_cross_role_problem_at_once(tmp_path):
    local = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    inventory = {
        "all": {
            "children": {"control_plane": {"hosts": {"kube-master": local}}},
            "vars": {
                "cluster_preflight_reachability": False,
                "cni_pod_subnet": "192.168.0.0/16",
                "control_plane_kubernetes_version": "v1.36.4",
                "kube_packages_kubernetes_version": "1.37.1",
            },
        }
    }
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump(inventory))
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0")
    env.setdefault("ANSIBLE_COLLECTIONS_PATH", str(REPO / ".venv" / "collections"))
    argv = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(tmp_path / "hosts.yml"), str(SITE)]
    run = subprocess.run(
        [*argv, "--tags", "preflight"], capture_output=True, text=True, env=env, cwd=str(REPO), timeout=300, check=False
    )
    out = " ".join(run.stdout.split())
    assert run.returncode != 0, out
    assert (
        "inconsistent subnets: cni_pod_subnet 192.168.0.0/16 differs from control_plane_pod_subnet 10.244.0.0/16" in out
    )
    assert "inconsistent versions: kube_packages_kubernetes_version 1.37.1 (kubelet, kubeadm) and" in out
    assert "TASK [kubeforge.cluster.host_prep" not in out


# --- the whole role on a host where nothing differs -----------------------------------------------------------------

WRITE_GATE = f"{ROLE} : Install PyYAML and write the kubeadm configuration where the read found them different"
READY_GATE = f"{ROLE} : Check that the initialised cluster answers (first control plane)"
APPLY_GATE = (
    f"{ROLE} : Initialise, join, install the admin kubeconfig and untaint where the read found something different"
)
FACTS = f"{ROLE} : Gather the facts the role needs (OS family, default address)"
# validate.yml's input check: a fail task, skipped when there is no problem.
SETTINGS = f"{ROLE} : Check the control-plane settings"
# Tasks that run on the controller only; every other task that is not skipped is a module run on the host.
CONTROLLER = {"assert", "include_tasks", "include_role", "include_vars", "set_fact", "debug", "validate_argument_spec"}
CONTROLLER |= {f"ansible.builtin.{name}" for name in CONTROLLER}


def _client_key(kubeconfig):
    """The client key of a kubeconfig's first user (kubesim's admin: client-key-data), which must never show."""
    return yaml.safe_load(Path(kubeconfig).read_text())["users"][0]["user"]["client-key-data"]


def _role_host(tmp_path, server):
    """A first control plane whose cluster was initialised (the admin kubeconfig is kubesim's): the whole role with its
    kubeadm configuration, the admin user's home in tmp_path (the fake Python is every module's interpreter)."""
    home = tmp_path / "home"
    home.mkdir()
    (tmp_path / "etc").mkdir(mode=0o755)
    env, _read = _read_env(tmp_path, home)
    env["KUBEADM_DOUBLE_ROOT"] = str(tmp_path / "root")
    extra = {
        "control_plane_config_path": str(tmp_path / "etc" / "kubeadm-config.yaml"),
        "control_plane_admin_conf": str(server.kubeconfig),
        "control_plane_admin_user": getpass.getuser(),
        "control_plane_kubernetes_version": "v1.36.4",
        "control_plane_advertise_address": "192.0.2.10",
        "control_plane_kubeadm_path": str(_kubeadm(tmp_path)),
        "control_plane_kubectl_path": os.path.join(os.path.dirname(sys.executable), "kubectl"),
        "ansible_python_interpreter": str(tmp_path / "fake-python"),
        "ansible_become": False,
    }
    tasks = [
        {"ansible.builtin.setup": {"gather_subset": ["!all", "min", "network"]}},
        {"ansible.builtin.include_role": {"name": ROLE}},
    ]
    return home, env, extra, tasks


def _role_tasks(run):
    """(module runs, skipped tasks) of the role (the play's own setup left out)."""
    role = [t for t in run.tasks if t.name.startswith(ROLE)]
    ran = [t.name for t in role if t.action not in CONTROLLER and not t.result.get("skipped")]
    return ran, [t.name for t in role if t.result.get("skipped")]


def test_the_role_on_a_host_where_nothing_differs_runs_its_read_and_checks_and_skips_two_includes(
    apiserver_factory, ansible_playbook, tmp_path
):
    """First control plane of an initialised cluster: the first run writes the configuration and ~/.kube/config; the
    next runs the read, kubeadm's validation and the API server question (module runs) and skips the writing tasks as
    two includes. Each drift still reaches its task: the configuration (reported by --check and rewritten), ~/.kube
    missing (--check reports the directory, writes nothing, does not fail), and a silent API server is refused."""
    server = apiserver_factory()
    home, env, extra, tasks = _role_host(tmp_path, server)
    config = Path(extra["control_plane_config_path"])

    def run(check=False):
        result = ansible_playbook(tasks, check=check, diff=check, extra_vars=extra, groups=["control_plane"], env=env)
        assert _client_key(server.kubeconfig) not in result.output
        return result

    first = run()
    assert first.rc == 0, first.stdout
    assert first.task(WRITE_CONFIG).changed
    assert (home / ".kube" / "config").read_bytes() == Path(server.kubeconfig).read_bytes()

    noop = run()
    assert noop.rc == 0, noop.stdout
    assert not any(t.changed for t in noop.tasks)
    ran, skipped = _role_tasks(noop)
    assert ran == [READ, VALIDATE, ASK]
    assert skipped == [SETTINGS, FACTS, WRITE_GATE, APPLY_GATE]
    check = run(check=True)
    assert check.rc == 0, check.stdout
    # kubeadm is not run in check mode
    assert _role_tasks(check)[1] == [SETTINGS, FACTS, WRITE_GATE, VALIDATE, APPLY_GATE]

    config.write_text(config.read_text() + "# drift\n")
    drift = run(check=True)
    assert drift.rc == 0, drift.stdout
    assert drift.task(WRITE_CONFIG).changed
    assert config.read_text().endswith("# drift\n")
    assert run().task(WRITE_CONFIG).changed
    assert _role_tasks(run())[0] == [READ, VALIDATE, ASK]

    # ~/.kube missing, the admin kubeconfig there: --check reports the directory and leaves the copy to the real run.
    (home / ".kube" / "config").unlink()
    (home / ".kube").rmdir()
    missing = run(check=True)
    assert missing.rc == 0, missing.stdout
    assert missing.task(KUBE_DIR).changed
    assert missing.task(COPY).result.get("skipped") is True
    assert not (home / ".kube").exists()
    fixed = run()
    assert fixed.rc == 0, fixed.stdout
    assert fixed.task(KUBE_DIR).changed and fixed.task(COPY).changed
    assert (home / ".kube" / "config").read_bytes() == Path(server.kubeconfig).read_bytes()

    server.stop_apiserver()
    silent = run(check=True)
    assert silent.rc != 0
    assert "exists (the cluster was initialised) but the API server" in " ".join(silent.stdout.split())


def test_a_control_plane_that_has_not_joined_goes_to_the_join(tmp_path, ansible_playbook):
    """Three control planes: the read's kubelet kubeconfig (kubeadm init and join write it) decides whether the host
    goes to the join (control_plane_differs); with it present and nothing else to do, nothing is included."""
    (tmp_path / "etc").mkdir()
    admin_conf = _admin_conf(tmp_path)
    kubelet_conf = tmp_path / "etc" / "kubelet.conf"
    extra = {
        "control_plane_config_path": str(tmp_path / "etc" / "kubeadm-config.yaml"),
        "control_plane_admin_conf": str(admin_conf),
        "control_plane_kubelet_conf": str(kubelet_conf),
        "control_plane_admin_user": "",
        "ansible_become": False,
    }
    tasks = [
        {"ansible.builtin.include_role": {"name": ROLE, "tasks_from": "read", "public": True}},
        {"name": "differs", "ansible.builtin.debug": {"msg": "{{ control_plane_differs | bool }}"}},
    ]
    inventory = ["[control_plane]", "localhost", "kube-cp-2", "kube-cp-3"]

    def differs():
        run = ansible_playbook(tasks, check=True, extra_vars=extra, inventory_lines=inventory)
        assert run.rc == 0, run.stdout
        return str(run.task("differs").result["msg"])

    assert differs() == "True"
    kubelet_conf.write_text("kubelet\n")
    assert differs() == "False"
    admin_conf.unlink()  # the first control plane (localhost) without the admin kubeconfig: kubeadm init is due
    assert differs() == "True"
