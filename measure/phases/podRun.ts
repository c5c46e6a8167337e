// What every scenario that puts pods on the hollow Nodes shares: its namespaces, watches, scrapes, paced phases.
import { CallLatency, LatencyPoint, LatencyRecorder } from "../metrics/apiLatency";
import { createNamespace, heartbeat, holderId } from "../cleanup";
import { RunContext, since, sleepUntil, waitUntil } from "../context";
import { enc, listAll, NodeLike, watch } from "../kube";
import { GeneratorUsage, generatorMeter, HollowUsage, hollowUsage, NodeHealth, NodeWatch, usageOver } from "../observe";
import { namespaceObject, RUN_LABEL_KEY, Toleration, tolerations } from "../objects";
import { GROUP_LABEL_KEY, PodTracker } from "./pods";
import { inPools, Placement, poolPlacement, poolScope } from "../pools";
import { PoolFigures, poolFigures } from "./poolReport";
import { isCancelled } from "../../components/kube/errors";

export interface PhaseRecord {
    readonly phase: string;
    readonly startSeconds: number;
    /** When the last step was sent, and when the pods reached the phase's goal. */
    readonly stepsSentSeconds?: number;
    readonly settledSeconds?: number;
    readonly goal: string;
}

/** A step of a phase: when, after the phase starts, and what it sends. */
export interface TimedAction {
    readonly atMs: number;
    readonly run: () => Promise<void>;
}

/** Figures every pod scenario reports, whatever its own. */
export interface PodRunFigures {
    readonly phases: PhaseRecord[];
    readonly apiCalls?: CallLatency[];
    readonly apiMetric?: string;
    readonly apiProblem?: string;
    /** Set when the API latency figures end before the run did (the last scrape got no answer). */
    readonly apiEndNote?: string;
    readonly latencyOverTime: LatencyPoint[];
    readonly nodes: NodeHealth;
    readonly usage: HollowUsage;
    readonly generator: GeneratorUsage;
    /** Pods seen bound and seen Running by each second of the run, for the plot. */
    readonly progress: { t: number; bound: number; running: number }[];
    readonly durationSeconds: number;
    readonly endMs: number;
    /** Per node pool: its Nodes, capacity, the run's pods bound there and their startup. */
    readonly pools: PoolFigures[];
}

const HEARTBEAT_EVERY_MS = 10_000;

/** Cumulative counts per second from per-pod first times. */
function perSecond(times: readonly number[], startMs: number, endMs: number): number[] {
    const seconds = Math.max(1, Math.ceil((endMs - startMs) / 1000));
    const counts = new Array<number>(seconds + 1).fill(0);
    for (const t of times) {
        counts[Math.min(seconds, Math.max(0, Math.ceil((t - startMs) / 1000)))]++;
    }
    for (let i = 1; i < counts.length; i++) {
        counts[i] += counts[i - 1];
    }
    return counts;
}

interface EventList {
    items?: { type?: string; reason?: string; message?: string; involvedObject?: { kind?: string; name?: string } }[];
}

/** The run's last Warning events, for a phase that did not reach its goal: they usually say why. */
async function warnings(cx: RunContext, namespaces: readonly string[]): Promise<string> {
    const seen = new Map<string, string>();
    for (const ns of namespaces) {
        const list = await cx.target
            .maybe<EventList>("GET", `/api/v1/namespaces/${enc(ns)}/events?fieldSelector=${enc("type=Warning")}`)
            .catch(() => undefined);
        for (const e of list?.items ?? []) {
            seen.set(
                `${e.reason}: ${e.message}`,
                `${ns} ${e.involvedObject?.kind}/${e.involvedObject?.name} ${e.reason}: ${e.message}`,
            );
        }
    }
    const last = [...seen.values()].slice(-3);
    return last.length === 0 ? "" : `. Warnings: ${last.join("; ")}`;
}

/** One run's pods in the target: created in its namespaces, watched from the first to the last, every phase timed. */
export class PodRun {
    readonly tracker = new PodTracker();
    readonly phases: PhaseRecord[] = [];
    tolerate: Toleration[] = [];
    /** Every pod of the run goes to the run's pools (--pool), or anywhere on the stack's hollow Nodes. */
    readonly placement: Placement;
    private stops: (() => Promise<void>)[] = [];
    private nodeWatch?: NodeWatch;
    private latency?: LatencyRecorder;
    private usageBefore?: Awaited<ReturnType<typeof hollowUsage>>;
    private generator?: () => GeneratorUsage;
    private beat?: NodeJS.Timeout;

