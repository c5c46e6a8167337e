// measure/ and node pools: discovery from Nodes, refusals, placement, sizing, per-pool figures, the churn's pick.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { POOL_LABEL_KEY as PROGRAM_POOL_LABEL_KEY, STACK_LABEL_KEY } from "../../../components/config/settings";
import type { NodeLike } from "../../../measure/kube";
import { podDeployment, tolerations } from "../../../measure/objects";
import { defaultOptions, OptionsError, parseOptions } from "../../../measure/options";
import { poolFigures, poolPreconditions } from "../../../measure/phases/poolReport";
import type { PodTimes } from "../../../measure/phases/pods";
import {
    capacityText,
    discoverPools,
    NO_POOL,
    POOL_LABEL_KEY,
    poolPlacement,
    poolRefusals,
    poolScope,
    sizingNodes,
} from "../../../measure/pools";
import { churnPlan } from "../../../measure/scenarios/churn/plan";
import { HollowPod, inChosenPools } from "../../../measure/scenarios/churn/hollowPods";
import { manifestOf } from "../../../measure/scenarios/load/objects";

const SMALL = { cpu: "4", memory: "8Gi", pods: "110" };
const GPU = { cpu: "32", memory: "256Gi", pods: "20", "example.com/gpu": "8" };
const GPU_TAINT = { key: "example.com/gpu", value: "true", effect: "NoSchedule" };
const HOLLOW_TAINT = { key: "kubemark-pulumi/hollow", effect: "NoSchedule" };

function node(
    name: string,
    pool: string | undefined,
    allocatable: Record<string, string>,
    o: { ready?: boolean; taints?: { key: string; value?: string; effect: string }[] } = {},
): NodeLike {
    return {
        metadata: { name, labels: { [STACK_LABEL_KEY]: "kubemark.lab", ...(pool ? { [POOL_LABEL_KEY]: pool } : {}) } },
        spec: { taints: o.taints ?? [HOLLOW_TAINT] },
        status: {
            conditions: [{ type: "Ready", status: o.ready === false ? "False" : "True" }],
            allocatable,
        },
    };
}

const TWO_POOLS = [
    node("n-1", "small", SMALL),
    node("n-2", "small", SMALL, { ready: false }),
    node("g-1", "gpu", GPU, { taints: [HOLLOW_TAINT, GPU_TAINT, { key: "soft", effect: "PreferNoSchedule" }] }),
    node("g-2", "gpu", GPU, { taints: [HOLLOW_TAINT, GPU_TAINT] }),
];

describe("pools from the stack's Node objects", () => {
    it("measure selects pools by the label the program puts on every hollow Node", () =>
        assert.equal(POOL_LABEL_KEY, PROGRAM_POOL_LABEL_KEY));
    const cases: [string, NodeLike[], unknown[]][] = [
        [
            "two pools: counts, one Node's allocatable, NoSchedule taints once each, PreferNoSchedule left out",
            TWO_POOLS,
            [
                {
                    pool: "gpu",
                    nodes: 2,
                    ready: 2,
                    allocatable: GPU,
                    differs: [],
                    taints: ["example.com/gpu=true:NoSchedule", "kubemark-pulumi/hollow:NoSchedule"],
                },
                {
                    pool: "small",
                    nodes: 2,
                    ready: 1,
                    allocatable: SMALL,
                    differs: [],
                    taints: ["kubemark-pulumi/hollow:NoSchedule"],
                },
            ],
        ],
        [
            "a stack made before pools: every Node in (none)",
            [node("a", undefined, SMALL), node("b", undefined, SMALL)],
            [
                {
                    pool: NO_POOL,
                    nodes: 2,
                    ready: 2,
                    allocatable: SMALL,
                    differs: [],
                    taints: ["kubemark-pulumi/hollow:NoSchedule"],
                },
            ],
        ],
        [
            "Nodes of a pool that differ: the first by name stands for it, the differing resources named",
            [node("b", "mixed", { ...SMALL, cpu: "8" }), node("a", "mixed", SMALL)],
            [
                {
                    pool: "mixed",
                    nodes: 2,
                    ready: 2,
                    allocatable: SMALL,
                    differs: ["cpu"],
                    taints: ["kubemark-pulumi/hollow:NoSchedule"],
                },
            ],
        ],
        ["no Nodes: no pools", [], []],
    ];
    for (const [name, nodes, want] of cases) {
        it(name, () => assert.deepEqual(discoverPools(nodes), want));
    }
    it("one Node's capacity in words: cpu, memory, pods, then extended resources", () => {
        assert.equal(capacityText(GPU), "cpu 32, memory 256Gi, pods 20, example.com/gpu 8");
        assert.equal(capacityText({}), "cpu —, memory —, pods —");
    });
});

