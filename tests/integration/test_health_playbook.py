"""playbooks/health.yml against kubesim and the kubeadm/kubelet doubles on localhost (issue 15 item 1): a clean
cluster reports nothing above "info"; injected drift - a node under memory pressure with another kubelet version, a
crash-looping pod in kube-system, a PodDisruptionBudget that allows no disruption, a kubelet binary of another
version, a kubeadm certificate expiring in 5 days plus an expired one, a kubelet certificate expiring in 5 days - is
reported exactly, worst first; the run changes nothing (check mode gives the same report); health.json/health.md are
written; health_fail_at fails the play. /readyz is read from the test server without credentials (ok = info, failing
checks named = critical). Drift of the kubelet configuration and of the cluster's ClusterConfiguration against the
control_plane role's documents: the role renders, the kubeadm double runs `kubeadm init` against the test server,
then the files and the inventory are changed. The sysctl/containerd/kubeadm-file probes need hosts: the Molecule
cluster scenario (extensions/molecule/cluster/side_effect.yml)."""

from __future__ import annotations

import datetime
import json
import os
import re
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from kubesim.helpers import deployment

HTTP_CREATED = 201
HTTP_OK = 200
REPO = Path(__file__).resolve().parents[2]
PLAYBOOK = REPO / "playbooks" / "health.yml"
VERSION = "v1.37.0"  # what kubesim's simulated kubelets report
MERGE = "application/merge-patch+json"
SHOW = "Show the findings, worst first"
DOUBLES = REPO / "tests" / "doubles"
SEVERITIES = ["critical", "warning", "info"]


def _double(bin_dir, name, version):
    target = bin_dir / name
    target.write_text((DOUBLES / name).read_text().replace("@VERSION@", version))
    target.chmod(0o755)
    return str(target)


def _certificate(path, days):
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=system:node:test",
            "-days",
            str(days),
            "-keyout",
            str(path) + ".key",
            "-out",
            str(path),
        ],
        check=True,
        capture_output=True,
    )


@pytest.fixture
def host(tmp_path):
    """A control plane's binaries and files: the kubelet and kubeadm doubles (kubeadm's files under its own root) and
    the kubelet's certificates (a year left)."""
    root, bin_dir, pki = tmp_path / "root", tmp_path / "bin", tmp_path / "kubelet-pki"
    for directory in (root / "etc" / "kubernetes" / "pki", bin_dir, pki):
        directory.mkdir(parents=True)
    (root / "etc" / "kubernetes" / "pki" / "ca.crt").write_text("test double CA\n")
    _certificate(pki / "kubelet-client-current.pem", 365)
    _certificate(pki / "kubelet.crt", 365)
    version = VERSION.lstrip("v")
    return {
        "root": root,
        "bin": bin_dir,
        "pki": pki,
        "vars": {
            "health_kubelet_path": _double(bin_dir, "kubelet", version),
            "health_kubeadm_path": _double(bin_dir, "kubeadm", version),
            "health_kubelet_pki_dir": str(pki),
            "health_drift": False,
        },
        "env": {"KUBEADM_DOUBLE_ROOT": str(root), "KUBEADM_DOUBLE_VERSION": version},
    }


def _post(server, path, body):
    status, answer = server.request("POST", path, body)
    assert status == HTTP_CREATED, answer


def _deployment(name, replicas, labels, annotations=None):
    body = deployment(name, replicas, image="busybox:1.36", labels=labels)
    if annotations:
        body["spec"]["template"]["metadata"]["annotations"] = annotations
    return body


@pytest.fixture
def cluster(apiserver_factory):
    server = apiserver_factory()
    server.add_nodes(2, "node")
    return server


def _run(ansible_playbook, tmp_path, server, host, **options):
    extra = {
        "health_kubeconfig": str(server.kubeconfig),
        "health_become": False,
        "health_kubernetes_version": VERSION,
        "health_report_dir": str(tmp_path / "report"),
        **host["vars"],
        **options.pop("extra_vars", {}),
    }
    (tmp_path / "report").mkdir(exist_ok=True)
    return ansible_playbook(PLAYBOOK, groups=["control_plane"], extra_vars=extra, env=host["env"], **options)


def _findings(run, above_info=True):
    lines = [line.split(" ", 2) for line in run.task(SHOW).result["msg"] if line != "no findings"]
    return [line for line in lines if line[0] != "info"] if above_info else lines


