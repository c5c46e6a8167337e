#!/usr/bin/env bash
# Starts the kubemark lab (node cluster with one real worker, target cluster, registry, dockerd); a no-op when it runs.
#   lab/up.sh [--target vX.Y.Z]    the target's release (default: $KUBEMARK_LAB_TARGET_VERSION, else the newest
#                                  release of components/config/tested-releases.json); another release than the running
#                                  target's restarts the target, empty
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$LAB_SRC/pki.sh"; source "$LAB_SRC/host.sh"; source "$LAB_SRC/images.sh"; source "$LAB_SRC/components.sh"

t0=$SECONDS
TARGET_VERSION=${KUBEMARK_LAB_TARGET_VERSION:-$(newest_release)}
while (($# > 0)); do
    case "$1" in
    --target) TARGET_VERSION=${2:-}; shift 2 || shift ;;
    *) die "usage: up.sh [--target vX.Y.Z] (unknown argument '$1')" ;;
    esac
done
[[ "$TARGET_VERSION" =~ ^v1\.[0-9]+\.[0-9]+$ ]] || die "target release '$TARGET_VERSION': must be vMAJOR.MINOR.PATCH, e.g. $(newest_release)"
TARGET_BIN=$(target_bin_dir "$TARGET_VERSION")
[ "$(id -u)" = 0 ] || die "run as root (kubelet, containerd, the network namespace and sysctls need it)"
missing=()
for b in kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl; do [ -x "$TC_BIN/$b" ] || missing+=("$TC_BIN/$b"); done
for b in /usr/bin/etcd /usr/bin/containerd /usr/sbin/runc /usr/sbin/dockerd "$DOCKER" /usr/bin/docker-registry \
    /usr/lib/cni/bridge /usr/lib/cni/host-local /usr/lib/cni/loopback /usr/sbin/iptables; do [ -x "$b" ] || missing+=("$b"); done
