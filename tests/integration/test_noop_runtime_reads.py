"""containerd's one read (kubeforge.cluster.host_read) finds what its four reads found; kube_packages' folded checks.

The containerd role runs on localhost against this machine's real dpkg-query, apt-cache and Debian 12 containerd
(1.6.20, which supports Kubernetes 1.28), with its files in tmp_path and a systemctl double on PATH (this machine
has systemctl but no running systemd). A no-op runs one module (the read); each kind of drift the old reads caught
is still acted on, reported by --check, or refused with the same message.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from ansible_collections.kubeforge.cluster.plugins.module_utils.errors import KubeforgeError

CD = "kubeforge.cluster.containerd : "
READ = CD + "Read containerd's packages, version, service and files"
ROLE = {"ansible.builtin.include_role": {"name": "kubeforge.cluster.containerd"}}
VENV_BIN = Path(sys.executable).parent

# A systemctl double: the commands the role and ansible.builtin.systemd_service run, with systemctl(1)'s answers
# and exit codes (freedesktop.org/software/systemd/man/systemctl.html): is-enabled prints the state, exit 0 when
# enabled; is-active prints the state, exit 0 when active, 3 otherwise (LSB "not running"); show prints Key=Value
# properties. Unit states live in $SYSTEMCTL_DOUBLE_STATE (JSON); each call is appended to <state>.calls.
SYSTEMCTL = r"""#!/usr/bin/env python3
import json, os, sys
path = os.environ["SYSTEMCTL_DOUBLE_STATE"]
units = json.load(open(path))
args = [a for a in sys.argv[1:] if not a.startswith("-")]
with open(path + ".calls", "a") as log:
    log.write(" ".join(args) + "\n")
verb, unit = (args + [None, None])[:2]
state = units.setdefault(unit, {"enabled": "disabled", "active": "inactive"}) if unit else None
if verb == "is-enabled":
    print(state["enabled"]); sys.exit(0 if state["enabled"] == "enabled" else 1)
if verb == "is-active":
    print(state["active"]); sys.exit(0 if state["active"] == "active" else 3)
if verb == "show":
    print(f"Id={unit}\nLoadState=loaded\nActiveState={state['active']}\nUnitFileState={state['enabled']}"); sys.exit(0)
if verb in ("enable", "disable", "start", "stop", "restart"):
    if verb in ("enable", "disable"):
        state["enabled"] = verb + "d"
    else:
        state["active"] = "inactive" if verb == "stop" else "active"
    json.dump(units, open(path, "w")); sys.exit(0)
if verb == "daemon-reload":
    sys.exit(0)
sys.stderr.write(f"systemctl double: {sys.argv[1:]} is not modelled\n"); sys.exit(1)
"""


class Host:
    """A containerd host in tmp_path: its config files, the systemctl double and the variables pointing at them."""

    def __init__(self, tmp_path, service=("enabled", "active")):
        self.root = tmp_path / "root"
        self.config = self.root / "containerd" / "config.toml"
        self.certs = self.root / "certs.d"
        doubles = tmp_path / "doubles"
        doubles.mkdir()
        (doubles / "systemctl").write_text(SYSTEMCTL)
        (doubles / "systemctl").chmod(0o755)
        self.doubles = doubles
        self.state = tmp_path / "units.json"
        self.set_service(*service)
        self.env = {
            "PATH": f"{doubles}{os.pathsep}{VENV_BIN}{os.pathsep}{os.environ['PATH']}",
            "SYSTEMCTL_DOUBLE_STATE": str(self.state),
        }
        self.vars = {
            "containerd_install_method": "package",
            "containerd_kubernetes_version": "1.28.0",
            "containerd_config_file": str(self.config),
            "containerd_registry_config_dir": str(self.certs),
            "containerd_crictl_config": False,  # /etc/crictl.yaml is this machine's
            "containerd_registry_mirrors": [
                {"registry": "docker.io", "endpoints": ["http://127.0.0.1:5000"], "ca_cert": "TEST CA (a double)"}
            ],
            "ansible_become": False,
        }

    def set_service(self, enabled, active):
        self.state.write_text(json.dumps({"containerd.service": {"enabled": enabled, "active": active}}))
        Path(str(self.state) + ".calls").write_text("")

    def calls(self):
        return Path(str(self.state) + ".calls").read_text().splitlines()

    def double(self, name, text):
        """Put a command double first on PATH."""
        (self.doubles / name).write_text(text)
        (self.doubles / name).chmod(0o755)


def _run(ansible_playbook, host, check=False, **extra):
    return ansible_playbook([ROLE], check=check, env=host.env, extra_vars={**host.vars, **extra})


def _modules(run):
    """The tasks that ran a module on the host (not skipped, not controller-only)."""
    controller = {
        None,
        "ansible.builtin.include_role",
        "ansible.builtin.assert",
        "ansible.builtin.set_fact",
        "ansible.builtin.include_vars",
        "ansible.builtin.include_tasks",
        "ansible.builtin.debug",
        "ansible.builtin.fail",
        "ansible.builtin.validate_argument_spec",
        "ansible.builtin.meta",
    }
    ran = []
    for task in run.tasks:
        result = task.result
        items = result.get("results")
        skipped = result.get("skipped") or (items and all(item.get("skipped") for item in items))
        if not skipped and task.action not in controller:
            ran.append(task.name.removeprefix(CD))
    return ran


def _failure(run):
    """The one failed task and its message (folded whitespace)."""
    failed = [task for task in run.tasks if task.failed]
    assert len(failed) == 1, run.stdout
    return failed[0].name, " ".join(failed[0].msg.split())


def _assert_refused(run, role, phrases):
    """Refused by the role's one input check, every phrase in its message, nothing changed."""
    assert run.rc != 0
    name, msg = _failure(run)
    assert name == role + "Check the platform and the input"
    for phrase in phrases:
        assert phrase in msg, msg
    assert msg.endswith("Nothing was changed.")


