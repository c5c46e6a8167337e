#!/usr/bin/env bash
# Build and cache the Pulumi + Kubernetes toolchain from Go modules (issue #4).
#
#   npm run toolchain            # or: bash toolchain/build.sh
#   source "$(bash toolchain/build.sh | tail -n1)"
#
# Pins: toolchain/versions.env (override with KUBEMARK_TOOLCHAIN_MANIFEST).
# Cache: ${KUBEMARK_TOOLCHAIN_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kubemark-toolchain}
#   bin/ binaries (PATH)   work/<piece>/ wrapper modules   logs/<piece>.log
#   stamps/<piece> key (pinned versions + recipe hash + go version)   pulumi-home/  state/
#   env.sh  the file to source; its path is the LAST line this script prints.
# KUBEMARK_TOOLCHAIN_JOBS=N builds N pieces at once (default 1: one go build keeps
# both cores busy; the longest piece, kubernetes, bounds the total).
# KUBEMARK_TOOLCHAIN_SKIP_APT=1 skips the Debian package step.
# Go module and build caches are the ordinary shared ones (go env GOMODCACHE / GOCACHE).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PROJECT=$(cd "$HERE/.." && pwd)
MANIFEST=${KUBEMARK_TOOLCHAIN_MANIFEST:-$HERE/versions.env}
# shellcheck source=versions.env
source "$MANIFEST"

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

piece_kubernetes() {
  local gomod m v o cmd ld="-s -w" p pkgs=()
  gomod_init local/k8s-wrapper
  go mod edit -require "k8s.io/kubernetes@$KUBERNETES_VERSION"
  gomod=$(mod_field "k8s.io/kubernetes@$KUBERNETES_VERSION" GoMod)
  # k8s.io/kubernetes replaces its staging modules with ./staging/...: use the published twins.
  for m in $(awk '$2 == "=>" && $3 ~ /^\.\/staging\// {print $1}' "$gomod"); do
    v=$KUBERNETES_STAGING_VERSION
    for o in $KUBERNETES_STAGING_OVERRIDES; do [ "${o%%=*}" = "$m" ] && v=${o#*=}; done
    go mod edit -replace "$m=$m@$v"
  done
  { echo '//go:build tools'; echo 'package tools'; echo 'import ('
    for cmd in $KUBERNETES_COMMANDS; do echo "	_ \"k8s.io/kubernetes/cmd/$cmd\""; pkgs+=("k8s.io/kubernetes/cmd/$cmd"); done
    echo ')'; } > tools.go
  go mod tidy
  local minor=${KUBERNETES_VERSION#v1.}; minor=${minor%%.*}
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld="$ld -X $p.gitVersion=$KUBERNETES_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor"
    ld="$ld -X $p.gitTreeState=clean -X $p.buildDate=$KUBERNETES_BUILD_DATE"
  done
  gobuild -ldflags "$ld" -o out/ "${pkgs[@]}"
}

# piece name -> manifest variables in its key, and files it installs into bin/
declare -A VARS OUTS
VARS[pulumi]="PULUMI_GO_VERSION PULUMI_CLIPBOARD_REPLACE";          OUTS[pulumi]="pulumi"
VARS[pulumi-language-nodejs]="LANGHOST_SDK_VERSION";                OUTS[pulumi-language-nodejs]="pulumi-language-nodejs"
VARS[pulumi-resource-pulumi-nodejs]="PULUMI_GO_VERSION";            OUTS[pulumi-resource-pulumi-nodejs]="pulumi-resource-pulumi-nodejs"
VARS[pulumi-resource-kubernetes]="K8S_PROVIDER_MODULE K8S_PROVIDER_MODULE_VERSION K8S_PROVIDER_VERSION_LABEL"
OUTS[pulumi-resource-kubernetes]="pulumi-resource-kubernetes"
VARS[pulumi-resource-command]="COMMAND_PROVIDER_MODULE COMMAND_PROVIDER_MODULE_VERSION COMMAND_PROVIDER_NPM"
OUTS[pulumi-resource-command]="pulumi-resource-command"
VARS[pulumi-resource-docker]="DOCKER_PROVIDER_MODULE DOCKER_PROVIDER_MODULE_VERSION"
OUTS[pulumi-resource-docker]="pulumi-resource-docker"
VARS[kubernetes]="KUBERNETES_VERSION KUBERNETES_STAGING_VERSION KUBERNETES_STAGING_OVERRIDES KUBERNETES_BUILD_DATE KUBERNETES_COMMANDS"
OUTS[kubernetes]="$KUBERNETES_COMMANDS"
# longest first, so that with JOBS>1 the short ones fill the other slot
ORDER="kubernetes pulumi pulumi-resource-kubernetes pulumi-language-nodejs pulumi-resource-pulumi-nodejs pulumi-resource-command pulumi-resource-docker"

GOVERSION=$(go version)
piece_key() {
  local p=$1 v
  { declare -f "piece_${p//-/_}" gomod_init mod_field gobuild
    for v in ${VARS[$p]}; do echo "$v=${!v}"; done
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

stamp_ok() { # stamp_ok piece key
  local f
  [ -f "$STAMPS/$1" ] && [ "$(sed -n 1p "$STAMPS/$1")" = "$2" ] || return 1
  for f in ${OUTS[$1]}; do [ -x "$BIN/$f" ] || return 1; done
}
launch() {
  local p=$1
  KEY[$p]=$(piece_key "$p")
  if stamp_ok "$p" "${KEY[$p]}"; then
    say "$p: cached (key ${KEY[$p]}, $(sed -n 2p "$STAMPS/$p"))"; return 0
  fi
  say "$p: building (key ${KEY[$p]}, log: $LOGS/$p.log)"
  mkdir -p "$WORK/$p"; rm -rf "$WORK/$p/out"
  ( cd "$WORK/$p" && "piece_${p//-/_}" ) > "$LOGS/$p.log" 2>&1 &
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
    for f in ${OUTS[$p]}; do mv -f "$WORK/$p/out/$f" "$BIN/$f"; done
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

queue=($ORDER) last_beat=$(date +%s)
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
for p in $ORDER; do [ -f "$STAMPS/$p" ] && printf '  %-30s %s\n' "[$p]" "$(sed -n 2p "$STAMPS/$p")"; done
say "built now: ${BUILT[*]:-nothing}; total $(( $(date +%s) - T0 ))s; cache: $(du -sh "$DIR" 2>/dev/null | cut -f1)"
[ ${#FAILED_OPT[@]} = 0 ] || say "WARNING: optional pieces not built: ${FAILED_OPT[*]} (see logs in $LOGS)"
rc=0
[ ${#FAILED[@]} = 0 ] || { say "ERROR: pieces not built: ${FAILED[*]} (see logs in $LOGS)"; rc=1; }
echo "$ENVF"
exit $rc
