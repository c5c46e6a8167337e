#!/usr/bin/env bash
# Fetches, patches and builds kubemark for one release; each step is one of KubemarkImage's local commands.
# Progress goes to stderr (streamed into the Pulumi log); stdout is one result line kept in state.
# One block, read whole before it runs: a build that takes minutes is not changed by an edit of this file meanwhile.
{
set -euo pipefail

step=${1:?usage: kubemark-image.sh preflight|fetch|patch|build}
: "${KM_VERSION:?}" "${KM_SOURCE:?}" "${KM_CACHE:?}"
KM_NODE=${KM_NODE:-node}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=staging-twins.sh
source "$here/staging-twins.sh"

say() { echo "[kubemark-image ${KM_VERSION}] $*" >&2; }
fail() { echo "error: $*" >&2; exit 1; }

# Runs a long command with its output in a log file, printing a heartbeat so the Pulumi log shows life.
run_logged() {
    local what=$1 logfile=$2; shift 2
    say "$what (log: $logfile)"
    local start=$SECONDS next=$((SECONDS + 30)) last
    "$@" >"$logfile" 2>&1 &
    local pid=$!
    while kill -0 "$pid" 2>/dev/null; do
        sleep 2
        if (( SECONDS >= next )) && kill -0 "$pid" 2>/dev/null; then
            last=$(tail -n 1 "$logfile" | cut -c1-120)
            say "$what: still running, $((SECONDS - start))s${last:+; last output: $last}"
            next=$((SECONDS + 30))
        fi
    done
    if ! wait "$pid"; then
        tail -n 40 "$logfile" >&2
        fail "$what failed after $((SECONDS - start))s; full log in $logfile"
    fi
    say "$what: done in $((SECONDS - start))s"
}

git_dir() { echo "$KM_CACHE/git/$KM_VERSION"; }
module_dir() { echo "$KM_CACHE/module/$KM_VERSION"; }

# The release's tree: the git clone, or the module's read-only folder in the Go module cache.
source_root() {
    if [ "$KM_SOURCE" = git ]; then
        git_dir
    else
        GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@$KM_VERSION" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p'
    fi
}

go_toolchain() {
    # The release's Go (.go-version) through GOTOOLCHAIN, unless the local go is that version already.
    local want
    want=$(tr -d '[:space:]' <"$(source_root)/.go-version" 2>/dev/null || true)
    [ -n "$want" ] && echo "go$want" || echo local
}

case "$step" in
preflight)
    need=(go docker "$KM_NODE")
    [ "$KM_SOURCE" = git ] && need+=(git make)
    missing=()
    for tool in "${need[@]}"; do
        command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
    done
    [ ${#missing[@]} -eq 0 ] || fail "not found on PATH: ${missing[*]}; building kubemark from $KM_SOURCE source needs ${need[*]}"
    echo "ok: ${need[*]}"
    ;;

fetch)
    mkdir -p "$KM_CACHE"
    if [ "$KM_SOURCE" = git ]; then
        : "${KM_GIT_URL:?}"
        dir=$(git_dir)
        want=$(git -C "$dir" rev-parse -q --verify "refs/tags/$KM_VERSION^{commit}" 2>/dev/null || true)
        if [ -f "$dir/.git/kubemark-complete" ] && [ -n "$want" ] && [ "$(git -C "$dir" rev-parse HEAD 2>/dev/null)" = "$want" ]; then
            say "reusing the clone at $dir ($want)"
        else
            [ -e "$dir" ] && say "replacing a partial or different clone at $dir"
            rm -rf "$dir" "$dir.tmp"
            mkdir -p "$(dirname "$dir")"
            run_logged "git clone --depth 1 --branch $KM_VERSION $KM_GIT_URL" "$KM_CACHE/git/$KM_VERSION.clone.log" \
                git -c advice.detachedHead=false clone --depth 1 --branch "$KM_VERSION" "$KM_GIT_URL" "$dir.tmp"
            touch "$dir.tmp/.git/kubemark-complete"
            mv "$dir.tmp" "$dir"
        fi
        echo "git $(git -C "$dir" rev-parse HEAD)"
    else
        dir=$(module_dir)
        src=$(source_root)
        [ -n "$src" ] || fail "go mod download k8s.io/kubernetes@$KM_VERSION gave no folder"
        if [ -f "$dir/complete" ]; then
            say "reusing the wrapper module at $dir"
        else
            rm -rf "$dir"
            mkdir -p "$dir"
            goline=$(grep -m1 '^go ' "$src/go.mod")
            say "resolving the staging modules' published twins"
            replaces=$(staging_replaces "$src/go.mod" "$KM_VERSION") || fail "k8s.io/kubernetes@$KM_VERSION cannot be built from the Go module proxy"
            {
                printf 'module kubemark.local/build\n\n%s\n\nrequire k8s.io/kubernetes %s\n\nreplace (\n' "$goline" "$KM_VERSION"
                printf '%s\n' "$replaces" | sed 's/^/\t/'
                printf ')\n'
            } >"$dir/go.mod"
            printf '//go:build tools\n\npackage tools\n\nimport _ "k8s.io/kubernetes/cmd/kubemark/app"\n' >"$dir/tools.go"
            ( cd "$dir" && export GOTOOLCHAIN=$(go_toolchain) GOFLAGS=-mod=mod && run_logged "go mod tidy (module downloads, checksums in go.sum)" "$dir/tidy.log" go mod tidy )
            touch "$dir/complete"
        fi
        echo "module k8s.io/kubernetes@$KM_VERSION $(sha256sum "$dir/go.sum" | cut -c1-16)"
    fi
    ;;

patch)
    : "${KM_PATCHSET:?}"
    out="$KM_CACHE/patched/$KM_VERSION-$KM_PATCHSET"
    rm -rf "$out"
    # Sources stay pristine (shared by every stack of the release); patched copies go through go build -overlay.
    KUBEMARK_PATCHES=${KUBEMARK_PATCHES:-[]} "$KM_NODE" "$here/patch-source.js" "$(source_root)" "$KM_VERSION" overlay "$out" >&2
    # The hash covers the patched and added files' contents, not only their paths: an edited patch reruns the build.
    echo "overlay $out/overlay.json $(cd "$out" && find . -type f | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-16)"
    ;;

