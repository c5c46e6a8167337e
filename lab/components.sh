# How each lab daemon is configured, started and probed (sourced by up.sh). start_X is a no-op while X runs.

running() { alive "$1" && { say "$1: running (pid $(pid_of "$1"))"; }; }

api_ready() { # CLUSTER SERVER
    curl -fsS --max-time 3 --cacert "$PKI/$1/ca.crt" --cert "$PKI/$1/admin.crt" --key "$PKI/$1/admin.key" \
        "https://$2/readyz"
}

start_etcd() { # CLUSTER PORT ETCD_BINARY
    local n=etcd-$1 p=$2 peer=$(($2 + 1))
    running "$n" || start_bg "$n" "$3" --name="lab-$1" --data-dir="$LAB/$n" \
        --listen-client-urls="http://127.0.0.1:$p" --advertise-client-urls="http://127.0.0.1:$p" \
        --listen-peer-urls="http://127.0.0.1:$peer" --initial-advertise-peer-urls="http://127.0.0.1:$peer" \
        --initial-cluster="lab-$1=http://127.0.0.1:$peer" --listen-metrics-urls="http://127.0.0.1:$((p + 2))"
}

start_apiserver() { # CLUSTER ADDR PORT ETCD_PORT SERVICE_CIDR BIN_DIR
    local n=kube-apiserver-$1 d="$PKI/$1"
    running "$n" || start_bg "$n" "$6/kube-apiserver" \
        --etcd-servers="http://127.0.0.1:$4" --bind-address="$2" --advertise-address="$2" --secure-port="$3" \
        --cert-dir="$LAB/$n" --tls-cert-file="$d/apiserver.crt" --tls-private-key-file="$d/apiserver.key" \
        --client-ca-file="$d/ca.crt" --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction \
        --kubelet-client-certificate="$d/apiserver-kubelet-client.crt" --kubelet-client-key="$d/apiserver-kubelet-client.key" \
        --kubelet-preferred-address-types=InternalIP --service-cluster-ip-range="$5" --allow-privileged=true \
        --requestheader-client-ca-file="$d/front-proxy/ca.crt" --requestheader-allowed-names=front-proxy-client \
        --requestheader-username-headers=X-Remote-User --requestheader-group-headers=X-Remote-Group \
        --requestheader-extra-headers-prefix=X-Remote-Extra- \
        --proxy-client-cert-file="$d/front-proxy/client.crt" --proxy-client-key-file="$d/front-proxy/client.key" \
        --service-account-issuer=https://kubernetes.default.svc.cluster.local \
        --service-account-key-file="$d/sa.pub" --service-account-signing-key-file="$d/sa.key" --profiling=false
}

start_controller_manager() { # CLUSTER SECURE_PORT BIN_DIR [EXTRA_FLAG...]
    local cluster=$1 n=kube-controller-manager-$1 d="$PKI/$1" port=$2 bin=$3
    shift 3
    # No leader election: after a crash a new instance would wait out the old lease (15s).
    running "$n" || start_bg "$n" "$bin/kube-controller-manager" \
        --kubeconfig="$d/controller-manager.kubeconfig" --authentication-kubeconfig="$d/controller-manager.kubeconfig" \
        --authorization-kubeconfig="$d/controller-manager.kubeconfig" --bind-address=127.0.0.1 --secure-port="$port" \
        --cert-dir="$LAB/$n" --flex-volume-plugin-dir="$LAB/$n/flexvolume" --leader-elect=false \
        --use-service-account-credentials=true --cluster-name="lab-$cluster" \
        --service-account-private-key-file="$d/sa.key" --root-ca-file="$d/ca.crt" \
        --cluster-signing-cert-file="$d/ca.crt" --cluster-signing-key-file="$d/ca.key" --profiling=false "$@"
}

start_scheduler() { # CLUSTER SECURE_PORT BIN_DIR
    local n=kube-scheduler-$1 d="$PKI/$1"
    running "$n" || start_bg "$n" "$3/kube-scheduler" \
        --kubeconfig="$d/scheduler.kubeconfig" --authentication-kubeconfig="$d/scheduler.kubeconfig" \
        --authorization-kubeconfig="$d/scheduler.kubeconfig" --bind-address=127.0.0.1 --secure-port="$2" \
        --cert-dir="$LAB/$n" --leader-elect=false --profiling=false
}

