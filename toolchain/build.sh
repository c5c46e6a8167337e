#!/usr/bin/env bash
# Build and cache the Pulumi + Kubernetes toolchain from Go modules (issue #4).
#
#   npm run toolchain            # or: bash toolchain/build.sh
#   source "$(bash toolchain/build.sh | tail -n1)"
#   bash toolchain/build.sh --control-plane v1.30.14     # also that release's target control plane
#
# Besides the Pulumi CLI, its plugins and the node cluster's Kubernetes, it builds a target control plane
# (kube-apiserver, kube-controller-manager, kube-scheduler, and the etcd that release names in its
# build/dependencies.yaml) for the newest release of components/config/tested-releases.json, and for every
# --control-plane asked for: k8s/<release>/bin/, etcd/<etcd version>/bin/, side by side, each built once.
#
# Pins: toolchain/versions.env (override with KUBEMARK_TOOLCHAIN_MANIFEST).
# Cache: ${KUBEMARK_TOOLCHAIN_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kubemark-toolchain}
#   bin/ binaries (PATH)   k8s/<release>/bin/ control planes   etcd/<version>/bin/etcd
#   work/<piece>/ wrapper modules   logs/<piece>.log
#   stamps/<piece> key (pinned versions + recipe hash + go version)   pulumi-home/  state/
#   env.sh  the file to source; its path is the LAST line this script prints.
# KUBEMARK_TOOLCHAIN_JOBS=N builds N pieces at once (default 1: one go build keeps
# both cores busy; the longest piece, kubernetes, bounds the total).
# KUBEMARK_TOOLCHAIN_SKIP_APT=1 skips the Debian package step.
# Go module and build caches are the ordinary shared ones (go env GOMODCACHE / GOCACHE).
# The whole script is one block, read before it runs: editing the file while a build runs cannot change that run.
{
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PROJECT=$(cd "$HERE/.." && pwd)
MANIFEST=${KUBEMARK_TOOLCHAIN_MANIFEST:-$HERE/versions.env}
# shellcheck source=versions.env
source "$MANIFEST"
# shellcheck source=../scripts/staging-twins.sh
source "$PROJECT/scripts/staging-twins.sh"

# The releases the program is tested on; the newest is the lab target's default.
RELEASES_FILE=$PROJECT/components/config/tested-releases.json
NEWEST_RELEASE=$(grep -o '"v[0-9]*\.[0-9]*\.[0-9]*"' "$RELEASES_FILE" | tail -n1 | tr -d '"')
CONTROL_PLANES=("$NEWEST_RELEASE")
while (($# > 0)); do
    case "$1" in
    --control-plane)
        [[ "${2:-}" =~ ^v1\.[0-9]+\.[0-9]+$ ]] || { echo "toolchain: --control-plane needs a release vMAJOR.MINOR.PATCH, got '${2:-}'" >&2; exit 2; }
        [[ " ${CONTROL_PLANES[*]} " == *" $2 "* ]] || CONTROL_PLANES+=("$2")
        shift 2 ;;
    *) echo "toolchain: unknown argument '$1' (usage: build.sh [--control-plane vX.Y.Z]...)" >&2; exit 2 ;;
    esac
done

DIR=${KUBEMARK_TOOLCHAIN_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kubemark-toolchain}
BIN=$DIR/bin WORK=$DIR/work LOGS=$DIR/logs STAMPS=$DIR/stamps
JOBS=${KUBEMARK_TOOLCHAIN_JOBS:-1}
HEARTBEAT=${KUBEMARK_TOOLCHAIN_HEARTBEAT:-20}
mkdir -p "$BIN" "$WORK" "$LOGS" "$STAMPS" "$DIR/pulumi-home" "$DIR/state"

export CGO_ENABLED=0 GOTOOLCHAIN=local
export GOFLAGS="${GOFLAGS:+$GOFLAGS }-mod=mod"

T0=$(date +%s)
say() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { say "ERROR: $*" >&2; exit 1; }

# ---------------------------------------------------------------- helpers used by recipes
# (their text is part of every Go piece's stamp key)
gomod_init() { rm -f go.mod go.sum; go mod init "$1" >/dev/null 2>&1; }
mod_field() { # mod_field MODULE@VERSION Dir|GoMod  -> path inside GOMODCACHE (downloads it)
  local out
  out=$(go mod download -json "$1") || { printf '%s\n' "$out" >&2; echo "go mod download $1 failed" >&2; return 1; }
  printf '%s\n' "$out" | sed -n "s/^[[:space:]]*\"$2\": \"\\(.*\\)\",\\{0,1\\}\$/\\1/p"
}
gobuild() { mkdir -p out; go build -v -trimpath "$@"; }

# ---------------------------------------------------------------- recipes
# Each runs in its own subshell, cwd = $WORK/<piece>, output to ./out/, log to logs/<piece>.log.

piece_pulumi() {
  gomod_init local/pulumi-cli
  go mod edit -replace "github.com/atotto/clipboard=$PULUMI_CLIPBOARD_REPLACE"
  go get "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi@$PULUMI_GO_VERSION" \
         "github.com/pulumi/pulumi/sdk/v3@$PULUMI_GO_VERSION"
  gobuild -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_GO_VERSION" \
    -o out/ github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
}

piece_pulumi_language_nodejs() {
  gomod_init local/pulumi-language-nodejs
  go get "github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs@$LANGHOST_SDK_VERSION"
  gobuild -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$LANGHOST_SDK_VERSION" \
    -o out/ github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs
}

piece_pulumi_resource_pulumi_nodejs() {
  # dynamic-provider launcher: a shell script shipped in the sdk module (same bytes as
  # node_modules/@pulumi/pulumi/pulumi-resource-pulumi-nodejs); it runs
  # node @pulumi/pulumi/cmd/dynamic-provider resolved from the program's node_modules.
  local d
  d=$(mod_field "github.com/pulumi/pulumi/sdk/v3@$PULUMI_GO_VERSION" Dir)
  mkdir -p out
  install -m 0755 "$d/nodejs/dist/pulumi-resource-pulumi-nodejs" out/
}

piece_pulumi_resource_kubernetes() {
  local d
  d=$(mod_field "$K8S_PROVIDER_MODULE@$K8S_PROVIDER_MODULE_VERSION" Dir)
  rm -rf src && cp -r "$d" src && chmod -R u+w src && cd src
  # go.mod replaces sdk/v4 => ../sdk (not in the module zip): use the published sdk/v4 it requires.
  go mod edit -dropreplace github.com/pulumi/pulumi-kubernetes/sdk/v4
  # schema-embed.json / terraform-mapping-embed.json are gitignored, so absent from the zip.
  (cd cmd/pulumi-resource-kubernetes && VERSION=$K8S_PROVIDER_VERSION_LABEL go run generate.go)
  mkdir -p ../out
  go build -v -trimpath -o ../out/ \
    -ldflags "-s -w -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$K8S_PROVIDER_VERSION_LABEL" \
    ./cmd/pulumi-resource-kubernetes
}

piece_pulumi_resource_command() {
  # Step 1 fails on this machine's proxy (403). Steps after it are untested.
  local d
  d=$(mod_field "$COMMAND_PROVIDER_MODULE@$COMMAND_PROVIDER_MODULE_VERSION" Dir)
  rm -rf src && cp -r "$d" src && chmod -R u+w src && cd src
  mkdir -p ../out
  go build -v -trimpath -o ../out/ \
    -ldflags "-s -w -X $COMMAND_PROVIDER_MODULE/pkg/version.Version=$COMMAND_PROVIDER_NPM" \
    ./cmd/pulumi-resource-command
}

piece_pulumi_resource_docker() {
  # Step 1 fails on this machine's proxy (403), so nothing after it is written: the bridged
  # provider also needs ../upstream (kreuzwerker/terraform-provider-docker at the submodule
  # commit, plus pulumi-docker's patches/) and a generated schema-embed.json.
  mod_field "$DOCKER_PROVIDER_MODULE@$DOCKER_PROVIDER_MODULE_VERSION" Dir >/dev/null
  echo "recipe stops here: upstream/patches/schema steps not implemented" >&2
  return 1
}

build_kubernetes() { # RELEASE BUILD_DATE COMMAND...: a wrapper module around k8s.io/kubernetes, its commands in out/
  local release=$1 date=$2 gomod cmd ld="-s -w" p pkgs=(); shift 2
  gomod_init local/k8s-wrapper
  go mod edit -require "k8s.io/kubernetes@$release"
  gomod=$(mod_field "k8s.io/kubernetes@$release" GoMod)
  # k8s.io/kubernetes replaces its staging modules with ./staging/...: use the published twins.
  staging_replaces "$gomod" "$release" > replaces.txt
  local m n v
  while read -r m _ n v; do go mod edit -replace "$m=$n@$v"; done < replaces.txt
  { echo '//go:build tools'; echo 'package tools'; echo 'import ('
    for cmd in "$@"; do echo "	_ \"k8s.io/kubernetes/cmd/$cmd\""; pkgs+=("k8s.io/kubernetes/cmd/$cmd"); done
    echo ')'; } > tools.go
  go mod tidy
  local minor=${release#v1.}; minor=${minor%%.*}
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld="$ld -X $p.gitVersion=$release -X $p.gitMajor=1 -X $p.gitMinor=$minor"
    ld="$ld -X $p.gitTreeState=clean -X $p.buildDate=$date"
  done
  gobuild -ldflags "$ld" -o out/ "${pkgs[@]}"
}

piece_kubernetes() {
  # The node cluster's binaries, with this machine's Go.
  # shellcheck disable=SC2086
  build_kubernetes "$KUBERNETES_VERSION" "$KUBERNETES_BUILD_DATE" $KUBERNETES_COMMANDS
}

piece_control_plane() { # RELEASE: a target control plane, built with the Go the release names (.go-version)
  local release=$1 src date
  # A previous build's go.mod names the release's Go, which GOTOOLCHAIN=local refuses before this one starts.
  rm -f go.mod go.sum
  src=$(mod_field "k8s.io/kubernetes@$release" Dir)
  # The release's own date: its tag's commit time, as the module proxy records it.
  date=$(module_query -json "k8s.io/kubernetes@$release" | sed -n 's/^[[:space:]]*"Time": "\(.*\)",\{0,1\}$/\1/p')
  GOTOOLCHAIN=go$(tr -d '[:space:]' < "$src/.go-version") build_kubernetes "$release" "$date" $CONTROL_PLANE_COMMANDS
}

piece_etcd() { # VERSION: etcd's server from go.etcd.io/etcd/server/v3, behind a main of our own
  local version=$1
  gomod_init local/etcd
  # etcd's own main.go (module go.etcd.io/etcd/v3) is served for a few releases only; its server module for all.
  printf 'package main\n\nimport (\n\t"os"\n\n\t"go.etcd.io/etcd/server/v3/etcdmain"\n)\n\nfunc main() { etcdmain.Main(os.Args) }\n' > main.go
  go get "go.etcd.io/etcd/server/v3@$version"
  go mod tidy
  gobuild -ldflags "-s -w" -o out/etcd .
}

# piece name -> manifest variables in its key, files it installs, where (DEST, default bin/), the recipe (RECIPE,
# default piece_<name>) and the shared functions its recipe calls (HELPERS), whose text is part of its key.
declare -A VARS OUTS DEST RECIPE HELPERS
VARS[pulumi]="PULUMI_GO_VERSION PULUMI_CLIPBOARD_REPLACE";          OUTS[pulumi]="pulumi"
VARS[pulumi-language-nodejs]="LANGHOST_SDK_VERSION";                OUTS[pulumi-language-nodejs]="pulumi-language-nodejs"
VARS[pulumi-resource-pulumi-nodejs]="PULUMI_GO_VERSION";            OUTS[pulumi-resource-pulumi-nodejs]="pulumi-resource-pulumi-nodejs"
VARS[pulumi-resource-kubernetes]="K8S_PROVIDER_MODULE K8S_PROVIDER_MODULE_VERSION K8S_PROVIDER_VERSION_LABEL"
OUTS[pulumi-resource-kubernetes]="pulumi-resource-kubernetes"
VARS[pulumi-resource-command]="COMMAND_PROVIDER_MODULE COMMAND_PROVIDER_MODULE_VERSION COMMAND_PROVIDER_NPM"
OUTS[pulumi-resource-command]="pulumi-resource-command"
VARS[pulumi-resource-docker]="DOCKER_PROVIDER_MODULE DOCKER_PROVIDER_MODULE_VERSION"
OUTS[pulumi-resource-docker]="pulumi-resource-docker"
VARS[kubernetes]="KUBERNETES_VERSION KUBERNETES_BUILD_DATE KUBERNETES_COMMANDS"
OUTS[kubernetes]="$KUBERNETES_COMMANDS"
HELPERS[kubernetes]="build_kubernetes staging_replaces staging_twin module_query module_served"
# longest first, so that with JOBS>1 the short ones fill the other slot
ORDER="kubernetes pulumi pulumi-resource-kubernetes pulumi-language-nodejs pulumi-resource-pulumi-nodejs pulumi-resource-command pulumi-resource-docker"

# The etcd a release is built and tested against (its build/dependencies.yaml), as the module proxy serves it:
# that version, else the newest served patch of its minor line.
etcd_for() { # RELEASE
  local src want line v
  src=$(mod_field "k8s.io/kubernetes@$1" Dir) || return 1
  want=v$(awk '/^  - name: "etcd"$/ {f = 1; next} f && /version:/ {print $2; exit}' "$src/build/dependencies.yaml")
  [[ "$want" =~ ^v3\.[0-9]+\.[0-9]+$ ]] || { echo "no etcd version in $src/build/dependencies.yaml" >&2; return 1; }
  if module_query -json "go.etcd.io/etcd/server/v3@$want" >/dev/null 2>&1; then echo "$want"; return 0; fi
  line=${want%.*}
  v=$(module_query -versions go.etcd.io/etcd/server/v3 | tr ' ' '\n' | grep -E "^${line//./\\.}\.[0-9]+$" | sort -t. -k3,3n | tail -n1)
  [ -n "$v" ] || { echo "the module proxy serves no go.etcd.io/etcd/server/v3 $line.x (release $1 names $want)" >&2; return 1; }
  echo "etcd $want (named by $1) is not served: using $v" >&2
  echo "$v"
}

# Target control planes: one piece for each release's binaries, one for each etcd version (shared by releases).
CONTROL_PLANE_PIECES=""
plan_control_planes() {
  local r e cp
  for r in "${CONTROL_PLANES[@]}"; do
    e=$(etcd_for "$r") || die "cannot tell which etcd $r needs"
    cp=control-plane-$r
    VARS[$cp]="CONTROL_PLANE_COMMANDS"; OUTS[$cp]="$CONTROL_PLANE_COMMANDS"; DEST[$cp]=$DIR/k8s/$r/bin
    RECIPE[$cp]="piece_control_plane $r"; HELPERS[$cp]="build_kubernetes staging_replaces staging_twin module_query module_served"
    if [ -z "${RECIPE[etcd-$e]:-}" ]; then
      OUTS[etcd-$e]="etcd"; DEST[etcd-$e]=$DIR/etcd/$e/bin; RECIPE[etcd-$e]="piece_etcd $e"
      CONTROL_PLANE_PIECES+=" etcd-$e"
    fi
    CONTROL_PLANE_PIECES+=" $cp"
    # The lab starts the release's etcd from beside its control plane.
    mkdir -p "$DIR/k8s/$r/bin"
    ln -sfn "../../../etcd/$e/bin/etcd" "$DIR/k8s/$r/bin/etcd"
    say "control plane $r: etcd $e"
  done
}

GOVERSION=$(go version)
piece_key() {
  local p=$1 v recipe=${RECIPE[$1]:-piece_${1//-/_}}
  { declare -f "${recipe%% *}" gomod_init mod_field gobuild ${HELPERS[$p]:-}
    echo "$recipe"
    for v in ${VARS[$p]:-}; do echo "$v=${!v}"; done
    echo "$GOVERSION"; } | sha256sum | cut -c1-16
}
is_optional() { case " $TOOLCHAIN_OPTIONAL_PIECES " in *" $1 "*) return 0;; esac; return 1; }

# ---------------------------------------------------------------- pin checks against package.json
npm_version() { # installed version of an npm package, else the one package.json pins
  node -e '
    const [dir, name] = process.argv.slice(1); let v = "";
    try { v = require(dir + "/node_modules/" + name + "/package.json").version; }
    catch (e) { const p = require(dir + "/package.json"); v = (p.dependencies || {})[name] || ""; }
    console.log(v);' "$PROJECT" "$1"
}
check_pin() { # check_pin NPM_NAME MANIFEST_VAR fatal|warn
  local want=${!2} have; have=$(npm_version "$1")
  [ "$have" = "$want" ] && return 0
  [ "$3" = fatal ] && die "$1 is $have in $PROJECT but $2=$want in $MANIFEST: update the manifest"
  say "warning: $1 is $have in $PROJECT but $2=$want in $MANIFEST"
}
check_pin @pulumi/pulumi PULUMI_NPM fatal
[ "$PULUMI_GO_VERSION" = "v$PULUMI_NPM" ] || die "PULUMI_GO_VERSION=$PULUMI_GO_VERSION != v$PULUMI_NPM"
check_pin @pulumi/kubernetes K8S_PROVIDER_NPM warn
check_pin @pulumi/command COMMAND_PROVIDER_NPM warn
check_pin @pulumi/docker DOCKER_PROVIDER_NPM warn

# ---------------------------------------------------------------- Debian packages
apt_step() {
  local p missing=() t=$(date +%s)
  for p in $APT_PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    say "apt: installing ${missing[*]} (log: $LOGS/apt.log)"
    local sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
    local policy_added=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then # do not start daemons from postinst
      printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
      $sudo chmod +x /usr/sbin/policy-rc.d; policy_added=1
    fi
    local rc=0
    { $sudo apt-get update && $sudo env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y --no-install-recommends "${missing[@]}"; } > "$LOGS/apt.log" 2>&1 || rc=$?
    [ -z "$policy_added" ] || $sudo rm -f /usr/sbin/policy-rc.d
    [ $rc = 0 ] || { tail -n 20 "$LOGS/apt.log"; die "apt-get install failed (rc=$rc)"; }
    say "apt: done in $(( $(date +%s) - t ))s"
  fi
  say "apt: $(dpkg-query -W -f='${Package}=${Version} ' $APT_PACKAGES)"
}
if [ "${KUBEMARK_TOOLCHAIN_SKIP_APT:-0}" = 1 ]; then say "apt: skipped (KUBEMARK_TOOLCHAIN_SKIP_APT=1)"; else apt_step; fi

# ---------------------------------------------------------------- build the Go pieces
declare -A PID=() START=() KEY=()
FAILED=() FAILED_OPT=() BUILT=()
say "toolchain dir: $DIR   ($GOVERSION, jobs=$JOBS)"

dest() { echo "${DEST[$1]:-$BIN}"; }
stamp_ok() { # stamp_ok piece key
  local f
  [ -f "$STAMPS/$1" ] && [ "$(sed -n 1p "$STAMPS/$1")" = "$2" ] || return 1
  for f in ${OUTS[$1]}; do [ -x "$(dest "$1")/$f" ] || return 1; done
}
launch() {
  local p=$1
  KEY[$p]=$(piece_key "$p")
  if stamp_ok "$p" "${KEY[$p]}"; then
    say "$p: cached (key ${KEY[$p]}, $(sed -n 2p "$STAMPS/$p"))"; return 0
  fi
  say "$p: building (key ${KEY[$p]}, log: $LOGS/$p.log)"
  mkdir -p "$WORK/$p"; rm -rf "$WORK/$p/out"
  # shellcheck disable=SC2086 # the recipe is a function name and its arguments
  ( cd "$WORK/$p" && ${RECIPE[$p]:-piece_${p//-/_}} ) > "$LOGS/$p.log" 2>&1 &
  PID[$p]=$!; START[$p]=$(date +%s)
}
finish() {
  local p=$1 rc=0 f secs
  wait "${PID[$p]}" || rc=$?
  secs=$(( $(date +%s) - START[$p] )); unset "PID[$p]"
  if [ $rc = 0 ]; then
    for f in ${OUTS[$p]}; do
      [ -x "$WORK/$p/out/$f" ] || { rc=99; echo "missing output out/$f" >> "$LOGS/$p.log"; }
    done
  fi
  if [ $rc = 0 ]; then
    mkdir -p "$(dest "$p")"
    for f in ${OUTS[$p]}; do mv -f "$WORK/$p/out/$f" "$(dest "$p")/$f"; done
    printf '%s\nbuilt in %ss on %s\n' "${KEY[$p]}" "$secs" "$(date -u +%FT%TZ)" > "$STAMPS/$p"
    BUILT+=("$p"); say "$p: built in ${secs}s"
  else
    rm -f "$STAMPS/$p"
    if is_optional "$p"; then FAILED_OPT+=("$p"); else FAILED+=("$p"); fi
    say "$p: FAILED after ${secs}s (rc=$rc); last lines of $LOGS/$p.log:"
    tail -n 8 "$LOGS/$p.log" | sed 's/^/    | /'
  fi
}
heartbeat() {
  local p n
  for p in "${!PID[@]}"; do
    n=$(wc -l < "$LOGS/$p.log")
    say "$p: still building ($(( $(date +%s) - START[$p] ))s, $n log lines; last: $(tail -n1 "$LOGS/$p.log" | cut -c1-90))"
  done
}

plan_control_planes
# shellcheck disable=SC2206
queue=($ORDER $CONTROL_PLANE_PIECES) last_beat=$(date +%s)
while [ ${#queue[@]} -gt 0 ] || [ ${#PID[@]} -gt 0 ]; do
  while [ ${#queue[@]} -gt 0 ] && [ ${#PID[@]} -lt "$JOBS" ]; do
    launch "${queue[0]}"; queue=("${queue[@]:1}")
  done
  [ ${#PID[@]} -gt 0 ] || continue
  sleep 1
  for p in "${!PID[@]}"; do kill -0 "${PID[$p]}" 2>/dev/null || finish "$p"; done
  if [ $(( $(date +%s) - last_beat )) -ge "$HEARTBEAT" ] && [ ${#PID[@]} -gt 0 ]; then
    heartbeat; last_beat=$(date +%s)
  fi
done

# ---------------------------------------------------------------- env file
ENVF=$DIR/env.sh
cat > "$ENVF.tmp" <<EOF
# generated by $HERE/build.sh on $(date -u +%FT%TZ); source it.
export KUBEMARK_TOOLCHAIN_DIR='$DIR'
case ":\$PATH:" in *':$BIN:'*) ;; *) export PATH='$BIN':"\$PATH" ;; esac
export PULUMI_HOME='$DIR/pulumi-home'
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_BACKEND_URL='file://$DIR/state'
# provider plugins are found on PATH ("ambient"): keep this unset
unset PULUMI_IGNORE_AMBIENT_PLUGINS
EOF
mv -f "$ENVF.tmp" "$ENVF"

# ---------------------------------------------------------------- report
say "versions:"
v() { "$@" 2>&1 | head -n1 || true; }
[ -x "$BIN/pulumi" ] && echo "  pulumi                         $(v "$BIN/pulumi" version)"
[ -x "$BIN/pulumi-language-nodejs" ] && echo "  pulumi-language-nodejs         $LANGHOST_SDK_VERSION (sdk/v3 module)"
[ -x "$BIN/pulumi-resource-pulumi-nodejs" ] && echo "  pulumi-resource-pulumi-nodejs  $PULUMI_GO_VERSION (sdk/v3 nodejs/dist script)"
[ -x "$BIN/pulumi-resource-kubernetes" ] && echo "  pulumi-resource-kubernetes     $K8S_PROVIDER_VERSION_LABEL (npm @pulumi/kubernetes $K8S_PROVIDER_NPM)"
[ -x "$BIN/pulumi-resource-command" ] && echo "  pulumi-resource-command        $COMMAND_PROVIDER_NPM"
[ -x "$BIN/pulumi-resource-docker" ] && echo "  pulumi-resource-docker         $DOCKER_PROVIDER_NPM"
for c in $KUBERNETES_COMMANDS; do
  [ -x "$BIN/$c" ] || continue
  if [ "$c" = kubectl ]; then echo "  kubectl                        $(v "$BIN/kubectl" version --client)"
  else printf '  %-30s %s\n' "$c" "$(v "$BIN/$c" --version)"; fi
done
for r in "${CONTROL_PLANES[@]}"; do
  d=$DIR/k8s/$r/bin
  [ -x "$d/kube-apiserver" ] && printf '  %-30s %s, etcd %s (%s)\n' "control plane $r" "$(v "$d/kube-apiserver" --version)" \
    "$(v "$d/etcd" --version | sed 's/^etcd Version: //')" "$d"
done
for p in $ORDER $CONTROL_PLANE_PIECES; do [ -f "$STAMPS/$p" ] && printf '  %-30s %s\n' "[$p]" "$(sed -n 2p "$STAMPS/$p")"; done
say "built now: ${BUILT[*]:-nothing}; total $(( $(date +%s) - T0 ))s; cache: $(du -sh "$DIR" 2>/dev/null | cut -f1)"
[ ${#FAILED_OPT[@]} = 0 ] || say "WARNING: optional pieces not built: ${FAILED_OPT[*]} (see logs in $LOGS)"
rc=0
[ ${#FAILED[@]} = 0 ] || { say "ERROR: pieces not built: ${FAILED[*]} (see logs in $LOGS)"; rc=1; }
echo "$ENVF"
exit $rc
}