def _wait_pdb_blocked(server, path):
    for _attempt in range(100):
        _status, pdb = server.request("GET", path)
        status = pdb.get("status") or {}
        if status.get("expectedPods") and status.get("disruptionsAllowed") == 0:
            return
        time.sleep(0.1)
    raise AssertionError(f"the PDB never settled: {pdb.get('status')}")


def test_clean_cluster_reports_nothing_above_info(ansible_playbook, tmp_path, cluster, host):
    run = _run(ansible_playbook, tmp_path, cluster, host, extra_vars={"health_fail_at": "warning"})
    assert run.rc == 0, run.stdout[-3000:]
    assert _findings(run) == []
    assert not any(task.changed for task in run.tasks if task.name != "Write health.json and health.md")
    report = json.loads((tmp_path / "report" / "health.json").read_text())
    assert report["worst"] == "info"
    # What a clean cluster still says: no snapshot taken, this control plane has no manifest to find /readyz in, and
    # the kubelet's certificates' expiry.
    assert {(f["object"], f["message"].split(",")[0]) for f in report["findings"]} == {
        ("etcd", "no etcd snapshot on the control planes (kubeforge.cluster.etcd_backup)"),
        ("Host/localhost", "/readyz not read: no kube-apiserver manifest with --advertise-address and --secure-port"),
        ("Host/localhost", "no etcd static pod manifest: etcd not read (external etcd?)"),
        ("Host/localhost/kubelet-client-current.pem", "expires in 364 days"),
        ("Host/localhost/kubelet.crt", "expires in 364 days"),
        (
            "Host/localhost/certs-renew-timer",
            "no certificate renewal timer (kubeforge.cluster.certs -e certs_renew_timer=true)",
        ),
    }


def test_drift_is_reported_worst_first(ansible_playbook, tmp_path, cluster, host):
    # The host: a kubelet binary of another version, a kubeadm certificate expiring in 5 days and one expired, and a
    # kubelet client certificate expiring in 5 days.
    host["vars"]["health_kubelet_path"] = _double(host["bin"], "kubelet", "1.36.9")
    soon = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=5, hours=1)
    gone = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=1)
    state = host["root"] / "var" / "lib" / "kubeadm-double"
    state.mkdir(parents=True)
    (state / "certs.json").write_text(
        json.dumps({"expires": {"apiserver": soon.isoformat(), "front-proxy-client": gone.isoformat()}})
    )
    _certificate(host["pki"] / "kubelet-client-current.pem", 5)
    # A node under memory pressure whose kubelet reports another version.
    status = {
        "status": {
            "conditions": [
                {"type": "Ready", "status": "True", "reason": "KubeletReady"},
                {"type": "MemoryPressure", "status": "True", "reason": "KubeletHasInsufficientMemory"},
            ],
            "nodeInfo": {"kubeletVersion": "v1.36.4"},
        }
    }
    code, answer = cluster.request("PATCH", "/api/v1/nodes/node-1/status", status, content_type=MERGE)
    assert code == HTTP_OK, answer
    # A crash-looping kube-system workload and a PodDisruptionBudget that allows no disruption.
    crash = {"kubesim.kubeforge.io/exit-code": "1"}
    _post(
        cluster,
        "/apis/apps/v1/namespaces/kube-system/deployments",
        _deployment("dns", 1, {"a": "dns"}, crash),
    )
    _post(cluster, "/apis/apps/v1/namespaces/default/deployments", _deployment("web", 2, {"app": "web"}))
    pdb = {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"minAvailable": 2, "selector": {"matchLabels": {"app": "web"}}},
    }
    _post(cluster, "/apis/policy/v1/namespaces/default/poddisruptionbudgets", pdb)
    _wait_pdb_blocked(cluster, "/apis/policy/v1/namespaces/default/poddisruptionbudgets/web")

    def settled():
        run = _run(ansible_playbook, tmp_path, cluster, host)
        assert run.rc == 0, run.stdout[-3000:]
        return _findings(run)

    findings = settled()
    for _attempt in range(5):  # the crash loop shows once kubesim's kubelet restarted the container
        if any(f[0] == "critical" for f in findings):
            break
        findings = settled()
    severities = [f[0] for f in findings]
    assert severities == sorted(severities, key=SEVERITIES.index), findings
    objects = {(f[0], f[1]) for f in findings}
    dns_pod = next(f[1] for f in findings if f[1].startswith("Pod/kube-system/dns-"))
    assert objects == {
        ("critical", dns_pod),
        ("critical", "Certificate/localhost/front-proxy-client"),
        ("warning", "Certificate/localhost/apiserver"),
        ("warning", "Host/localhost/kubelet-client-current.pem"),
        ("warning", "Host/localhost"),
        ("warning", "Node/node-1"),
        ("warning", "PodDisruptionBudget/default/web"),
    }, findings
    messages = {f[2] for f in findings}
    assert "kubelet binary v1.36.9, the inventory says v1.37.0" in messages
    assert any(m.startswith("expires in 5 days (") for m in messages), messages
    assert any(m.startswith("expired (") for m in messages), messages
    assert any(m.startswith("expires in 4 days, ") or m.startswith("expires in 5 days, ") for m in messages), messages
    assert "not Ready (CrashLoopBackOff)" in messages
    assert "MemoryPressure (KubeletHasInsufficientMemory)" in messages
    assert "kubelet v1.36.4, the cluster is v1.37.0" in messages
    pdb_line = next(f[2] for f in findings if f[1] == "PodDisruptionBudget/default/web")
    assert pdb_line.startswith("allows no disruption now (2 healthy, 2 required): a drain of node-")
    report = json.loads((tmp_path / "report" / "health.json").read_text())
    assert report["worst"] == "critical"
    assert "| critical | workloads |" in (tmp_path / "report" / "health.md").read_text()

    again = _run(ansible_playbook, tmp_path, cluster, host)
    assert not any(task.changed for task in again.tasks), "a second run with the same findings changed something"
    check = _run(ansible_playbook, tmp_path, cluster, host, check=True)
    assert not any(task.changed for task in check.tasks)
    assert _findings(check, above_info=False) == _findings(again, above_info=False)

    failing = _run(ansible_playbook, tmp_path, cluster, host, extra_vars={"health_fail_at": "warning"})
    assert failing.rc != 0
    assert failing.task("Fail at the chosen severity").msg.startswith("8 finding(s) at or above warning: ")


