# shellcheck shell=bash
# The environment the test and lab scripts run in (sourced by scripts/molecule-all.sh and scripts/lab.sh; the
# Makefile exports the same variables for every target). Hermetic: the venv's tools come first on PATH, the
# collection resolves by FQCN from this working tree (the .venv/collections link of `make setup`), and Ansible's,
# ansible-lint's, Molecule's and pip's state (tmp, galaxy cache, Molecule's ephemeral directories, caches) lives
# under .cache/ in this clone, never in what ~/.ansible or ~/.cache happen to hold.
kubeforge_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PATH="$kubeforge_root/.venv/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="$kubeforge_root/.venv/collections"
export ANSIBLE_ROLES_PATH="$kubeforge_root/roles"
export ANSIBLE_HOME="$kubeforge_root/.cache/ansible"
export XDG_CACHE_HOME="$kubeforge_root/.cache/xdg"
export ANSIBLE_ASYNC_DIR="$kubeforge_root/.cache/ansible/async"
export KUBECACHEDIR="$kubeforge_root/.cache/kube"