start_registry() {
    mkdir -p "$LAB/registry/storage"
    write_if_changed "$LAB/registry/config.yml" <<YML || true
version: 0.1
log: {level: warn}
storage:
  filesystem: {rootdirectory: $LAB/registry/storage}
  delete: {enabled: true}
http: {addr: $REGISTRY}
YML
    running registry || start_bg registry /usr/bin/docker-registry serve "$LAB/registry/config.yml"
}

containerd_config() {
    local c="$LAB/containerd" cri='plugins."io.containerd.grpc.v1.cri"'
    mkdir -p "$c/certs.d/$REGISTRY" "$LAB/cni/net.d" "$LAB/cni/ipam"
    printf 'server = "http://%s"\n[host."http://%s"]\n  capabilities = ["pull", "resolve", "push"]\n' \
        "$REGISTRY" "$REGISTRY" | write_if_changed "$c/certs.d/$REGISTRY/hosts.toml" || true
    # No ipMasq: pods only talk to the lab's own addresses (API servers), so no NAT rules; the namespace has no
    # route out, so nothing a pod sends leaves it.
    write_if_changed "$LAB/cni/net.d/10-kmlab.conflist" <<JSON || true
{"cniVersion": "0.4.0", "name": "$NETNS", "plugins": [
  {"type": "bridge", "bridge": "$CNI_BR", "isGateway": true, "ipMasq": false, "hairpinMode": true,
   "ipam": {"type": "host-local", "dataDir": "$LAB/cni/ipam",
            "ranges": [[{"subnet": "$POD_CIDR", "gateway": "$POD_GW"}]], "routes": [{"dst": "0.0.0.0/0"}]}}]}
JSON
    cat <<TOML
version = 2
root = "$c/root"
state = "$c/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "$CTRD_SOCK"
[plugins."io.containerd.internal.v1.opt"]
  path = "$c/opt"
[$cri]
  sandbox_image = "$PAUSE_IMAGE"
  # Pod netns under the state dir, so down finds (and unmounts) exactly the lab's own.
  netns_mounts_under_state_dir = true
  # Root here lacks CAP_SYS_RESOURCE (bounding set), so runc cannot set the sandbox's oom_score_adj -998.
  restrict_oom_score_adj = true
[$cri.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"
[$cri.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"
[$cri.containerd.runtimes.runc.options]
  SystemdCgroup = false
  Root = "$c/runc"
[$cri.cni]
  bin_dir = "/usr/lib/cni"
  conf_dir = "$LAB/cni/net.d"
  max_conf_num = 1
[$cri.registry]
  config_path = "$c/certs.d"
TOML
}

start_containerd() {
    mkdir -p "$LAB/containerd"
    local cfg="$LAB/containerd/config.toml"
    # A changed config only takes effect in a new containerd.
    containerd_config | write_if_changed "$cfg" && stop_component containerd
    running containerd || start_bg containerd /usr/bin/containerd --config "$cfg"
}

start_dockerd() {
    local d="$LAB/docker"
    mkdir -p "$d/data" "$d/exec"
    # An empty config file keeps /etc/docker/daemon.json (if any) out; 127.0.0.0/8 registries are plain http by default.
    echo '{}' | write_if_changed "$d/daemon.json" || true
    running dockerd || start_bg dockerd /usr/sbin/dockerd --config-file="$d/daemon.json" \
        --data-root="$d/data" --exec-root="$d/exec" --pidfile="$d/dockerd.pid" -H "unix://$DOCKER_SOCK" \
        --containerd="$CTRD_SOCK" --containerd-namespace=kubemark-lab-moby \
        --containerd-plugins-namespace=kubemark-lab-moby-plugins --bridge=none --iptables=false \
        --ip-forward=false --ip-masq=false --storage-driver=overlay2 --exec-opt native.cgroupdriver=cgroupfs
}

start_kubelet() {
    local k="$LAB/kubelet" d="$PKI/node"
    mkdir -p "$k/root" "$k/pki" "$k/pod-logs" "$k/volume-plugins"
    # Pods get a resolver that answers at once: the host's nameserver is unreachable from the lab's namespace, and a
    # hollow kubelet of several per pod looks its Node name up (only the pod's own name is in /etc/hosts); each lookup
    # then timed out (10 s), held up its registration by 20 s, and at v1.37 its Ready by up to 2 min. A cluster's DNS
    # answers such a lookup at once too (no such name).
    echo "nameserver 127.0.0.1" | write_if_changed "$k/resolv.conf" && stop_component kubelet
    write_if_changed "$k/config.yaml" <<YML && stop_component kubelet
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: cgroupfs
failSwapOn: false
containerRuntimeEndpoint: unix://$CTRD_SOCK
address: $NODE_IP
healthzBindAddress: 127.0.0.1
healthzPort: 10248
readOnlyPort: 0
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $d/ca.crt}
authorization: {mode: Webhook}
podLogsDirectory: $k/pod-logs
resolvConf: $k/resolv.conf
volumePluginDir: $k/volume-plugins
# No kube-proxy in the lab: kubelet's own iptables chains would only be clutter to clean up.
makeIPTablesUtilChains: false
# Only the lab: a nearly full disk must not evict the test pods.
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%, nodefs.inodesFree: 1%}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
# Up to the pod CIDR's size (a /23): 300 hollow nodes at one per pod need more than the kubelet's 110.
maxPods: 330
YML
    running kubelet || start_bg kubelet "$TC_BIN/kubelet" --config="$k/config.yaml" \
        --kubeconfig="$d/kubelet.kubeconfig" --root-dir="$k/root" --cert-dir="$k/pki" \
        --hostname-override="$NODE_NAME" --node-ip="$NODE_IP" --v=1
}

