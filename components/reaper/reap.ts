// Deleting this stack's hollow Nodes: with preconditions, bounded, patient with a busy API server; and destroy.
import { Clock, forEachLimited, Log, patientLook, POLL_MS, PROGRESS_EVERY_MS, MISSED_LOOKS, someNames } from "../kube/async";
import { ClusterApi, NodeInfo, NodeRef, PodInfo } from "../kube/clusterApi";
import { isCancelled, isUnreachable } from "../kube/errors";

/** A selector must start with the stack's exact `key=value` label: anything looser could match others' Nodes. */
export function checkSelector(selector: string, requiredKey: string): void {
    // The stack's term first; further equality terms (a pool's reaper: pool and zone) can only narrow it.
    const term = "([^=,!()\\s]+)=([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)";
    const m = new RegExp(`^${term}((,${term})*)$`).exec(selector ?? "");
    if (!m || m[1] !== requiredKey || m[4].split(",").slice(1).some((t) => t.startsWith(`${requiredKey}=`))) {
        throw new Error(`refusing to select hollow Nodes with ${JSON.stringify(selector)}: ` +
            `the selector must be ${requiredKey}=<stack>, optionally narrowed by further key=value terms, so only this stack's Nodes are touched`);
    }
}

/**
 * Deletes in flight at once: most of what concurrency gains over one at a time (bench/README.md, Scale), without a
 * burst that crowds out the cluster's own clients.
 */
export const DELETE_CONCURRENCY = 32;

/**
 * Deletes Nodes (with preconditions) and then their Leases, concurrently. A Node changed since it was
 * listed is left alone and reported, so the caller re-lists it through the stack selector first.
 */
async function deleteNodes(target: ClusterApi, refs: readonly NodeRef[]): Promise<{ deleted: number; changed: number; failures: unknown[] }> {
    let deleted = 0;
    let changed = 0;
    const failures = await forEachLimited(refs, DELETE_CONCURRENCY, async (ref) => {
        const outcome = await target.deleteNode(ref);
        if (outcome === "changed") {
            changed++;
            return;
        }
        if (outcome === "deleted") {
            deleted++;
        }
        await target.deleteNodeLease(ref.name);
    });
    return { deleted, changed, failures };
}

/**
 * Deletes the Nodes `refs` names (and their Leases) and waits until none of them is listed any more.
 * Every retry re-lists through the selector, so a Node that lost this stack's label is never deleted.
 * A failed delete fails the whole call, after the others ran, naming how many failed and which Nodes are left.
 */
export async function deleteAndWait(target: ClusterApi, selector: string, refs: readonly NodeRef[],
    deadline: number, clock: Clock, log: Log, what: string): Promise<number> {
    const wanted = new Set(refs.map((r) => r.name));
    const look = patientLook<NodeInfo[]>(what, deadline, clock, log);
    const leftOf = async () => (await look(() => target.listNodes(selector))).filter((n) => wanted.has(n.name)).map((n) => n.name);
    const lookRefs = patientLook<NodeRef[]>(what, deadline, clock, log);
    let total = 0;
    let pending = refs;
    let unanswered = 0;
    for (;;) {
        const { deleted, changed, failures } = await deleteNodes(target, pending);
        total += deleted;
        const cancelled = failures.find(isCancelled);
        if (cancelled) {
            throw cancelled;
        }
        const unreachable = failures.find(isUnreachable);
        // Deletes without an answer are tried again after a re-list, as a missed look is; a server that keeps
        // refusing still fails the call, a busy one is waited for until the deadline.
        const busy = failures.every((f) => isUnreachable(f) && f.slow);
        if (unreachable && failures.every(isUnreachable) && (++unanswered < MISSED_LOOKS || busy) && clock.now() < deadline) {
            log(`${what}: ${failures.length} delete(s) without an answer (${unreachable.message}); trying them again`);
            await clock.sleep(POLL_MS);
            pending = (await lookRefs(() => target.listNodeRefs(selector))).filter((r) => wanted.has(r.name));
            continue;
        }
        unanswered = 0;
        if (failures.length > 0) {
            if (unreachable) {
                throw unreachable;
            }
            const left = await leftOf();
            throw new Error(`${what}: ${failures.length} of ${pending.length} delete(s) failed on ${target.server} ` +
                `(${(failures[0] as Error).message}); ${left.length} Node(s) left: ${someNames(left)}`);
        }
        const left = await leftOf();
        if (left.length === 0) {
            return total;
        }
        if (clock.now() >= deadline) {
            throw new Error(`${what}: ${left.length} Node(s) still present on ${target.server} at the deadline: ${someNames(left)}`);
        }
        // Changed Nodes are retried at once; Nodes only slow to go (finalizers) after the poll interval.
        if (changed === 0) {
            await clock.sleep(POLL_MS);
        }
        pending = (await lookRefs(() => target.listNodeRefs(selector))).filter((r) => wanted.has(r.name));
    }
}

export interface ReapRequest {
    readonly selector: string;
    readonly selectorKey: string;
    readonly namespace: string;
    readonly podSelector: string;
    readonly deadline: number;
}

/**
 * Destroy: waits for the workload's pods to be gone (a running hollow kubelet would recreate its
 * Lease), then deletes every Node with the stack selector and their Leases, and waits until they
 * are gone. Returns how many Nodes it deleted.
 */
export async function reapNodes(target: ClusterApi, nodeCluster: ClusterApi, req: ReapRequest,
    clock: Clock, log: Log): Promise<number> {
    checkSelector(req.selector, req.selectorKey);
    let lastProgress = clock.now();
    const lookPods = patientLook<PodInfo[]>("destroy", req.deadline, clock, log);
    for (;;) {
        const pods = await lookPods(() => nodeCluster.listPods(req.namespace, req.podSelector));
        if (pods.length === 0) {
            break;
        }
        if (clock.now() >= req.deadline) {
            throw new Error(`${pods.length} hollow pod(s) still exist in namespace ${req.namespace} on ` +
                `${nodeCluster.server}; their kubelets would re-create Leases for deleted Nodes. ` +
                "Delete the workload's pods, then run `pulumi destroy` again");
        }
        if (clock.now() - lastProgress >= PROGRESS_EVERY_MS) {
            log(`waiting for ${pods.length} hollow pod(s) in ${req.namespace} to stop before deleting their Nodes`);
            lastProgress = clock.now();
        }
        await clock.sleep(POLL_MS);
    }
    const nodes = await patientLook<NodeRef[]>("destroy", req.deadline, clock, log)(() => target.listNodeRefs(req.selector));
    if (nodes.length === 0) {
        log(`no hollow Nodes with ${req.selector} on ${target.server}`);
        return 0;
    }
    log(`deleting ${nodes.length} hollow Node(s) with ${req.selector} from ${target.server}`);
    const deleted = await deleteAndWait(target, req.selector, nodes, req.deadline, clock, log, "destroy");
    log(`removed ${deleted} hollow Node(s) and their Leases from ${target.server}`);
    return deleted;
}