def _changed(run):
    return sorted(task.name.removeprefix(CD) for task in run.tasks if task.changed)


def test_containerd_noop_runs_one_read_and_check_mode_reports_nothing(tmp_path, ansible_playbook):
    """A configured host: the second run and --check run one module (the read; it was dpkg-query, apt-cache policy,
    containerd --version and a find, plus a module per registry file) and change nothing."""
    host = Host(tmp_path)
    first = _run(ansible_playbook, host)
    assert first.rc == 0, first.stdout
    assert "Render the whole containerd config" in _changed(first)
    assert host.config.read_text().startswith("# Managed by Ansible (kubeforge.cluster.containerd)")
    assert (host.certs / "docker.io" / "ca.crt").read_text() == "TEST CA (a double)"
    for check in (False, True):
        again = _run(ansible_playbook, host, check=check)
        assert again.rc == 0, again.stdout
        assert _changed(again) == []
        assert _modules(again) == ["Gather the facts this role needs", READ.removeprefix(CD)]
    read = again.task(READ).result["state"]
    assert read["packages"] == {"containerd": "installed", "runc": "installed"}
    assert read["candidate"].startswith("1.6.")  # Debian 12's, as apt-cache policy names it


def test_containerd_file_drift_is_reported_by_check_and_rewritten(tmp_path, ansible_playbook):
    host = Host(tmp_path)
    assert _run(ansible_playbook, host).rc == 0
    config_text = host.config.read_text()
    hosts_toml = host.certs / "docker.io" / "hosts.toml"
    host.config.write_text(config_text + "# a local change\n")
    hosts_toml.chmod(0o600)
    (host.certs / "docker.io" / "ca.crt").unlink()

    check = _run(ansible_playbook, host, check=True)
    assert check.rc == 0, check.stdout
    drift = [
        "Render hosts.toml per registry",
        "Render the whole containerd config",
        "Restart containerd",  # the handler (check mode reports it too)
        "Write the registry CA certificates",
    ]
    assert _changed(check) == drift
    assert host.config.read_text().endswith("# a local change\n"), "check mode wrote nothing"

    fix = _run(ansible_playbook, host)
    assert fix.rc == 0, fix.stdout
    assert _changed(fix) == drift
    assert host.config.read_text() == config_text
    assert oct(hosts_toml.stat().st_mode & 0o777) == "0o644"
    assert "restart containerd.service" in host.calls()  # the handler
    assert _changed(_run(ansible_playbook, host)) == []


@pytest.mark.parametrize("service", [("disabled", "active"), ("enabled", "inactive")], ids=["disabled", "stopped"])
def test_containerd_disabled_or_stopped_is_enabled_and_started(tmp_path, ansible_playbook, service):
    host = Host(tmp_path)
    assert _run(ansible_playbook, host).rc == 0
    host.set_service(*service)
    check = _run(ansible_playbook, host, check=True)
    assert _changed(check) == ["Enable and start containerd"], check.stdout
    run = _run(ansible_playbook, host)
    assert _changed(run) == ["Enable and start containerd"], run.stdout
    assert json.loads(host.state.read_text())["containerd.service"] == {"enabled": "enabled", "active": "active"}
    assert "Enable and start containerd" not in _modules(_run(ansible_playbook, host))


