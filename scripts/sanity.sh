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
  cp -P -p "$f" "$dest/$f"
done
repo=$(pwd)
# ansible-test keeps its per-test virtual environments and its get-pip cache in ~/.ansible/test (a fixed path) and
# passes only HOME and PATH on to pip: it runs with a HOME inside the clone, so a run neither reuses nor leaves
# state in the user's home. The user's pip configuration (the package index to install from) goes with it.
test_home=${KUBEFORGE_ANSIBLE_TEST_HOME:-$repo/.cache/ansible-test-home}
mkdir -p "$test_home/.config/pip"
user_pip_conf=${XDG_CONFIG_HOME:-$HOME/.config}/pip/pip.conf
if [ -f "$user_pip_conf" ]; then cp "$user_pip_conf" "$test_home/.config/pip/pip.conf"; fi
# ansible-test downloads a get-pip script from ci-files.testing.ansible.com, which offline mirrors lack:
# seed its cache with an equivalent that uses ensurepip and the package index (only when no script is cached).
pip_version=$(python - <<'PY'
import pathlib, re, ansible_test
src = pathlib.Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py"
print(re.search(r"pip='([0-9.]+)'", src.read_text()).group(1))
PY
)
cache="$test_home/.ansible/test/cache/get_pip_${pip_version//./_}.py"
[ -f "$cache" ] || { mkdir -p "$(dirname "$cache")"; cp "$repo/scripts/offline-get-pip.py" "$cache"; }
cd "$dest"
git init -q && git add -A && git -c user.email=ci@invalid -c user.name=ci commit -qm sanity
HOME=$test_home ansible-test sanity --venv --python 3.12 --color no "$@"
