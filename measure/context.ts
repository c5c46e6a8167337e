// What a scenario runs with: the stack, both clusters, a cancellable clock, the log, and the run's bounds.
import type { Clock } from "../components/kube/async";
import { throwIfCancelled } from "../components/kube/errors";
import type { ClusterApi } from "../components/kube/clusterApi";
import type { Kube } from "./kube";
import type { Options } from "./options";
import type { PoolScope } from "./pools";
import type { StackInfo } from "./stack";

export interface RunContext {
    readonly options: Options;
    readonly stack: StackInfo;
    /** The stack's node pools at the start, and those the run targets (--pool). */
    readonly pools: PoolScope;
    /** Target and node cluster: every call ends at once on Ctrl-C. */
    readonly target: Kube;
    readonly nodeCluster: Kube;
    readonly targetNodes: ClusterApi;
    readonly nodePods: ClusterApi;
    readonly clock: Clock;
    readonly signal: AbortSignal;
    readonly log: (message: string) => void;
    /** Labels the run's objects, one value per run. */
    readonly runId: string;
    readonly startMs: number;
    /** The run's bound (--timeout-seconds): every wait ends by then. */
    readonly deadlineMs: number;
    /** What the run created that cleanup must remove, recorded as soon as it exists. */
    readonly created: { namespaces: string[]; priorityClasses: string[] };
}

/** Seconds since the run started, for progress lines and reports. */
export const since = (cx: RunContext, atMs = Date.now()) => Math.round((atMs - cx.startMs) / 100) / 10;

/** How a poll waits: its clock, its log, how often it looks and speaks, and its bound (this machine's clock). */
export interface Poll {
    readonly clock: Clock;
    readonly log: (message: string) => void;
    readonly untilMs: number;
    /** Why the bound is what it is, for the message when it passes. */
    readonly bound: string;
    readonly everyMs: number;
    readonly progressEveryMs: number;
    readonly signal?: AbortSignal;
}

/**
 * Polls `check` until it answers a truthy value or the bound passes (then throws naming `what` and the progress);
 * `progress` is said every progressEveryMs. The one loop every wait of measure/ goes through, its cleanup's too.
 */
export async function pollUntil<T>(
    poll: Poll,
    what: string,
    check: () => Promise<T | undefined> | T | undefined,
    progress: () => string,
): Promise<T> {
    const started = poll.clock.now();
    let said = started;
    for (;;) {
        if (poll.signal) {
            throwIfCancelled(poll.signal);
        }
        const found = await check();
        if (found) {
            return found;
        }
        const now = poll.clock.now();
        if (now >= poll.untilMs) {
            throw new Error(`${what}: not reached within ${poll.bound}: ${progress()}`);
        }
        if (now - said >= poll.progressEveryMs) {
            poll.log(`${what}: ${progress()} (${Math.round((now - started) / 1000)}s)`);
            said = now;
        }
        await poll.clock.sleep(poll.everyMs);
    }
}

/** A wait of the run: bounded by `boundMs` and the run's own bound, ended at once on Ctrl-C, progress every 5 s. */
export async function waitUntil<T>(
    cx: RunContext,
    what: string,
    boundMs: number,
    check: () => Promise<T | undefined> | T | undefined,
    progress: () => string,
    everyMs = 500,
): Promise<T> {
    const untilMs = Math.min(cx.clock.now() + boundMs, cx.deadlineMs);
    const bound =
        untilMs === cx.deadlineMs
            ? `the run's bound (--timeout-seconds ${cx.options.timeoutSeconds})`
            : `${Math.round(boundMs / 1000)}s`;
    return pollUntil(
        { clock: cx.clock, log: cx.log, untilMs, bound, everyMs, progressEveryMs: 5000, signal: cx.signal },
        what,
        check,
        progress,
    );
}

/** Sleeps until `atMs` (this machine's clock), or not at all when it has passed; the run's bound still holds. */
export async function sleepUntil(cx: RunContext, atMs: number): Promise<void> {
    if (atMs > cx.deadlineMs) {
        throw new Error(`the run's bound (--timeout-seconds ${cx.options.timeoutSeconds}) comes before the next step`);
    }
    const wait = atMs - cx.clock.now();
    if (wait > 0) {
        await cx.clock.sleep(wait);
    }
    throwIfCancelled(cx.signal);
}
