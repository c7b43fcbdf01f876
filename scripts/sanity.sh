#!/usr/bin/env bash
# Run `ansible-test sanity` on a copy of the tracked tree laid out as ansible_collections/kubeforge/cluster.
set -euo pipefail
root=${1:-$PWD/.cache/sanity}
# The shellcheck sanity test is skipped (not failed) when the program is missing: install it rather than skip.
if ! command -v shellcheck >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck >/dev/null
  else
    echo "sanity: shellcheck is missing; install it (apt-get install shellcheck) and re-run" >&2; exit 1
  fi
fi
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
# ansible-test downloads a get-pip script from ci-files.testing.ansible.com, which offline mirrors lack:
# seed its cache with an equivalent that uses ensurepip and the package index (only when no script is cached).
repo=$(pwd)
pip_version=$(python - <<'PY'
import pathlib, re, ansible_test
src = pathlib.Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py"
print(re.search(r"pip='([0-9.]+)'", src.read_text()).group(1))
PY
)
cache="$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
[ -f "$cache" ] || { mkdir -p "$(dirname "$cache")"; cp "$repo/scripts/offline-get-pip.py" "$cache"; }
cd "$dest"
git init -q && git add -A && git -c user.email=ci@invalid -c user.name=ci commit -qm sanity
ansible-test sanity --venv --python 3.12 --color no "$@"
