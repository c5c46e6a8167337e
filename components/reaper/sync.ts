// After `up` changed the workload: wait for the pods' layout, remove Nodes no pod stands behind, wait for Ready.
import {
    expectedPartsPodNodes, expectedPodNodes, LAST_WORKLOAD_SUFFIX, LayoutPart, layoutProgress, LayoutProgress, nodesBehind, podNodeNames,
    POOL_LABEL_KEY,
} from "../hollow/names";
import { Clock, Log, patientLook, POLL_MS, PROGRESS_EVERY_MS, someNames } from "../kube/async";
import { ClusterApi, NodeInfo, NodeRef, PodInfo } from "../kube/clusterApi";
import type { Rollout } from "../kube/rollout";
import { checkSelector, deleteAndWait, ReapRequest } from "./reap";

export interface SyncRequest extends ReapRequest {
    readonly replicas: number;
    /** The layout the workloads run: Node counts per pod follow from it (state written before it existed: 1). */
    readonly nodesPerPod: number;
    /** With pools (or zones), each workload's own layout; replicas is then their sum. Absent: one layout. */
    readonly parts?: readonly LayoutPart[];
}

const expectedOf = (req: SyncRequest) => (req.parts === undefined ? expectedPodNodes(req.replicas, req.nodesPerPod) : expectedPartsPodNodes(req.parts));

/** The parts' workloads, each with its `-last` twin; undefined without workload names (one workload, old state). */
function currentWorkloads(parts: readonly LayoutPart[] | undefined): Set<string> | undefined {
    const names = parts?.map((p) => p.workloadName);
    return names === undefined || names.some((n) => n === undefined) ? undefined
        : new Set(names.flatMap((n) => [n!, `${n}${LAST_WORKLOAD_SUFFIX}`]));
}

/**
 * The pods of the workloads the stack runs now, and those of workloads it no longer runs (a removed pool or zone):
 * the engine deletes those only after the sync, and that part's own reaper then removes their Nodes, so the sync
 * neither waits for them nor touches their Nodes. Without workload names (one workload, or older state) every pod is
 * current.
 */
export function splitPods(pods: readonly PodInfo[], parts: readonly LayoutPart[] | undefined): { current: PodInfo[]; leaving: PodInfo[] } {
    const wanted = currentWorkloads(parts);
    if (wanted === undefined) {
        return { current: [...pods], leaving: [] };
    }
    const isCurrent = (p: PodInfo) => p.workload === undefined || wanted.has(p.workload);
    return { current: pods.filter(isCurrent), leaving: pods.filter((p) => !isCurrent(p)) };
}

/**
 * Nodes of this stack that no pod (running or terminating) stands behind: by name, or `<pod>-<k>` for k below its
 * count. A Node behind a leaving pod (splitPods) is not stale: its part's reaper removes it.
 */
export function staleNodes(nodes: readonly NodeInfo[], pods: readonly PodInfo[], leaving: readonly PodInfo[] = []): NodeInfo[] {
    const behind = nodesBehind([...pods, ...leaving]);
    return nodes.filter((n) => !behind.has(n.name));
}

const seconds = (ms: number) => Math.round(ms / 1000);

function layoutText(p: LayoutProgress): string {
    const parts = [`${p.live} of ${p.expected} pod(s) running`];
    if (p.otherLayout.length > 0) {
        parts.push(`${p.otherLayout.length} of an older layout (${someNames(p.otherLayout)})`);
    }
    if (p.terminating.length > 0) {
        parts.push(`${p.terminating.length} terminating (${someNames(p.terminating)})`);
    }
    return parts.join(", ");
}

/**
 * Waits (bounded, with progress) until exactly the pods of the layout run and none is terminating: until then a
 * pod of an older layout may still stand behind a Node of its own name, which the new pod of that name does not.
 */
