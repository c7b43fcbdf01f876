#!/bin/sh
# Usage: host-state.sh ports|no-ports
# host_prep's reads of the host in one run (tasks/preflight.yml; the text goes to sh -c), one line each:
#   uuid <product UUID, empty when the machine has none>
#   swaps <number of active swap areas in /proc/swaps>
#   fstab <number of lines of /etc/fstab that tasks/swap.yml's replace would comment out, or "missing">
#   port <a line of `ss -Hltn`>      (with "ports": the listening TCP ports, one line each)
# An unreadable /proc/swaps or a failing ss fails the read, as the slurp and the command it replaced failed.
printf 'uuid %s\n' "$(cat /sys/class/dmi/id/product_uuid 2>/dev/null)"
[ -r /proc/swaps ] || { echo "cannot read /proc/swaps" >&2; exit 1; }
printf 'swaps %s\n' "$(($(wc -l < /proc/swaps) - 1))"
# The replace's pattern (Python, multiline): ^([^#\s]\S*\s+\S+\s+swap\s.*)$ ; here per line, "swap" at the end of a
# line counted too (there \s matched the newline), so this counts every line the replace could change.
if [ -e /etc/fstab ]; then
    printf 'fstab %s\n' "$(grep -cE '^[^#[:space:]][^[:space:]]*[[:space:]]+[^[:space:]]+[[:space:]]+swap([[:space:]]|$)' /etc/fstab)"
else
    echo "fstab missing"
fi
if [ "$1" = ports ]; then
    listening=$(ss -Hltn) || exit $?
    [ -z "$listening" ] || printf '%s\n' "$listening" | sed 's/^/port /'
fi
exit 0
