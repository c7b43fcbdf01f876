#!/usr/bin/env bash
# Local lab: three systemd containers for the kubeadm tutorial's hosts and playbooks/site.yml run against them.
# inventory/lab/hosts.yml is the one place the lab is described: its hosts keep the tutorial's names (kube-master,
# kubenode-1, kubenode-2: the containers' hostnames and network aliases), and each host's ansible_host is the
# name of its container (lab-kube-master, ...), distinct from the Molecule test hosts, so running the tests never
# touches the lab (scripts/molecule-all.sh checks that the lab's containers survive it).
#   scripts/lab.sh up [ansible-playbook options...]   create/start the containers, then run site.yml
#   scripts/lab.sh down                               remove the containers and their network (`make lab-down`)
#   scripts/lab.sh status                             list the containers
# site.yml first checks that the package source and the image registry (or the mirrors you configured) are
# reachable; without internet access it stops there with the unreachable source named and nothing changed.
# Offline: mirror what `ansible-playbook kubeforge.cluster.artifacts` lists and pass the mirror settings, e.g.
#   scripts/lab.sh up -e @my-mirror.yml      (docs/offline.md)
# Needs Docker and the kubeforge/debian-systemd images (`make host-setup`).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/dev-env.sh
. scripts/dev-env.sh
# VENV_BIN (optional) goes first on PATH: another set of tools, or stand-ins in tests (tests/unit/test_lab_script.py).
if [[ -n ${VENV_BIN:-} ]]; then export PATH="$VENV_BIN:$PATH"; fi

LAB_IMAGE=${LAB_IMAGE:-kubeforge/debian-systemd:bookworm}
LAB_NETWORK=${LAB_NETWORK:-kubeforge-lab}
LAB_INVENTORY=inventory/lab/hosts.yml

die() { echo "lab: $*" >&2; exit 1; }

# "<inventory name> <container name>" per lab host from the inventory, the control plane first.
lab_hosts() {
    ansible-inventory -i "$LAB_INVENTORY" --list | python -c '
import json, sys
inventory = json.load(sys.stdin)
control_plane = inventory.get("control_plane", {}).get("hosts", [])
for name, hostvars in sorted(inventory["_meta"]["hostvars"].items(), key=lambda i: (i[0] not in control_plane, i[0])):
    print(name, hostvars.get("ansible_host", name))
'
}

is_lab_container() {
    [ "$(docker inspect -f '{{ index .Config.Labels "kubeforge-lab" }}' "$1" 2>/dev/null)" = 1 ]
}

create_host() {
    local host=$1 name=$2
    if docker container inspect "$name" >/dev/null 2>&1; then
        is_lab_container "$name" ||
            die "a container named $name exists and is not a lab container (a Molecule scenario?); remove it first"
        docker start "$name" >/dev/null
        return
    fi
    # The same container settings as the Molecule test hosts (extensions/molecule/config.yml).
    docker run -d --name "$name" --hostname "$host" --network "$LAB_NETWORK" --network-alias "$host" \
        --privileged --cgroupns=private --tmpfs /run --tmpfs /run/lock --tmpfs /tmp \
        -v /var/lib/containerd --label kubeforge-lab=1 "$LAB_IMAGE" >/dev/null
}

wait_systemd() {
    local name=$1 state
    for _ in $(seq 60); do
        state=$(docker exec "$name" systemctl is-system-running 2>/dev/null || true)
        case "$state" in running | degraded) return 0 ;; esac
        sleep 1
    done
    die "$name: systemd did not finish booting (state: ${state:-unknown})"
}

up() {
    command -v docker >/dev/null || die "docker is missing: run 'make host-setup' first"
    docker image inspect "$LAB_IMAGE" >/dev/null 2>&1 || die "image $LAB_IMAGE is missing: run 'make host-setup' first"
    docker network inspect "$LAB_NETWORK" >/dev/null 2>&1 || docker network create "$LAB_NETWORK" >/dev/null
    local hosts host name containers=()
    hosts=$(lab_hosts) || die "cannot read $LAB_INVENTORY (run 'make setup' first)"
    while read -r host name; do
        create_host "$host" "$name"
        containers+=("$name")
    done <<<"$hosts"
    for name in "${containers[@]}"; do wait_systemd "$name"; done
    echo "lab: ${containers[*]} are up; running playbooks/site.yml"
    if ! ansible-playbook -i "$LAB_INVENTORY" playbooks/site.yml "$@"; then
        echo >&2
        echo "lab: site.yml stopped; its last message says why (an unreachable package source or registry is" \
            "reported by the preflight check before anything is installed). Offline option: docs/offline.md." >&2
        exit 1
    fi
    if partial_run "$@"; then
        echo "lab: checks passed; site.yml ran only in part ($*), so no cluster was set up or changed by this run"
    else
        echo "lab: cluster ready. kubectl: docker exec ${containers[0]} kubectl get nodes"
    fi
}

# True when the ansible-playbook options make site.yml run only in part (a tag selection, check mode, a start
# task, step mode or a listing): then its success proves the checks passed, not that the cluster is ready.
partial_run() {
    local arg
    for arg in "$@"; do
        case "$arg" in
        -t | -t* | --tags | --tags=* | --skip-tags | --skip-tags=* | -C | --check | --start-at-task | \
            --start-at-task=* | --step | --syntax-check | --list-tasks | --list-hosts | --list-tags) return 0 ;;
        esac
    done
    return 1
}

down() {
    local name
    # Every container carrying the lab label, also those of an older inventory.
    for name in $(docker ps -aq --filter label=kubeforge-lab=1); do
        docker rm -f "$name" >/dev/null
    done
    docker network rm "$LAB_NETWORK" >/dev/null 2>&1 || true
    echo "lab: removed"
}

case "${1:-}" in
up) shift; up "$@" ;;
down) down ;;
status) docker ps -a --filter label=kubeforge-lab=1 --format '{{.Names}}\t{{.Status}}' ;;
*) die "usage: scripts/lab.sh up [ansible-playbook options] | down | status" ;;
esac
