// ClusterLoader2's scheduler throughput: a burst of max(1000, Nodes) pods at once, scheduled pods counted every second.
import type { RunContext } from "../context";
import { enc, listAll, NodeLike, PodLike } from "../kube";
import { podDeployment } from "../objects";
import { inPools, poolsText } from "../pools";
import { cl2Spread, round, Spread } from "../stats";
import type { PhaseRecord, PodRun } from "./podRun";
import type { PodTracker } from "./pods";

/** CL2's $MIN_PODS_IN_SMALL_CLUSTERS × 2: the burst is max(1000, Nodes) (testing/load/config.yaml). */
export const CL2_MIN_THROUGHPUT_PODS = 1000;
/** CL2 samples every second (the module's measurmentInterval: 1s). */
export const SAMPLE_MS = 1000;
/** The burst's pods ask what CL2's simple-deployment.yaml asks. */
export const THROUGHPUT_POD_REQUESTS = { cpu: "5m", memory: "20M" } as const;
const DEPLOYMENT = "scheduler-throughput";

export interface ThroughputOutcome {
    /** The burst CL2 would make, and the one made: fewer when the hollow Nodes have no room for all. */
    readonly wanted: number;
    readonly pods: number;
    /** Scheduled pods per second, one per sample, in order. */
    readonly samples: readonly number[];
    readonly stats?: Spread;
    /** Burst pods that appeared per second, sampled with the above: how fast the ReplicaSet controller made them. */
    readonly appeared: readonly number[];
    /** The burst pods' wait for the scheduler, first sight to first sight bound (nearest rank). */
    readonly waited?: Spread;
    /** What bounded the figure: the scheduler, or the pace at which the pods were made. */
    readonly boundBy?: string;
    readonly created?: PhaseRecord;
    readonly notes: readonly string[];
}

/** Below this p99 wait for a binding, the scheduler kept up with the pods as they appeared. */
export const KEPT_UP_SECONDS = 1;

/**
 * What bounded a burst's throughput. When pods were bound within a second of appearing, the scheduler waited for
 * work and the figure is the pace at which the ReplicaSet controller made the pods (its client: kube-controller-
 * manager's --kube-api-qps, 20 by default, --kube-api-burst 30); otherwise pods queued, and the figure is the
 * scheduler's own.
 */
export function boundOf(appeared: readonly number[], waited: Spread | undefined): string | undefined {
    if (!waited || appeared.length === 0) {
        return undefined;
    }
    const made = cl2Spread(appeared) as Spread;
    return waited.p99 < KEPT_UP_SECONDS
        ? `pod creation, not the scheduler: the burst's pods appeared at most ${round(made.max, 1)}/s (p50 ${round(made.p50, 1)}/s) ` +
              `and each was bound within ${round(waited.p99, 3)} s of appearing (p99), so the scheduler waited for work; the ` +
              "ReplicaSet controller's pace is kube-controller-manager's client limit (--kube-api-qps, 20 by default)"
        : `the scheduler: pods waited up to ${round(waited.p99, 3)} s (p99) to be bound while they appeared at most ` +
              `${round(made.max, 1)}/s`;
}

/** How many burst pods: the option, else max(1000, hollow Nodes). */
export const throughputPodCount = (given: number | undefined, hollowNodes: number) =>
    given ?? Math.max(CL2_MIN_THROUGHPUT_PODS, hollowNodes);

/** Pods the stack's hollow Nodes still take: allocatable pods less the pods bound to them and not finished. */
export function freePodSlots(nodes: readonly NodeLike[], pods: readonly PodLike[]): number {
    const used = new Map<string, number>();
    for (const p of pods) {
        const n = p.spec?.nodeName;
        if (n && p.status?.phase !== "Succeeded" && p.status?.phase !== "Failed") {
            used.set(n, (used.get(n) ?? 0) + 1);
        }
    }
    return nodes.reduce((sum, n) => {
        const room = Number(n.status?.allocatable?.pods ?? 0);
        return sum + Math.max(0, room - (used.get(n.metadata?.name ?? "") ?? 0));
    }, 0);
}

/**
 * CL2's samples: every interval, scheduled pods now (bound, not terminating) less the last count, divided by the
 * nominal interval in whole seconds (scheduling_throughput.go), from the start of the burst until all run.
 */
