"""Testinfra checks of kubeforge.cluster.cni_plugins: the reference plugins are in /opt/cni/bin and run."""

testinfra_hosts = ["ansible://nodes"]

PLUGINS = ["bridge", "host-local", "loopback", "portmap", "bandwidth", "firewall"]


def test_reference_plugins_present(host):
    for plugin in PLUGINS:
        binary = host.file(f"/opt/cni/bin/{plugin}")
        assert binary.exists, plugin
        assert binary.mode & 0o111, plugin


def test_plugin_answers_the_cni_version_command(host):
    # CNI_COMMAND=VERSION is the spec's way to ask a plugin which CNI spec versions it supports.
    out = host.check_output("CNI_COMMAND=VERSION /opt/cni/bin/bridge </dev/null")
    assert '"supportedVersions"' in out
    assert "1.0.0" in out
