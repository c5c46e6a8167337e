#!/usr/bin/env bash
# Checks a running lab for real: worker Ready, a busybox pod completes, pods reach the target API server, privileged vs unprivileged.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
[ -e "$NETNS_FILE" ] || die "no network namespace $NETNS: the lab is not up (lab/up.sh)"
enter_netns "$@"
set +e
fails=0
ok() { say "PASS: $*"; }
ko() { say "FAIL: $*"; fails=$((fails + 1)); }
k() { kubectl_node -n lab-selftest "$@"; }

kubectl_node wait --for=condition=Ready "node/$NODE_NAME" --timeout=60s >/dev/null && ok "node $NODE_NAME Ready" || ko "node $NODE_NAME not Ready"
kubectl_node delete namespace lab-selftest --ignore-not-found --wait=true >/dev/null
kubectl_node create namespace lab-selftest >/dev/null
# Pods are refused until the controller manager has made the namespace's default ServiceAccount.
for i in $(seq 40); do k get serviceaccount default >/dev/null 2>&1 && break; sleep 0.5; done
# The target kubeconfig goes in as a Secret, as the stack does; the host's static kubectl plays the in-pod client.
k create secret generic target-kubeconfig --from-file=kubeconfig="$LAB/target.kubeconfig" >/dev/null

pod() { # NAME SECURITY_CONTEXT_JSON SCRIPT
    k apply -f - >/dev/null <<YML
apiVersion: v1
kind: Pod
metadata: {name: $1}
spec:
  restartPolicy: Never
  automountServiceAccountToken: false
  terminationGracePeriodSeconds: 1
  volumes:
  - {name: kc, secret: {secretName: target-kubeconfig}}
  - {name: kubectl, hostPath: {path: $TC_BIN/kubectl, type: File}}
  containers:
  - name: c
    image: $BUSYBOX_IMAGE
    command: [sh, -c, '$3']
    securityContext: $2
    volumeMounts:
    - {name: kc, mountPath: /kc, readOnly: true}
    - {name: kubectl, mountPath: /bin/kubectl, readOnly: true}
YML
}
# Prints the container's terminated/waiting state once it settles, within 60s.
outcome() {
    local i s
    for i in $(seq 120); do
        s=$(k get pod "$1" -o jsonpath='{.status.phase} {.status.containerStatuses[0].state.waiting.reason} {.status.containerStatuses[0].state.waiting.message}{.status.containerStatuses[0].state.terminated.message}')
        case "$s" in Succeeded*|Failed*|*CreateContainerError*|*RunContainerError*|*ErrImagePull*|*ImagePullBackOff*) echo "$s"; return;; esac
        sleep 0.5
    done
    echo "timeout: $s"
}

pod reach '{}' "ip -4 -o addr show eth0; wget -q -O- http://$NODE_API/ 2>&1; wget -q -O- http://$TARGET_API/ 2>&1; kubectl --kubeconfig=/kc/kubeconfig get --raw /version && kubectl --kubeconfig=/kc/kubeconfig auth whoami"
pod unpriv '{}' 'grep CapBnd /proc/self/status; sysctl -w fs.inotify.max_user_watches=1048576'
pod priv '{"privileged": true}' 'grep CapBnd /proc/self/status; sysctl fs.inotify.max_user_instances'
pod sysresource '{"capabilities": {"add": ["SYS_RESOURCE"]}}' 'true'

r=$(outcome reach); echo "  reach: $r"; k logs reach 2>&1 | sed 's/^/    /'
case "$r" in Succeeded*) ok "busybox pod ran to completion and reached the target API server at $TARGET_API (TLS, client cert)";; *) ko "reach: $r";; esac
r=$(outcome unpriv); echo "  unpriv: $r"; k logs unpriv 2>&1 | sed 's/^/    /'
case "$r" in Failed*) ok "unprivileged container runs (and cannot write sysctls: /proc/sys is read-only)";; Succeeded*) ko "unprivileged container could write a sysctl";; *) ko "unpriv: $r";; esac
r=$(outcome priv); echo "  priv: $r"; k logs priv 2>&1 | sed 's/^/    /'
case "$r" in Succeeded*) ok "privileged container runs";; *) ko "privileged container: $r";; esac
r=$(outcome sysresource); echo "  sysresource: $r"
case "$r" in *"unable to apply caps"*) ok "capabilities.add SYS_RESOURCE fails as expected here (not in root's bounding set)";; *) ko "sysresource: $r";; esac

kubectl_node delete namespace lab-selftest --wait=false >/dev/null
((fails == 0)) && say "selftest: all passed" || say "selftest: $fails failed"
exit $((fails > 0))
