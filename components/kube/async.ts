// Bounded async helpers every provider uses: an injectable clock, limited concurrency, patient looks.
import { cancelledError, isUnreachable, throwIfCancelled } from "./errors";

export interface Clock {
    now(): number;
    sleep(ms: number): Promise<void>;
}
export const realClock: Clock = {
    now: () => Date.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};
export type Log = (message: string) => void;

/** `clock`, whose sleeps end with a CancelledError as soon as `signal` aborts (and at once if it has). */
export function cancellable(clock: Clock, signal: AbortSignal): Clock {
    return {
        now: () => clock.now(),
        sleep: async (ms) => {
            throwIfCancelled(signal);
            let onAbort: (() => void) | undefined;
            const aborted = new Promise<never>((_, reject) => {
                onAbort = () => reject(cancelledError());
                signal.addEventListener("abort", onAbort, { once: true });
            });
            try {
                await Promise.race([clock.sleep(ms), aborted]);
            } finally {
                signal.removeEventListener("abort", onAbort as () => void);
            }
        },
    };
}

export const POLL_MS = 2000;
export const PROGRESS_EVERY_MS = 10000;
/**
 * Refused looks in a row that a long wait forgives: an API server restarting comes back within a few; one that is
 * down fails the wait after these. A server that answers nothing within a request's bound (hundreds of hollow
 * kubelets starting or stopping at once on a small cluster keep it that busy) is waited for until the wait's bound.
 */
export const MISSED_LOOKS = 4;

/**
 * A look of a long wait: a look without an answer is logged and looked again, a refused one up to MISSED_LOOKS in a
 * row, a slow one (no answer within the request's bound) until the deadline.
 */
export function patientLook<T>(what: string, deadline: number, clock: Clock, log: Log): (look: () => Promise<T>) => Promise<T> {
    let missed = 0;
    return async (look) => {
        for (;;) {
            try {
                const found = await look();
                missed = 0;
                return found;
            } catch (e) {
                if (!isUnreachable(e) || clock.now() >= deadline || (++missed >= MISSED_LOOKS && !e.slow)) {
                    throw e;
                }
                log(`${what}: ${(e as Error).message}; looking again (${e.slow
                    ? `${missed} without an answer in a row: the server is busy, so until the bound`
                    : `${missed} of ${MISSED_LOOKS - 1} missed looks forgiven`})`);
                await clock.sleep(POLL_MS);
            }
        }
    };
}

/** Runs `task` on every item, at most `limit` at a time; every task is awaited, failures are collected. */
export async function forEachLimited<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<unknown[]> {
    const failures: unknown[] = [];
    let next = 0;
    const worker = async () => {
        while (next < items.length) {
            const item = items[next++];
            try {
                await task(item);
            } catch (e) {
                failures.push(e);
            }
        }
    };
    await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
    return failures;
}

/** The first few names of a list, for messages about many Nodes. */
export const someNames = (names: readonly string[]) => `${names.slice(0, 5).join(", ")}${names.length > 5 ? ", ..." : ""}`;