    constructor(
        private readonly cx: RunContext,
        readonly namespaces: readonly string[],
    ) {
        this.placement = poolPlacement(cx.pools.chosen);
    }

    /** Creates the namespaces (the first holds the run's heartbeat), then starts every watch and scrape. */
    async start(): Promise<void> {
        const { cx } = this;
        const { stack, target } = cx;
        const nodes = await listAll<NodeLike>(target, "/api/v1/nodes", { labelSelector: stack.selector });
        // The taints of the pools the run loads, and only theirs: a pool the user names (a GPU pool tainted
        // NoSchedule) is one to load, as every taint of the stack was tolerated before pools; the other pools' taints
        // keep the pods off them beside the selector.
        this.tolerate = tolerations(
            nodes.filter((n) => inPools(n, cx.pools.chosen)).flatMap((n) => n.spec?.taints ?? []),
            cx.options.tolerationSeconds,
        );
        for (const ns of this.namespaces) {
            await createNamespace(target, namespaceObject(ns, stack.labelValue, cx.runId, holderId()));
            cx.created.namespaces.push(ns);
        }
        const home = this.namespaces[0];
        await heartbeat(target, home);
        const podWatch = watch(
            target,
            "/api/v1/pods",
            { labelSelector: `${RUN_LABEL_KEY}=${cx.runId}` },
            (type, obj, at) => this.tracker.observe(type, obj, at),
            cx.log,
        );
        this.stops.push(() => podWatch.stop());
        this.nodeWatch = new NodeWatch(cx.targetNodes, stack.selector, stack.replicas, cx.startMs, cx.log);
        this.nodeWatch.start(cx.options.nodePollSeconds * 1000);
        this.latency = new LatencyRecorder(target, cx.startMs, cx.log);
        await this.latency.start(cx.options.metricsEverySeconds * 1000);
        this.usageBefore = await hollowUsage(cx.nodeCluster, stack.namespace, stack.podSelector);
        this.generator = generatorMeter();
        this.beat = setInterval(
            () => void heartbeat(target, home).catch((e) => cx.log(`heartbeat: ${(e as Error).message}`)),
            HEARTBEAT_EVERY_MS,
        );
    }

    /** `n pods, b bound, r Running` of one group, or all. */
    counts(group?: string): string {
        const c = this.tracker.counts(group);
        return `${c.live} pods, ${c.scheduled} bound, ${c.running} Running`;
    }

    /** Every live pod of the group (all when undefined) Running, and `n` of them. */
    allRunning(n: number, group?: string): () => boolean {
        return () => {
            const c = this.tracker.counts(group);
            return c.live === n && c.running === n;
        };
    }

    /**
     * No pod of the group is left in the target, terminating ones included: a deletion phase ends when the hollow
     * kubelets have let go of its pods, so that the next phase starts on a quiet cluster, as CL2 waits for it.
     */
    gone(group: string): () => Promise<boolean> {
        const selector = `${RUN_LABEL_KEY}=${this.cx.runId},${GROUP_LABEL_KEY}=${group}`;
        return async () => {
            const list = await this.cx.target.json<{ items?: unknown[] }>(
                "GET",
                `/api/v1/pods?${new URLSearchParams({ labelSelector: selector, limit: "1" })}`,
            );
            return (list.items ?? []).length === 0;
        };
    }

