"""certs.yml's certificate renewal timer (issue 15 item 5) on localhost with a private root (apiserver_root: a
kube-apiserver manifest naming a local HTTPS /readyz) and the kubeadm double (its files under the same root): the
units, script and settings are written, a second run changes nothing, false removes everything; the timer's script
(what its service runs) renews through the double when a certificate is due, moves the static pod manifests out and
back, waits for /readyz, and writes the stamp health.yml reads; a failure is recorded and exits 1.
systemd does not run on this machine: the units are checked with the real `systemd-analyze verify`, not started
(the Molecule cluster scenario starts it under systemd: extensions/molecule/cluster/side_effect.yml)."""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import threading
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
CERTS = REPO / "playbooks" / "certs.yml"
VERSION = "1.37.1"
UNIT = "kubeforge-certs-renew"
RENEWED_DAYS = 364  # whole days left of a certificate renewed for a year a moment ago


@pytest.fixture
def control_plane(apiserver_root, tmp_path):
    """(root, readyz handler, extra vars, environment) of a control plane whose timer files go under tmp_path."""
    root, handler = apiserver_root
    kubeadm = tmp_path / "bin" / "kubeadm"
    kubeadm.parent.mkdir()
    kubeadm.write_text((REPO / "tests" / "doubles" / "kubeadm").read_text().replace("@VERSION@", VERSION))
    kubeadm.chmod(0o755)
    k8s = root / "etc" / "kubernetes"
    (k8s / "admin.conf").write_text("apiVersion: v1\nkind: Config\n")
    (tmp_path / "root-kube").mkdir()
    timer = tmp_path / "timer"
    extra = {
        "ansible_become": False,
        "etcd_kubernetes_dir": str(k8s),
        "certs_kubeadm_path": str(kubeadm),
        "certs_kubeconfig": str(k8s / "admin.conf"),
        "certs_root_kubeconfig": str(tmp_path / "root-kube" / "config"),
        "certs_restart_pause": 1,
        "kubeforge_readyz_timeout": 30,
        "certs_renew_timer": True,
        "certs_renew_timer_enable": False,  # no systemd here: the units are verified as files
        "certs_renew_timer_systemd_dir": str(timer / "systemd"),
        "certs_renew_timer_lib_dir": str(timer / "lib"),
        "certs_renew_timer_config": str(timer / "etc" / "certs-renew.json"),
        "certs_renew_timer_stamp": str(timer / "state" / "certs-renew.json"),
    }
    (timer / "systemd").mkdir(parents=True)
    env = {"KUBEADM_DOUBLE_ROOT": str(root), "KUBEADM_DOUBLE_VERSION": VERSION}
    return root, handler, extra, env


def _certs(ansible_playbook, control_plane, **options):
    _root, _handler, extra, env = control_plane
    return ansible_playbook(
        CERTS, groups=["control_plane"], extra_vars={**extra, **options.pop("extra_vars", {})}, env=env, **options
    )


def _calls(root):
    log = root / "var" / "lib" / "kubeadm-double" / "calls.jsonl"
    return [json.loads(line)["argv"][1:] for line in log.read_text().splitlines()] if log.exists() else []


def _pin(root, **days):
    """Pin single certificates of the kubeadm double to expire in that many days."""
    now = datetime.datetime.now(datetime.timezone.utc)
    state = {"expires": {name: (now + datetime.timedelta(days=left)).isoformat() for name, left in days.items()}}
    (root / "var" / "lib" / "kubeadm-double" / "certs.json").write_text(json.dumps(state))


def _run_script(control_plane):
    """What kubeforge-certs-renew.service runs (its ExecStart with its Environment=)."""
    _root, _handler, extra, env = control_plane
    unit = (Path(extra["certs_renew_timer_systemd_dir"]) / f"{UNIT}.service").read_text()
    config = next(line.split("=", 2)[2] for line in unit.splitlines() if line.startswith("Environment="))
    exec_start = next(line.split("=", 1)[1] for line in unit.splitlines() if line.startswith("ExecStart="))
    process_env = dict(os.environ, **env, KUBEFORGE_CERTS_RENEW_CONFIG=config)
    proc = subprocess.run(exec_start.split(), env=process_env, capture_output=True, text=True, timeout=120, check=False)
    stamp = json.loads(Path(extra["certs_renew_timer_stamp"]).read_text())
    return proc, stamp


