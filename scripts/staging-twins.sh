# Replaces for k8s.io/kubernetes's staging modules, sourced by the image script and the toolchain build.
# k8s.io/kubernetes@v1.M.P builds its staging modules from ./staging, which its module zip leaves out: outside the
# repository they are their published twins, k8s.io/NAME@v0.M.P. The Go module proxy does not serve every twin of
# every patch release (k8s.io/kube-proxy has no v0.31.14, for one); then the newest twin of the same minor below
# that patch that it serves stands in, and the substitution is said on stderr.

# go list -m outside any module: inside the wrapper module, k8s.io/kubernetes's v0.0.0 requirements would be loaded.
module_query() { (cd / && GOFLAGS=-mod=mod GOWORK=off go list -m "$@"); }
# Whether the proxy serves MODULE@VERSION whole: it answers some versions' .info but refuses their .zip
# (k8s.io/endpointslice@v0.32.13), so the twin is downloaded (into the module cache the build reads it from anyway).
module_served() { (cd / && GOFLAGS=-mod=mod GOWORK=off go mod download "$1") >/dev/null 2>&1; }

# staging_twin MODULE RELEASE: the twin version to use for MODULE with k8s.io/kubernetes@RELEASE.
staging_twin() {
    local mod=$1 release=$2 want v
    want=v0.${release#v1.}
    if module_served "$mod@$want"; then
        echo "$want"
        return 0
    fi
    local minor=${want%.*} patch=${want##*.}
    for v in $(module_query -versions "$mod" 2>/dev/null | tr ' ' '\n' | grep -E "^${minor//./\\.}\.[0-9]+$" | sort -t. -k3,3nr); do
        if ((${v##*.} < patch)) && module_served "$mod@$v"; then
            echo "staging twin $mod@$want is not served by $(go env GOPROXY): using $v" >&2
            echo "$v"
            return 0
        fi
    done
    echo "staging twin $mod@$want is not served by $(go env GOPROXY), nor any $minor.x before it" >&2
    return 1
}

# staging_replaces GOMOD RELEASE: one `MODULE => MODULE VERSION` line for each staging module GOMOD replaces.
staging_replaces() {
    local gomod=$1 release=$2 m v
    for m in $(awk '$2 == "=>" && $3 ~ /^\.\/staging\// {print $1}' "$gomod"); do
        # Examples nothing built here imports: replaced (k8s.io/kubernetes requires them), never downloaded.
        case "$m" in
        k8s.io/sample-*) v=v0.${release#v1.} ;;
        *) v=$(staging_twin "$m" "$release") || return 1 ;;
        esac
        echo "$m => $m $v"
    done
}