export async function settleLayout(nodeCluster: ClusterApi, req: SyncRequest, clock: Clock, log: Log): Promise<{ pods: PodInfo[]; leaving: PodInfo[]; settled: boolean }> {
    const expected = expectedOf(req);
    const look = patientLook<PodInfo[]>("sweep", req.deadline, clock, log);
    const lookRollouts = patientLook<Rollout[]>("sweep", req.deadline, clock, log);
    const started = clock.now();
    let lastProgress = started;
    for (;;) {
        const { current: pods, leaving } = splitPods(await look(() => nodeCluster.listPods(req.namespace, req.podSelector)), req.parts);
        const progress = layoutProgress(pods, expected);
        // A changed template rolls pod by pod while the Nodes stay Ready: the layout alone would end the wait at once.
        const rolling = progress.settled ? pendingRollouts(await lookRollouts(() => nodeCluster.listRollouts(req.namespace, req.podSelector)), req.parts) : [];
        if (progress.settled && rolling.length === 0) {
            return { pods, leaving, settled: true };
        }
        const text = progress.settled ? `rolling out ${rolling.map((r) => r.detail).join("; ")}` : layoutText(progress);
        if (clock.now() >= req.deadline) {
            log(`the hollow pods have not reached their layout after ${seconds(clock.now() - started)}s (${text}): ` +
                "removing only the Nodes no pod stands behind now");
            return { pods, leaving, settled: false };
        }
        if (clock.now() - lastProgress >= PROGRESS_EVERY_MS) {
            log(`waiting for the hollow pods' layout: ${text} (${seconds(clock.now() - started)}s)`);
            lastProgress = clock.now();
        }
        await clock.sleep(POLL_MS);
    }
}

/** The current workloads (and their `-last` twins) not yet rolled out; a leaving part's are not waited for. */
export function pendingRollouts(rollouts: readonly Rollout[], parts: readonly LayoutPart[] | undefined): Rollout[] {
    const current = currentWorkloads(parts);
    return rollouts.filter((r) => !r.done && (current === undefined || current.has(r.name)));
}

/** Deletes the named Nodes of this stack, as listed now through its selector, and waits until they are gone. */
async function removeNodes(target: ClusterApi, req: SyncRequest, names: readonly string[], clock: Clock, log: Log): Promise<void> {
    const wanted = new Set(names);
    const refs = (await patientLook<NodeRef[]>("sweep", req.deadline, clock, log)(() => target.listNodeRefs(req.selector)))
        .filter((r) => wanted.has(r.name));
    await deleteAndWait(target, req.selector, refs, req.deadline, clock, log, "sweep");
}

/**
 * Up: once the pods have reached their layout (bounded), deletes this stack's Nodes that no pod stands behind:
 * removed replicas, pods that came back under new names, Nodes of an older layout. Returns the names it deleted.
 */
export async function sweepStaleNodes(target: ClusterApi, nodeCluster: ClusterApi, req: SyncRequest,
    clock: Clock, log: Log): Promise<string[]> {
    checkSelector(req.selector, req.selectorKey);
    const { pods, leaving } = await settleLayout(nodeCluster, req, clock, log);
    const listed = await patientLook<NodeInfo[]>("sweep", req.deadline, clock, log)(() => target.listNodes(req.selector));
    if (leaving.length > 0) {
        log(`${leaving.length} hollow pod(s) of workloads this stack no longer runs (${someNames(leaving.map((p) => p.name))}): ` +
            "their Nodes go with them, after this update deletes the workloads");
    }
    const stale = staleNodes(listed, pods, leaving).map((n) => n.name);
    if (stale.length === 0) {
        return [];
    }
    log(`deleting ${stale.length} stale hollow Node(s) without a pod: ${someNames(stale)}`);
    await removeNodes(target, req, stale, clock, log);
    return stale;
}

export interface ReadyCount {
    /** Ready Nodes that the workloads' pods stand behind: never more than replicas. */
    readonly ready: number;
    /** Every Node of the stack's label. */
    readonly registered: number;
}

export interface ReadyRequest extends SyncRequest {
    /** When the wait gives up; one already past counts once. */
    readonly readyDeadline: number;
    /**
     * The release the hollow kubelets run: a Node counts once it reports it, so a rollout to another release is done
     * when every Node runs the new one. Undefined (state from before): any version counts.
     */
    readonly kubeletVersion?: string;
}