def test_bad_input_is_refused(ansible_playbook, tmp_path, cluster, host):
    run = _run(ansible_playbook, tmp_path, cluster, host, extra_vars={"health_fail_at": "severe"})
    assert run.rc != 0
    assert run.task("Check the request").msg == "health_fail_at must be one of critical, warning, info (is 'severe')."
    run = _run(ansible_playbook, tmp_path, cluster, host, extra_vars={"health_hosts": "no-such-host"})
    assert run.rc != 0
    assert run.task("Check the hosts").msg.startswith("health_hosts 'no-such-host' matches no host of the inventory")
    assert not any(task.name == "Read the nodes" for task in run.tasks)


def test_control_plane_findings(ansible_playbook, tmp_path, cluster, host):
    # A kube-apiserver manifest whose address does not answer, and a two-day-old etcd snapshot.
    kubernetes = tmp_path / "kubernetes"
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    _manifest(kubernetes, "127.0.0.1", port)
    snapshots = tmp_path / "snapshots"
    snapshots.mkdir()
    old = snapshots / "etcd-localhost-20261203T000000Z.db"
    old.write_text("snapshot")
    stamp = time.time() - 48 * 3600
    os.utime(old, (stamp, stamp))
    extra = {
        "etcd_kubernetes_dir": str(kubernetes),
        "etcd_snapshot_dir": str(snapshots),
        "health_readyz_timeout": 2,
    }
    run = _run(ansible_playbook, tmp_path, cluster, host, extra_vars=extra)
    assert run.rc == 0, run.stdout[-3000:]
    findings = _findings(run)
    assert [f[:2] for f in findings] == [["critical", "Host/localhost"], ["warning", "etcd"]], findings
    assert findings[0][2].startswith("/readyz not ready: "), findings
    assert re.fullmatch(r"newest snapshot 48\.[01] h old, on localhost", findings[1][2]), findings


def _manifest(kubernetes, address, port, ca_file=None):
    """A kube-apiserver static pod manifest as kubeadm writes it (--advertise-address, --secure-port), and the CA."""
    (kubernetes / "manifests").mkdir(parents=True)
    (kubernetes / "pki").mkdir()
    (kubernetes / "pki" / "ca.crt").write_text(Path(ca_file).read_text() if ca_file else "")
    command = ["kube-apiserver", f"--advertise-address={address}", f"--secure-port={port}"]
    manifest = {"apiVersion": "v1", "kind": "Pod", "spec": {"containers": [{"name": "a", "command": command}]}}
    (kubernetes / "manifests" / "kube-apiserver.yaml").write_text(json.dumps(manifest))


