# Shared settings and helpers of the kubemark lab scripts (sourced by up.sh, down.sh, status.sh, selftest.sh).
set -euo pipefail

LAB_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB=${KUBEMARK_LAB_DIR:-$HOME/.cache/kubemark-lab}
TC_DIR=${KUBEMARK_TOOLCHAIN_DIR:-$HOME/.cache/kubemark-toolchain}
# The node cluster's binaries (its control plane, the worker's kubelet, kubectl).
TC_BIN=$TC_DIR/bin
RUN=$LAB/run LOGS=$LAB/logs PKI=$LAB/pki
# The Pulumi state of the lab stack (npm run demo, npm run measure:lab): it lives and dies with the lab, since
# down --purge makes new cluster credentials and a state kept elsewhere would still hold the old ones.
LAB_STATE=$LAB/state
# down --purge removes $LAB and down unmounts everything under it: it must be a folder of its own.
case "$(realpath -m "$LAB")" in
/ | /root | /home | /tmp | /var | /usr | /etc | "$(realpath -m "$HOME")") echo "refusing KUBEMARK_LAB_DIR=$LAB" >&2; exit 1 ;;
esac

# The lab's network namespace, addresses, ports and images (lab/constants.env, which the TypeScript reads too). Every
# lab daemon runs in the namespace, the lab's addresses, the pod bridge and the registry are there, and clients join
# it (lab/exec.sh). The root namespace gets no address, route, rule or net.* sysctl, and nothing in the namespace
# routes anywhere but to itself and its pods.
# shellcheck source=constants.env
source "$LAB_SRC/constants.env"
NETNS_FILE=/run/netns/$NETNS
NODE_API=$NODE_IP:$NODE_API_PORT TARGET_API=$LAB_IP:$TARGET_API_PORT
CTRD_SOCK=$RUN/containerd.sock DOCKER_SOCK=$RUN/docker.sock
# Debian's docker.io client, the daemon's own version: the newer /usr/local/bin/docker only nags about buildx.
DOCKER=/usr/bin/docker
# Every component (pidfile name), in start order.
COMPONENTS=(etcd-node etcd-target kube-apiserver-node kube-apiserver-target registry containerd dockerd
    kube-controller-manager-node kube-scheduler-node kube-controller-manager-target kube-scheduler-target kubelet)

# The releases the program is tested on (components/config/tested-releases.json); the newest is the target's default.
RELEASES_FILE=$LAB_SRC/../components/config/tested-releases.json
newest_release() { grep -o '"v[0-9]*\.[0-9]*\.[0-9]*"' "$RELEASES_FILE" | tail -n1 | tr -d '"'; }
# A target release's control plane and etcd, as toolchain/build.sh --control-plane lays them out.
target_bin_dir() { echo "$TC_DIR/k8s/$1/bin"; }

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
# The target's own release of kubectl (a kubectl more than one minor away warns), where the lab has recorded it.
kubectl_target() {
    local k; k=$(target_bin_dir "$(cat "$LAB/target-version" 2>/dev/null || echo none)")/kubectl
    [ -x "$k" ] || k=$TC_BIN/kubectl
    "$k" --kubeconfig "$LAB/target.kubeconfig" "$@"
}

# The host's own network namespace, whichever namespace the caller is in: pid 1's, or where pid 1 is shielded (as
# here), kthreadd's (pid 2; kernel threads are always in the initial namespace).
HOST_NET=/proc/1/ns/net
readlink "$HOST_NET" >/dev/null 2>&1 || HOST_NET=/proc/2/ns/net
root_net() { nsenter --net="$HOST_NET" -- "$@"; }

netns_inode() { stat -L -c %i "$NETNS_FILE" 2>/dev/null; }
in_lab_netns() { local i; i=$(netns_inode) && [ "$(readlink /proc/self/ns/net)" = "net:[$i]" ]; }

# Creates the namespace if missing, with loopback up and the lab's two addresses on it; idempotent.
netns_up() {
    mkdir -p "$RUN"
    if [ ! -e "$NETNS_FILE" ]; then
        # `ip netns add` makes /run/netns (a bind mount of itself) when it is missing: down undoes exactly that.
        [ -d /run/netns ] || touch "$RUN/made-run-netns"
        say "netns: creating $NETNS (loopback, $LAB_IP/32 target cluster, $NODE_IP/32 node cluster)"
        ip netns add "$NETNS"
    fi
    ip -n "$NETNS" link set lo up
    # Read first, then match: grep -q closing the pipe early would fail the pipeline (pipefail).
    local a have; have=$(ip -n "$NETNS" -4 -o addr show dev lo)
    for a in "$LAB_IP" "$NODE_IP"; do
        [[ "$have" == *" $a/32 "* ]] || ip -n "$NETNS" addr add "$a/32" dev lo
    done
}

# Processes inside the namespace other than the calling script and its children (pids, one a line).
netns_others() {
    local ino p q; ino=$(netns_inode) || return 0
    for p in $(find /proc -mindepth 3 -maxdepth 3 -path '/proc/[0-9]*/ns/net' -lname "net:\[$ino\]" 2>/dev/null | cut -d/ -f3); do
        q=$p
        while [ -n "$q" ] && [ "$q" != 0 ] && [ "$q" != "$$" ]; do q=$(awk '/^PPid:/ {print $2}' "/proc/$q/status" 2>/dev/null); done
        [ "$q" = "$$" ] || echo "$p"
    done
}

# Deletes the namespace unless other processes are inside (a test or bench run through lab/exec.sh that stops and
# starts the lab): they would be left in a namespace no new lab could join. The last lab:down, or lab/exec.sh once
# its command is done, deletes it.
netns_down() {
    if [ -e "$NETNS_FILE" ]; then
        local others; others=$(netns_others | tr '\n' ' ')
        if [ -n "$others" ]; then
            ip -n "$NETNS" link del "$CNI_BR" 2>/dev/null || true
            say "netns: keeping $NETNS, other processes are inside (pids ${others% })"
            return 0
        fi
        say "netns: deleting $NETNS"
        ip netns del "$NETNS"
    fi
    if [ -e "$RUN/made-run-netns" ] && [ -d /run/netns ] && [ -z "$(ls -A /run/netns)" ]; then
        while mountpoint -q /run/netns; do umount /run/netns || break; done
        rmdir /run/netns 2>/dev/null || true
    fi
    [ -d /run/netns ] || rm -f "$RUN/made-run-netns"
}

# Re-runs the calling script inside the lab's namespace when it exists and the caller is outside (status, selftest).
enter_netns() {
    [ -e "$NETNS_FILE" ] && ! in_lab_netns || return 0
    [ "$(id -u)" = 0 ] || die "run as root: the lab is in network namespace $NETNS"
    exec nsenter --net="$NETNS_FILE" -- bash "$0" "$@"
}
