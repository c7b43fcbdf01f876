#!/usr/bin/env bash
# sid-download DIR PACKAGE...: download the .deb of each PACKAGE from Debian sid (unstable) into DIR, with a private
# apt state so the test host's own sources and lists stay untouched. The mirror URI is the host's own Debian mirror.
# sid's Release carries a Valid-Until date and the mirror this machine reaches can be older than the machine's clock:
# the signature is still checked, the expiry is not.
set -euo pipefail
dir=$1
shift
state=$(mktemp -d)
trap 'rm -rf "$state"' EXIT
mkdir -p "$state/lists/partial" "$state/cache/archives/partial"
uri=$(awk '$1 == "deb" && $3 !~ /security/ {print $2; exit}' /etc/apt/sources.list)
printf 'Types: deb\nURIs: %s\nSuites: sid\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    "$uri" >"$state/sid.sources"
opts=(-o "Dir::Etc::SourceList=$state/sid.sources" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$state/lists" -o "Dir::Cache=$state/cache" -o Acquire::Check-Valid-Until=false)
apt-get "${opts[@]}" update -qq
cd "$dir"
apt-get "${opts[@]}" download -qq "$@"