# The target's control plane runs the release asked for (its binaries and etcd from the toolchain, built on first
# use). Its cluster state belongs to the release that wrote it: another release starts from an empty target (an etcd
# data dir is not readable by an older etcd, and an API server does not downgrade what a newer one stored).
TARGET_COMPONENTS=(kube-scheduler-target kube-controller-manager-target kube-apiserver-target etcd-target)
TARGET_STATE=("$LAB/etcd-target" "$LAB/kube-apiserver-target" "$LAB/kube-controller-manager-target" "$LAB/kube-scheduler-target")

target_binaries() { # RELEASE: builds the release's control plane into the toolchain if it is missing
    local d b missing=()
    d=$(target_bin_dir "$1")
    for b in etcd kube-apiserver kube-controller-manager kube-scheduler kubectl; do [ -x "$d/$b" ] || missing+=("$b"); done
    ((${#missing[@]} == 0)) && return 0
    say "target $1: building its control plane (${missing[*]}) into $d; about 10 min the first time"
    # The Go module proxy is reached from the host's network namespace, whichever the caller is in.
    root_net bash "$LAB_SRC/../toolchain/build.sh" --control-plane "$1" 9>&- | sed -u 's/^/    /' >&2 ||
        die "building the $1 control plane failed (npm run toolchain -- --control-plane $1 shows why)"
    for b in etcd kube-apiserver kube-controller-manager kube-scheduler kubectl; do [ -x "$d/$b" ] || die "no $d/$b after the build"; done
}

# Stops a target of another release (or one started from other binaries) and clears its state when the release
# changes; records the release the target's state belongs to.
target_switch() { # RELEASE
    local want=$1 had c d stale=()
    had=$(cat "$LAB/target-version" 2>/dev/null || true)
    d=$(target_bin_dir "$want")
    for c in "${TARGET_COMPONENTS[@]}"; do
        alive "$c" || continue
        # etcd-target runs $d/etcd (a link to the etcd build), kube-apiserver-target $d/kube-apiserver, ...
        [ "$had" = "$want" ] && [ "$(readlink "/proc/$(pid_of "$c")/exe")" = "$(readlink -f "$d/${c%-target}")" ] || stale+=("$c")
    done
    if ((${#stale[@]})); then
        say "target: stopping ${stale[*]} (release ${had:-unknown}, not $want)"
        stop_components "${TARGET_COMPONENTS[@]}"
    fi
    if [ "$had" != "$want" ]; then
        [ -n "$had" ] && say "target: $had -> $want: the target cluster starts empty"
        rm -rf "${TARGET_STATE[@]}"
        echo "$want" >"$LAB/target-version"
    fi
}