build)
    : "${KM_PATCHSET:?}" "${KM_CONTEXT:?}" "${KM_BASE_IMAGE:?}"
    overlay="$KM_CACHE/patched/$KM_VERSION-$KM_PATCHSET/overlay.json"
    [ -f "$overlay" ] || fail "no patched overlay at $overlay: the patch step did not run"
    root=$(source_root)
    mkdir -p "$KM_CONTEXT"
    toolchain=$(go_toolchain)
    export CGO_ENABLED=0 GOOS=linux GOARCH=amd64 GOTOOLCHAIN=$toolchain
    if [ "$KM_SOURCE" = git ]; then
        ( cd "$root" && export GOFLAGS="-overlay=$overlay" KUBE_BUILD_PLATFORMS=linux/amd64 &&
            run_logged "make WHAT=cmd/kubemark ($toolchain)" "$KM_CONTEXT.build.log" make WHAT=cmd/kubemark )
        cp "$root/_output/local/bin/linux/amd64/kubemark" "$KM_CONTEXT/kubemark.tmp"
    else
        minor=${KM_VERSION#v1.}; minor=${minor%%.*}
        ldflags="-s -w"
        for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
            ldflags+=" -X $pkg.gitVersion=$KM_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
        done
        flags="-mod=mod"
        patched=$(dirname "$overlay")
        if [ "$("$KM_NODE" -e 'console.log(Object.keys(require(process.argv[1]).Replace).length)' "$overlay")" != 0 ]; then
            # go build -overlay may not replace files under GOMODCACHE from Go 1.25 on (v1.33 builds with it): the patched
            # release is a tree of hard links to the module cache's files beside it, with the patched files swapped in,
            # and the wrapper module points k8s.io/kubernetes at it through a go.mod of its own (-modfile).
            tree="$patched/kubernetes"
            rm -rf "$tree"
            cp -al "$root" "$tree" 2>/dev/null || cp -a "$root" "$tree"
            find "$tree" -type d -exec chmod u+w {} +
            "$KM_NODE" -e 'for (const [from, to] of Object.entries(require(process.argv[1]).Replace)) console.log(`${from}\t${to}`)' "$overlay" |
                while IFS=$'\t' read -r from to; do
                    rel=${from#"$root"/}
                    # A file a patch adds is new to the tree: its folder may be new too.
                    mkdir -p "$(dirname "$tree/$rel")" && rm -f "$tree/$rel" && cp "$to" "$tree/$rel"
                done
            cp "$(module_dir)/go.mod" "$patched/go.mod" && cp "$(module_dir)/go.sum" "$patched/go.sum"
            go mod edit -replace "k8s.io/kubernetes=$tree" "$patched/go.mod"
            flags+=" -modfile=$patched/go.mod"
        fi
        ( cd "$(module_dir)" && export GOFLAGS="$flags" &&
            run_logged "go build k8s.io/kubernetes/cmd/kubemark ($toolchain)" "$KM_CONTEXT.build.log" \
                go build -trimpath -ldflags "$ldflags" -o "$KM_CONTEXT/kubemark.tmp" k8s.io/kubernetes/cmd/kubemark )
    fi
    mv "$KM_CONTEXT/kubemark.tmp" "$KM_CONTEXT/kubemark"
    # Upstream's cluster/images/kubemark Dockerfile, with the base image configurable.
    printf 'FROM %s\nCOPY kubemark /kubemark\n' "$KM_BASE_IMAGE" >"$KM_CONTEXT/Dockerfile"
    rm -f "$KM_CONTEXT/passwd" "$KM_CONTEXT/group"
    if [ "$KM_BASE_IMAGE" = scratch ]; then
        # The account files upstream's base (distroless) has. From v1.33 (UserNamespacesSupport on) the kubelet looks
        # its "kubelet" user up in /etc/passwd at start: a missing user means default mappings, a missing file a fatal
        # "create user namespace manager: kubelet mappings: open /etc/passwd".
        printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n' >"$KM_CONTEXT/passwd"
        printf 'root:x:0:\nnobody:x:65534:\n' >"$KM_CONTEXT/group"
        printf 'COPY passwd /etc/passwd\nCOPY group /etc/group\n' >>"$KM_CONTEXT/Dockerfile"
    fi
    echo "kubemark $(sha256sum "$KM_CONTEXT/kubemark" | cut -c1-64)"
    ;;

*)
    fail "unknown step $step"
    ;;
esac
exit
}
