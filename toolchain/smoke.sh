#!/usr/bin/env bash
# Smoke check of the toolchain built by toolchain/build.sh, fully offline.
#   bash toolchain/smoke.sh [path/to/env.sh]
# Makes a throw-away Pulumi TypeScript project (node_modules symlinked from this repo) in a temp
# dir, with its own file backend, and runs `pulumi preview` for:
#   dyn  - a pulumi.dynamic.Resource    -> language host + pulumi-resource-pulumi-nodejs
#   k8s  - a k8s.core.v1.Namespace      -> pulumi-resource-kubernetes (no cluster: seen to plan
#          the Namespace with rc 0; a kubeconfig/cluster error would also count)
#   cmd  - a command.local.Command      -> pulumi-resource-command
#   dkr  - a docker.Provider            -> pulumi-resource-docker
# Prints one line per case; exit 0 when dyn and k8s behave as expected.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PROJECT=$(cd "$HERE/.." && pwd)
ENVF=${1:-${KUBEMARK_TOOLCHAIN_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kubemark-toolchain}/env.sh}
# shellcheck disable=SC1090
source "$ENVF"
T=$(mktemp -d /tmp/kubemark-smoke.XXXXXX)
export PULUMI_BACKEND_URL="file://$T/state" PULUMI_CONFIG_PASSPHRASE=smoke
mkdir -p "$T/state"
# no cluster, and no docker daemon reachable unless one is running
export KUBECONFIG="$T/kubeconfig-does-not-exist"

mk() { # mk NAME PROGRAM
  local d=$T/$1; mkdir -p "$d"; ln -s "$PROJECT/node_modules" "$d/node_modules"
  printf 'name: smoke-%s\nruntime: nodejs\n' "$1" > "$d/Pulumi.yaml"
  printf '{"name":"smoke-%s","main":"index.ts"}\n' "$1" > "$d/package.json"
  printf '{"compilerOptions":{"strict":true,"target":"es2020","module":"commonjs","moduleResolution":"node","skipLibCheck":true}}\n' > "$d/tsconfig.json"
  printf '%s\n' "$2" > "$d/index.ts"
}
mk dyn 'import * as pulumi from "@pulumi/pulumi";
class P implements pulumi.dynamic.ResourceProvider {
  async create(inputs: any) { return { id: "dyn-1", outs: inputs }; }
}
class R extends pulumi.dynamic.Resource {
  constructor(n: string, props: any) { super(new P(), n, props); }
}
export const id = new R("dyn", { a: 1 }).id;'
mk k8s 'import * as k8s from "@pulumi/kubernetes";
export const ns = new k8s.core.v1.Namespace("smoke").metadata.name;'
mk cmd 'import * as command from "@pulumi/command";
export const out = new command.local.Command("hello", { create: "echo hello" }).stdout;'
mk dkr 'import * as docker from "@pulumi/docker";
const p = new docker.Provider("local", { host: "unix:///nonexistent/docker.sock" });
export const img = new docker.RemoteImage("img", { name: "scratch-local:1", keepLocally: true }, { provider: p }).name;'

ok=0
for c in dyn k8s cmd dkr; do
  (cd "$T/$c" && pulumi login "file://$T/state" >/dev/null &&
     pulumi stack init "smoke-$c" >/dev/null && timeout 300 pulumi preview --non-interactive) \
     > "$T/$c.log" 2>&1
  rc=$?
  loaded=$(grep -oE 'using pulumi-resource-[a-z-]+ from \$PATH|^ +[+] +[a-zA-Z-]+:[a-zA-Z0-9/:-]+' "$T/$c.log" | sed 's/^ *//' | sort -u | tr '\n' ';')
  err=$(grep -E '^ *error:' "$T/$c.log" | grep -v 'preview failed' | head -n1 | cut -c1-200)
  printf '%-4s rc=%-3s %s\n      %s\n' "$c" "$rc" "${err:-no error}" "${loaded:-}"
  case $c in
    dyn) [ $rc = 0 ] || ok=1 ;;
    # without a cluster the provider previews in "unreachable cluster" mode (rc 0) or fails
    # on the missing kubeconfig: either proves the plugin loaded and served the Namespace.
    k8s) grep -qE 'kubernetes:core/v1:Namespace|kubeconfig|Kubernetes client configuration' "$T/$c.log" || ok=1 ;;
  esac
done
echo "logs: $T"
exit $ok
