// Keeps killed hollow pods down: which replacement pods to delete so each workload runs its killed pods fewer.
import { podNodesOf } from "../components/hollow/names";
import type { PodLike } from "./kube";

/** A hollow pod as the churn tracks it in the node cluster. */
export interface HollowPod {
    readonly uid: string;
    readonly name: string;
    /** The controller's uid: a StatefulSet, ReplicaSet or ReplicationController. */
    readonly owner: string;
    readonly ownerKind: string;
    /** creationTimestamp in ms, whole seconds. */
    readonly createdMs: number;
    /** When the run's watch first saw it. */
    readonly seenMs: number;
    readonly terminating: boolean;
    /** Indexed hollow nodes it runs (`<pod>-<k>`); undefined: one, named as the pod. */
    readonly nodes?: number;
}

export function hollowPodOf(pod: PodLike, seenMs: number): HollowPod | undefined {
    const owner = (pod.metadata?.ownerReferences ?? []).find((o) => o.controller);
    if (!pod.metadata?.uid || !owner) {
        return undefined;
    }
    return {
        uid: pod.metadata.uid, name: pod.metadata.name ?? "", owner: owner.uid, ownerKind: owner.kind,
        createdMs: Date.parse(pod.metadata.creationTimestamp ?? "") || seenMs, seenMs, terminating: !!pod.metadata.deletionTimestamp,
        nodes: podNodesOf(pod.metadata.annotations),
    };
}

/**
 * When the churn first saw a pod: a pod that ran before the churn counts as seen at 0 however late the watch
 * delivers it (its first events can arrive after the first kill), so it is never taken for a replacement.
 */
export function firstSeenMs(uid: string, atMs: number, known: number | undefined, before: ReadonlySet<string>): number {
    return known ?? (before.has(uid) ? 0 : atMs);
}

/** One kill's down window: the owner runs one pod fewer until `untilMs`. */
export interface Downtime {
    readonly owner: string;
    readonly killedUid: string;
    /** A StatefulSet brings the pod back under this name, and only that pod's absence keeps the killed Nodes down. */
    readonly killedName: string;
    readonly fromMs: number;
    readonly untilMs: number;
}

/**
 * Pods to delete now: for each workload with killed pods inside their down window, it may run its pods at the
 * start (`baseline`) less those; the newest pods above that, and only pods first seen after the earliest of its open
 * kills (never a pod that ran before the churn), are the replacements to delete. A pod bearing the name of a pod
 * still kept down goes first: a StatefulSet brings each pod back under its own name, and deleting another kill's
 * replacement instead (whose window has closed, or which merely came later) would keep the wrong Node down. New-named
 * replacements (ReplicaSets, ReplicationControllers) stand for no kill in particular, so the newest go.
 */
export function replacementsToDelete(live: readonly HollowPod[], baseline: ReadonlyMap<string, number>, downs: readonly Downtime[],
    nowMs: number, deleting: ReadonlySet<string>): HollowPod[] {
    const open = downs.filter((d) => d.fromMs <= nowMs && nowMs < d.untilMs);
    const out: HollowPod[] = [];
    for (const owner of new Set(open.map((d) => d.owner))) {
        const mine = open.filter((d) => d.owner === owner);
        const allowed = (baseline.get(owner) ?? 0) - mine.length;
        const running = live.filter((p) => p.owner === owner && !p.terminating && !deleting.has(p.uid));
        const excess = running.length - allowed;
        if (excess <= 0) {
            continue;
        }
        const since = Math.min(...mine.map((d) => d.fromMs));
        const keptDown = new Set(mine.map((d) => d.killedName));
        const named = (p: HollowPod) => (keptDown.has(p.name) ? 1 : 0);
        const newest = running.filter((p) => p.seenMs >= since && !mine.some((d) => d.killedUid === p.uid))
            .sort((a, b) => named(b) - named(a) || b.seenMs - a.seenMs || b.createdMs - a.createdMs);
        out.push(...newest.slice(0, excess));
    }
    return out;
}