describe("--pool against the stack's pools", () => {
    const pools = discoverPools([
        ...TWO_POOLS,
        node("old", undefined, SMALL),
        node("d-1", "down", SMALL, { ready: false }),
    ]);
    const cases: [string, string[] | undefined, string[]][] = [
        ["all pools", undefined, []],
        ["pools the stack has", ["gpu", "small"], []],
        [
            "a pool it lacks: option, value, the pools it has, the unlabelled Nodes",
            ["gpu", "tpu"],
            [
                '--pool "tpu": the stack has no such pool; its pools: down, gpu, small (its hollow Nodes\' ' +
                    "kubemark-pulumi/pool label); 1 Node(s) without the label cannot be chosen",
            ],
        ],
        ["a pool without a Ready Node", ["down"], ['--pool "down": none of its 1 hollow Node(s) is Ready']],
    ];
    for (const [name, chosen, want] of cases) {
        it(name, () => assert.deepEqual(poolRefusals(chosen, pools), want));
    }
    it("a stack made before pools: leave --pool out", () =>
        assert.match(
            poolRefusals(["default"], discoverPools([node("a", undefined, SMALL)]))[0],
            /carry no kubemark-pulumi\/pool label \(a stack made before pools\): leave --pool out/,
        ));
});

describe("where the run's pods go", () => {
    const cases: [string, string[] | undefined, unknown][] = [
        ["all pools: nothing added", undefined, { nodeSelector: {} }],
        ["one pool: a nodeSelector", ["gpu"], { nodeSelector: { [POOL_LABEL_KEY]: "gpu" } }],
        [
            "several: a required node affinity In them, sorted",
            ["small", "gpu"],
            {
                nodeSelector: {},
                affinity: {
                    nodeAffinity: {
                        requiredDuringSchedulingIgnoredDuringExecution: {
                            nodeSelectorTerms: [
                                {
                                    matchExpressions: [
                                        { key: POOL_LABEL_KEY, operator: "In", values: ["gpu", "small"] },
                                    ],
                                },
                            ],
                        },
                    },
                },
            },
        ],
    ];
    for (const [name, chosen, want] of cases) {
        it(name, () => assert.deepEqual(poolPlacement(chosen), want));
    }
    const deployment = (chosen?: string[]) =>
        podDeployment({
            namespace: "ns",
            name: "d",
            replicas: 1,
            stackLabelValue: "kubemark.lab",
            runId: "r",
            tolerate: [],
            placement: poolPlacement(chosen),
            group: "latency",
            cpu: "50m",
            memory: "200M",
        }).spec.template.spec as Record<string, unknown>;
    it("a Deployment keeps the stack's selector beside the pool's", () => {
        assert.deepEqual(deployment(["gpu"]).nodeSelector, {
            [STACK_LABEL_KEY]: "kubemark.lab",
            [POOL_LABEL_KEY]: "gpu",
        });
        assert.deepEqual(deployment().nodeSelector, { [STACK_LABEL_KEY]: "kubemark.lab" });
        assert.ok(!("affinity" in deployment()) && !("affinity" in deployment(["gpu"])));
        assert.deepEqual(deployment(["a", "b"]).affinity, poolPlacement(["a", "b"]).affinity);
    });
    it("the load's objects too: its DaemonSet runs on the chosen pools only", () => {
        const m = manifestOf(
            { kind: "DaemonSet", namespace: "ns", name: "daemonset-0", group: "daemon", index: 0, maxUnavailable: 10 },
            {
                stackLabelValue: "kubemark.lab",
                runId: "r",
                tolerations: [],
                priorityClass: "pc",
                placement: poolPlacement(["gpu", "small"]),
            },
        ).body as { spec: { template: { spec: Record<string, unknown> } } };
        assert.deepEqual(m.spec.template.spec.affinity, poolPlacement(["gpu", "small"]).affinity);
    });
    it("tolerations from the chosen pools' Nodes only: a GPU pool's taint when it is chosen, not otherwise", () => {
        const keys = (chosen: string[]) =>
            tolerations(
                TWO_POOLS.filter((n) => chosen.includes(n.metadata!.labels![POOL_LABEL_KEY])).flatMap(
                    (n) => n.spec!.taints!,
                ),
                30,
            ).map((t) => t.key);
        assert.ok(keys(["gpu"]).includes("example.com/gpu"));
        assert.ok(!keys(["small"]).includes("example.com/gpu"));
    });
});

