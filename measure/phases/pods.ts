// Each load pod's way from create to Running, from the run's watch (milliseconds) and the API's timestamps (seconds).
import type { PodLike } from "../kube";
import { CHURN_LIMIT_PER_SECOND } from "../slo";
import { cl2Spread, round, schedulingThroughput, spread, Spread, Throughput, windows } from "../stats";

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
    /** `kubemark-pulumi/measure-group`: load, latency, throughput; which of the run's pods it is. */
    group?: string;
}

/** Tells the run's pods apart: the load's own, the latency pods the SLO judges, the scheduler throughput burst. */
export const GROUP_LABEL_KEY = "kubemark-pulumi/measure-group";

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
            p = { name: pod.metadata?.name ?? uid, firstSeenMs: atMs, group: pod.metadata?.labels?.[GROUP_LABEL_KEY] };
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

    /** Pods (of one group, or all) neither marked for deletion nor deleted, and of them those bound and Running. */
    counts(group?: string): { live: number; running: number; scheduled: number; seen: number } {
        let live = 0;
        let running = 0;
        let scheduled = 0;
        let seen = 0;
        for (const p of this.pods.values()) {
            if (group !== undefined && p.group !== group) {
                continue;
            }
            seen++;
            if (p.deletedSeenMs === undefined) {
                live++;
                running += p.runningSeenMs === undefined ? 0 : 1;
                scheduled += p.scheduledSeenMs === undefined ? 0 : 1;
            }
        }
        return { live, running, scheduled, seen };
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
    const phase = (
        name: string,
        source: StartupPhase["source"],
        f: (p: PodTimes) => number | undefined,
    ): StartupPhase => ({ phase: name, source, seconds: spread(defined(ran.map(f))) });
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

/** CL2's transitions of pod startup (pod_startup_latency.go since 09a6a61de): every time is its own watch's. */
export interface Cl2Startup {
    readonly createToSchedule?: Spread;
    readonly scheduleToRun?: Spread;
    /** pod_startup, the judged one: first sight of the pod to first sight of it Running; equal to create_to_run. */
    readonly podStartup?: Spread;
    readonly samples: readonly number[];
}

/**
 * Pod startup as CL2 times it now: from the first watch event of the pod to the first with a node name and the
 * first with phase Running, this machine's clock; negative lags count as 0 (phase_latency.go); nearest-rank
 * percentiles.
 */
export function cl2Startup(pods: Iterable<PodTimes>): Cl2Startup {
    const all = [...pods];
    const lag = (f: (p: PodTimes) => [number | undefined, number | undefined]) =>
        defined(
            all.map((p) => {
                const [a, b] = f(p);
                return a === undefined || b === undefined ? undefined : Math.max(0, (b - a) / 1000);
            }),
        );
    const samples = lag((p) => [p.firstSeenMs, p.runningSeenMs]);
    return {
        createToSchedule: cl2Spread(lag((p) => [p.firstSeenMs, p.scheduledSeenMs])),
        scheduleToRun: cl2Spread(lag((p) => [p.scheduledSeenMs, p.runningSeenMs])),
        podStartup: cl2Spread(samples),
        samples,
    };
}

/** Scheduling throughput from the watch: pods first seen bound, in 5 s windows while the scheduler had work. */
export function throughputOf(pods: Iterable<PodTimes>, startMs: number, endMs: number): Throughput {
    return schedulingThroughput(
        [...pods].map((p) => ({ createdMs: p.firstSeenMs, scheduledMs: p.scheduledSeenMs })),
        startMs,
        endMs,
        5000,
    );
}

/**
 * The SLO environment's churn is a sustained rate: pods created plus deleted per second over a minute. A 250-pod
 * Deployment the controller manager makes at its client's 20 QPS and burst of 30 overshoots 20/s in a 5 s window
 * on any cluster, CL2's too.
 */
export const CHURN_WINDOW_MS = 60_000;

/**
 * Pods created plus pods deleted per second, the most in any minute, the scheduler throughput burst left out (it is
 * a burst by design, reported on its own): the SLOs hold only up to 20.
 */
export function churnOf(
    pods: Iterable<PodTimes>,
    startMs: number,
    endMs: number,
): { maxPerSecond: number; limit: number } {
    const times = [...pods]
        .filter((p) => p.group !== "throughput")
        .flatMap((p) => [p.firstSeenMs, ...(p.deletedSeenMs === undefined ? [] : [p.deletedSeenMs])]);
    const w = windows(times, startMs, endMs, CHURN_WINDOW_MS);
    return { maxPerSecond: w.reduce((a, x) => Math.max(a, x.perSecond), 0), limit: CHURN_LIMIT_PER_SECOND };
}