def test_readyz_is_read_from_the_test_server(ansible_playbook, tmp_path, cluster, host):
    # The API test server answers /readyz to anonymous clients as kube-apiserver does (system:public-info-viewer);
    # health.yml sends no credential. Ready = an info line; a failing check (etcd away) = critical, naming it.
    url = urlsplit(cluster.url)
    kubernetes = tmp_path / "kubernetes"
    _manifest(kubernetes, url.hostname, url.port, cluster.ca_file)
    extra = {"etcd_kubernetes_dir": str(kubernetes), "health_readyz_timeout": 2, "health_fail_at": "warning"}
    run = _run(ansible_playbook, tmp_path, cluster, host, extra_vars=extra)
    assert run.rc == 0, run.stdout[-3000:]
    readyz = f"https://{url.hostname}:{url.port}/readyz"
    assert ["info", "Host/localhost", f"/readyz ok ({readyz})"] in _findings(run, above_info=False)
    assert _findings(run) == []

    faults = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "kubesim-faults", "namespace": "kube-system"},
        "data": {"failing-checks": json.dumps(["etcd", "etcd-readiness"])},
    }
    _post(cluster, "/api/v1/namespaces/kube-system/configmaps", faults)
    extra.pop("health_fail_at")
    run = _run(ansible_playbook, tmp_path, cluster, host, extra_vars=extra)
    assert run.rc == 0, run.stdout[-3000:]
    assert _findings(run) == [
        ["critical", "Host/localhost", f"/readyz not ready: failing checks etcd, etcd-readiness ({readyz})"]
    ]
    assert not any(task.changed for task in run.tasks if task.name != "Write health.json and health.md")


def _init_cluster(ansible_playbook, tmp_path, cluster, host, settings):
    """The control_plane role renders its kubeadm configuration (its own config tasks) and the kubeadm double runs
    `kubeadm init` with it against the test server, as site.yml does: the double writes /var/lib/kubelet/config.yaml
    and stores kube-system/kubeadm-config and kube-system/kubelet-config the way kubeadm does."""
    link = host["root"] / "etc" / "kubeadm-double"
    link.mkdir(parents=True)
    (link / "apiserver.kubeconfig").write_text(Path(cluster.kubeconfig).read_text())
    config = tmp_path / "kubeadm-config.yaml"
    render = {"ansible.builtin.include_role": {"name": "kubeforge.cluster.control_plane", "tasks_from": "config"}}
    extra = {**settings, "control_plane_config_path": str(config)}
    run = ansible_playbook([render], groups=["control_plane"], extra_vars=extra, env=host["env"])
    assert run.rc == 0, run.stdout[-3000:]
    kubeadm = host["vars"]["health_kubeadm_path"]
    subprocess.run(
        [kubeadm, "init", "--config", str(config), "--skip-token-print"],
        env={**os.environ, **host["env"]},
        check=True,
        capture_output=True,
    )


