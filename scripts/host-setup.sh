#!/usr/bin/env bash
# Prepare this machine for the Molecule test hosts (docs/test-hosts.md):
#   1. a Docker engine: use one that answers; else install Debian's docker.io (apt, root) and start
#      dockerd in the background (PID file + log file; never touches a dockerd it did not start);
#   2. when the capability bounding set lacks capabilities that `--privileged` asks for, a runc wrapper
#      (tests/docker/runc-capfilter) as Docker's default runtime, set in daemon.json;
#   3. the cached systemd base images kubeforge/debian-systemd:{bookworm,trixie} (debootstrap);
#   4. a cached busybox docker-archive tarball for nested containerd tests.
# Idempotent: a second run finds everything in place and starts or builds nothing.
# Settings (environment): KUBEFORGE_STATE_DIR (PID/log/cache, default /var/lib/kubeforge-host-setup),
# KUBEFORGE_DEBIAN_MIRROR (default http://deb.debian.org/debian), KUBEFORGE_IMAGE_SUITES
# (default "bookworm trixie"), DOCKER (client, default docker).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE_DIR="${KUBEFORGE_STATE_DIR:-/var/lib/kubeforge-host-setup}"
MIRROR="${KUBEFORGE_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SUITES="${KUBEFORGE_IMAGE_SUITES:-bookworm trixie}"
DOCKER="${DOCKER:-docker}"
IMAGE_REPO="kubeforge/debian-systemd"
PIDFILE="$STATE_DIR/dockerd.pid"
LOGFILE="$STATE_DIR/dockerd.log"
DAEMON_JSON="/etc/docker/daemon.json"
WRAPPER="/usr/local/libexec/kubeforge/runc-capfilter"
BUSYBOX_TAR="${KUBEFORGE_BUSYBOX_TAR:-$REPO_ROOT/.cache/test-images/busybox-image.tar}"
BASE_PACKAGES="systemd,systemd-sysv,dbus,python3,python3-apt,sudo,iproute2,iputils-ping,procps,ca-certificates,kmod"
export DOCKER_BUILDKIT=0

START_ALL=$SECONDS
STEP_START=$SECONDS
step() { STEP_START=$SECONDS; echo "host-setup: $*"; }
done_step() { echo "host-setup:   done in $((SECONDS - STEP_START)) s"; }
die() {
    echo "host-setup: ERROR: $*" >&2
    exit 1
}

if [[ $(id -u) -eq 0 ]]; then
    SUDO=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
else
    SUDO=(false)
fi
as_root() {
    [[ ${SUDO[0]:-} != false ]] || die "'$*' needs root (or passwordless sudo)."
    "${SUDO[@]}" "$@"
}
engine_answers() { "${SUDO[@]}" "$DOCKER" info >/dev/null 2>&1 || "$DOCKER" info >/dev/null 2>&1; }
dk() { if "$DOCKER" info >/dev/null 2>&1; then "$DOCKER" "$@"; else as_root "$DOCKER" "$@"; fi; }

