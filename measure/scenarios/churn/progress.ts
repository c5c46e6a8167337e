// What a kill's progress line says while its Nodes are down and coming back: pure, from what the tracker knows.
import { round } from "../../stats";

export interface KillProgress {
    readonly nowMs: number;
    readonly killMs: number;
    readonly upAtMs: number;
    readonly graceSeconds: number;
    /** Each killed Node: seconds after the kill it was seen NotReady, then Ready again; its Lease's last renewal. */
    readonly nodes: readonly {
        readonly notReadySeconds?: number;
        readonly readySeconds?: number;
        readonly lastRenewMs?: number;
    }[];
    /** When the release began (the window's end) and when it was done. */
    readonly endedMs?: number;
    readonly releasedMs?: number;
    /** The pod that stood in for the killed one, and when (seconds after the window ended). */
    readonly replacement?: { readonly name: string; readonly seconds: number };
    /** Other kills whose policies still refuse the same owner's pods. */
    readonly heldBy: readonly number[];
}

const s = (ms: number) => `${round(ms / 1000, 1)} s`;

/**
 * One line that says what is happening: down so long of the window, the Lease's age against the grace period and
 * whether the target noticed; once released, the replacement and the Nodes Ready again.
 */
export function progressOf(p: KillProgress): string {
    const n = p.nodes.length;
    const one = n === 1;
    const notReady = p.nodes.filter((x) => x.notReadySeconds !== undefined);
    if (p.releasedMs === undefined && p.endedMs !== undefined) {
        return `window over after ${s(p.endedMs - p.killMs)} down, releasing the hold`;
    }
    if (p.releasedMs === undefined) {
        const renewed = p.nodes.map((x) => x.lastRenewMs).filter((x): x is number => x !== undefined);
        const lease =
            renewed.length === 0
                ? "Lease not read"
                : `${one ? "Lease" : "Leases"} last renewed ${s(p.nowMs - Math.max(...renewed))} ago${one ? "" : " at the latest"}`;
        const noticed = one
            ? notReady.length === 1
                ? `NotReady since ${round(notReady[0].notReadySeconds ?? 0, 1)} s after the kill`
                : `not yet NotReady (grace ${p.graceSeconds} s)`
            : `${notReady.length} of ${n} Nodes NotReady (grace ${p.graceSeconds} s)`;
        return `down ${s(p.nowMs - p.killMs)} of ${s(p.upAtMs - p.killMs)}, ${lease}, ${noticed}`;
    }
    const ready = p.nodes.filter((x) => x.readySeconds !== undefined).length;
    const replacement = p.replacement
        ? `replacement ${p.replacement.name} came ${round(p.replacement.seconds, 2)} s after the window ended`
        : p.heldBy.length > 0
          ? `no replacement yet: its owner is still held by kill ${p.heldBy.join(", ")}`
          : "no replacement pod yet";
    const back = one ? (ready === 1 ? "Ready again" : "not Ready yet") : `${ready} of ${n} Nodes Ready again`;
    const seen =
        notReady.length === n ? "" : `; ${one ? "never seen NotReady" : `${n - notReady.length} never seen NotReady`}`;
    return `window over, released ${s(p.nowMs - p.releasedMs)} ago after ${s(p.releasedMs - p.killMs)} down; ${replacement}; ${back}${seen}`;
}
