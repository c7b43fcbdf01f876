#!/usr/bin/env bash
# Build the collection tarball, install it as a user would (`ansible-galaxy collection install`, offline: the
# collection needs no other collection), and run Galaxy's importer checks on it (what galaxy.ansible.com runs on
# upload). Everything the importer and its ansible-lint read or write lives under the output directory.
set -euo pipefail
out=${1:-.cache/build}
mkdir -p "$out"
out=$(cd "$out" && pwd)
ansible-galaxy collection build --force --output-path "$out" >/dev/null
version=$(python -c 'import yaml; print(yaml.safe_load(open("galaxy.yml"))["version"])')
tarball="$out/kubeforge-cluster-$version.tar.gz"
log="$out/galaxy-importer.log"
cfg="$out/galaxy-importer.cfg"
home="$out/ansible-home"
# The importer's ansible-lint runs with ANSIBLE_COLLECTIONS_PATH=<tmp>/ansible_collections, a form ansible-core
# accepts but ansible-lint does not when it looks up `import_playbook: kubeforge.cluster.site`
# (<path>/ansible_collections/kubeforge/cluster/playbooks/site.yml): it finds the collection's own playbooks only
# through ANSIBLE_HOME's collections directory, where ansible-lint looks first. Install this tarball there, so
# they resolve to what the tarball holds, never to a copy an earlier run left in ~/.ansible/collections.
rm -rf "$home"
mkdir -p "$home/tmp"
ANSIBLE_COLLECTIONS_PATH="$home/collections" \
    ansible-galaxy collection install --offline --force -p "$home/collections" "$tarball" >/dev/null
printf '[galaxy-importer]\nRUN_ANSIBLE_TEST = False\nRUN_ANSIBLE_LINT = True\nCHECK_REQUIRED_TAGS = False\nANSIBLE_LOCAL_TMP = %s\n' \
    "$home/tmp" >"$cfg"
# The importer writes importer_result.json into its working directory: keep it beside the tarball.
if ! (cd "$out" && ANSIBLE_HOME="$home" GALAXY_IMPORTER_CONFIG="$cfg" python -m galaxy_importer.main "$tarball") \
    >"$log" 2>&1; then
    cat "$log"
    echo "galaxy-importer: import of $tarball failed" >&2
    exit 1
fi
# The importer exits 0 on lint findings: treat its errors and warnings as failures too.
if grep -E '^(ERROR|WARNING)' "$log"; then
    echo "galaxy-importer: findings above" >&2
    exit 1
fi
echo "galaxy-importer: $(basename "$tarball") imported cleanly"
