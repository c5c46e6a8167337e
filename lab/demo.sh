#!/usr/bin/env bash
# npm run demo: toolchain (built on first use), lab up, the v1.31.0 kubemark image, `pulumi up` of the lab stack, its Nodes.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
LAB=${KUBEMARK_LAB_DIR:-$HOME/.cache/kubemark-lab}
VERSION=v1.31.0
t0=$SECONDS
say() { printf '[demo %s] %s\n' "$(date -u +%H:%M:%S)" "$*"; }

say "1/5 toolchain (Pulumi CLI, plugins, Kubernetes binaries from Go modules; about 45 min the first time, seconds after)"
envfile=$(bash toolchain/build.sh | tee /dev/stderr | tail -n1)
# shellcheck disable=SC1090
source "$envfile"

say "2/5 lab: node cluster with one real worker, target cluster, registry, dockerd"
bash lab/up.sh

say "3/5 kubemark $VERSION image, built from the Go module source with its patches and pushed to the lab registry"
npx tsc -p tsconfig.test.json
ref=$(DOCKER_HOST="unix://$LAB/run/docker.sock" DOCKER_BUILDKIT=0 PATH="/usr/bin:$PATH" node build/lab/buildImage.js "$VERSION" | tail -n1)
say "image: $ref"

say "4/5 pulumi up of the lab stack (Pulumi.lab.yaml: 10 hollow nodes)"
# A local stack holding only the lab's throw-away credentials; set your own passphrase to override.
export PULUMI_CONFIG_PASSPHRASE=${PULUMI_CONFIG_PASSPHRASE-kubemark-lab}
pulumi stack select --create lab --non-interactive
# The stack file is copied into the lab folder and pinned there to the image just pushed, by digest:
# Pulumi.lab.yaml in the repository stays as it is.
config="$LAB/Pulumi.lab.yaml"
cp Pulumi.lab.yaml "$config"
sed -i -e "s|~/.cache/kubemark-lab/|$LAB/|" "$config"
pulumi config set --config-file "$config" image "$ref" --non-interactive
pulumi up --yes --non-interactive --skip-preview --config-file "$config"

say "5/5 the target cluster's Nodes"
"$KUBEMARK_TOOLCHAIN_DIR/bin/kubectl" --kubeconfig "$LAB/target.kubeconfig" get nodes -o wide
say "done in $((SECONDS - t0))s. Next:"
cat <<EOF
  source $envfile; export PULUMI_CONFIG_PASSPHRASE=$PULUMI_CONFIG_PASSPHRASE
  kubectl --kubeconfig $LAB/target.kubeconfig get nodes        # the hollow Nodes
  kubectl --kubeconfig $LAB/node.kubeconfig -n kubemark-lab get pods -o wide   # the hollow pods on the real worker
  pulumi destroy --yes -s lab --config-file $LAB/Pulumi.lab.yaml   # removes the pods, then every hollow Node and Lease
  npm run lab:down               # stops the lab
EOF
