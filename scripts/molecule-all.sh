#!/usr/bin/env bash
# Run `molecule test` for every scenario under extensions/molecule (or only those named as arguments),
# one after the other, print one summary line per scenario with its time, and exit non-zero when any failed.
# Logs: .cache/molecule/<scenario>.log (also streamed). Needs the test images: run scripts/host-setup.sh first.
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
REPO_ROOT=$PWD
# shellcheck source=scripts/dev-env.sh
. scripts/dev-env.sh
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

# The lab of scripts/lab.sh is the user's: its containers carry the label kubeforge-lab=1 and names distinct from
# the test hosts'. Refuse to run when a lab container has a test host's name (a lab made before the names were
# distinct: the scenarios' create/destroy would remove it), and check afterwards that every lab container is left.
lab_containers() { docker ps -a --filter label=kubeforge-lab=1 --format '{{.Names}}' 2>/dev/null | sort; }
test_hosts=$(python -c 'import yaml; print("\n".join(sorted(p["name"] for p in yaml.safe_load(open("extensions/molecule/config.yml"))["platforms"])))')
lab_before=$(lab_containers)
clash=$(comm -12 <(echo "$lab_before") <(echo "$test_hosts"))
if [[ -n $clash ]]; then
    echo "molecule-all: lab container(s) ${clash//$'\n'/ } have test host names and would be removed by the scenarios;" \
        "remove the lab first ('make lab-down', then 'make lab' recreates it under its own names)" >&2
    exit 1
fi

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
if [[ -n $lab_before ]]; then
    lab_gone=$(comm -23 <(echo "$lab_before") <(lab_containers))
    if [[ -n $lab_gone ]]; then
        echo "lab            FAIL  lab container(s) removed during the tests: ${lab_gone//$'\n'/ }"
        failed=$((failed + 1))
    else
        echo "lab            untouched: ${lab_before//$'\n'/ }"
    fi
fi
for scenario in "${manual[@]}"; do
    printf '%-14s NOT RUN (manual: needs pkgs.k8s.io and registry.k8s.io or mirrors; scripts/molecule-all.sh %s)\n' \
        "$scenario" "$scenario"
done
echo "total: ${#scenarios[@]} scenarios in $((SECONDS - start_all)) s"
echo "molecule: $((${#scenarios[@]} - failed)) passed, $failed failed"
[[ $failed -eq 0 ]]
