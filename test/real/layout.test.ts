// Layout changes on a live stack, against real API servers: after every up, exactly the Nodes the pods stand behind.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { STACK_LABEL_KEY } from "../../components/config/settings";
import { nodesBehind, podNodesOf, statefulNodeNames } from "../../components/hollow/names";
import { startPair, stopPair } from "../harness/clusterPair";
import { ControlPlane, missingTools } from "../harness/controlPlane";
import { clients, fakeKubelets, nodeNames } from "../harness/fakeKubelets";
import { pulumi } from "../harness/pulumiCli";

/** (nodesPerPod, replicas) in turn: 1 → 3 → 1 → 3, then 3 → 2 with a last pod, then 2 → 1. */
const STEPS: readonly (readonly [number, number])[] = [[1, 6], [3, 6], [1, 6], [3, 6], [2, 5], [1, 5]];

describe("layout changes on a live stack", { skip: missingTools() }, () => {
    let nodeCluster: ControlPlane;
    let target: ControlPlane;
    let project: string;

    before(async () => {
        ({ nodeCluster, target, project } = await startPair());
    });

    after(() => stopPair({ nodeCluster, target, project }));

    for (const kind of ["StatefulSet", "Deployment"] as const) {
        it(`${kind}: ${STEPS.map(([k, r]) => `${r}@${k}`).join(" → ")}, each up exact and a no-change preview after it`, { timeout: 1_800_000 }, async () => {
            const stack = `lay-${kind === "StatefulSet" ? "sts" : "dep"}`;
            const namespace = `kubemark-${stack}`;
            const selector = `${STACK_LABEL_KEY}=kubemark.${stack}`;
            const cli = (args: string[]) => pulumi(project, stack, args);
            assert.equal((await cli(["stack", "init"])).code, 0);
            for (const [k, v] of [["kubernetesVersion", "v1.31.0"], ["image", "127.0.0.1:5000/kubemark:v1.31.0"], ["workloadKind", kind],
                ["nodeKubeconfig", nodeCluster.kubeconfigFile], ["targetKubeconfig", target.kubeconfigFile],
                ["readyTimeoutSeconds", "300"], ["reaperTimeoutSeconds", "300"]]) {
                assert.equal((await cli(["config", "set", k, v])).code, 0, `config set ${k}`);
            }
            /** The Nodes the live pods stand behind, by their names and layout annotations. */
            const behindPods = async () => {
                const pods = (await clients(nodeCluster).core.listNamespacedPod({ namespace })).items;
                return [...nodesBehind(pods.filter((p) => !p.metadata!.deletionTimestamp)
                    .map((p) => ({ name: p.metadata!.name!, nodes: podNodesOf(p.metadata!.annotations) })))].sort();
            };
            const stop = fakeKubelets(nodeCluster, target, namespace);
            try {
                for (const [perPod, replicas] of STEPS) {
                    assert.equal((await cli(["config", "set", "nodesPerPod", String(perPod)])).code, 0);
                    assert.equal((await cli(["config", "set", "replicas", String(replicas)])).code, 0);
                    const up = await cli(["up", "--yes", "--skip-preview"]);
                    assert.equal(up.code, 0, up.out);
                    const nodes = await nodeNames(target, selector);
                    const expected = kind === "StatefulSet" ? statefulNodeNames(`hollow-node-${stack}`, replicas, perPod).sort() : await behindPods();
                    assert.equal(nodes.length, replicas, `${replicas}@${perPod}: ${nodes.join(", ")}\n${up.out}`);
                    assert.deepEqual(nodes, expected, `${replicas}@${perPod}`);
                    const counted = [...up.out.matchAll(/(\d+)\/(\d+) hollow Nodes Ready/g)];
                    assert.ok(counted.every((m) => Number(m[1]) <= Number(m[2])), up.out);
                    const preview = await cli(["preview", "--expect-no-changes"]);
                    assert.equal(preview.code, 0, `${replicas}@${perPod}: a preview right after up must find nothing to do\n${preview.out}`);
                    console.log(`${kind} ${replicas}@${perPod}: up ${up.seconds.toFixed(1)}s, exactly ${nodes.length} Nodes`);
                }
                const destroy = await cli(["destroy", "--yes", "--skip-preview"]);
                assert.equal(destroy.code, 0, destroy.out);
                assert.deepEqual(await nodeNames(target, selector), []);
            } finally {
                await stop();
            }
        });
    }
});
