#!/usr/bin/env bash
# Shows the kubemark lab: each component's pid and state, both clusters' nodes, the registry catalog.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
enter_netns "$@"
set +e

echo "lab dir: $LAB (target: Kubernetes $(cat "$LAB/target-version" 2>/dev/null || echo "not started yet"))"
n_up=0
for c in "${COMPONENTS[@]}"; do
    if alive "$c"; then printf '  %-32s up    pid %s\n' "$c" "$(pid_of "$c")"; n_up=$((n_up + 1))
    else printf '  %-32s down\n' "$c"; fi
done
echo "components up: $n_up/${#COMPONENTS[@]}"
if in_lab_netns; then
    echo "network namespace $NETNS:"; ip -br addr 2>/dev/null | grep -v '^veth' | sed 's/^/  /'
else
    echo "network namespace $NETNS: none"
fi
# Only from inside: from the root namespace the lab's addresses would be routed off the machine.
if [ -x "$TC_BIN/kubectl" ] && in_lab_netns; then
    echo "node cluster ($LAB/node.kubeconfig):"
    alive kube-apiserver-node && kubectl_node get nodes -o wide --request-timeout=5s 2>&1 | sed 's/^/  /'
    echo "target cluster ($LAB/target.kubeconfig):"
    alive kube-apiserver-target && kubectl_target get nodes --request-timeout=5s 2>&1 | sed 's/^/  /'
fi
echo "registry http://$REGISTRY:"
alive registry && in_lab_netns && curl -fsS --max-time 3 "http://$REGISTRY/v2/_catalog" 2>&1 | sed 's/^/  /' && echo
[ "$n_up" = "${#COMPONENTS[@]}" ]
