// Each load pod's way from create to Running, from the run's watch (milliseconds) and the API's timestamps (seconds).
import type { PodLike } from "./kube";
import { CHURN_LIMIT_PER_SECOND } from "./slo";
import { round, schedulingThroughput, spread, Spread, Throughput, windows } from "./stats";

/** What is known of one pod; every `...Ms` is this machine's clock in milliseconds. */
export interface PodTimes {
    readonly name: string;
    /** creationTimestamp: whole seconds, the API server's clock. */
    createdApiMs?: number;
    /** The watch first saw the pod (ADDED). */
    firstSeenMs: number;
    /** The watch first saw it bound to a Node. */
    scheduledSeenMs?: number;
    /** PodScheduled condition's lastTransitionTime: whole seconds. */
    scheduledApiMs?: number;
    /** The container's state.running.startedAt, as the kubelet reports it: whole seconds. */
    startedApiMs?: number;
    /** The watch first saw it Running. */
    runningSeenMs?: number;
    /** The watch saw it marked for deletion or deleted. */
    deletedSeenMs?: number;
    node?: string;
}

const timeOf = (t?: string) => (t ? Date.parse(t) : undefined);

/** Keeps the first moment of each step per pod, as watch events arrive; later events never move a time. */
export class PodTracker {
    readonly pods = new Map<string, PodTimes>();

    observe(type: string, pod: PodLike, atMs: number): void {
        const uid = pod.metadata?.uid;
        if (!uid) {
            return;
        }
        let p = this.pods.get(uid);
        if (!p) {
            p = { name: pod.metadata?.name ?? uid, firstSeenMs: atMs };
            this.pods.set(uid, p);
        }
        p.createdApiMs ??= timeOf(pod.metadata?.creationTimestamp);
        if (pod.spec?.nodeName) {
            p.scheduledSeenMs ??= atMs;
            p.node ??= pod.spec.nodeName;
        }
        const scheduled = pod.status?.conditions?.find((c) => c.type === "PodScheduled" && c.status === "True");
        p.scheduledApiMs ??= timeOf(scheduled?.lastTransitionTime);
        const started = (pod.status?.containerStatuses ?? []).map((c) => timeOf(c.state?.running?.startedAt));
        if (started.length > 0 && started.every((t) => t !== undefined)) {
            p.startedApiMs ??= Math.max(...(started as number[]));
        }
        if (pod.status?.phase === "Running") {
            p.runningSeenMs ??= atMs;
        }
        if (type === "DELETED" || pod.metadata?.deletionTimestamp) {
            p.deletedSeenMs ??= atMs;
        }
    }

    /** Pods neither marked for deletion nor deleted, and of them those Running. */
    counts(): { live: number; running: number; scheduled: number; seen: number } {
        let live = 0;
        let running = 0;
        let scheduled = 0;
        for (const p of this.pods.values()) {
            if (p.deletedSeenMs === undefined) {
                live++;
                running += p.runningSeenMs === undefined ? 0 : 1;
                scheduled += p.scheduledSeenMs === undefined ? 0 : 1;
            }
        }
        return { live, running, scheduled, seen: this.pods.size };
    }
}

/** The phases of pod startup, in seconds, with where each one's times come from. */
export interface StartupPhase {
    readonly phase: string;
    readonly source: "watch (ms)" | "API (s)" | "API (s) to watch (ms)";
    readonly seconds?: Spread;
}

export interface PodStartup {
    /** The SLI: create (creationTimestamp) to observed Running by the run's watch. */
    readonly e2e?: Spread;
    readonly phases: readonly StartupPhase[];
    /** Pods that ran, and pods the run saw that never ran (removed by a scale-down first, or still pending). */
    readonly counted: number;
    readonly neverRan: number;
    /**
     * Least (first seen − creationTimestamp): with both clocks alike it is between 0 and 1 s (creationTimestamp
     * drops the fraction); below 0 this machine's clock is behind the API server's by at least that much.
     */
    readonly clockCheckSeconds?: number;
    /** Each counted pod's create to observed Running, for the distribution plot. */
    readonly samples: readonly number[];
}

const diff = (a?: number, b?: number) => (a === undefined || b === undefined ? undefined : (b - a) / 1000);
const defined = (v: (number | undefined)[]) => v.filter((x): x is number => x !== undefined);

export function podStartup(pods: Iterable<PodTimes>): PodStartup {
    const all = [...pods];
    const ran = all.filter((p) => p.runningSeenMs !== undefined);
    const phase = (name: string, source: StartupPhase["source"], f: (p: PodTimes) => number | undefined): StartupPhase =>
        ({ phase: name, source, seconds: spread(defined(ran.map(f))) });
    const samples = defined(ran.map((p) => diff(p.createdApiMs, p.runningSeenMs)));
    const skew = defined(all.map((p) => diff(p.createdApiMs, p.firstSeenMs)));
    return {
        e2e: spread(samples),
        phases: [
            phase("create → scheduled", "API (s)", (p) => diff(p.createdApiMs, p.scheduledApiMs)),
            phase("scheduled → started", "API (s)", (p) => diff(p.scheduledApiMs, p.startedApiMs)),
            phase("started → observed Running", "API (s) to watch (ms)", (p) => diff(p.startedApiMs, p.runningSeenMs)),
            phase("seen created → seen bound", "watch (ms)", (p) => diff(p.firstSeenMs, p.scheduledSeenMs)),
            phase("seen bound → seen Running", "watch (ms)", (p) => diff(p.scheduledSeenMs, p.runningSeenMs)),
            phase("seen created → seen Running", "watch (ms)", (p) => diff(p.firstSeenMs, p.runningSeenMs)),
        ],
        counted: ran.length,
        neverRan: all.length - ran.length,
        clockCheckSeconds: skew.length > 0 ? round(Math.min(...skew)) : undefined,
        samples,
    };
}

/** Scheduling throughput from the watch: pods first seen bound, in 5 s windows while the scheduler had work. */
export function throughputOf(pods: Iterable<PodTimes>, startMs: number, endMs: number): Throughput {
    return schedulingThroughput([...pods].map((p) => ({ createdMs: p.firstSeenMs, scheduledMs: p.scheduledSeenMs })), startMs, endMs, 5000);
}

/** Pods created plus pods deleted per second, the most in any 5 s window: the SLOs hold only up to 20. */
export function churnOf(pods: Iterable<PodTimes>, startMs: number, endMs: number): { maxPerSecond: number; limit: number } {
    const times = [...pods].flatMap((p) => [p.firstSeenMs, ...(p.deletedSeenMs === undefined ? [] : [p.deletedSeenMs])]);
    const w = windows(times, startMs, endMs, 5000);
    return { maxPerSecond: w.reduce((a, x) => Math.max(a, x.perSecond), 0), limit: CHURN_LIMIT_PER_SECOND };
}
