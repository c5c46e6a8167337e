#!/usr/bin/env bash
# npm run measure:lab: npm run measure against the lab stack npm run demo brought up, from the lab's network namespace
# (where its API servers are), with the toolchain's Pulumi CLI and the demo's passphrase. Extra arguments pass on.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
envfile=${KUBEMARK_TOOLCHAIN_DIR:-$HOME/.cache/kubemark-toolchain}/env.sh
[ -f "$envfile" ] || { echo "measure:lab: no toolchain at $envfile: run npm run demo first" >&2; exit 1; }
# shellcheck source=/dev/null
source "$envfile"
export PULUMI_CONFIG_PASSPHRASE=${PULUMI_CONFIG_PASSPHRASE-kubemark-lab}
source lab/lib.sh
export PULUMI_BACKEND_URL="file://$LAB_STATE"
# The target's etcd, scheduler and controller manager listen on the namespace's loopback, away from their usual ports.
metrics=()
for pair in "etcd-metrics-url=http://127.0.0.1:$TARGET_ETCD/metrics" \
    "scheduler-metrics-url=https://127.0.0.1:$TARGET_SCHEDULER_PORT/metrics" \
    "controller-manager-metrics-url=https://127.0.0.1:$TARGET_CM_PORT/metrics"; do
    [[ " $* " == *" --${pair%%=*}"* ]] || metrics+=("--${pair%%=*}" "${pair#*=}")
done
exec bash lab/exec.sh node build/measure/cli.js --stack lab "${metrics[@]}" "$@"
