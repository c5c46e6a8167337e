// npm run measure -- --pool against real API servers: two pools of fake Nodes, a load on the tainted one binds there.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { STACK_LABEL_KEY } from "../../../components/config/settings";
import type { PoolFigures } from "../../../measure/phases/poolReport";
import { POOL_LABEL_KEY } from "../../../measure/pools";
import { startPair, stopPair } from "../../harness/clusterPair";
import { ControlPlane, missingTools } from "../../harness/controlPlane";
import { clients } from "../../harness/fakeKubelets";
import { measureNamespacesGone, sleep, upStack } from "../../harness/measureLab";
import { cl2SmallLoad, measure, playLoadKubelets, startWorkloadControllers, tempDir } from "../../harness/measureLoad";
import { pulumi } from "../../harness/pulumiCli";

const skip = missingTools();
const STACK = "pooled";
const SELECTOR = `${STACK_LABEL_KEY}=kubemark.${STACK}`;
/** Two pools as a stack with pools will make them: a plain one, and a GPU pool tainted and short of pod slots. */
const POOLS = {
    small: { allocatable: { cpu: "4", memory: "8Gi", pods: "110" }, taints: [] },
    gpu: {
        allocatable: { cpu: "32", memory: "256Gi", pods: "20", "example.com/gpu": "8" },
        taints: [{ key: "example.com/gpu", value: "true", effect: "NoSchedule" }],
    },
} as const;
/** CL2's load in miniature on the 2 GPU Nodes: 10 pods per Node, a burst of 60 wanted, 2 latency pods. */
const LOAD = cl2SmallLoad(STACK);

/**
 * Labels the stack's 4 fake Nodes into two pools by hand (this program's stacks do not make pools yet): the first
 * two `small`, the last two `gpu` with its taint, each pool's allocatable as its kubelets would report it.
 */
async function makePools(target: ControlPlane): Promise<Record<string, string[]>> {
    const { core } = clients(target);
    const names = (await core.listNode({ labelSelector: SELECTOR })).items.map((n) => n.metadata!.name!).sort();
    assert.equal(names.length, 4, names.join(", "));
    const members: Record<string, string[]> = { small: names.slice(0, 2), gpu: names.slice(2) };
    for (const [pool, nodes] of Object.entries(members)) {
        const spec = POOLS[pool as keyof typeof POOLS];
        for (const name of nodes) {
            const n = await core.readNode({ name });
            n.metadata!.labels = { ...n.metadata!.labels, [POOL_LABEL_KEY]: pool };
            // The not-ready taint is the API server's at registration; the node lifecycle controller is not run here.
            n.spec = {
                ...n.spec,
                taints: [
                    ...(n.spec?.taints ?? []).filter((t) => t.key !== "node.kubernetes.io/not-ready"),
                    ...spec.taints,
                ],
            };
            const updated = await core.replaceNode({ name, body: n });
            updated.status = {
                ...updated.status,
                capacity: { ...spec.allocatable },
                allocatable: { ...spec.allocatable },
            };
            await core.replaceNodeStatus({ name, body: updated });
        }
    }
    return members;
}

/** Every Node a pod of a measure run was bound to, looked at every 200 ms: the test's own view, not the report's. */
function recordBindings(target: ControlPlane): { stop: () => Promise<Map<string, string>> } {
    const bound = new Map<string, string>();
    let running = true;
    const { core } = clients(target);
    const loop = (async () => {
        while (running) {
            const pods = await core
                .listPodForAllNamespaces({ labelSelector: "kubemark-pulumi/measure-run" })
                .catch(() => ({ items: [] }));
            for (const p of pods.items) {
                if (p.spec?.nodeName) {
                    bound.set(p.metadata!.uid!, p.spec.nodeName);
                }
            }
            await sleep(200);
        }
    })();
    return {
        stop: async () => {
            running = false;
            await loop;
            return bound;
        },
    };
}

