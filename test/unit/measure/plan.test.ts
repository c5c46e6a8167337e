// measure/: scenario plans (which Deployments when, which pods killed when), downtime, heartbeats, pod timings, charts.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_NODE_TAINT } from "../../../components/config/defaults";
import { STACK_LABEL_KEY } from "../../../components/config/settings";
import {
    apiLatencySvg,
    countsOverTimeSvg,
    latencyDistributionSvg,
    throughputSvg,
} from "../../../measure/charts/charts";
import { holderAlive } from "../../../measure/cleanup";
import { defaultOptions, Options } from "../../../measure/options";
import { loadNamespace, tolerations } from "../../../measure/objects";
import { podStartup, PodTracker } from "../../../measure/phases/pods";
import { churnPlan } from "../../../measure/scenarios/churn/plan";
import { deploymentObject, loadPlan } from "../../../measure/scenarios/density/plan";

const opts = (over: Partial<Options> = {}): Options => ({
    ...defaultOptions("lab", "density"),
    podsPerNode: 10,
    ...over,
});

describe("density plan", () => {
    it("10 per hollow Node on 10: 100 pods in 20 Deployments of 5, one every 0.5 s (10 pods/s)", () => {
        const p = loadPlan(opts(), 10);
        assert.equal(p.totalPods, 100);
        assert.equal(p.namespace, "kubemark-measure-lab");
        assert.equal(p.deployments.length, 20);
        assert.deepEqual(p.create.slice(0, 3), [
            { atMs: 0, action: "create", deployment: "load-0000", replicas: 5 },
            { atMs: 500, action: "create", deployment: "load-0001", replicas: 5 },
            { atMs: 1000, action: "create", deployment: "load-0002", replicas: 5 },
        ]);
        assert.equal(p.create[19].atMs, 9500);
        assert.equal(p.scaledPods, 40, "5 - round(2.5) = 2 per Deployment");
        assert.deepEqual(p.scaleDown[1], { atMs: 300, action: "scale", deployment: "load-0001", replicas: 2 });
        assert.deepEqual(p.scaleUp[1], { atMs: 300, action: "scale", deployment: "load-0001", replicas: 5 });
        assert.deepEqual(p.delete[19], { atMs: 9500, action: "delete", deployment: "load-0019", replicas: 0 });
    });
    const cases: [
        string,
        Partial<Options>,
        number,
        { deployments: number[]; createAt: number[]; scaleDown: number; scaled: number },
    ][] = [
        [
            "a remainder Deployment",
            { podsPerNode: 3, podsPerDeployment: 4 },
            3,
            { deployments: [4, 4, 1], createAt: [0, 400, 800], scaleDown: 3, scaled: 4 },
        ],
        [
            "no scale phase",
            { scaleDownPercent: 0 },
            1,
            { deployments: [5, 5], createAt: [0, 500], scaleDown: 0, scaled: 10 },
        ],
        [
            "scale to zero and back",
            { scaleDownPercent: 100, podsPerSecond: 2 },
            1,
            { deployments: [5, 5], createAt: [0, 2500], scaleDown: 2, scaled: 0 },
        ],
        [
            "a Deployment too small to lose a pod skips its scale step",
            { podsPerDeployment: 1, scaleDownPercent: 10 },
            2,
            {
                deployments: Array(20).fill(1),
                createAt: Array.from({ length: 20 }, (_, i) => i * 100),
                scaleDown: 0,
                scaled: 20,
            },
        ],
    ];
    for (const [name, over, nodes, want] of cases) {
        it(name, () => {
            const p = loadPlan(opts(over), nodes);
            assert.deepEqual(
                p.deployments.map((d) => d.replicas),
                want.deployments,
            );
            assert.deepEqual(
                p.create.map((s) => s.atMs),
                want.createAt,
            );
            assert.equal(p.scaleDown.length, want.scaleDown);
            assert.equal(p.scaledPods, want.scaled);
        });
    }
    it("one namespace per stack, a DNS label whatever the stack's name", () => {
        assert.equal(loadNamespace("v1-31"), "kubemark-measure-v1-31");
        assert.match(
            loadNamespace("Org/Proj/A_Very_Long_Stack_Name_That_Goes_On_And_On"),
            /^kubemark-measure-[a-z0-9-]{1,30}$/,
        );
    });
    it("pods tolerate the hollow taint and the node-problem taints for a bounded time, and select the stack's Nodes", () => {
        const t = tolerations(
            [
                { key: DEFAULT_NODE_TAINT.key, effect: "NoSchedule" },
                { key: "node.kubernetes.io/not-ready", effect: "NoSchedule" },
                { key: "example.com/soft", effect: "PreferNoSchedule" },
                { key: "example.com/gpu", effect: "NoExecute" },
            ],
            30,
        );
        assert.deepEqual(t, [
            { key: "example.com/gpu", operator: "Exists", effect: "NoExecute" },
            { key: DEFAULT_NODE_TAINT.key, operator: "Exists", effect: "NoSchedule" },
            { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute", tolerationSeconds: 30 },
            { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: 30 },
        ]);
        const d = deploymentObject("ns", "load-0000", 5, "kubemark.lab", "run1", t);
        const spec = d.spec.template.spec;
        assert.deepEqual(spec.nodeSelector, { [STACK_LABEL_KEY]: "kubemark.lab" });
        assert.equal(spec.containers[0].image, "registry.k8s.io/pause:3.10");
        assert.equal(d.metadata.labels[STACK_LABEL_KEY], "kubemark.lab");
        assert.deepEqual(d.spec.selector.matchLabels, { "kubemark-pulumi/measure-run": "run1", app: "load-0000" });
    });
});

describe("churn plan", () => {
    const pods = Array.from({ length: 10 }, (_, i) => `hollow-node-lab-${i}`);
    const cases: [string, Partial<Options>, [string, number][]][] = [
        [
            "defaults: 2 kills, 30 s apart, first and last ordinal",
            {},
            [
                ["hollow-node-lab-0", 0],
                ["hollow-node-lab-9", 30_000],
            ],
        ],
        [
            "three kills spread, at 6 per minute",
            { kills: 3, killsPerMinute: 6 },
            [
                ["hollow-node-lab-0", 0],
                ["hollow-node-lab-5", 10_000],
                ["hollow-node-lab-9", 20_000],
            ],
        ],
        ["one kill", { kills: 1 }, [["hollow-node-lab-0", 0]]],
    ];
    for (const [name, over, want] of cases) {
        it(name, () =>
            assert.deepEqual(
                churnPlan(opts({ scenario: "churn", ...over }), pods).map((k) => [k.pod, k.atMs]),
                want,
            ),
        );
    }
    it("every pod once when kills equal pods; more kills than pods are refused with what is accepted", () => {
        assert.equal(new Set(churnPlan(opts({ kills: 10 }), pods).map((k) => k.pod)).size, 10);
        assert.throws(
            () => churnPlan(opts({ kills: 11 }), pods),
            /--kills 11: the stack runs only 10 hollow pod\(s\); accepted: 1 to 10/,
        );
    });
});

describe("a run's heartbeat", () => {
    const alive = (pid: number) => pid === 4242;
    const cases: [string, string | undefined, string | undefined, boolean][] = [
        ["a live process of this machine", "here/4242", undefined, true],
        [
            "a dead process of this machine, however fresh its heartbeat",
            "here/999",
            "2026-11-28T10:00:00.000000Z",
            false,
        ],
        ["another machine's fresh heartbeat", "there/1", "2026-11-28T09:59:45.000000Z", true],
        ["another machine's old heartbeat", "there/1", "2026-11-28T09:59:00.000000Z", false],
        ["no holder", undefined, undefined, false],
    ];
    for (const [name, holder, renew, want] of cases) {
        it(`${name}: ${want ? "alive" : "gone"}`, () =>
            assert.equal(holderAlive(holder, renew, Date.UTC(2026, 10, 28, 10), "here", alive), want));
    }
});

describe("pod startup from the watch", () => {
    it("keeps each first time; e2e is creationTimestamp to seen Running; phases say their source", () => {
        const t = new PodTracker();
        const at = Date.UTC(2026, 10, 28, 10);
        const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, "Z");
        const meta = { uid: "u1", name: "p1", creationTimestamp: iso(at) };
        t.observe("ADDED", { metadata: meta }, at + 120);
        t.observe(
            "MODIFIED",
            {
                metadata: meta,
                spec: { nodeName: "n1" },
                status: { conditions: [{ type: "PodScheduled", status: "True", lastTransitionTime: iso(at) }] },
            },
            at + 300,
        );
        const running = {
            metadata: meta,
            spec: { nodeName: "n1" },
            status: {
                phase: "Running",
                conditions: [{ type: "PodScheduled", status: "True", lastTransitionTime: iso(at) }],
                containerStatuses: [{ name: "pause", state: { running: { startedAt: iso(at + 1000) } } }],
            },
        };
        t.observe("MODIFIED", running, at + 1450);
        t.observe("MODIFIED", running, at + 5000);
        t.observe("ADDED", { metadata: { uid: "u2", name: "p2", creationTimestamp: iso(at) } }, at + 200);
        t.observe("DELETED", { metadata: { uid: "u2", name: "p2" } }, at + 900);
        assert.deepEqual(t.counts(), { live: 1, running: 1, scheduled: 1, seen: 2 });
        const s = podStartup(t.pods.values());
        assert.equal(s.e2e?.p99, 1.45);
        assert.deepEqual([s.counted, s.neverRan, s.clockCheckSeconds], [1, 1, 0.12]);
        const phase = (name: string) => s.phases.find((p) => p.phase === name)!;
        assert.equal(phase("create → scheduled").seconds?.p50, 0);
        assert.equal(phase("scheduled → started").source, "API (s)");
        assert.equal(phase("started → observed Running").seconds?.p50, 0.45);
        assert.equal(phase("seen created → seen Running").seconds?.p50, 1.33);
    });
});

describe("charts", () => {
    const svgs = [
        latencyDistributionSvg("startup", [0.5, 0.7, 1.2, 2.5], [{ label: "p99", value: 2.4, color: "red" }]),
        countsOverTimeSvg(
            "pods",
            [
                { t: 0, series: "bound", value: 0 },
                { t: 1, series: "bound", value: 5 },
            ],
            "pods",
            [{ t: 0, label: "create" }],
        ),
        throughputSvg(
            "throughput",
            [
                { t: 0, perSecond: 3 },
                { t: 5, perSecond: 4 },
            ],
            3.5,
        ),
        apiLatencySvg(
            "api",
            [
                { t: 10, call: "POST pods (resource)", p99: 0.02 },
                { t: 20, call: "POST pods (resource)", p99: 0.04 },
            ],
            [1, 5],
        ),
    ];
    for (const [i, svg] of svgs.entries()) {
        it(`chart ${i + 1} is standalone SVG`, () => {
            assert.match(svg, /^<svg[^>]* xmlns="http:\/\/www.w3.org\/2000\/svg"/);
            assert.ok(svg.endsWith("</svg>"));
            assert.ok(svg.length > 500);
        });
    }
});
