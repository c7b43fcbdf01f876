#!/usr/bin/env bash
# Run `molecule test` for every scenario under extensions/molecule (or only those named as arguments),
# one after the other, print one summary line per scenario with its time, and exit non-zero when any failed.
# Logs: .cache/molecule/<scenario>.log (also streamed). Needs the test images: run scripts/host-setup.sh first.
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
REPO_ROOT=$PWD
export PATH="$REPO_ROOT/.venv/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="${ANSIBLE_COLLECTIONS_PATH:-$REPO_ROOT/.venv/collections}"
export ANSIBLE_FORCE_COLOR="${ANSIBLE_FORCE_COLOR:-0}"
LOG_DIR="$REPO_ROOT/.cache/molecule"
mkdir -p "$LOG_DIR"

manual=()
if [[ $# -gt 0 ]]; then
    scenarios=("$@")
else
    # Scenarios marked `# molecule-all: manual` in their molecule.yml (e.g. cluster-real, which needs the internet
    # or mirrors) run only when named on the command line.
    scenarios=()
    for config in extensions/molecule/*/molecule.yml; do
        name="$(basename "$(dirname "$config")")"
        if grep -q '^# molecule-all: manual' "$config"; then
            manual+=("$name")
        else
            scenarios+=("$name")
        fi
    done
fi
[[ ${#scenarios[@]} -gt 0 ]] || {
    echo "molecule-all: no scenarios under extensions/molecule" >&2
    exit 1
}

summary=()
failed=0
start_all=$SECONDS
for scenario in "${scenarios[@]}"; do
    echo "=== molecule test -s $scenario"
    start=$SECONDS
    if molecule test -s "$scenario" 2>&1 | tee "$LOG_DIR/$scenario.log"; then
        result=PASS
    else
        result=FAIL
        failed=$((failed + 1))
    fi
    summary+=("$(printf '%-14s %s %4d s  (log: .cache/molecule/%s.log)' "$scenario" "$result" $((SECONDS - start)) "$scenario")")
done

echo "=== molecule summary"
printf '%s\n' "${summary[@]}"
for scenario in "${manual[@]}"; do
    printf '%-14s NOT RUN (manual: needs pkgs.k8s.io and registry.k8s.io or mirrors; scripts/molecule-all.sh %s)\n' \
        "$scenario" "$scenario"
done
echo "total: ${#scenarios[@]} scenarios in $((SECONDS - start_all)) s"
echo "molecule: $((${#scenarios[@]} - failed)) passed, $failed failed"
[[ $failed -eq 0 ]]
