#!/usr/bin/env bash
# Run `ansible-test sanity` on a copy of the tracked tree laid out as ansible_collections/kubeforge/cluster.
set -euo pipefail
root=${1:-$PWD/.cache/sanity}
shift || true
dest="$root/ansible_collections/kubeforge/cluster"
rm -rf "$root"
mkdir -p "$dest"
# Tracked and new (not ignored) files only: the venv, caches and Molecule state stay out.
git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
  [ -e "$f" ] || continue
  mkdir -p "$dest/$(dirname "$f")"
  cp -p "$f" "$dest/$f"
done
cd "$dest"
git init -q && git add -A && git -c user.email=ci@invalid -c user.name=ci commit -qm sanity
ansible-test sanity --venv --python 3.12 --color no "$@"
