// The hollow pods as the churn sees them in the node cluster: their owner, their Nodes, when the run first saw them.
import { podNodesOf } from "../../../components/hollow/names";
import type { PodLike } from "../../kube";
import { inPoolsByName, NO_POOL, PoolScope } from "../../pools";

/** The workload controller a hollow pod answers to: what an admission policy keeps from creating its replacement. */
export interface OwnerRef {
    readonly apiVersion: string;
    readonly kind: string;
    readonly name: string;
    readonly uid: string;
}

/** A hollow pod as the churn tracks it in the node cluster. */
export interface HollowPod {
    readonly uid: string;
    readonly name: string;
    /** Its controller: a StatefulSet, ReplicaSet or ReplicationController. */
    readonly owner: OwnerRef;
    /** creationTimestamp in ms, whole seconds. */
    readonly createdMs: number;
    /** When the run's watch first saw it. */
    readonly seenMs: number;
    readonly terminating: boolean;
    /** Indexed hollow nodes it runs (`<pod>-<k>`); undefined: one, named as the pod. */
    readonly nodes?: number;
}

/** The pod's controller, or undefined for a pod no workload stands behind (nothing would bring it back). */
export function hollowPodOf(pod: PodLike, seenMs: number): HollowPod | undefined {
    const ref = (pod.metadata?.ownerReferences ?? []).find((o) => o.controller) as
        (OwnerRef & { controller?: boolean }) | undefined;
    if (!pod.metadata?.uid || !ref) {
        return undefined;
    }
    const created = Date.parse(pod.metadata.creationTimestamp ?? "");
    return {
        uid: pod.metadata.uid,
        name: pod.metadata.name ?? "",
        owner: { apiVersion: ref.apiVersion ?? "", kind: ref.kind, name: ref.name, uid: ref.uid },
        createdMs: Number.isNaN(created) ? seenMs : created,
        seenMs,
        terminating: !!pod.metadata.deletionTimestamp,
        nodes: podNodesOf(pod.metadata.annotations),
    };
}

/**
 * Whether a churn of `scope`'s chosen pools may kill this hollow pod: every hollow Node it runs is registered in one
 * of them. A pod whose Nodes the run did not find registered is left alone: its pool is not known.
 */
export function inChosenPools(pod: HollowPod, nodeNames: readonly string[], scope: PoolScope): boolean {
    return (
        scope.chosen === undefined ||
        nodeNames.every((n) => scope.nodePool.has(n) && inPoolsByName(scope.nodePool.get(n) ?? NO_POOL, scope.chosen))
    );
}

/**
 * When the churn first saw a pod: a pod that ran before the churn counts as seen at 0 however late the watch
 * delivers it (its first events can arrive after the first kill), so it is never taken for a replacement.
 */
export function firstSeenMs(uid: string, atMs: number, known: number | undefined, before: ReadonlySet<string>): number {
    return known ?? (before.has(uid) ? 0 : atMs);
}

/**
 * The pod that stands in for a killed one: the first of the same owner the run saw after the kill, live, not a pod
 * that ran before the churn nor one another kill took. A StatefulSet's comes back under the killed pod's name (another
 * of its pods back from an earlier kill is not this one's); a ReplicaSet's or ReplicationController's under any.
 */
export function replacementOf(
    live: readonly HollowPod[],
    victim: HollowPod,
    killMs: number,
    taken: ReadonlySet<string>,
): HollowPod | undefined {
    const sameName = victim.owner.kind === "StatefulSet";
    return live
        .filter(
            (p) =>
                p.owner.uid === victim.owner.uid &&
                p.uid !== victim.uid &&
                !p.terminating &&
                p.seenMs >= killMs &&
                !taken.has(p.uid) &&
                (!sameName || p.name === victim.name),
        )
        .sort((a, b) => a.seenMs - b.seenMs)[0];
}