apt_install_missing() {
    local missing=() pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
    done
    [[ ${#missing[@]} -eq 0 ]] && return 0
    command -v apt-get >/dev/null || die "missing ${missing[*]}; this script installs them with apt (Debian/Ubuntu) only."
    [[ ${SUDO[0]:-} != false ]] || die "missing ${missing[*]}: install them (apt-get install ${missing[*]}) or run as root."
    step "apt-get install ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null ||
        { as_root apt-get update -q >/dev/null && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; }
    done_step
}

# --- capabilities -------------------------------------------------------------------------------
missing_caps() {
    # Bits 0..cap_last_cap absent from this process's bounding set (dockerd inherits the same set).
    local bnd last bit out=()
    bnd=$((16#$(awk '/^CapBnd:/ {print $2}' /proc/self/status)))
    last=$(cat /proc/sys/kernel/cap_last_cap)
    for ((bit = 0; bit <= last; bit++)); do
        ((bnd & (1 << bit))) || out+=("$bit")
    done
    echo "${out[*]}"
}

# Writes daemon.json from the existing one plus the wrapper as default runtime; prints "changed" when it did.
write_daemon_json() {
    as_root install -d -m 0755 "$(dirname "$WRAPPER")" /etc/docker
    # The wrapper execs /usr/bin/python3 (see its docstring).
    [[ -x /usr/bin/python3 ]] || apt_install_missing python3
    if ! cmp -s "$REPO_ROOT/tests/docker/runc-capfilter" "$WRAPPER" 2>/dev/null; then
        as_root install -m 0755 "$REPO_ROOT/tests/docker/runc-capfilter" "$WRAPPER"
    fi
    as_root python3 - "$DAEMON_JSON" "$WRAPPER" <<'PY'
import json, os, sys
path, wrapper = sys.argv[1], sys.argv[2]
data = {}
if os.path.exists(path):
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
wanted = dict(data)
wanted.setdefault("runtimes", {})["kubeforge-runc"] = {"path": wrapper}
wanted["default-runtime"] = "kubeforge-runc"
if wanted != data:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(wanted, handle, indent=2, sort_keys=True)
    print("changed")
PY
}

our_dockerd_pid() {
    local pid
    [[ -r $PIDFILE ]] || return 1
    pid=$(cat "$PIDFILE")
    [[ -n $pid && -d /proc/$pid ]] && grep -q dockerd "/proc/$pid/comm" 2>/dev/null && echo "$pid"
}

start_dockerd() {
    step "starting dockerd (log: $LOGFILE, PID file: $PIDFILE)"
    as_root install -d -m 0755 "$STATE_DIR"
    as_root bash -c "setsid dockerd >>'$LOGFILE' 2>&1 < /dev/null & echo \$! > '$PIDFILE'"
    local i
    for ((i = 0; i < 60; i++)); do
        engine_answers && break
        sleep 0.5
    done
    engine_answers || die "dockerd (PID $(cat "$PIDFILE")) did not answer within 30 s; see $LOGFILE"
    done_step
}

stop_our_dockerd() {
    local pid=$1 i
    step "stopping dockerd PID $pid (started by this script) to apply daemon.json"
    as_root kill "$pid"
    for ((i = 0; i < 60; i++)); do
        [[ -d /proc/$pid ]] || break
        sleep 0.5
    done
    [[ ! -d /proc/$pid ]] || die "dockerd PID $pid did not stop within 30 s"
    done_step
}

# --- 1+2: Docker engine ---------------------------------------------------------------------------
step "checking the Docker engine"
MISSING_CAPS=$(missing_caps)
if [[ -n $MISSING_CAPS ]]; then
    echo "host-setup:   capability bounding set lacks bits [$MISSING_CAPS]: --privileged needs the runc wrapper"
fi
if engine_answers; then
    pid=$(our_dockerd_pid || true)
    if [[ -n $MISSING_CAPS ]] && ! dk info --format '{{.DefaultRuntime}}' | grep -qx kubeforge-runc; then
        if [[ -n $pid ]]; then
            write_daemon_json >/dev/null
            stop_our_dockerd "$pid"
            start_dockerd
        else
            die "a Docker engine runs that this script did not start, and this host's capability bounding set lacks
capabilities [$MISSING_CAPS], so '--privileged' containers fail. Set '$WRAPPER' (from tests/docker/runc-capfilter)
as the engine's default runtime in $DAEMON_JSON and restart it, or stop it and run this script again."
        fi
    elif [[ -n $pid && -n $MISSING_CAPS && $(write_daemon_json) == changed ]]; then
        stop_our_dockerd "$pid"
        start_dockerd
    fi
    echo "host-setup:   engine answers (server $(dk version --format '{{.Server.Version}}'), default runtime $(dk info --format '{{.DefaultRuntime}}'))"
else
    [[ ${SUDO[0]:-} != false ]] || die "no Docker engine answers and $(id -un) is not root (no passwordless sudo).
Install and start a Docker engine (Debian/Ubuntu: 'sudo apt-get install docker.io debootstrap busybox-static', then
start dockerd), or run this script as root, or make a running engine's socket usable for $(id -un)."
    command -v dockerd >/dev/null || apt_install_missing docker.io
    [[ -z $MISSING_CAPS ]] || write_daemon_json >/dev/null
    start_dockerd
fi
done_step

# --- 3: base images -------------------------------------------------------------------------------
build_image() {
    local suite=$1 root
    root=$(as_root mktemp -d "/var/tmp/kubeforge-rootfs-$suite.XXXXXX")
    # shellcheck disable=SC2064
    trap "as_root rm -rf '$root'" RETURN
    as_root debootstrap --variant=minbase --include="$BASE_PACKAGES" "$suite" "$root" "$MIRROR" \
        >"$root.log" 2>&1 || die "debootstrap $suite failed; see $root.log"
    as_root rm -f "$root.log"
    as_root chroot "$root" /bin/sh -euc "
        : > /etc/machine-id
        rm -f /var/lib/dbus/machine-id
        systemctl mask getty@tty1.service serial-getty@console.service console-getty.service \
            apt-daily.timer apt-daily-upgrade.timer e2scrub_reap.service systemd-firstboot.service >/dev/null 2>&1 || true
        printf '%s\n' 'deb $MIRROR $suite main' 'deb $MIRROR $suite-updates main' \
            'deb http://deb.debian.org/debian-security $suite-security main' > /etc/apt/sources.list
        printf 'APT::Install-Recommends \"false\";\nAPT::Install-Suggests \"false\";\n' > /etc/apt/apt.conf.d/90kubeforge
        apt-get clean
        rm -rf /var/lib/apt/lists/* /tmp/* /var/tmp/*
        touch -d '2000-01-01' /var/lib/apt/lists /var/cache/apt
    "
    as_root tar -C "$root" -c . | dk import \
        -c 'ENV container=docker' -c 'CMD ["/lib/systemd/systemd"]' - "$IMAGE_REPO:$suite-rootfs" >/dev/null
    printf 'FROM %s\nSTOPSIGNAL SIGRTMIN+3\n' "$IMAGE_REPO:$suite-rootfs" |
        dk build -q -t "$IMAGE_REPO:$suite" - >"$root.build.log" 2>&1 || die "docker build $suite failed; see $root.build.log"
    as_root rm -f "$root.build.log"
    dk rmi "$IMAGE_REPO:$suite-rootfs" >/dev/null
}

# Wait for background jobs (PIDs), printing a line with the elapsed time every PROGRESS_SECONDS while any runs
# (the image builds take minutes). Fails when any job failed.
PROGRESS_SECONDS=${KUBEFORGE_PROGRESS_SECONDS:-20}
wait_with_progress() {
    local pid running next=$((SECONDS + PROGRESS_SECONDS)) status=0
    while :; do
        running=0
        for pid in "$@"; do
            if kill -0 "$pid" 2>/dev/null; then running=$((running + 1)); fi
        done
        [[ $running -gt 0 ]] || break
        if ((SECONDS >= next)); then
            echo "host-setup:   still building ($running of $# running), $((SECONDS - STEP_START)) s so far"
            next=$((SECONDS + PROGRESS_SECONDS))
        fi
        sleep 1
    done
    for pid in "$@"; do wait "$pid" || status=1; done
    return "$status"
}

missing_suites=()
for suite in $SUITES; do
    dk image inspect "$IMAGE_REPO:$suite" >/dev/null 2>&1 || missing_suites+=("$suite")
done
if [[ ${#missing_suites[@]} -gt 0 ]]; then
    apt_install_missing debootstrap debian-archive-keyring
    step "building ${missing_suites[*]/#/$IMAGE_REPO:} (debootstrap, in parallel)"
    pids=()
    for suite in "${missing_suites[@]}"; do
        build_image "$suite" &
        pids+=($!)
    done
    wait_with_progress "${pids[@]}" || die "an image build failed"
    done_step
else
    echo "host-setup: images $IMAGE_REPO:{${SUITES// /,}} present"
fi

# --- 4: busybox docker-archive for nested containerd tests ----------------------------------------
if [[ ! -s $BUSYBOX_TAR ]]; then
    apt_install_missing busybox-static
    step "building $BUSYBOX_TAR (busybox-static as a docker archive)"
    as_root install -d -m 0755 "$(dirname "$BUSYBOX_TAR")"
    tmp=$(mktemp -d)
    mkdir -p "$tmp/bin"
    cp /bin/busybox "$tmp/bin/busybox"
    for applet in sh echo cat ls sleep true hostname id; do ln -s busybox "$tmp/bin/$applet"; done
    tar -C "$tmp" -c . | dk import -c 'CMD ["/bin/sh"]' - kubeforge/busybox:test >/dev/null
    dk save -o "$tmp/busybox.tar" kubeforge/busybox:test
    as_root install -m 0644 "$tmp/busybox.tar" "$BUSYBOX_TAR"
    rm -rf "$tmp"
    done_step
else
    echo "host-setup: $BUSYBOX_TAR present"
fi

echo "host-setup: ready in $((SECONDS - START_ALL)) s (engine: $DOCKER, images: $SUITES, busybox: $BUSYBOX_TAR)"