    /** Sends the phase's steps on their schedule, then waits for its goal (bounded by --phase-timeout-seconds). */
    async phase(
        name: string,
        steps: readonly TimedAction[],
        goal: string,
        reached: () => boolean | Promise<boolean>,
        group?: string,
    ): Promise<PhaseRecord> {
        const { cx } = this;
        const start = cx.clock.now();
        const record: { -readonly [K in keyof PhaseRecord]: PhaseRecord[K] } = {
            phase: name,
            startSeconds: since(cx, start),
            goal,
        };
        this.phases.push(record);
        const last = steps.reduce((a, s) => Math.max(a, s.atMs), 0);
        cx.log(`${name}: ${steps.length} step(s) over ${Math.round(last / 1000)}s, then ${goal}`);
        let said = start;
        const ordered = [...steps].sort((a, b) => a.atMs - b.atMs);
        for (const [i, step] of ordered.entries()) {
            await sleepUntil(cx, start + step.atMs);
            await step.run();
            if (cx.clock.now() - said >= 5000) {
                cx.log(`${name}: ${i + 1}/${ordered.length} steps sent; ${this.counts(group)} (${since(cx)}s)`);
                said = cx.clock.now();
            }
        }
        record.stepsSentSeconds = since(cx);
        try {
            await waitUntil(
                cx,
                `${name}: ${goal}`,
                cx.options.phaseTimeoutSeconds * 1000,
                () => reached(),
                () => this.counts(group),
            );
        } catch (e) {
            if (isCancelled(e)) {
                throw e;
            }
            const c = this.tracker.counts(group);
            const unbound =
                c.live > 0 && c.scheduled === 0
                    ? ". No pod was bound to a Node: does the target run a kube-scheduler, and do the hollow Nodes take these pods?"
                    : "";
            throw new Error(`${(e as Error).message}${unbound}${await warnings(cx, this.namespaces)}`);
        }
        record.settledSeconds = since(cx);
        cx.log(`${name}: ${goal} after ${Math.round((cx.clock.now() - start) / 100) / 10}s; ${this.counts(group)}`);
        return record;
    }

    /** Full load held for `seconds`, the pods watched meanwhile. */
    async hold(seconds: number): Promise<void> {
        const { cx } = this;
        if (seconds <= 0) {
            return;
        }
        cx.log(`hold: ${this.counts()} for ${seconds}s`);
        const held = cx.clock.now();
        this.phases.push({ phase: "hold", startSeconds: since(cx, held), goal: `${seconds}s at full load` });
        await waitUntil(
            cx,
            "hold",
            seconds * 1000 + 60_000,
            () => cx.clock.now() - held >= seconds * 1000,
            () => this.counts(),
            1000,
        );
    }

    /** Stops every watch and scrape; the figures of the run up to now. */
    async finish(): Promise<PodRunFigures> {
        const { cx } = this;
        const endMs = Date.now();
        clearInterval(this.beat);
        const health = this.nodeWatch
            ? await this.nodeWatch.stop()
            : { expected: cx.stack.replicas, looks: 0, failedLooks: 0, notReady: [], samples: [] };
        await this.latency?.stop().catch((e) => cx.log(`last /metrics scrape: ${(e as Error).message}`));
        const usageAfter = await hollowUsage(cx.nodeCluster, cx.stack.namespace, cx.stack.podSelector).catch((e) => ({
            atMs: Date.now(),
            pods: new Map(),
            problems: [(e as Error).message],
        }));
        for (const stop of this.stops) {
            await stop();
        }
        const pods = [...this.tracker.pods.values()];
        const nodesAtEnd = await listAll<NodeLike>(cx.target, "/api/v1/nodes", {
            labelSelector: cx.stack.selector,
        }).catch((e) => {
            cx.log(`the hollow Nodes' pools at the end: ${(e as Error).message}`);
            return undefined;
        });
        const bound = perSecond(
            pods.flatMap((p) => (p.scheduledSeenMs === undefined ? [] : [p.scheduledSeenMs])),
            cx.startMs,
            endMs,
        );
        const running = perSecond(
            pods.flatMap((p) => (p.runningSeenMs === undefined ? [] : [p.runningSeenMs])),
            cx.startMs,
            endMs,
        );
        return {
            phases: this.phases,
            apiCalls: this.latency?.calls(),
            apiMetric: this.latency?.metric,
            apiProblem: this.latency?.problem,
            apiEndNote: this.latency?.endNote,
            latencyOverTime: this.latency?.overTime() ?? [],
            nodes: health,
            usage: usageOver(
                this.usageBefore ?? { atMs: endMs, pods: new Map(), problems: ["not read"] },
                usageAfter,
                cx.stack.nodesPerPod,
            ),
            generator: (this.generator ?? generatorMeter())(),
            progress: bound.map((b, t) => ({ t, bound: b, running: running[t] })),
            durationSeconds: since(cx, endMs),
            endMs,
            pools: poolFigures(cx.pools, pods, nodesAtEnd && poolScope(nodesAtEnd, cx.pools.chosen)),
        };
    }
}