/**
 * Whether a Node's reported kubelet version is the release: the same text, or a build of it (`v1.31.0-dirty`,
 * `v1.31.0+abc`, as `git describe` stamps images built from a work tree).
 */
export function runsRelease(reported: string | undefined, release: string | undefined): boolean {
    return release === undefined || reported === release || reported?.startsWith(`${release}-`) === true ||
        reported?.startsWith(`${release}+`) === true;
}

/** `2 on v1.36.5, 1 on v1.37.2`: the versions Nodes report other than the release, for progress and errors. */
function otherVersions(nodes: readonly NodeInfo[], release: string | undefined): string {
    const counts = new Map<string, number>();
    for (const n of nodes.filter((x) => !runsRelease(x.kubeletVersion, release))) {
        counts.set(n.kubeletVersion ?? "no version", (counts.get(n.kubeletVersion ?? "no version") ?? 0) + 1);
    }
    return [...counts].sort(([a], [b]) => a.localeCompare(b)).map(([v, c]) => `${c} on ${v}`).join(", ");
}

/** Names of the Nodes that are Ready and report the release. */
function readyOnRelease(nodes: readonly NodeInfo[], release: string | undefined): string[] {
    return nodes.filter((n) => n.ready && runsRelease(n.kubeletVersion, release)).map((n) => n.name);
}

/** Ready Nodes reporting the release that a pod stands behind, at most `replicas`: the count `up` waits to reach. */
export function readyBehind(nodes: readonly NodeInfo[], behind: ReadonlySet<string>, replicas: number,
    release: string | undefined): number {
    return Math.min(readyOnRelease(nodes, release).filter((n) => behind.has(n)).length, replicas);
}

/**
 * Whether the next `up` must sync though nothing it was given changed: Nodes no pod stands behind, or fewer Ready
 * than `up` waits for (a workload that `--refresh` found gone and recreates, hollow pods that stopped since). With
 * readyTimeoutSeconds 0 the stack asked for no wait, so readiness alone is no drift.
 */
/**
 * The pool of each Node a pool's pod stands behind, for the stack's Nodes without the pool label: Nodes registered
 * before pools existed keep their labels (a kubelet sets `--node-labels` only when it registers a Node).
 */
export function poolLabelsWanted(unlabelled: readonly NodeInfo[], pods: readonly PodInfo[]): Map<string, string> {
    const poolOf = new Map<string, string>();
    for (const p of pods.filter((x) => x.pool !== undefined && !x.terminating)) {
        for (const node of podNodeNames(p.name, p.nodes)) {
            poolOf.set(node, p.pool!);
        }
    }
    return new Map(unlabelled.filter((n) => poolOf.has(n.name)).map((n) => [n.name, poolOf.get(n.name)!]));
}

/** Labels the stack's Nodes that lack their pool's label; the names it labelled. */
export async function labelPools(target: ClusterApi, nodeCluster: ClusterApi, req: SyncRequest, clock: Clock, log: Log): Promise<string[]> {
    const look = patientLook<NodeInfo[]>("pool labels", req.deadline, clock, log);
    const unlabelled = await look(() => target.listNodes(`${req.selector},!${POOL_LABEL_KEY}`));
    if (unlabelled.length === 0) {
        return [];
    }
    const pods = await patientLook<PodInfo[]>("pool labels", req.deadline, clock, log)(() => nodeCluster.listPods(req.namespace, req.podSelector));
    const wanted = poolLabelsWanted(unlabelled, pods);
    const labelled: string[] = [];
    for (const [name, pool] of wanted) {
        if (await target.labelNode(name, { [POOL_LABEL_KEY]: pool })) {
            labelled.push(name);
        }
    }
    if (labelled.length > 0) {
        log(`labelled ${labelled.length} hollow Node(s) registered before pools with their pool: ${someNames(labelled)}`);
    }
    return labelled;
}