def test_kubelet_and_cluster_configuration_drift(ansible_playbook, tmp_path, cluster, host):
    # The inventory: the control_plane role's settings (a KubeletConfiguration field among them).
    settings = {
        "control_plane_kubernetes_version": VERSION,
        "control_plane_advertise_address": "127.0.0.1",
        "control_plane_kubeadm_path": host["vars"]["health_kubeadm_path"],
        "control_plane_kubelet_config": {"maxPods": 110},
        "control_plane_ignore_preflight_errors": ["all"],  # this machine's ports are not the test's
        "control_plane_skip_phases": ["addon/kube-proxy", "addon/coredns"],
        # v1beta3 (still read by kubeadm 1.37): its extraArgs map is stored as v1beta4's list - not drift.
        "control_plane_kubeadm_api_version": "kubeadm.k8s.io/v1beta3",
        "control_plane_cluster_config": {"apiServer": {"extraArgs": {"audit-log-maxage": "30"}}},
    }
    _init_cluster(ansible_playbook, tmp_path, cluster, host, settings)
    _status, stored = cluster.request("GET", "/api/v1/namespaces/kube-system/configmaps/kubeadm-config")
    stored = yaml.safe_load(stored["data"]["ClusterConfiguration"])
    assert stored["apiVersion"] == "kubeadm.k8s.io/v1beta4"
    assert stored["apiServer"]["extraArgs"] == [{"name": "audit-log-maxage", "value": "30"}]
    kubelet_config = host["root"] / "var" / "lib" / "kubelet" / "config.yaml"
    written = yaml.safe_load(kubelet_config.read_text())
    assert written["maxPods"] == settings["control_plane_kubelet_config"]["maxPods"]
    assert written["clusterDNS"] == ["10.96.0.10"]  # kubeadm's defaults added (the 10th address of the service net)
    probe = {
        "health_drift": True,
        "health_drift_probes": ["kubelet", "cluster_configuration"],
        "health_kubelet_config_path": str(kubelet_config),
        **settings,
    }
    clean = _run(ansible_playbook, tmp_path, cluster, host, extra_vars={**probe, "health_fail_at": "warning"})
    assert clean.rc == 0, clean.stdout[-3000:]
    assert _findings(clean) == []

    # Drift: the kubelet's file edited behind the roles' back; the inventory now asks for another pod subnet,
    # another endpoint and a newer version than the cluster runs.
    written.update({"maxPods": 120, "cgroupDriver": "cgroupfs"})
    kubelet_config.write_text(yaml.safe_dump(written))
    probe.update(
        {
            "control_plane_pod_subnet": "10.245.0.0/16",
            "control_plane_endpoint": "10.0.0.99:6443",
            "control_plane_kubernetes_version": "v1.37.1",
        }
    )
    drifted = _run(ansible_playbook, tmp_path, cluster, host, extra_vars=probe)
    assert drifted.rc == 0, drifted.stdout[-3000:]
    findings = _findings(drifted)
    severities = [f[0] for f in findings]
    assert severities == sorted(severities, key=SEVERITIES.index), findings
    stored = "ConfigMap/kube-system/kubeadm-config"
    assert sorted(findings) == sorted(
        [
            ["critical", stored, "networking.podSubnet 10.244.0.0/16 in the cluster, the inventory says 10.245.0.0/16"],
            [
                "critical",
                stored,
                "controlPlaneEndpoint 127.0.0.1:6443 in the cluster, the inventory says 10.0.0.99:6443",
            ],
            [
                "warning",
                stored,
                "kubernetesVersion v1.37.0 in the cluster, the inventory says v1.37.1 "
                "(behind: kubeforge.cluster.upgrade)",
            ],
            [
                "warning",
                stored,
                'apiServer.certSANs ["127.0.0.1"] in the cluster, the inventory says ["10.0.0.99", "127.0.0.1"]',
            ],
            ["critical", "Host/localhost", f"cgroupDriver cgroupfs in {kubelet_config}, the inventory says systemd"],
            ["warning", "Host/localhost", f"maxPods 120 in {kubelet_config}, the inventory says 110"],
        ]
    ), findings
    assert not any(task.changed for task in drifted.tasks if task.name != "Write health.json and health.md")
    check = _run(ansible_playbook, tmp_path, cluster, host, extra_vars=probe, check=True)
    assert not any(task.changed for task in check.tasks)
    assert _findings(check) == findings


def test_drift_fields_compare_only_what_the_inventory_sets(ansible_playbook):
    # health_drift_fields.json.j2 on its own: kubeadm's additions (staticPodPath) are not drift, durations compare by
    # value (kubeadm writes 2m as 2m0s), lists as a whole; a changed or missing field is, with the given severity.
    want = {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "cgroupDriver": "systemd",
        "imageMinimumGCAge": "2m",
        "clusterDNS": ["10.96.0.10"],
        "evictionHard": {"memory.available": "100Mi", "nodefs.available": "10%"},
        "maxPods": 110,
        "apiServer": {"extraArgs": {"audit-log-maxage": "30"}},  # v1beta3's map; kubeadm stores v1beta4's list
    }
    have = {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "cgroupDriver": "cgroupfs",
        "imageMinimumGCAge": "2m0s",
        "clusterDNS": ["10.96.0.10"],
        "evictionHard": {"memory.available": "200Mi"},
        "maxPods": 110,
        "staticPodPath": "/etc/kubernetes/manifests",
        "apiServer": {"extraArgs": [{"name": "audit-log-maxage", "value": "30"}]},
    }
    template = str(REPO / "playbooks" / "templates" / "health_drift_fields.json.j2")
    settings = {"health_want": want, "health_have": have, "health_object": "Host/h", "health_where": "in F"}
    task = {
        "ansible.builtin.debug": {
            "msg": "{{ lookup('ansible.builtin.template', template, template_vars=settings) | from_json }}"
        },
        "vars": {"template": template, "settings": {**settings, "health_critical": ["cgroupDriver"]}},
    }
    run = ansible_playbook([task])
    assert run.rc == 0, run.stdout[-3000:]
    assert sorted((f["severity"], f["field"], f["message"]) for f in run.last.msg) == [
        ("critical", "cgroupDriver", "cgroupDriver cgroupfs in F, the inventory says systemd"),
        (
            "warning",
            "evictionHard.memory.available",
            "evictionHard.memory.available 200Mi in F, the inventory says 100Mi",
        ),
        (
            "warning",
            "evictionHard.nodefs.available",
            "evictionHard.nodefs.available not set in F, the inventory says 10%",
        ),
    ]


