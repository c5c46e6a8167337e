# Host-side setup the lab needs (interfaces, sysctls, firewall rule) and its exact undo (sourced by up.sh/down.sh).

# Sysctls the lab (or kubelet, or the CNI bridge plugin) changes; originals are saved once and restored by down.
LAB_SYSCTLS=(fs.inotify.max_user_instances fs.inotify.max_user_watches net.ipv4.ip_forward
    vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops
    kernel.keys.root_maxkeys kernel.keys.root_maxbytes)
FWD_RULE=(FORWARD -i "$CNI_BR" ! -o "$CNI_BR" -m comment --comment kubemark-lab -j DROP)

host_up() {
    mkdir -p "$RUN"
    if [ ! -s "$RUN/sysctl.orig" ]; then
        local k; for k in "${LAB_SYSCTLS[@]}"; do echo "$k=$(sysctl -n "$k")"; done >"$RUN/sysctl.orig.tmp"
        mv "$RUN/sysctl.orig.tmp" "$RUN/sysctl.orig"
    fi
    # Every hollow kubelet and proxy runs as root and draws on root's inotify limits (128 instances by default).
    raise_sysctl fs.inotify.max_user_instances 8192
    raise_sysctl fs.inotify.max_user_watches 1048576
    if ! ip link show "$LAB_IF" >/dev/null 2>&1; then
        say "host: creating $LAB_IF with $LAB_IP/32 (target cluster) and $NODE_IP/32 (node cluster), reachable from pods"
        ip link add "$LAB_IF" type bridge
        sysctl -qw "net.ipv6.conf.$LAB_IF.disable_ipv6=1"
    fi
    local a; for a in "$LAB_IP" "$NODE_IP"; do
        ip addr show dev "$LAB_IF" | grep -qF " $a/32 " || ip addr add "$a/32" dev "$LAB_IF"
    done
    ip link set "$LAB_IF" up
    # The bridge plugin turns on ip_forward; this keeps pod traffic from leaving the machine.
    iptables -w -C "${FWD_RULE[@]}" 2>/dev/null || iptables -w -I "${FWD_RULE[@]}"
}

# kubelet v1.31 writes container logs to the hard-coded /var/log/pods: while the lab runs, that is the lab's dir.
pod_logs_up() {
    mkdir -p "$LAB/kubelet/pod-logs"
    [ -d /var/log/pods ] || { mkdir -p /var/log/pods && touch "$RUN/made-var-log-pods"; }
    mountpoint -q /var/log/pods || mount --bind "$LAB/kubelet/pod-logs" /var/log/pods
}

# Fixed paths outside the lab dir that kubelet, containerd 1.6 and dockerd use whatever they are told;
# only the lab's own entries and then-empty directories are removed.
host_paths_down() {
    while findmnt -no SOURCE /var/log/pods 2>/dev/null | grep -qF "$LAB/kubelet/pod-logs"; do umount /var/log/pods; done
    [ -e "$RUN/made-var-log-pods" ] && { rmdir /var/log/pods 2>/dev/null || true; rm -f "$RUN/made-var-log-pods"; }
    rm -f /var/lib/cni/results/kmlab-* /var/lib/kubelet/device-plugins/kubelet.sock
    local f id; for f in /var/lib/cni/results/cni-loopback-*-lo; do
        id=${f#*/cni-loopback-}; id=${id%-lo}
        [ -d "$LAB/containerd/root/io.containerd.grpc.v1.cri/sandboxes/$id" ] && rm -f "$f"
    done
    rmdir /var/lib/cni/results /var/lib/cni /var/lib/kubelet/device-plugins /var/lib/kubelet \
        /run/containerd/s /run/containerd /run/docker/plugins /run/docker 2>/dev/null || true
}

raise_sysctl() { (($(sysctl -n "$1") >= $2)) || sysctl -qw "$1=$2"; }

host_down() {
    host_paths_down
    while iptables -w -C "${FWD_RULE[@]}" 2>/dev/null; do iptables -w -D "${FWD_RULE[@]}"; done
    local l; for l in "$CNI_BR" "$LAB_IF"; do
        ip link show "$l" >/dev/null 2>&1 && { say "host: deleting interface $l"; ip link del "$l"; }
    done
    if [ -s "$RUN/sysctl.orig" ]; then
        local kv; while read -r kv; do sysctl -qw "$kv" || say "host: could not restore $kv"; done <"$RUN/sysctl.orig"
        rm -f "$RUN/sysctl.orig"; say "host: sysctls restored"
    fi
}