for b in openssl curl ip nsenter go; do command -v "$b" >/dev/null || missing+=("$b"); done
((${#missing[@]} == 0)) || die "missing: ${missing[*]} (npm run toolchain; apt-get install busybox-static iptables curl)"

mkdir -p "$LAB" "$RUN" "$LOGS" "$LAB/images"
# The lock is taken once: a run re-executed inside the namespace holds it already (fd 9, inherited).
if [ "${KUBEMARK_LAB_LOCK_HELD:-}" = 9 ]; then unset KUBEMARK_LAB_LOCK_HELD
else exec 9>"$RUN/lock"; flock -n 9 || die "another lab up/down is running"; fi
target_binaries "$TARGET_VERSION"
old_lab_in_root && die "a lab from before the network namespace is running ($OLD_LAB_IF in the root namespace): lab/down.sh first"
host_up
# Everything from here on, and every daemon started, runs inside the lab's network namespace.
in_lab_netns || KUBEMARK_LAB_LOCK_HELD=9 KUBEMARK_LAB_TARGET_VERSION=$TARGET_VERSION exec nsenter --net="$NETNS_FILE" -- bash "$0"
say "lab dir: $LAB, network namespace $NETNS, target $TARGET_VERSION"
target_switch "$TARGET_VERSION"
pod_logs_up
pki_all

start_etcd node "$NODE_ETCD" /usr/bin/etcd
start_etcd target "$TARGET_ETCD" "$TARGET_BIN/etcd"
start_registry
start_containerd
wait_for "etcd-node" 30 etcd-node curl -fsS "http://127.0.0.1:$NODE_ETCD/health"
wait_for "etcd-target" 30 etcd-target curl -fsS "http://127.0.0.1:$TARGET_ETCD/health"
start_apiserver node "$NODE_IP" "$NODE_API_PORT" "$NODE_ETCD" "$NODE_SERVICE_CIDR" "$TC_BIN"
start_apiserver target "$LAB_IP" "$TARGET_API_PORT" "$TARGET_ETCD" "$TARGET_SERVICE_CIDR" "$TARGET_BIN"

wait_for containerd 30 containerd ctr --address "$CTRD_SOCK" version
start_dockerd
wait_for registry 30 registry curl -fsS "http://$REGISTRY/v2/"
wait_for dockerd 60 dockerd curl -fsS --unix-socket "$DOCKER_SOCK" http://docker/_ping
images_up

wait_for kube-apiserver-node 90 kube-apiserver-node api_ready node "$NODE_API"
wait_for kube-apiserver-target 90 kube-apiserver-target api_ready target "$TARGET_API"
say "API servers ready"
start_controller_manager node "$NODE_CM_PORT" "$TC_BIN"
start_scheduler node "$NODE_SCHEDULER_PORT" "$TC_BIN"
start_controller_manager target "$TARGET_CM_PORT" "$TARGET_BIN" \
    --allocate-node-cidrs=true --cluster-cidr="$TARGET_CLUSTER_CIDR" --node-cidr-mask-size="$TARGET_NODE_CIDR_MASK"
# Users' targets schedule pods: npm run measure loads the target through the scheduler, not by nodeName.
start_scheduler target "$TARGET_SCHEDULER_PORT" "$TARGET_BIN"
start_kubelet
wait_for kube-controller-manager-node 60 kube-controller-manager-node curl -fsSk "https://127.0.0.1:$NODE_CM_PORT/healthz"
wait_for kube-scheduler-node 60 kube-scheduler-node curl -fsSk "https://127.0.0.1:$NODE_SCHEDULER_PORT/healthz"
wait_for kube-scheduler-target 60 kube-scheduler-target curl -fsSk "https://127.0.0.1:$TARGET_SCHEDULER_PORT/healthz"
wait_for kube-controller-manager-target 60 kube-controller-manager-target curl -fsSk "https://127.0.0.1:$TARGET_CM_PORT/healthz"
# Ready as reported by the running kubelet: a Node object kept in etcd still says Ready from before a down.
node_ready() {
    local s since; since=$(stat -c %Y "$RUN/kubelet.pid")
    s=$(kubectl_node get node "$NODE_NAME" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status} {.status.conditions[?(@.type=="Ready")].lastHeartbeatTime}')
    [ "${s% *}" = True ] && (($(date -d "${s#* }" +%s) >= since))
}
wait_for "node $NODE_NAME Ready" 120 kubelet node_ready
say "node $NODE_NAME Ready"

cat >"$LAB/lab.env" <<ENV
# source me: the lab's clusters and docker daemon
export KUBEMARK_LAB_NODE_KUBECONFIG=$LAB/node.kubeconfig
export KUBEMARK_LAB_TARGET_KUBECONFIG=$LAB/target.kubeconfig
export KUBEMARK_LAB_TARGET_VERSION=$TARGET_VERSION
export KUBECONFIG=$LAB/node.kubeconfig
export DOCKER_HOST=unix://$DOCKER_SOCK
export CONTAINERD_ADDRESS=$CTRD_SOCK
ENV
say "lab up in $((SECONDS - t0))s"
echo "all of it in network namespace $NETNS: run clients there with lab/exec.sh <command> (a shell: lab/exec.sh bash)"
echo "node cluster kubeconfig:   $LAB/node.kubeconfig   (https://$NODE_API, reachable from pods too)"
echo "target cluster kubeconfig: $LAB/target.kubeconfig   (https://$TARGET_API, reachable from pods; Kubernetes $TARGET_VERSION)"
echo "registry: http://$REGISTRY (in $NETNS)   images: $PAUSE_IMAGE $BUSYBOX_IMAGE"
echo "docker:   DOCKER_HOST=unix://$DOCKER_SOCK   env file: $LAB/lab.env"
echo "stack config: kubemark:nodeKubeconfig=$LAB/node.kubeconfig kubemark:targetKubeconfig=$LAB/target.kubeconfig kubemark:initImage=$BUSYBOX_IMAGE"
