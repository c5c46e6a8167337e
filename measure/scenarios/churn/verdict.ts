// Whether each kill took: the target's grace period by release, and the verdicts a killed Node's record gives.
import type { KilledNode } from "./model";

/** A hollow kubelet renews its Lease every 10 s; the node lifecycle controller looks every 5 s (its monitor period). */
export const RENEW_SECONDS = 10;
export const MONITOR_SECONDS = 5;
/** A renewal up to 2 s after the kill may have left before it (and the two clocks differ): not counted against it. */
export const SETTLE_SECONDS = 2;
/** kube-controller-manager's node-monitor-grace-period default: 40 s, 50 s from v1.32. */
export const GRACE_BEFORE_1_32 = 40;
export const GRACE_FROM_1_32 = 50;

/**
 * The node-monitor-grace-period the target's release defaults to, from its GET /version gitVersion. A version not
 * read as v<major>.<minor> is taken as a recent one (50 s): a longer grace never fails a kill that a shorter would not.
 */
export function nodeMonitorGraceSeconds(gitVersion: string | undefined): { seconds: number; known: boolean } {
    const m = /^v?(\d+)\.(\d+)/.exec(gitVersion ?? "");
    if (!m) {
        return { seconds: GRACE_FROM_1_32, known: false };
    }
    const [major, minor] = [Number(m[1]), Number(m[2])];
    return { seconds: major > 1 || minor >= 32 ? GRACE_FROM_1_32 : GRACE_BEFORE_1_32, known: true };
}

/** How long a Node must be silent before the target is sure to mark it NotReady: grace, a renewal, a monitor period. */
export const noticeSeconds = (graceSeconds: number) => graceSeconds + RENEW_SECONDS + MONITOR_SECONDS;

export interface KillVerdict {
    /** Lease renewals inside (kill + 2 s, end of the hold), seconds after the kill: the kill did not hold. */
    readonly renewedInside: number[];
    /** Never NotReady although held longer than the target needs to notice: the kill did not take. */
    readonly didNotTake: boolean;
    /** The pod standing in for the killed one came before the window ended: its workload was not kept short. */
    readonly replacedInside: boolean;
    /** Never NotReady, held too briefly for the target to notice: no failure, but nothing learnt either. */
    readonly tooShort: boolean;
}

/**
 * The verdicts of one killed Node's record. The hold's end is when it was released (a run cut short releases early);
 * `downSeconds` stands in when the release was never recorded. A kill that found its pod gone is judged on nothing.
 */
export function killVerdict(k: KilledNode, graceSeconds: number, downSeconds: number): KillVerdict {
    if (k.gone) {
        return { renewedInside: [], didNotTake: false, replacedInside: false, tooShort: false };
    }
    const held = k.heldSeconds ?? downSeconds;
    const renewedInside = k.renewals.filter((s) => s > SETTLE_SECONDS && s < held);
    const silent = k.notReadySeconds === undefined;
    return {
        renewedInside,
        didNotTake: silent && held > noticeSeconds(graceSeconds),
        replacedInside: k.replacementSeconds !== undefined && k.replacementSeconds < 0,
        tooShort: silent && held <= noticeSeconds(graceSeconds),
    };
}

/** Whole seconds of --down-seconds that let the target notice a kill: more than its notice time. */
export const downSecondsToNotice = (graceSeconds: number) => noticeSeconds(graceSeconds) + 1;
