#!/usr/bin/env bash
# Runs a command inside the lab's network namespace, where its API servers, registry and pods are:
#   lab/exec.sh kubectl --kubeconfig ~/.cache/kubemark-lab/target.kubeconfig get nodes;  lab/exec.sh bash
# Makes the namespace if it is missing; once the command is done, deletes it again if no lab and nothing else is
# in it (a test run that stopped its lab leaves nothing behind).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
(($# > 0)) || die "usage: lab/exec.sh COMMAND [ARG...]"
in_lab_netns && exec "$@"
[ "$(id -u)" = 0 ] || die "run as root: the lab is in network namespace $NETNS"
netns_up >&2
# The command gets Ctrl-C itself (same process group); this shell only waits for it, then tidies up.
trap ':' INT TERM
rc=0
nsenter --net="$NETNS_FILE" -- "$@" || rc=$?
exec 9>"$RUN/lock"
if flock -n 9 && [ -e "$NETNS_FILE" ] && [ -z "$(netns_others)" ]; then
    lab_running=0; for c in "${COMPONENTS[@]}"; do alive "$c" && lab_running=1; done
    ((lab_running)) || netns_down >&2
fi
exit "$rc"