def test_certificate_renewal_timer_last_run(ansible_playbook, tmp_path, cluster, host):
    # certs.yml's renewal timer (tests/integration/etcd/test_certs_renew_timer.py writes these files for real): its
    # timer unit, and the stamp its script writes, in each state health.yml tells apart.
    units, stamp = tmp_path / "systemd", tmp_path / "certs-renew.json"
    units.mkdir()
    (units / "kubeforge-certs-renew.timer").write_text("[Timer]\nOnCalendar=daily\n")
    extra = {"certs_renew_timer_systemd_dir": str(units), "certs_renew_timer_stamp": str(stamp)}
    now = time.time()
    ok = {
        "result": "renewed",
        "renewed": ["apiserver"],
        "min_days": 364,
        "error": "",
        "finished": "2026-12-05T03:00:41+00:00",
    }
    failed = {
        "result": "failed",
        "min_days": None,
        "finished": "2026-12-05T03:00:02+00:00",
        "error": "KubeforgeError: kubeadm certs renew failed (rc=1): permission denied",
    }
    cases = [
        (None, None, ("warning", "installed but never ran")),
        (
            {**ok, "finished_epoch": now - 600},
            None,
            ("info", "last ran 0.2 h ago (2026-12-05T03:00:41+00:00): renewed apiserver, 364 days left"),
        ),
        (
            {**ok, "finished_epoch": now - 72 * 3600},
            None,
            ("warning", "last ran 72.0 h ago (2026-12-05T03:00:41+00:00): renewed apiserver, 364 days left"),
        ),
        (
            {**failed, "finished_epoch": now},
            None,
            ("warning", "last run failed at 2026-12-05T03:00:02+00:00: " + failed["error"]),
        ),
        (
            {**failed, "finished_epoch": now},
            5,
            (
                "critical",
                "last run failed at 2026-12-05T03:00:02+00:00: "
                + failed["error"]
                + ", and a certificate is expired or within 30 days",
            ),
        ),
    ]
    # systemd's word on the service's last run (`systemctl show UNIT --property=Result` prints `Result=<result>`:
    # success, exit-code, signal, timeout...; man systemd.exec, $SERVICE_RESULT): a systemctl on PATH that answers
    # only that call, as the real one does for a service whose last run exited non-zero.
    fake = tmp_path / "systemctl-bin"
    fake.mkdir()
    (fake / "systemctl").write_text(
        '#!/bin/sh\n[ "$1 $2 $3" = "show kubeforge-certs-renew.service --property=Result" ] || exit 1\n'
        "echo Result=exit-code\n"
    )
    (fake / "systemctl").chmod(0o755)
    systemd_env = {"PATH": f"{fake}{os.pathsep}{os.environ['PATH']}"}
    cases.append(
        (
            {**ok, "finished_epoch": now},
            None,
            (
                "critical",  # the apiserver certificate pinned to 5 days by the case before
                "last run failed: systemd says the service ended with exit-code (its last stamp: renewed), "
                "and a certificate is expired or within 30 days",
            ),
            systemd_env,
        )
    )
    base_env = dict(host["env"])
    for data, apiserver_days, expected, *env in cases:
        host["env"] = {**base_env, **(env[0] if env else {})}
        if data is not None:
            stamp.write_text(json.dumps(data))
        if apiserver_days is not None:
            state = host["root"] / "var" / "lib" / "kubeadm-double"
            state.mkdir(parents=True, exist_ok=True)
            soon = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=apiserver_days, hours=1)
            (state / "certs.json").write_text(json.dumps({"expires": {"apiserver": soon.isoformat()}}))
        run = _run(ansible_playbook, tmp_path, cluster, host, extra_vars=extra)
        assert run.rc == 0, run.stdout[-3000:]
        timer = [(f[0], f[2]) for f in _findings(run, above_info=False) if f[1] == "Host/localhost/certs-renew-timer"]
        assert timer == [expected], (data, timer)
        assert not any(task.changed for task in run.tasks if task.name != "Write health.json and health.md")
