#!/usr/bin/env bash
# Local lab: three systemd containers named as in the kubeadm tutorial (kube-master, kubenode-1, kubenode-2) and
# playbooks/site.yml run against them (inventory/lab/hosts.yml).
#   scripts/lab.sh up [ansible-playbook options...]   create/start the containers, then run site.yml
#   scripts/lab.sh down                               remove the containers and their network
#   scripts/lab.sh status                             list the containers
# site.yml first checks that the package source and the image registry (or the mirrors you configured) are
# reachable; without internet access it stops there with the unreachable source named and nothing changed.
# Offline: mirror what `ansible-playbook kubeforge.cluster.artifacts` lists and pass the mirror settings, e.g.
#   scripts/lab.sh up -e @my-mirror.yml      (docs/offline.md)
# Needs Docker and the kubeforge/debian-systemd images (`make host-setup`). The lab and the Molecule scenarios use
# the same container names: run one at a time.
set -euo pipefail
cd "$(dirname "$0")/.."

LAB_IMAGE=${LAB_IMAGE:-kubeforge/debian-systemd:bookworm}
LAB_NETWORK=${LAB_NETWORK:-kubeforge-lab}
LAB_HOSTS=(kube-master kubenode-1 kubenode-2)
VENV_BIN=${VENV_BIN:-$PWD/.venv/bin}
export PATH="$VENV_BIN:$PATH"
export ANSIBLE_COLLECTIONS_PATH=${ANSIBLE_COLLECTIONS_PATH:-$PWD/.venv/collections}

die() { echo "lab: $*" >&2; exit 1; }

is_lab_container() {
    [ "$(docker inspect -f '{{ index .Config.Labels "kubeforge-lab" }}' "$1" 2>/dev/null)" = 1 ]
}

create_host() {
    local name=$1
    if docker container inspect "$name" >/dev/null 2>&1; then
        is_lab_container "$name" ||
            die "a container named $name exists and is not a lab container (a Molecule scenario?); remove it first"
        docker start "$name" >/dev/null
        return
    fi
    # The same container settings as the Molecule test hosts (extensions/molecule/config.yml).
    docker run -d --name "$name" --hostname "$name" --network "$LAB_NETWORK" \
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
    for host in "${LAB_HOSTS[@]}"; do create_host "$host"; done
    for host in "${LAB_HOSTS[@]}"; do wait_systemd "$host"; done
    echo "lab: ${LAB_HOSTS[*]} are up; running playbooks/site.yml"
    if ! ansible-playbook -i inventory/lab/hosts.yml playbooks/site.yml "$@"; then
        echo >&2
        echo "lab: site.yml stopped; its last message says why (an unreachable package source or registry is" \
            "reported by the preflight check before anything is installed). Offline option: docs/offline.md." >&2
        exit 1
    fi
    if partial_run "$@"; then
        echo "lab: checks passed; site.yml ran only in part ($*), so no cluster was set up or changed by this run"
    else
        echo "lab: cluster ready. kubectl: docker exec kube-master kubectl get nodes"
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
    for host in "${LAB_HOSTS[@]}"; do
        if docker container inspect "$host" >/dev/null 2>&1; then
            is_lab_container "$host" ||
                die "$host is not a lab container (a Molecule scenario may be running); not removing it"
            docker rm -f "$host" >/dev/null
        fi
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
