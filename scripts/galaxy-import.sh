#!/usr/bin/env bash
# Build the collection tarball and run Galaxy's importer checks on it (what galaxy.ansible.com runs on upload).
set -euo pipefail
out=${1:-.cache/build}
mkdir -p "$out"
out=$(cd "$out" && pwd)
ansible-galaxy collection build --force --output-path "$out" >/dev/null
version=$(python -c 'import yaml; print(yaml.safe_load(open("galaxy.yml"))["version"])')
tarball="$out/kubeforge-cluster-$version.tar.gz"
log="$out/galaxy-importer.log"
cfg="$out/galaxy-importer.cfg"
printf '[galaxy-importer]\nRUN_ANSIBLE_TEST = False\nRUN_ANSIBLE_LINT = True\nCHECK_REQUIRED_TAGS = False\n' > "$cfg"
# The importer writes importer_result.json into its working directory: keep it beside the tarball.
if ! (cd "$out" && GALAXY_IMPORTER_CONFIG="$cfg" python -m galaxy_importer.main "$tarball") >"$log" 2>&1; then
  cat "$log"; echo "galaxy-importer: import of $tarball failed" >&2; exit 1
fi
# The importer exits 0 on lint findings: treat its errors and warnings as failures too.
if grep -E '^(ERROR|WARNING)' "$log"; then echo "galaxy-importer: findings above" >&2; exit 1; fi
echo "galaxy-importer: $(basename "$tarball") imported cleanly"