export function syncDrift(nodes: readonly NodeInfo[], all: readonly PodInfo[],
    want: { readonly replicas: number; readonly kubeletVersion?: string; readonly readyTimeoutSeconds: number; readonly parts?: readonly LayoutPart[] }): boolean {
    const { current: pods, leaving } = splitPods(all, want.parts);
    if (staleNodes(nodes, pods, leaving).length > 0) {
        return true;
    }
    return want.readyTimeoutSeconds > 0 && readyBehind(nodes, nodesBehind(pods), want.replicas, want.kubeletVersion) < want.replicas;
}

/**
 * Up: waits until the stack's Nodes are exactly `replicas` Ready Nodes that its pods stand behind. A Node no pod
 * stands behind (a pod replaced under a new name, an older layout's) is not counted; once the pods have their
 * layout it is removed, as the sweep does. Logs progress as N/M with N at most M; throws at the deadline with what
 * it saw.
 */
export async function waitForReady(target: ClusterApi, nodeCluster: ClusterApi, req: ReadyRequest,
    clock: Clock, log: Log): Promise<ReadyCount> {
    checkSelector(req.selector, req.selectorKey);
    const expected = expectedOf(req);
    const started = clock.now();
    let lastProgress = started;
    const lookNodes = patientLook<NodeInfo[]>("readiness", req.readyDeadline, clock, log);
    const lookPods = patientLook<PodInfo[]>("readiness", req.readyDeadline, clock, log);
    for (;;) {
        const nodes = await lookNodes(() => target.listNodes(req.selector));
        const readyNames = readyOnRelease(nodes, req.kubeletVersion);
        let ready = Math.min(readyNames.length, req.replicas);
        let extra: string[] = [];
        // The pods say which Nodes count: looked up only when the Node list alone could mislead.
        if (readyNames.length >= req.replicas || nodes.length > req.replicas) {
            const { current: pods, leaving } = splitPods(await lookPods(() => nodeCluster.listPods(req.namespace, req.podSelector)), req.parts);
            const behind = nodesBehind(pods);
            extra = staleNodes(nodes, pods, leaving).map((n) => n.name);
            ready = readyBehind(nodes, behind, req.replicas, req.kubeletVersion);
            if (extra.length > 0 && layoutProgress(pods, expected).settled && clock.now() < req.readyDeadline) {
                log(`deleting ${extra.length} hollow Node(s) no pod stands behind: ${someNames(extra)}`);
                await removeNodes(target, { ...req, deadline: req.readyDeadline }, extra, clock, log);
                continue;
            }
        }
        const others = otherVersions(nodes, req.kubeletVersion);
        const extraText = (extra.length > 0 ? `; ${extra.length} more registered that no pod stands behind: ${someNames(extra)}` : "") +
            (others ? `; not yet on ${req.kubeletVersion}: ${others}` : "");
        if (ready >= req.replicas && extra.length === 0) {
            log(`${ready}/${req.replicas} hollow Nodes Ready after ${seconds(clock.now() - started)}s`);
            return { ready, registered: nodes.length };
        }
        if (clock.now() >= req.readyDeadline) {
            if (req.readyDeadline <= started) {
                // No wait asked for (readyTimeoutSeconds 0): what was there is the answer.
                return { ready, registered: nodes.length };
            }
            throw new Error(`only ${ready}/${req.replicas} hollow Nodes Ready (${nodes.length} registered${extraText}) on ` +
                `${target.server} after ${seconds(clock.now() - started)}s. Check the hollow pods ` +
                "(kubectl -n <namespace> get pods; logs of hollow-kubelet), that pods can reach the target API " +
                "server, and raise kubemark:readyTimeoutSeconds if they are only slow" +
                (others ? `; Nodes that keep reporting another kubelet version run an image of another release than kubemark:kubernetesVersion` : ""));
        }
        if (clock.now() - lastProgress >= PROGRESS_EVERY_MS) {
            log(`${ready}/${req.replicas} hollow Nodes Ready, ${nodes.length} registered${extraText} (${seconds(clock.now() - started)}s)`);
            lastProgress = clock.now();
        }
        await clock.sleep(POLL_MS);
    }
}
