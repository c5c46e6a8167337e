#!/usr/bin/env bash
# npm run demo: toolchain (built on first use), lab up, the newest release's kubemark image, `pulumi up` of the lab
# stack against a target of that release, its Nodes.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
source lab/lib.sh
# The newest tested release, for both the hollow nodes and the target.
VERSION=$(newest_release)
grep -q "kubemark:kubernetesVersion: $VERSION\$" Pulumi.lab.yaml ||
    { echo "demo: Pulumi.lab.yaml does not say kubernetesVersion $VERSION, the newest release" >&2; exit 1; }
t0=$SECONDS
say() { printf '[demo %s] %s\n' "$(date -u +%H:%M:%S)" "$*"; }

say "1/5 toolchain (Pulumi CLI, plugins, Kubernetes binaries and the $VERSION control plane from Go modules; about 40 min the first time, seconds after)"
envfile=$(bash toolchain/build.sh | tee /dev/stderr | tail -n1)
# shellcheck disable=SC1090
source "$envfile"

say "2/5 lab: node cluster with one real worker, a $VERSION target cluster, registry, dockerd"
bash lab/up.sh --target "$VERSION"

say "3/5 kubemark $VERSION image, built from the Go module source with its patches and pushed to the lab registry"
npx tsc -p tsconfig.test.json
ref=$(DOCKER_HOST="unix://$LAB/run/docker.sock" DOCKER_BUILDKIT=0 PATH="/usr/bin:$PATH" node build/lab/buildImage.js "$VERSION" | tail -n1)
say "image: $ref"

say "4/5 pulumi up of the lab stack (Pulumi.lab.yaml: 10 hollow nodes)"
# A local stack holding only the lab's throw-away credentials; set your own passphrase to override.
export PULUMI_CONFIG_PASSPHRASE=${PULUMI_CONFIG_PASSPHRASE-kubemark-lab}
export PULUMI_BACKEND_URL="file://$LAB_STATE"
mkdir -p "$LAB_STATE"
# Pulumi runs from a fresh copy of the program in the lab folder: creating the stack writes its encryption salt
# into the stack file and the image is pinned there by digest, and the repository's files stay as they are.
project="$LAB/project"
rm -rf "$project" && mkdir -p "$project"
cp -r Pulumi.yaml Pulumi.lab.yaml package.json tsconfig.json index.ts components scripts "$project/"
ln -s "$ROOT/node_modules" "$project/node_modules"
sed -i -e "s|~/.cache/kubemark-lab/|$LAB/|" "$project/Pulumi.lab.yaml"
cd "$project"
pulumi stack select lab --non-interactive 2>/dev/null || pulumi stack init lab --non-interactive
pulumi config set image "$ref" --non-interactive
# Inside the lab's network namespace, where its API servers are (and the address pods use for the target).
# --refresh: a lab started again (npm run lab:down --wipe, a new machine) no longer holds what an old state says.
bash "$ROOT/lab/exec.sh" pulumi up --refresh --yes --non-interactive --skip-preview
selector=$(pulumi stack output nodeSelector --non-interactive)
replicas=$(pulumi config get replicas --non-interactive)
cd "$ROOT"

say "5/5 the target cluster's Nodes"
# The target's own kubectl: one of another release warns about the version skew.
kubectl_target=$KUBEMARK_TOOLCHAIN_DIR/k8s/$VERSION/bin/kubectl
bash lab/exec.sh "$kubectl_target" --kubeconfig "$LAB/target.kubeconfig" get nodes -o wide
# The demo's promise, checked on the target itself rather than taken from the stack's outputs.
ready=$(bash lab/exec.sh "$kubectl_target" --kubeconfig "$LAB/target.kubeconfig" get nodes -l "$selector" -o \
    jsonpath='{range .items[*]}{.status.nodeInfo.kubeletVersion}{" "}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' |
    grep -c "^$VERSION True\$" || true)
if [ "$ready" != "$replicas" ]; then
    echo "demo: $ready of $replicas hollow Nodes ($selector) are Ready and report kubelet $VERSION on the target" >&2
    exit 1
fi
say "$ready/$replicas hollow Nodes Ready on the $VERSION target, each reporting kubelet $VERSION"
say "done in $((SECONDS - t0))s. Next (the lab is in network namespace kmlab: clients run there through lab/exec.sh):"
cat <<EOF
  source $envfile; export PULUMI_CONFIG_PASSPHRASE=$PULUMI_CONFIG_PASSPHRASE PULUMI_BACKEND_URL=$PULUMI_BACKEND_URL; cd $project
  $ROOT/lab/exec.sh $kubectl_target --kubeconfig $LAB/target.kubeconfig get nodes        # the hollow Nodes
  $ROOT/lab/exec.sh kubectl --kubeconfig $LAB/node.kubeconfig -n kubemark-lab get pods -o wide   # the hollow pods on the real worker
  cd $ROOT && npm run measure:lab     # load the target through the hollow Nodes: the SLIs against their SLOs
  cd $project
  $ROOT/lab/exec.sh pulumi destroy --yes -s lab    # removes the pods, then every hollow Node and Lease
  cd $ROOT && npm run lab:down   # stops the lab, removes its network namespace
EOF