describe("npm run measure -- --pool against real API servers", { skip }, () => {
    let nodeCluster: ControlPlane;
    let target: ControlPlane;
    let project: string;
    let logs: string;
    let members: Record<string, string[]>;
    const stops: (() => Promise<void>)[] = [];
    const outs: string[] = [];

    before(async () => {
        ({ nodeCluster, target, project } = await startPair());
        logs = tempDir("measure-pools-logs");
        await upStack({ nodeCluster, target, project, logs, stops }, STACK, [["replicas", "4"]]);
        members = await makePools(target);
        stops.push(startWorkloadControllers(target, logs), playLoadKubelets(target, "kubemark-measure-"));
    });

    after(async () => {
        for (const stop of stops.reverse()) {
            await stop();
        }
        if (project) {
            await pulumi(project, STACK, ["destroy", "--yes", "--skip-preview"]);
        }
        await stopPair({ nodeCluster, target, project });
        for (const dir of [logs, ...outs]) {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("refuses a pool the stack lacks, naming the option, the value and its pools, before anything is created", async () => {
        const run = await measure(project, ["--stack", STACK, "--pool", "gpu,tpu"]);
        assert.equal(run.code, 2, run.out);
        assert.match(
            run.out,
            /--pool "tpu": the stack has no such pool; its pools: gpu, small \(its hollow Nodes' kubemark-pulumi\/pool label\)/,
        );
        assert.doesNotMatch(run.out, /--pool "gpu"/);
        assert.deepEqual(await measureNamespacesGone(target), [], "nothing created");
    });

    it(
        "a load on the tainted GPU pool binds there only, sized on its 2 Nodes, the burst cut to its pod slots",
        { timeout: 600_000 },
        async () => {
            const out = tempDir("measure-pools");
            outs.push(out);
            const watch = recordBindings(target);
            const run = await measure(project, [...LOAD, "--pool", "gpu", "--seed", "7", "--output", out]);
            const bound = await watch.stop();
            console.log(
                run.out
                    .split("\n")
                    .filter((l) => /PASS|FAIL|pool|burst|load \(/.test(l))
                    .join("\n"),
            );
            assert.ok([0, 3, 4].includes(run.code), run.out);
            const nodes = [...bound.values()];
            assert.ok(nodes.length > 0, "the test saw pods bound");
            assert.deepEqual(
                [...new Set(nodes)].filter((n) => !members.gpu.includes(n)),
                [],
                `every pod on a GPU Node: ${[...new Set(nodes)].join(", ")}`,
            );
            const report = JSON.parse(fs.readFileSync(path.join(out, "report.json"), "utf8"));
            const load = report.load;
            assert.match(run.out, /load \(ClusterLoader2's\): 20 pods \(10 per hollow Node × 2, pool gpu\)/);
            assert.equal(load.latency.count, 2, "min(500, the pool's 2 Ready Nodes)");
            assert.ok(load.throughput.pods < 60, `burst ${load.throughput.pods}`);
            assert.match(load.throughput.notes.join(" "), /the hollow Nodes of pool gpu had room for \d+ more pods/);
            const pools: PoolFigures[] = load.pools;
            assert.deepEqual(
                pools.map((p) => [p.pool, p.targeted, p.ready, p.nodes, p.readyAtEnd, p.differs]),
                [
                    ["gpu", true, 2, 2, 2, []],
                    ["small", false, 2, 2, 2, []],
                ],
            );
            const gpu = pools[0];
            assert.deepEqual(gpu.allocatable, POOLS.gpu.allocatable);
            assert.equal(gpu.podsBound, bound.size, "the report's count is the test's");
            assert.equal(gpu.latencyPods, 2);
            assert.ok(gpu.startup && gpu.startup.p99 >= 0, JSON.stringify(gpu.startup));
            assert.equal(pools[1].podsBound, 0);
            // A busy host may break the control plane's preconditions; no pool may.
            assert.deepEqual(
                report.brokenPreconditions.filter((b: string) => /pool/.test(b)),
                [],
            );
            const md = fs.readFileSync(path.join(out, "report.md"), "utf8");
            assert.match(md, /## Node pools/);
            console.log(`## Node pools${md.split("## Node pools")[1].split("\n## ")[0]}`);
            assert.match(
                md,
                /\| gpu \| yes \| 2\/2 → 2\/2 \| cpu 32, memory 256Gi, pods 20, example.com\/gpu 8 \| alike \| example.com\/gpu=true:NoSchedule, .* \| \d+ \| [\d.]+ \/ [\d.]+ \/ [\d.]+ \| 2 \| holds \|/,
            );
            assert.match(
                md,
                /\| small \| no \| 2\/2 → 2\/2 \| cpu 4, memory 8Gi, pods 110 \| alike \| .* \| 0 \| — \/ — \/ — \| 0 \| holds \|/,
            );
            assert.match(md, /\| pools \| gpu \|/, "the option among the run's parameters");
            assert.deepEqual(await measureNamespacesGone(target), [], "every namespace of the run is removed");
        },
    );
});