describe("the load's N", () => {
    const cases: [string, string[] | undefined, number][] = [
        ["all pools: the stack's replicas, as before pools", undefined, 40],
        ["one pool: its Ready Nodes", ["small"], 1],
        ["two pools: their Ready Nodes together", ["small", "gpu"], 3],
    ];
    for (const [name, chosen, want] of cases) {
        it(name, () => assert.equal(sizingNodes(poolScope(TWO_POOLS, chosen), 40), want));
    }
});

const pod = (name: string, node: string | undefined, group: string, seen: number, running?: number): PodTimes => ({
    name,
    node,
    group,
    firstSeenMs: seen,
    scheduledSeenMs: node === undefined ? undefined : seen + 10,
    runningSeenMs: running,
});

describe("per-pool figures of a run", () => {
    const pods = [
        pod("a", "g-1", "load", 0, 1000),
        pod("b", "g-2", "latency", 0, 3000),
        pod("c", "g-2", "throughput", 500, 400),
        pod("d", undefined, "load", 0),
        pod("e", "stranger", "load", 0, 2000),
    ];
    it("pods bound, latency pods and startup per pool; a Node the run never saw labelled is (none)", () => {
        const rows = poolFigures(poolScope(TWO_POOLS, ["gpu"]), pods);
        assert.deepEqual(
            rows.map((r) => [r.pool, r.targeted, r.ready, r.nodes, r.podsBound, r.latencyPods]),
            [
                [NO_POOL, false, 0, 0, 1, 0],
                ["gpu", true, 2, 2, 3, 1],
                ["small", false, 1, 2, 0, 0],
            ],
        );
        const gpu = rows.find((r) => r.pool === "gpu")!;
        // Lags 1 s, 3 s and a negative one counted as 0 (CL2's phase_latency); nearest rank.
        assert.deepEqual([gpu.startup?.p50, gpu.startup?.p90, gpu.startup?.p99], [1, 3, 3]);
        assert.equal(rows.find((r) => r.pool === "small")!.startup, undefined);
        assert.deepEqual(poolPreconditions(rows), []);
    });
    it("the end's labels win, and a loaded pool without a Ready Node at the end is a broken precondition", () => {
        const end = [node("g-1", "gpu", GPU, { ready: false }), node("g-2", "gpu", GPU, { ready: false })];
        const endNodes = [...end, node("stranger", "small", SMALL), ...TWO_POOLS.slice(0, 2)];
        const rows = poolFigures(poolScope(TWO_POOLS, ["gpu"]), pods, poolScope(endNodes, ["gpu"]));
        const gpu = rows.find((r) => r.pool === "gpu")!;
        assert.deepEqual([gpu.ready, gpu.readyAtEnd, gpu.nodesAtEnd], [2, 0, 2]);
        assert.equal(rows.find((r) => r.pool === "small")!.podsBound, 1, "pod e's Node, labelled by the end");
        assert.deepEqual(poolPreconditions(rows), ["pool gpu had no Ready hollow Node at the end of the run"]);
    });
    it("a pool the run did not load never breaks a precondition", () => {
        const rows = poolFigures(poolScope([node("d", "down", SMALL, { ready: false }), ...TWO_POOLS], ["gpu"]), []);
        assert.deepEqual(poolPreconditions(rows), []);
        const all = poolFigures(poolScope([node("d", "down", SMALL, { ready: false })], undefined), []);
        assert.deepEqual(poolPreconditions(all), ["pool down had no Ready hollow Node at the start of the run"]);
    });
});