def test_containerd_missing_package_is_installed(tmp_path, ansible_playbook):
    """A package dpkg does not list as installed goes to apt (in --check: apt's simulation of the install), after
    the index refresh that a planned install needs."""
    host = Host(tmp_path)
    run = _run(ansible_playbook, host, check=True, containerd_os_packages=["containerd", "runc", "hello"])
    assert run.rc == 0, run.stdout
    install = run.task(CD + "Install containerd from the distribution (apt)")
    assert install.changed, install.result


@pytest.mark.parametrize(("valid_time", "refreshed"), [(10**9, False), (0, True)], ids=["fresh", "stale"])
def test_auto_method_refreshes_the_apt_index_only_when_it_is_older_than_the_valid_time(
    tmp_path, ansible_playbook, valid_time, refreshed
):
    """Method auto (the candidate decides the method): the index is refreshed as the apt module would (older than
    containerd_apt_cache_valid_time), then apt is asked again; a fresh index runs no apt module at all."""
    host = Host(tmp_path)
    run = _run(
        ansible_playbook, host, check=True, containerd_install_method="auto", containerd_apt_cache_valid_time=valid_time
    )
    assert run.rc == 0, run.stdout
    ran = {task.name.removeprefix(CD): not task.result.get("skipped") for task in run.tasks}
    assert ran.get("Refresh the apt index", False) is refreshed
    assert ran.get("Ask apt which containerd version it would install", False) is refreshed
    assert run.task(CD + "Work out the method and the planned version").result["ansible_facts"][
        "containerd_method"
    ] == ("package")


def test_planned_version_outside_the_supported_range_is_refused_or_warned(tmp_path, ansible_playbook):
    host = Host(tmp_path)
    refused = _run(ansible_playbook, host, containerd_kubernetes_version="1.37.1")
    assert refused.rc != 0
    out = " ".join(refused.stdout.split())
    assert "containerd 1.6.20 (package method) on localhost does not support Kubernetes 1.37.1" in out
    assert "Kubernetes 1.37 supports containerd 2.1.5+, 2.2.0+" in out
    assert "Nothing was changed." in out
    assert not host.config.exists()

    release = _run(
        ansible_playbook,
        host,
        containerd_install_method="release",
        containerd_kubernetes_version="1.37.1",
        containerd_release_version="1.7.28",
    )
    assert release.rc != 0
    assert "containerd 1.7.28 (release method) on localhost does not support Kubernetes 1.37.1" in " ".join(
        release.stdout.split()
    )

    warned = _run(ansible_playbook, host, containerd_kubernetes_version="1.37.1", containerd_version_check="warn")
    assert warned.rc == 0, warned.stdout
    check = warned.task(CD + "Check the planned containerd version against the Kubernetes version")
    assert check.msg.startswith("WARNING containerd: containerd 1.6.20 (package method)")
    # the supported case says nothing
    quiet = _run(ansible_playbook, host)
    assert quiet.task(CD + "Check the planned containerd version against the Kubernetes version").result["skipped"]


def test_installed_version_that_is_unsupported_or_unreadable_is_refused(tmp_path, ansible_playbook):
    """The installed binary's version (the candidate, 1.6.20, is supported for 1.28: the planned check passes)."""
    host = Host(tmp_path)
    # containerd --version's output: "containerd <module path> <version> <revision>" (cmd/containerd/command/main.go)
    host.double("containerd", "#!/bin/sh\necho 'containerd github.com/containerd/containerd v1.5.5 0123456'\n")
    old = _run(ansible_playbook, host, containerd_package_binary=str(host.doubles / "containerd"))
    assert old.rc != 0
    assert "containerd 1.5.5 (package method) on localhost does not support Kubernetes 1.28.0" in " ".join(
        old.stdout.split()
    )
    assert not host.config.exists()
    warn = _run(
        ansible_playbook,
        host,
        containerd_package_binary=str(host.doubles / "containerd"),
        containerd_version_check="warn",
    )
    assert warn.rc == 0, warn.stdout

    missing = _run(ansible_playbook, host, containerd_package_binary=str(tmp_path / "no-containerd"))
    assert missing.rc != 0
    assert "could not read a 1.x or 2.x version from `containerd --version` on localhost" in missing.stdout


