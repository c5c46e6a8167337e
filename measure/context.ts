// What a scenario runs with: the stack, both clusters, a cancellable clock, the log, and the run's bounds.
import type { Clock } from "../components/kube/async";
import { throwIfCancelled } from "../components/kube/errors";
import type { ClusterApi } from "../components/kube/clusterApi";
import type { Kube } from "./kube";
import type { Options } from "./options";
import type { StackInfo } from "./stack";

export interface RunContext {
    readonly options: Options;
    readonly stack: StackInfo;
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

/**
 * Polls `check` every `everyMs` until it answers a truthy value, the wait's bound, or the run's: the only way any
 * loop of the run waits. `progress` is said every 5 s.
 */
export async function waitUntil<T>(
    cx: RunContext,
    what: string,
    boundMs: number,
    check: () => Promise<T | undefined> | T | undefined,
    progress: () => string,
    everyMs = 500,
): Promise<T> {
    const started = cx.clock.now();
    const until = Math.min(started + boundMs, cx.deadlineMs);
    let said = started;
    for (;;) {
        throwIfCancelled(cx.signal);
        const found = await check();
        if (found) {
            return found;
        }
        const now = cx.clock.now();
        if (now >= until) {
            const which =
                until === cx.deadlineMs
                    ? `the run's bound (--timeout-seconds ${cx.options.timeoutSeconds})`
                    : `${Math.round(boundMs / 1000)}s`;
            throw new Error(`${what}: not reached within ${which}: ${progress()}`);
        }
        if (now - said >= 5000) {
            cx.log(`${what}: ${progress()} (${Math.round((now - started) / 1000)}s)`);
            said = now;
        }
        await cx.clock.sleep(everyMs);
    }
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