describe("--pool on the command line", () => {
    const parsed = (argv: string[]) => {
        const o = parseOptions(["--stack", "lab", ...argv]);
        assert.ok(o !== "help");
        return o;
    };
    const cases: [string, string[], readonly string[] | undefined][] = [
        ["left out: all pools", [], undefined],
        ["once", ["--pool", "gpu"], ["gpu"]],
        ["a comma list", ["--pool=gpu,small"], ["gpu", "small"]],
        ["repeated, a name twice kept once", ["--pool", "gpu", "--pool", "small,gpu"], ["gpu", "small"]],
        ["for a churn", ["--scenario", "churn", "--pool", "gpu"], ["gpu"]],
    ];
    for (const [name, argv, want] of cases) {
        it(name, () => assert.deepEqual(parsed(argv).pools, want));
    }
    const refused: [string, string[], RegExp][] = [
        ["the (none) pool", ["--pool", "(none)"], /--pool "\(none\)": accepted: pool names \(label values/],
        ["an empty item", ["--pool", "gpu,"], /--pool "": accepted: pool names/],
        ["a name too long for a label", ["--pool", "p".repeat(64)], /--pool "p{64}": accepted/],
    ];
    for (const [name, argv, want] of refused) {
        it(`refuses ${name}`, () =>
            assert.throws(
                () => parseOptions(["--stack", "lab", ...argv]),
                (e: unknown) => e instanceof OptionsError && want.test(e.problems.join("\n")),
            ));
    }
});

describe("a churn of chosen pools", () => {
    const hollow = (name: string): HollowPod => ({
        uid: name,
        name,
        owner: { apiVersion: "apps/v1", kind: "StatefulSet", name: "s", uid: "s" },
        createdMs: 0,
        seenMs: 0,
        terminating: false,
    });
    const scope = poolScope(TWO_POOLS, ["gpu"]);
    const cases: [string, string[], boolean][] = [
        ["a pod whose Nodes are all in the pools", ["g-1", "g-2"], true],
        ["a pod with a Node of another pool", ["g-1", "n-1"], false],
        ["a pod whose Node is not registered: its pool is unknown", ["g-9"], false],
    ];
    for (const [name, nodes, want] of cases) {
        it(name, () => assert.equal(inChosenPools(hollow("p"), nodes, scope), want));
    }
    it("every pod when no pool was chosen", () =>
        assert.ok(inChosenPools(hollow("p"), ["g-9"], poolScope(TWO_POOLS, undefined))));
    it("more kills than pods of the pools: says which pools", () =>
        assert.throws(
            () => churnPlan({ ...defaultOptions("lab", "churn"), kills: 3, pools: ["gpu"] }, ["g-1", "g-2"]),
            /--kills 3: the stack runs only 2 hollow pod\(s\) whose hollow Nodes are all in pool gpu; accepted: 1 to 2/,
        ));
});
