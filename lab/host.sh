# Host-side setup the lab needs (its network namespace, sysctls) and its exact undo (sourced by up.sh/down.sh).

# Host-wide sysctls the lab (or kubelet) changes; originals are saved once and restored by down. net.* sysctls are
# per network namespace: the lab's (net.ipv4.ip_forward, set by the bridge plugin) live and die in its own.
LAB_SYSCTLS=(fs.inotify.max_user_instances fs.inotify.max_user_watches
    vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops
    kernel.keys.root_maxkeys kernel.keys.root_maxbytes)
# What labs from before the network namespace added to the root namespace: down still removes it.
OLD_FWD_RULE=(FORWARD -i "$CNI_BR" ! -o "$CNI_BR" -m comment --comment kubemark-lab -j DROP)

host_up() {
    mkdir -p "$RUN"
    if [ ! -s "$RUN/sysctl.orig" ]; then
        local k; for k in "${LAB_SYSCTLS[@]}"; do echo "$k=$(sysctl -n "$k")"; done >"$RUN/sysctl.orig.tmp"
        mv "$RUN/sysctl.orig.tmp" "$RUN/sysctl.orig"
    fi
    # Every hollow kubelet and proxy runs as root and draws on root's inotify limits (128 instances by default).
    raise_sysctl fs.inotify.max_user_instances 8192
    raise_sysctl fs.inotify.max_user_watches 1048576
    netns_up
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
    rm -f /var/lib/cni/results/"$NETNS"-* /var/lib/kubelet/device-plugins/kubelet.sock
    local f id; for f in /var/lib/cni/results/cni-loopback-*-lo; do
        id=${f#*/cni-loopback-}; id=${id%-lo}
        [ -d "$LAB/containerd/root/io.containerd.grpc.v1.cri/sandboxes/$id" ] && rm -f "$f"
    done
    rmdir /var/lib/cni/results /var/lib/cni /var/lib/kubelet/device-plugins /var/lib/kubelet \
        /run/containerd/s /run/containerd /run/docker/plugins /run/docker 2>/dev/null || true
}

raise_sysctl() { (($(sysctl -n "$1") >= $2)) || sysctl -qw "$1=$2"; }

# A lab from before the network namespace: its bridges and firewall rule in the root namespace.
old_lab_in_root() { root_net ip link show "$OLD_LAB_IF" >/dev/null 2>&1; }
old_lab_down() {
    # Looked up in a dump first: `iptables -C` on an nft host with no filter table would create one.
    local rules; rules=$(root_net iptables-save 2>/dev/null || true)
    [[ "$rules" == *"--comment kubemark-lab"* ]] &&
        while root_net iptables -w -C "${OLD_FWD_RULE[@]}" 2>/dev/null; do root_net iptables -w -D "${OLD_FWD_RULE[@]}"; done
    local l; for l in "$CNI_BR" "$OLD_LAB_IF"; do
        root_net ip link show "$l" >/dev/null 2>&1 && { say "host: deleting interface $l of an older lab"; root_net ip link del "$l"; }
    done
    true
}

host_down() {
    host_paths_down
    old_lab_down
    if [ -s "$RUN/sysctl.orig" ]; then
        # In the root namespace: a file saved by an older lab may hold net.* keys of the host's own.
        local kv; while read -r kv; do root_net sysctl -qw "$kv" || say "host: could not restore $kv"; done <"$RUN/sysctl.orig"
        rm -f "$RUN/sysctl.orig"; say "host: sysctls restored"
    fi
    netns_down
}