@pytest.mark.parametrize(
    ("extra", "phrases"),
    [
        ({"containerd_kubernetes_version": "1.37"}, ["containerd_kubernetes_version must be MAJOR.MINOR.PATCH"]),
        (
            {"containerd_install_method": "release", "containerd_release_version": "v2.1.9"},
            ["containerd_release_version (v2.1.9) and containerd_runc_release_version (1.3.0) must look like 1.2.3"],
        ),
        (
            {
                "containerd_kubernetes_version": "latest",
                "containerd_runc_release_version": "1.3",
                "containerd_install_method": "auto",
            },
            ['got "latest"', "containerd_runc_release_version (1.3)"],
        ),
    ],
    ids=["kubernetes-version", "release-version", "both-at-once"],
)
def test_containerd_bad_input_is_refused_naming_the_variable(tmp_path, ansible_playbook, extra, phrases):
    host = Host(tmp_path)
    run = _run(ansible_playbook, host, **extra)
    _assert_refused(run, CD, phrases)
    assert READ not in [task.name for task in run.tasks], "refused before anything ran on the host"


def test_containerd_read_fails_when_apt_cannot_answer(tmp_path, ansible_playbook):
    """apt-cache failing (apt exits 100 on an error, apt-get(8) DIAGNOSTICS; the message is apt-pkg's
    cachefile.cc one) fails the read: no candidate is made up."""
    host = Host(tmp_path)
    host.double(
        "apt-cache",
        "#!/bin/sh\necho 'E: The package lists or status file could not be parsed or opened.' >&2\nexit 100\n",
    )
    run = _run(ansible_playbook, host, check=True)
    assert run.rc != 0
    assert run.task(READ).failed
    assert "apt-cache policy containerd failed (rc 100)" in run.task(READ).result["msg"]


def test_containerd_read_fails_when_a_file_cannot_be_read(tmp_path, ansible_playbook):
    host = Host(tmp_path)
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    run = _run(ansible_playbook, host, check=True, containerd_config_file=str(blocker / "config.toml"))
    assert run.rc != 0
    assert f"cannot read {blocker}/config.toml" in run.task(READ).result["msg"]


KP = "kubeforge.cluster.kube_packages : "


@pytest.mark.parametrize(
    ("extra", "phrases"),
    [
        (
            {"kube_packages_kubernetes_version": "latest"},
            ["kube_packages_kubernetes_version must be MAJOR.MINOR.PATCH"],
        ),
        (
            {"kube_packages_install_method": "mirror", "kube_packages_crictl_version": "v1.37"},
            ['kube_packages_crictl_version MAJOR.MINOR.PATCH (got "v1.37")'],
        ),
        (
            {
                "kube_packages_install_method": "mirror",
                "kube_packages_kubernetes_version": "1.37",
                "kube_packages_crictl_version": "x",
            },
            ['got "1.37"', '(got "x")'],
        ),
    ],
    ids=["version", "crictl", "both-at-once"],
)
def test_kube_packages_bad_input_is_refused_in_one_check(tmp_path, ansible_playbook, extra, phrases):
    task = {"ansible.builtin.include_role": {"name": "kubeforge.cluster.kube_packages", "tasks_from": "validate"}}
    _assert_refused(ansible_playbook([task], extra_vars=extra), KP, phrases)


def test_configure_on_its_own_reads_and_reports_drift(tmp_path, ansible_playbook):
    """health.yml's drift probe runs configure.yml alone (facts gathered, containerd_method given, no per-OS
    variables): it reads by itself and reports the drifted config file in check mode, and only that."""
    host = Host(tmp_path)
    assert _run(ansible_playbook, host).rc == 0
    host.config.write_text(host.config.read_text() + "# drift\n")
    tasks = [
        {"ansible.builtin.setup": {"gather_subset": ["min", "network"]}},
        {
            "ansible.builtin.include_role": {"name": "kubeforge.cluster.containerd", "tasks_from": "configure"},
            "vars": {"containerd_method": "package"},
        },
    ]
    probe = ansible_playbook(tasks, check=True, env=host.env, extra_vars=host.vars)
    assert probe.rc == 0, probe.stdout
    # The drifted file only: the restart it implies is not drift (the handler is skipped in this probe).
    assert _changed(probe) == ["Render the whole containerd config"]
    assert probe.task(CD + "Restart containerd").result.get("skipped") is True
    reread = probe.task(CD + "Read containerd's version, service and files again").result
    assert not reread.get("skipped")
    assert str(host.config) in reread["state"]["files"]


