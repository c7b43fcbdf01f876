# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What kubeforge-certs-renew.service runs with python3 on a control plane (certs.yml -e certs_renew_timer=true).

The same steps as certs.yml on the host, and the same decision: the expiry is read and judged by the collection's
own kubeadm_certs code (plugins/module_utils/kubeadm_certs.py, copied next to this script by
playbooks/tasks/certs_renew_timer.yml), so "due" means here what it means to the kubeforge.cluster.kubeadm_certs
module: a renewable certificate with fewer than renew_days left (the module's default when the settings give none).
When something is due: ``kubeadm certs renew all`` (it renews unconditionally, regardless of expiration date:
https://kubernetes.io/docs/reference/setup-tools/kubeadm/generated/kubeadm_certs/kubeadm_certs_renew_all), then the
control-plane static pods restart the way kubeadm's documentation says (their manifests leave
/etc/kubernetes/manifests for one kubelet fileCheckFrequency, 20 s, and come back:
https://kubernetes.io/docs/tasks/administer-cluster/kubeadm/kubeadm-certs/#manual-certificate-renewal), then the
API server's /readyz (URL found by playbooks/tasks/wait_readyz.yml at install time) is awaited, and root's admin
kubeconfig is refreshed. Every run writes the stamp file (time, result, days left, what was due or renewed, the
error) that health.yml reads; exit status 1 on failure, so systemd marks the service failed too.
Nothing secret is printed or stored: certificate names, days and kubeadm's error lines only.
Settings: the JSON file named by KUBEFORGE_CERTS_RENEW_CONFIG (default /etc/kubeforge/certs-renew.json).
"""

from __future__ import annotations

import datetime
import importlib
import json
import os
import shutil
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request

CONFIG = os.environ.get("KUBEFORGE_CERTS_RENEW_CONFIG", "/etc/kubeforge/certs-renew.json")
HTTP_OK = 200
READYZ_DELAY = 2
UTILS = "ansible_collections.kubeforge.cluster.plugins.module_utils"


class HostModule:
    """The part of AnsibleModule that KubeadmCli and check_expiration use, for a run without Ansible."""

    check_mode = False

    def __init__(self, params):
        self.params = params

    @staticmethod
    def get_bin_path(name, required=False):
        del required
        return shutil.which(name)

    @staticmethod
    def run_command(argv):
        proc = subprocess.run(argv, capture_output=True, text=True, check=False)
        return proc.returncode, proc.stdout, proc.stderr


def _now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def restart_static_pods(kubernetes_dir, pause):
    """Move the manifest directory aside for one kubelet sync and back (a run interrupted between the two moves is
    finished by the next one)."""
    manifests = os.path.join(kubernetes_dir, "manifests")
    aside = manifests + ".restarting"
    if not os.path.exists(aside):
        os.rename(manifests, aside)
    time.sleep(pause)
    os.rename(aside, manifests)


def wait_readyz(url, ca_file, timeout):
    """Wait until the API server answers /readyz with 200 (no credential is sent); an error names the last answer."""
    if not url:
        return
    context = ssl.create_default_context(cafile=ca_file)
    deadline, last = time.monotonic() + timeout, "no answer"
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5, context=context) as answer:
                if answer.status == HTTP_OK:
                    return
                last = f"HTTP {answer.status}"
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code}"
        except (OSError, ValueError) as exc:
            last = str(exc)
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{url} did not answer 200 within {timeout} s (last: {last})")
        time.sleep(READYZ_DELAY)


def refresh_kubeconfig(source, target):
    """certs.yml's "Refresh the admin kubeconfig of root": only where that kubeconfig's directory exists."""
    if target and os.path.isdir(os.path.dirname(target)):
        shutil.copyfile(source, target)
        os.chmod(target, 0o600)


def collection_code(lib_dir, name):
    """A module_utils file of the collection, from the copy the install put in lib_dir."""
    if lib_dir not in sys.path:
        sys.path.insert(0, lib_dir)
    return importlib.import_module(f"{UTILS}.{name}")


def renew(config, stamp):
    certs = collection_code(config["lib_dir"], "kubeadm_certs")
    params = {
        name: spec["default"] if config.get(name) is None else config[name]
        for name, spec in certs.CERTS_ARG_SPEC.items()
    }
    module = HostModule(params)
    cli = collection_code(config["lib_dir"], "kubeadm").KubeadmCli(module, params["kubeadm_path"], params["kubeconfig"])
    before = certs.check_expiration(module, cli)
    stamp.update(renew_days=params["renew_days"], due=before["due"], min_days=before["min_days"])
    if not before["due"]:
        stamp["result"] = "not due"
        return
    cli.run("certs", "renew", "all")
    restart_static_pods(config["kubernetes_dir"], config["restart_pause"])
    wait_readyz(config["readyz_url"], os.path.join(config["kubernetes_dir"], "pki", "ca.crt"), config["readyz_timeout"])
    refresh_kubeconfig(params["kubeconfig"], config.get("root_kubeconfig"))
    after = certs.check_expiration(module, cli)
    stamp.update(result="renewed", renewed=before["due"], min_days=after["min_days"])


def write_stamp(path, stamp):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    partial = path + ".partial"
    with open(partial, "w", encoding="utf-8") as handle:
        json.dump(stamp, handle, indent=2, sort_keys=True)
        handle.write("\n")
    os.chmod(partial, 0o644)
    os.replace(partial, path)


def main():
    with open(CONFIG, encoding="utf-8") as handle:
        config = json.load(handle)
    stamp = {"started": _now(), "result": "failed", "error": ""}
    failures = (ImportError, OSError, ValueError, KeyError)
    try:
        failures += (collection_code(config["lib_dir"], "errors").KubeforgeError,)
        renew(config, stamp)
    except failures as exc:  # every failure is recorded in the stamp; the exit status says it too
        stamp["error"] = f"{type(exc).__name__}: {exc}"
    stamp.update(finished=_now(), finished_epoch=int(time.time()))
    write_stamp(config["stamp"], stamp)
    print(
        f"certificate renewal: {stamp['result']}; days left: {stamp.get('min_days')}; "
        f"due: {', '.join(stamp.get('due') or []) or 'none'}{'; ' + stamp['error'] if stamp['error'] else ''}"
    )
    return 1 if stamp["result"] == "failed" else 0


if __name__ == "__main__":
    sys.exit(main())
