#!/bin/sh
# Usage: missing-kernel-modules.sh NAME[:EVIDENCE_PATH]...
# Prints every NAME that is neither loaded nor built into the running kernel. A module counts as present when
# /sys/module/NAME exists (loaded, or built in with parameters), when modules.builtin lists it, or when its
# EVIDENCE_PATH exists (a built-in module without parameters, e.g. br_netfilter -> /proc/sys/net/bridge).
builtin_list="/lib/modules/$(uname -r)/modules.builtin"
for spec in "$@"; do
    name=${spec%%:*}
    evidence=${spec#*:}
    [ -e "/sys/module/$name" ] && continue
    [ "$evidence" != "$spec" ] && [ -e "$evidence" ] && continue
    grep -qs "/$name\.ko" "$builtin_list" && continue
    echo "$name"
done
