// How hollow Nodes are named and which pod stands behind each: one per pod, or `<pod>-<k>` when pods hold several.

/**
 * On the pod template when a pod runs several hollow nodes: how many, so the sweep knows which Nodes a live pod
 * stands behind without knowing the stack's settings (a pod of an older layout may still be terminating).
 */
export const POD_NODES_ANNOTATION = "kubemark-pulumi/hollow-nodes";
/** Every hollow Node's pool, and the pod template's: which pool a pod (and so its Nodes) belongs to. */
export const POOL_LABEL_KEY = "kubemark-pulumi/pool";
/** The pod label naming the workload that runs it (`-last` included): the sync tells removed workloads' pods by it. */
export const INSTANCE_LABEL_KEY = "app.kubernetes.io/instance";
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

/**
 * The pods a layout runs, as the sweep sees them: each pod's indexed Node count, or undefined for one Node named as
 * its pod. Sorted, so two layouts compare as lists.
 */
export function expectedPodNodes(replicas: number, nodesPerPod: number): (number | undefined)[] {
    const layout = podLayout(replicas, nodesPerPod);
    if (!layout.indexed) {
        return Array.from({ length: replicas }, () => undefined);
    }
    const counts: number[] = Array.from({ length: layout.fullPods }, () => nodesPerPod);
    if (layout.rest > 0) {
        counts.push(layout.rest);
    }
    return sortCounts(counts);
}

/** One workload's share of the stack: its hollow Nodes and how many each pod runs. */
export interface LayoutPart {
    readonly replicas: number;
    readonly nodesPerPod: number;
    /** Its workload (its `-last` twin too); absent in state from before: every pod counts as the layout's. */
    readonly workloadName?: string;
}

/** The pods of several workloads (pools, zones), as one sorted list the sweep compares against. */
export function expectedPartsPodNodes(parts: readonly LayoutPart[]): (number | undefined)[] {
    return sortCounts(parts.flatMap((p) => expectedPodNodes(p.replicas, p.nodesPerPod)));
}

const sortCounts = (counts: readonly (number | undefined)[]) => [...counts].sort((a, b) => (a ?? 0) - (b ?? 0));

/** Pods still to go, and pods of another layout than the one expected: what a layout change still waits for. */
export interface LayoutProgress {
    /** True once exactly the expected pods run, none terminating: every Node a pod stands behind is final. */
    readonly settled: boolean;
    readonly terminating: readonly string[];
    /** Live pods whose Node count is not one the layout has (an older layout's, not yet rolled). */
    readonly otherLayout: readonly string[];
    /** Live pods, against how many the layout runs. */
    readonly live: number;
    readonly expected: number;
}

export function layoutProgress(pods: readonly (PodNodes & { readonly terminating: boolean })[],
    expected: readonly (number | undefined)[]): LayoutProgress {
    const live = pods.filter((p) => !p.terminating);
    const wanted = new Map<number | undefined, number>();
    for (const n of expected) {
        wanted.set(n, (wanted.get(n) ?? 0) + 1);
    }
    const otherLayout = live.filter((p) => !wanted.has(p.nodes)).map((p) => p.name);
    const same = JSON.stringify(sortCounts(live.map((p) => p.nodes))) === JSON.stringify(sortCounts(expected));
    const terminating = pods.filter((p) => p.terminating).map((p) => p.name);
    return { settled: same && terminating.length === 0, terminating, otherLayout, live: live.length, expected: expected.length };
}