export class ThroughputSampler {
    readonly samples: number[] = [];
    readonly appeared: number[] = [];
    private last = 0;
    private lastSeen = 0;
    private timer?: NodeJS.Timeout;

    constructor(
        private readonly tracker: PodTracker,
        private readonly group: string,
    ) {}

    start(): void {
        this.timer = setInterval(() => this.sample(), SAMPLE_MS);
    }

    sample(): void {
        const c = this.tracker.counts(this.group);
        this.samples.push((c.scheduled - this.last) / (SAMPLE_MS / 1000));
        this.appeared.push((c.seen - this.lastSeen) / (SAMPLE_MS / 1000));
        this.last = c.scheduled;
        this.lastSeen = c.seen;
    }

    stop(): readonly number[] {
        clearInterval(this.timer);
        return this.samples;
    }
}

/** The burst: one Deployment of all its pods at once; sampled until all run; then deleted and waited out. */
export async function runThroughput(cx: RunContext, run: PodRun, wanted: number): Promise<ThroughputOutcome> {
    const { stack, target } = cx;
    const nodes = (await listAll<NodeLike>(target, "/api/v1/nodes", { labelSelector: stack.selector })).filter((n) =>
        inPools(n, cx.pools.chosen),
    );
    const names = new Set(nodes.map((n) => n.metadata?.name));
    const pods = (await listAll<PodLike>(target, "/api/v1/pods")).filter((p) => names.has(p.spec?.nodeName));
    const free = freePodSlots(nodes, pods);
    const count = Math.min(wanted, free);
    const notes: string[] = [];
    if (count < wanted) {
        const where = cx.pools.chosen ? `the hollow Nodes of ${poolsText(cx.pools.chosen)}` : "the hollow Nodes";
        notes.push(
            `the burst is ${count} pods, not ${wanted}: ${where} had room for ${free} more pods (allocatable pods ` +
                "less those bound); raise the stack's maxPods or lower --pods-per-node to make CL2's whole burst",
        );
    }
    if (count === 0) {
        return { wanted, pods: 0, samples: [], appeared: [], notes };
    }
    const ns = run.namespaces[0];
    const path = `/apis/apps/v1/namespaces/${enc(ns)}/deployments`;
    const sampler = new ThroughputSampler(run.tracker, "throughput");
    let created: PhaseRecord | undefined;
    try {
        created = await run.phase(
            "scheduler throughput",
            [
                {
                    atMs: 0,
                    run: async () => {
                        sampler.start();
                        await target.json(
                            "POST",
                            path,
                            podDeployment({
                                namespace: ns,
                                name: DEPLOYMENT,
                                replicas: count,
                                stackLabelValue: stack.labelValue,
                                runId: cx.runId,
                                tolerate: run.tolerate,
                                placement: run.placement,
                                group: "throughput",
                                ...THROUGHPUT_POD_REQUESTS,
                            }),
                        );
                    },
                },
            ],
            `all ${count} burst pods Running`,
            run.allRunning(count, "throughput"),
            "throughput",
        );
    } finally {
        sampler.stop();
    }
    await run.phase(
        "scheduler throughput deleted",
        [
            {
                atMs: 0,
                run: async () => {
                    await target.json("DELETE", `${path}/${DEPLOYMENT}`, {
                        apiVersion: "v1",
                        kind: "DeleteOptions",
                        propagationPolicy: "Background",
                    });
                },
            },
        ],
        "every burst pod gone from the target",
        run.gone("throughput"),
        "throughput",
    );
    const stats = cl2Spread(sampler.samples);
    cx.log(
        `scheduler throughput: ${count} pods, max ${stats ? round(stats.max, 1) : "?"} pods/s over ${sampler.samples.length} samples`,
    );
    const burst = [...run.tracker.pods.values()].filter((p) => p.group === "throughput");
    const waited = cl2Spread(
        burst.flatMap((p) =>
            p.scheduledSeenMs === undefined ? [] : [Math.max(0, (p.scheduledSeenMs - p.firstSeenMs) / 1000)],
        ),
    );
    const boundBy = boundOf(sampler.appeared, waited);
    if (boundBy) {
        cx.log(`scheduler throughput: bounded by ${boundBy}`);
    }
    return {
        wanted,
        pods: count,
        samples: sampler.samples,
        stats,
        appeared: sampler.appeared,
        waited,
        boundBy,
        created,
        notes,
    };
}