def test_timer_is_installed_once_and_removed_when_disabled(ansible_playbook, control_plane):
    root, _handler, extra, _env = control_plane
    units = Path(extra["certs_renew_timer_systemd_dir"])

    dry = _certs(ansible_playbook, control_plane, check=True)
    assert dry.rc == 0, dry.stdout[-3000:]
    assert dry.task("Write the renewal script").changed and dry.task("Write the service and the timer").changed
    assert list(units.iterdir()) == [] and not Path(extra["certs_renew_timer_config"]).exists(), "check mode wrote"

    first = _certs(ansible_playbook, control_plane)
    second = _certs(ansible_playbook, control_plane)
    check = _certs(ansible_playbook, control_plane, check=True)

    assert first.rc == 0 and second.rc == 0 and check.rc == 0, first.stdout[-3000:] + second.stdout[-3000:]
    assert first.task("Write the renewal script").changed and first.task("Write the service and the timer").changed
    assert not [t.name for t in second.tasks if t.changed], "the second install changed something"
    assert not [t.name for t in check.tasks if t.changed], "check mode says an installed timer would change"
    assert [argv[:3] for argv in _calls(root)] == [["certs", "check-expiration", "-o"]] * 4, "nothing was due"
    timer = (units / f"{UNIT}.timer").read_text()
    assert "OnCalendar=*-*-* 03:00:00\n" in timer and "WantedBy=timers.target" in timer  # control plane 0: 03:00
    service = (units / f"{UNIT}.service").read_text()
    script = Path(extra["certs_renew_timer_lib_dir"]) / "kubeforge_certs_renew.py"
    assert f"ExecStart=/usr/bin/python3 {script}\n" in service and "Type=oneshot" in service
    settings = json.loads(Path(extra["certs_renew_timer_config"]).read_text())
    assert settings["renew_days"] is None, "the module's default is stated once, in its argument spec"
    assert settings["readyz_url"].startswith("https://127.0.0.1:") and settings["readyz_url"].endswith("/readyz")
    copied = Path(extra["certs_renew_timer_lib_dir"]) / "ansible_collections/kubeforge/cluster/plugins/module_utils"
    assert (copied / "kubeadm_certs.py").read_text() == (
        REPO / "plugins" / "module_utils" / "kubeadm_certs.py"
    ).read_text()
    # The real systemd parser (Debian's systemd package is installed here, though systemd does not run) on the units.
    verify = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(units / f"{UNIT}.timer"), str(units / f"{UNIT}.service")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert verify.returncode == 0 and verify.stderr == "", verify.stderr

    off = _certs(ansible_playbook, control_plane, extra_vars={"certs_renew_timer": False})
    again = _certs(ansible_playbook, control_plane, extra_vars={"certs_renew_timer": False})

    assert off.rc == 0 and again.rc == 0, off.stdout[-3000:]
    assert off.task("Remove the timer's files and its last stamp").changed
    assert not [t.name for t in again.tasks if t.changed], "removing a removed timer changed something"
    assert list(units.iterdir()) == [] and not script.exists()
    assert not Path(extra["certs_renew_timer_config"]).exists() and not copied.exists()


def test_timer_script_renews_when_due_restarts_and_waits_for_readyz(ansible_playbook, control_plane):
    root, handler, extra, _env = control_plane
    assert _certs(ansible_playbook, control_plane).rc == 0
    proc, stamp = _run_script(control_plane)
    assert proc.returncode == 0 and stamp["result"] == "not due", (proc.stdout, proc.stderr, stamp)
    assert [argv[:2] for argv in _calls(root)].count(["certs", "renew"]) == 0

    _pin(root, apiserver=5)  # 5 days left: due with the module's default renew_days (30)
    handler.paths.clear()
    manifests = root / "etc" / "kubernetes" / "manifests"
    seen_aside, watching = [], threading.Event()

    def watch():
        while not watching.is_set():
            if not manifests.exists() and (manifests.parent / "manifests.restarting").exists():
                seen_aside.append(True)
            time.sleep(0.05)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        proc, stamp = _run_script(control_plane)
    finally:
        watching.set()
        watcher.join()

    assert proc.returncode == 0, (proc.stdout, proc.stderr, stamp)
    assert stamp["result"] == "renewed" and stamp["due"] == ["apiserver"] and stamp["renewed"] == ["apiserver"]
    assert stamp["min_days"] == RENEWED_DAYS and stamp["error"] == "" and stamp["finished_epoch"] <= time.time()
    assert [argv for argv in _calls(root) if argv[:2] == ["certs", "renew"]] == [
        ["certs", "renew", "all", "--kubeconfig", extra["certs_kubeconfig"]]
    ]
    assert seen_aside, "the static pod manifests never left their directory"
    assert (manifests / "kube-apiserver.yaml").exists()
    assert handler.paths == ["/readyz"] * 3, "the script did not wait for /readyz to answer 200"
    assert Path(extra["certs_root_kubeconfig"]).read_text() == Path(extra["certs_kubeconfig"]).read_text()
    assert proc.stdout.strip() == "certificate renewal: renewed; days left: 364; due: apiserver"
    assert "PRIVATE KEY" not in proc.stdout + proc.stderr + json.dumps(stamp)


def test_timer_script_records_a_failure(ansible_playbook, control_plane):
    root, _handler, _extra, _env = control_plane
    assert _certs(ansible_playbook, control_plane).rc == 0
    (root / "etc" / "kubernetes" / "pki" / "ca.crt").unlink()  # kubeadm cannot load the CA

    proc, stamp = _run_script(control_plane)

    assert proc.returncode == 1
    assert stamp["result"] == "failed" and "couldn't load the certificate authority" in stamp["error"], stamp
    assert "certificate renewal: failed" in proc.stdout


def test_bad_timer_input_is_refused_before_anything_changes(ansible_playbook, control_plane):
    # A value `| bool` would read as false must not remove an installed timer, and an OnCalendar value systemd
    # refuses must not be written (systemd-analyze calendar is systemd's own parser): both are refused, naming the
    # variable, before the expiry is read or a file is touched.
    root, _handler, extra, _env = control_plane
    installed = _certs(ansible_playbook, control_plane)
    assert installed.rc == 0, installed.stdout[-3000:]
    files = [Path(extra["certs_renew_timer_systemd_dir"]), Path(extra["certs_renew_timer_config"]).parent]
    before = {path: path.read_text() for folder in files for path in folder.iterdir()}
    calls = _calls(root)
    cases = [
        ({"certs_renew_timer": "maybe"}, "certs_renew_timer must be true (install the timer) or false"),
        ({"certs_renew_timer_schedule": "not-a-time"}, "certs_renew_timer_schedule 'not-a-time' is not a systemd"),
    ]
    for options, message in cases:
        run = _certs(ansible_playbook, control_plane, extra_vars=options)
        assert run.rc != 0 and message in " ".join(run.stdout.split()), (message, run.stdout[-3000:])
        assert "nothing was changed" in run.stdout
        assert {path: path.read_text() for folder in files for path in folder.iterdir()} == before
        assert _calls(root) == calls, "the expiry was read before the request was checked"
