#!/usr/bin/env bash
# pkgs-repo REPO_DIR K8S_VERSION CRICTL_VERSION BIN_DIR CRICTL_TARBALL
# Builds a signed, flat apt repository laid out like pkgs.k8s.io's (<base>/core:/stable:/v<minor>/deb/: InRelease,
# Packages, Release.key, the .debs) from the test mirror's binaries: the real kubectl, the kubelet, kubeadm and crictl
# test doubles, and Debian sid's real reference CNI plugins as kubernetes-cni. Package names, file paths and
# dependencies follow pkgs.k8s.io's packages (kubernetes/release packaging; its Packages index lists kubelet
# "Depends: iptables (>= 1.4.21), kubernetes-cni (>= 1.2.0), mount, util-linux, libc6" and kubeadm "Depends:
# kubelet (>= 1.19.0), kubectl (>= 1.19.0), kubernetes-cni (>= 1.1.1), cri-tools (>= 1.25.0)"): kubelet ships
# /usr/bin/kubelet and /usr/lib/systemd/system/kubelet.service, kubeadm the kubelet drop-in 10-kubeadm.conf,
# kubernetes-cni the plugins as regular files in /opt/cni/bin, cri-tools /usr/bin/crictl.
set -euo pipefail
repo=$1 version=$2 crictl_version=$3 bin=$4 crictl_tarball=$5
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$repo"

sid-download "$work" containernetworking-plugins
cni_deb=$(ls "$work"/containernetworking-plugins_*.deb)
cni_version=$(dpkg-deb -f "$cni_deb" Version | sed 's/[+~-].*//')
dpkg-deb -x "$cni_deb" "$work/cni"

# package NAME VERSION DEPENDS DESCRIPTION: build $work/NAME (the staged tree) into the repository.
package() {
    local name=$1 pversion=$2 depends=$3 description=$4
    mkdir -p "$work/$name/DEBIAN"
    {
        printf 'Package: %s\nVersion: %s\nArchitecture: amd64\nMaintainer: kubeforge tests <tests@kubeforge.invalid>\n' \
            "$name" "$pversion"
        [[ -z $depends ]] || printf 'Depends: %s\n' "$depends"
        printf 'Section: admin\nPriority: optional\nDescription: TEST DOUBLE of pkgs.k8s.io %s\n %s\n' "$name" "$description"
    } >"$work/$name/DEBIAN/control"
    dpkg-deb --root-owner-group -Zgzip -z1 -b "$work/$name" "$repo/${name}_${pversion}_amd64.deb" >/dev/null
}

install -D -m 0755 "$bin/kubelet" "$work/kubelet/usr/bin/kubelet"
install -D -m 0644 /dev/stdin "$work/kubelet/usr/lib/systemd/system/kubelet.service" <<'UNIT'
[Unit]
Description=kubelet: The Kubernetes Node Agent (test double package)
Wants=network-online.target
After=network-online.target

[Service]
ExecStart=/usr/bin/kubelet
Restart=always
StartLimitInterval=0
RestartSec=10

[Install]
WantedBy=multi-user.target
UNIT
package kubelet "$version-1.1" "iptables (>= 1.4.21), kubernetes-cni (>= 1.2.0), mount, util-linux, libc6" \
    "kubelet double (answers --version) and its systemd unit."

install -D -m 0755 "$bin/kubeadm" "$work/kubeadm/usr/bin/kubeadm"
install -D -m 0644 /dev/stdin "$work/kubeadm/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf" <<'UNIT'
# kubelet flags as kubeadm init/join lay them out (test double package).
[Service]
Environment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf"
Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"
EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env
EnvironmentFile=-/etc/default/kubelet
ExecStart=
ExecStart=/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS
UNIT
package kubeadm "$version-1.1" \
    "kubelet (>= 1.19.0), kubectl (>= 1.19.0), kubernetes-cni (>= 1.1.1), cri-tools (>= 1.25.0)" \
    "kubeadm contract double and the kubelet drop-in."

install -D -m 0755 "$bin/kubectl" "$work/kubectl/usr/bin/kubectl"
package kubectl "$version-1.1" "" "The real kubectl binary."

mkdir -p "$work/kubernetes-cni/opt/cni/bin"
cp -a "$work/cni/usr/lib/cni/." "$work/kubernetes-cni/opt/cni/bin/"
package kubernetes-cni "$cni_version-1.1" "" "Debian sid's reference CNI plugins $cni_version as regular files in /opt/cni/bin."

mkdir -p "$work/cri-tools/usr/bin"
tar -C "$work/cri-tools/usr/bin" -xzf "$crictl_tarball" crictl
package cri-tools "$crictl_version-1.1" "" "crictl double."

cd "$repo"
apt-ftparchive packages . >Packages
gzip -9kf Packages
apt-ftparchive release . >Release
export GNUPGHOME="$work/gnupg"
mkdir -m 0700 "$GNUPGHOME"
gpg --batch -q --pinentry-mode loopback --passphrase '' \
    --quick-gen-key 'kubeforge test repository (TEST KEY) <tests@kubeforge.invalid>' ed25519 sign never
rm -f InRelease
gpg --batch -q --clearsign -o InRelease Release
gpg --batch -q --armor --export >Release.key
