# Builds the lab's FROM-scratch images (pause, busybox) with the lab dockerd and pushes them to the lab registry (sourced by up.sh).

docker_lab() { DOCKER_BUILDKIT=0 "$DOCKER" -H "unix://$DOCKER_SOCK" "$@"; }

in_registry() { # REF (127.0.0.1:5000/repo:tag)
    local rest=${1#*/}
    curl -fsS -o /dev/null -I -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
        "http://$REGISTRY/v2/${rest%:*}/manifests/${rest##*:}"
}

# build_push NAME REF CONTEXT STAMP: rebuilds only when the inputs' hash changed or the registry lost the tag.
build_push() {
    local name=$1 ref=$2 ctx=$3 stamp=$4 f="$LAB/images/$1.stamp"
    if [ "$(cat "$f" 2>/dev/null)" = "$stamp" ] && in_registry "$ref"; then
        say "image $ref: up to date"; return 0
    fi
    say "image $ref: building"
    docker_lab build -q -t "$ref" "$ctx" >"$LOGS/image-$name.log" 2>&1 || { cat "$LOGS/image-$name.log"; die "build of $ref failed"; }
    docker_lab push "$ref" >>"$LOGS/image-$name.log" 2>&1 || { tail "$LOGS/image-$name.log"; die "push of $ref failed"; }
    echo "$stamp" >"$f"
    say "image $ref: pushed"
}

images_up() {
    local d="$LAB/images"
    mkdir -p "$d/pause" "$d/busybox/rootfs/bin"
    local src; src=$(cat "$LAB_SRC/pause/main.go" "$LAB_SRC/pause/go.mod" | sha256sum | cut -c1-16)
    if [ "$(cat "$d/pause/src.sha" 2>/dev/null)" != "$src" ] || [ ! -x "$d/pause/pause" ]; then
        (cd "$LAB_SRC/pause" && CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-mod=mod \
            go build -trimpath -ldflags='-s -w' -o "$d/pause/pause" .)
        echo "$src" >"$d/pause/src.sha"
    fi
    printf 'FROM scratch\nCOPY pause /pause\nUSER 65535:65535\nENTRYPOINT ["/pause"]\n' >"$d/pause/Dockerfile"
    build_push pause "$PAUSE_IMAGE" "$d/pause" "$src"

    local bb=/bin/busybox bbsum
    dpkg-query -W busybox-static >/dev/null 2>&1 && [ -x "$bb" ] || die "$bb missing: apt-get install busybox-static"
    bbsum=$(sha256sum "$bb" | cut -c1-16)
    if [ "$(cat "$d/busybox/src.sha" 2>/dev/null)" != "$bbsum" ]; then
        rm -rf "$d/busybox/rootfs"; mkdir -p "$d/busybox/rootfs/bin" "$d/busybox/rootfs/tmp"
        chmod 1777 "$d/busybox/rootfs/tmp"; cp "$bb" "$d/busybox/rootfs/bin/busybox"
        # Applet symlinks are made here because a FROM-scratch build has no shell to RUN `busybox --install`.
        local a; for a in $("$bb" --list); do [ "$a" = busybox ] || ln -sf busybox "$d/busybox/rootfs/bin/$a"; done
        echo "$bbsum" >"$d/busybox/src.sha"
    fi
    printf 'FROM scratch\nCOPY rootfs/ /\nENV PATH=/bin\nCMD ["sh"]\n' >"$d/busybox/Dockerfile"
    build_push busybox "$BUSYBOX_IMAGE" "$d/busybox" "$bbsum"
}