# An rpm double (the RHEL family's query; no rpm on this machine): rpm 4's `rpm -q --queryformat FMT NAME...` prints
# FMT for each installed package and logs "package NAME is not installed" for the others (lib/query.c), exiting
# non-zero when one is missing.
RPM = r"""#!/bin/sh
shift 3
rc=0
for name in "$@"; do
    case " $RPM_DOUBLE_INSTALLED " in
        *" $name "*) echo "$name installed" ;;
        *) echo "package $name is not installed"; rc=1 ;;
    esac
done
exit $rc
"""


def _read(host_reader, monkeypatch, env, query):
    """containerd's read (kubeforge.cluster.host_read) with ``env`` set and ``query`` over the defaults."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    full = {"package_tool": "", "packages": [], "candidate_of": "", "binaries": [], "unit": "x.service", "paths": []}
    return host_reader("containerd", {**full, **query})


def test_containerd_read_asks_rpm_on_the_rhel_family(tmp_path, host_reader, monkeypatch):
    host = Host(tmp_path)
    host.double("rpm", RPM)
    env = {"PATH": host.env["PATH"], "SYSTEMCTL_DOUBLE_STATE": str(host.state), "RPM_DOUBLE_INSTALLED": "runc"}
    read = _read(host_reader, monkeypatch, env, {"package_tool": "rpm", "packages": ["containerd.io", "runc"]})
    assert read["packages"] == {"containerd.io": "not-installed", "runc": "installed"}
    host.double("rpm", "#!/bin/sh\necho 'error: rpmdb: BDB0113 Thread/process failed' >&2\nexit 1\n")
    with pytest.raises(KubeforgeError, match="rpm -q answered 'error: rpmdb: BDB0113 Thread/process failed'"):
        _read(host_reader, monkeypatch, env, {"package_tool": "rpm", "packages": ["containerd.io"]})


def test_containerd_directory_drift_alone_runs_the_writing_tasks(tmp_path, ansible_playbook):
    """The config and registry directories are in what the one comparison checks (containerd_want_files): a mode
    changed on them alone, every file intact, is reported by --check and fixed."""
    host = Host(tmp_path)
    assert _run(ansible_playbook, host).rc == 0
    host.config.parent.chmod(0o700)
    (host.certs / "docker.io").chmod(0o700)
    drift = ["Create the config directory", "Create the registry host directories"]
    check = _run(ansible_playbook, host, check=True)
    assert check.rc == 0, check.stdout
    assert _changed(check) == drift
    assert _changed(_run(ansible_playbook, host)) == drift
    assert oct(host.config.parent.stat().st_mode & 0o777) == "0o755"
    assert _changed(_run(ansible_playbook, host)) == []


def test_configured_host_with_an_unsupported_containerd_is_still_refused(tmp_path, ansible_playbook):
    """The installed-version check runs on a host where the read found nothing else to change (it is part of the one
    comparison, containerd_differs): the same files, service and packages, then a containerd the Kubernetes version
    does not support (warn: accepted and left alone; fail: refused naming it)."""
    host = Host(tmp_path)
    old = {"containerd_package_binary": str(host.doubles / "containerd")}
    host.double("containerd", "#!/bin/sh\necho 'containerd github.com/containerd/containerd v1.5.5 0123456'\n")
    assert _run(ansible_playbook, host, containerd_version_check="warn", **old).rc == 0
    assert _changed(_run(ansible_playbook, host, containerd_version_check="warn", **old)) == []
    refused = _run(ansible_playbook, host, **old)
    assert refused.rc != 0
    assert "containerd 1.5.5 (package method) on localhost does not support Kubernetes 1.28.0" in " ".join(
        refused.stdout.split()
    )


def test_the_support_table_row_of_a_kubernetes_version(ansible_playbook):
    """containerd_kubernetes_row (vars/main.yml): a listed minor is its own row, a minor above the table uses the last
    row, a minor below it has none (every containerd is then refused as unknown)."""
    versions = {"1.21.0": "", "1.28.0": "1.28", "v1.37.1": "1.37", "1.40.2": "1.37"}
    tasks = [
        {
            "ansible.builtin.include_role": {
                "name": "kubeforge.cluster.containerd",
                "tasks_from": "validate",
                "public": True,
            }
        }
    ] + [
        {
            "name": version,
            "ansible.builtin.debug": {"msg": "{{ containerd_kubernetes_row }}"},
            "vars": {"containerd_kubernetes_version": version},
        }
        for version in versions
    ]
    run = ansible_playbook(tasks)
    assert run.rc == 0, run.stdout
    assert {version: run.task(version).msg or "" for version in versions} == versions
