# Shared settings and helpers of the kubemark lab scripts (sourced by up.sh, down.sh, status.sh, selftest.sh).
set -euo pipefail

LAB_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB=${KUBEMARK_LAB_DIR:-$HOME/.cache/kubemark-lab}
TC_BIN=${KUBEMARK_TOOLCHAIN_DIR:-$HOME/.cache/kubemark-toolchain}/bin
RUN=$LAB/run LOGS=$LAB/logs PKI=$LAB/pki
# down --purge removes $LAB and down unmounts everything under it: it must be a folder of its own.
case "$(realpath -m "$LAB")" in
/ | /root | /home | /tmp | /var | /usr | /etc | "$(realpath -m "$HOME")") echo "refusing KUBEMARK_LAB_DIR=$LAB" >&2; exit 1 ;;
esac

# A bridge without ports stands in for a dummy interface (this kernel has no CONFIG_DUMMY);
# its address is local to the host and routable from pods through the CNI gateway.
# The target API server has .1; the node cluster (API server, worker's node IP) .2: a loopback advertise address
# would make the API server fail to publish its `kubernetes` Endpoints every 10s.
LAB_IF=kmlab0 LAB_IP=10.245.0.1 NODE_IP=10.245.0.2
CNI_BR=kmcni0 POD_CIDR=10.244.0.0/24 POD_GW=10.244.0.1
NODE_NAME=lab-worker
# Ports away from the defaults so the lab can coexist with the repo's loopback test clusters.
NODE_API=$NODE_IP:26443 TARGET_API=$LAB_IP:6443
NODE_ETCD=22379 TARGET_ETCD=22479
REGISTRY=127.0.0.1:5000
CTRD_SOCK=$RUN/containerd.sock DOCKER_SOCK=$RUN/docker.sock
PAUSE_IMAGE=$REGISTRY/lab/pause:1.0
BUSYBOX_IMAGE=$REGISTRY/lab/busybox:1.35.0
# Debian's docker.io client, the daemon's own version: the newer /usr/local/bin/docker only nags about buildx.
DOCKER=/usr/bin/docker
# Every component (pidfile name), in start order.
COMPONENTS=(etcd-node etcd-target kube-apiserver-node kube-apiserver-target registry containerd dockerd
    kube-controller-manager-node kube-scheduler-node kube-controller-manager-target kubelet)

say() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*"; }
die() { say "ERROR: $*" >&2; exit 1; }

# Replaces FILE only when stdin differs: watchers (containerd on the CNI dir) never see a half-written file.
write_if_changed() {
    local f=$1; cat >"$f.new"
    if cmp -s "$f.new" "$f"; then rm -f "$f.new"; return 1; fi
    mv "$f.new" "$f"
}

pid_of() { cat "$RUN/$1.pid" 2>/dev/null || true; }

# A pidfile counts only while its process still carries the lab dir in its command line (pid reuse).
alive() {
    local pid; pid=$(pid_of "$1")
    [ -n "$pid" ] && pid_running "$pid" && tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF -- "$LAB"
}

# setsid: the daemon must outlive the shell (and job group) that ran up.sh; the pid is written from inside.
start_bg() {
    local name=$1; shift
    mkdir -p "$RUN" "$LOGS"
    rm -f "$RUN/$name.pid"
    echo "--- $(date -u +%FT%TZ) start: $*" >>"$LOGS/$name.log"
    # 9>&-: the lab lock must not be inherited, or the daemon would hold it forever.
    setsid bash -c 'echo $$ >"$0"; exec "$@"' "$RUN/$name.pid" "$@" >>"$LOGS/$name.log" 2>&1 </dev/null 9>&- &
    local i
    for i in $(seq 50); do [ -s "$RUN/$name.pid" ] && break; sleep 0.05; done
}

# A zombie counts as gone: the daemons' parent is pid 1 here, which reaps them only after a while.
pid_running() { [ -r "/proc/$1/stat" ] && [ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" != Z ]; }

# stop_pids TIMEOUT PID...: SIGTERM to all at once, SIGKILL to whatever still runs after TIMEOUT seconds.
stop_pids() {
    local t=$1 p i; shift
    (($# == 0)) && return 0
    kill -TERM "$@" 2>/dev/null || true
    for i in $(seq $((t * 20))); do
        for p in "$@"; do pid_running "$p" && break; p=; done
        [ -z "$p" ] && return 0
        sleep 0.05
    done
    for p in "$@"; do pid_running "$p" && { say "pid $p ignored SIGTERM for ${t}s: SIGKILL"; kill -KILL "$p" 2>/dev/null || true; }; done
    sleep 0.2
}

# stop_components NAME...: stops the given components together (by pidfile), SIGKILL after $STOP_TIMEOUT s.
stop_components() {
    local c pids=() names=()
    for c in "$@"; do alive "$c" && { pids+=("$(pid_of "$c")"); names+=("$c"); }; done
    ((${#pids[@]})) && say "stopping ${names[*]} (pids ${pids[*]})"
    stop_pids "${STOP_TIMEOUT:-20}" "${pids[@]}"
    for c in "$@"; do rm -f "$RUN/$c.pid"; done
}
stop_component() { stop_components "$1"; }

# Polls a command until it succeeds; on timeout shows the component's log tail.
wait_for() {
    local what=$1 timeout=$2 log=$3; shift 3
    local end=$((SECONDS + timeout))
    until "$@" >/dev/null 2>&1; do
        if ((SECONDS >= end)); then
            [ -f "$LOGS/$log.log" ] && tail -n 25 "$LOGS/$log.log" >&2
            die "$what not ready after ${timeout}s (log: $LOGS/$log.log)"
        fi
        sleep 0.5
    done
}

kubectl_node() { "$TC_BIN/kubectl" --kubeconfig "$LAB/node.kubeconfig" "$@"; }
kubectl_target() { "$TC_BIN/kubectl" --kubeconfig "$LAB/target.kubeconfig" "$@"; }
