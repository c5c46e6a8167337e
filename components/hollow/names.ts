// How hollow Nodes are named and which pod stands behind each: one per pod, or `<pod>-<k>` when pods hold several.

/**
 * On the pod template when a pod runs several hollow nodes: how many, so the sweep knows which Nodes a live pod
 * stands behind without knowing the stack's settings (a pod of an older layout may still be terminating).
 */
export const POD_NODES_ANNOTATION = "kubemark-pulumi/hollow-nodes";
/** The second workload that holds the remainder when replicas is not a multiple of nodesPerPod. */
export const LAST_WORKLOAD_SUFFIX = "-last";

/** How `replicas` hollow Nodes are spread over pods of `nodesPerPod`: full pods, then one pod with the rest. */
export interface PodLayout {
    /** Hollow nodes in each pod of the main workload. */
    readonly nodesPerPod: number;
    /** Pods of the main workload, each with nodesPerPod hollow nodes. */
    readonly fullPods: number;
    /** Hollow nodes of the last pod (its own one-pod workload); 0 when replicas divides evenly. */
    readonly rest: number;
    /** Nodes are `<pod>-<k>` (several per pod); false: a Node is named as its pod, as upstream. */
    readonly indexed: boolean;
}

export function podLayout(replicas: number, nodesPerPod: number): PodLayout {
    if (!Number.isInteger(nodesPerPod) || nodesPerPod < 1) {
        throw new Error(`nodesPerPod must be a whole number of at least 1, got ${nodesPerPod}`);
    }
    return { nodesPerPod, fullPods: Math.floor(replicas / nodesPerPod), rest: replicas % nodesPerPod, indexed: nodesPerPod > 1 };
}

/** The Node names of one pod: its own name, or `<pod>-0` ... `<pod>-<count-1>` when the layout is indexed. */
export function podNodeNames(podName: string, count: number | undefined): string[] {
    return count === undefined ? [podName] : Array.from({ length: count }, (_, k) => `${podName}-${k}`);
}

/**
 * Every Node name a StatefulSet stack registers: `<workload>-<ordinal>` for one node per pod, else
 * `<workload>-<ordinal>-<k>` and `<workload>-last-0-<k>` for the last pod's rest.
 */
export function statefulNodeNames(workloadName: string, replicas: number, nodesPerPod: number): string[] {
    const layout = podLayout(replicas, nodesPerPod);
    if (!layout.indexed) {
        return Array.from({ length: replicas }, (_, i) => `${workloadName}-${i}`);
    }
    const names: string[] = [];
    for (let i = 0; i < layout.fullPods; i++) {
        names.push(...podNodeNames(`${workloadName}-${i}`, nodesPerPod));
    }
    names.push(...podNodeNames(`${workloadName}${LAST_WORKLOAD_SUFFIX}-0`, layout.rest));
    return names;
}

/** A pod as the sweep sees it: its name, and how many indexed Nodes it runs (undefined: one, named as the pod). */
export interface PodNodes { readonly name: string; readonly nodes?: number }

/** Names of the Nodes the given pods stand behind. */
export function nodesBehind(pods: readonly PodNodes[]): Set<string> {
    return new Set(pods.flatMap((p) => podNodeNames(p.name, p.nodes)));
}

/** Reads the annotation's value; anything but a positive whole number means the upstream layout. */
export function podNodesOf(annotations: Readonly<Record<string, string>> | undefined): number | undefined {
    const v = annotations?.[POD_NODES_ANNOTATION];
    return v !== undefined && /^[1-9]\d*$/.test(v) ? Number(v) : undefined;
}
