#!/usr/bin/env bash
# Stops the kubemark lab and undoes its host changes; safe after a failed or killed up. --wipe: also cluster state; --purge: whole lab dir.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$LAB_SRC/host.sh"

mode=${1:-}
case "$mode" in ""|--wipe|--purge) ;; *) die "usage: down.sh [--wipe|--purge]" ;; esac
t0=$SECONDS
[ -d "$LAB" ] || { say "no lab dir $LAB: nothing to do"; exit 0; }
mkdir -p "$RUN"
exec 9>"$RUN/lock"; flock -w 60 9 || die "another lab up/down is running"

cgroup_pids() { cat /dev/null /sys/fs/cgroup/*/kubepods/cgroup.procs /sys/fs/cgroup/*/kubepods/**/cgroup.procs 2>/dev/null | sort -u; }
# Processes of the lab's containerd that outlive it: its shims, found by the socket in their command line.
shim_pids() {
    local p; for p in /proc/[0-9]*; do
        tr '\0' ' ' 2>/dev/null <"$p/cmdline" | grep -qF -- "-address $CTRD_SOCK " && echo "${p#/proc/}"
    done
    true
}
lab_mounts() { awk -v pre="$LAB/" 'index($5, pre) == 1 {print $5}' /proc/self/mountinfo | sort -r; }

shopt -s globstar nullglob
say "stopping lab in $LAB"
# kubelet first, or it restarts the pods killed below.
stop_component kubelet
# Container processes die by cgroup, which works even if containerd is already dead.
for i in 1 2 3; do
    mapfile -t procs < <(cgroup_pids)
    ((${#procs[@]})) || break
    say "killing ${#procs[@]} pod processes"; kill -KILL "${procs[@]}" 2>/dev/null || true; sleep 0.5
done
stop_components kube-controller-manager-target kube-scheduler-target kube-scheduler-node kube-controller-manager-node dockerd
stop_components containerd
mapfile -t shims < <(shim_pids)
((${#shims[@]})) && say "stopping containerd shims (pids ${shims[*]})" && stop_pids 5 "${shims[@]}"
# An API server whose etcd died first hangs in shutdown; it holds no state worth waiting for.
STOP_TIMEOUT=8 stop_components kube-apiserver-target kube-apiserver-node
stop_components etcd-target etcd-node registry

# Rootfs overlays, pod volumes and pod netns (netns_mounts_under_state_dir) are all mounts under the lab dir.
for i in 1 2 3; do
    m=$(lab_mounts); [ -z "$m" ] && break
    say "unmounting $(echo "$m" | wc -l) mounts under $LAB"
    for mp in $m; do umount "$mp" 2>/dev/null || umount -l "$mp" 2>/dev/null || true; done
done
rm -rf "$LAB/containerd/state/io.containerd.grpc.v1.cri/netns"
# Every pod network is gone, so are their addresses.
rm -rf "$LAB/cni/ipam/$NETNS"
for d in /sys/fs/cgroup/*/kubepods; do find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true; done
host_down

case "$mode" in
--wipe) say "wiping cluster state (keeping pki, registry, docker, images)"
    rm -rf "$LAB"/etcd-* "$LAB/kubelet" "$LAB/containerd" "$LAB/cni" "$LAB/logs" "$LAB"/kube-* "$LAB/target-version" ;;
--purge) say "removing $LAB"; rm -rf "$LAB"; exit 0 ;;
esac

left=()
for c in "${COMPONENTS[@]}"; do alive "$c" && left+=("$c:$(pid_of "$c")"); done
[ -n "$(cgroup_pids)$(shim_pids)" ] && left+=("pod/shim processes")
[ -n "$(lab_mounts)" ] && left+=("mounts: $(lab_mounts | tr '\n' ' ')")
((${#left[@]} == 0)) || die "left behind: ${left[*]}"
say "lab down in $((SECONDS - t0))s"
