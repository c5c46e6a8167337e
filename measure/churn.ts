// Scenario churn: kill hollow pods at a set rate, keep each down a while, and time what the target does about it.
import { podNodeNames } from "../components/hollow/names";
import { isCancelled } from "../components/kube/errors";
import { staleNodes } from "../components/reaper/sync";
import { RunContext, since, sleepUntil, waitUntil } from "./context";
import { deletePod, enc, listAll, NodeLike, nodeReady, PodLike, setPodFinalizer, watch } from "./kube";
import { Downtime, firstSeenMs, HollowPod, hollowPodOf, replacementsToDelete } from "./downtime";
import { NodeHealth, NodeWatch } from "./observe";
import { churnPlan, loadNamespace } from "./plan";
import { parseMicroTime, round } from "./stats";

/** Looks at each killed Node, its Lease and the load's pods on it once a second: the figures are seconds. */
const TRACK_EVERY_MS = 1000;
/**
 * Replacements deleted per second per workload: a workload recreates a deleted pod at once (an unbound one, or one
 * deleted with no grace, in the same second), and a replacement needs seconds before its hollow kubelet can
 * heartbeat, so deleting more often only loads both clusters.
 */
const DELETES_PER_DOWN_SECOND = 2;
/**
 * Holds a killed StatefulSet pod as a terminating object until its down window ends: its containers stop, and the
 * StatefulSet makes no pod under that name while the old one is there. Deleting each replacement as it appears
 * left one of two kills never NotReady in the lab (a replacement's hollow kubelet renewed the Lease before it went).
 */
export const HOLD_FINALIZER = "kubemark-pulumi/churn-hold";

export interface KilledNode {
    readonly node: string;
    readonly pod: string;
    readonly killSeconds: number;
    /** Seconds after the kill: first look that found it NotReady, and the Ready condition's own transition time. */
    notReadySeconds?: number;
    notReadyApiSeconds?: number;
    /** Seconds after the kill when a look found it (or its replacement) Ready again. */
    readySeconds?: number;
    /** Deployment or ReplicationController stacks: the Node that came back under the new pod's name instead. */
    replacedBy?: string[];
    /** Taints the target added after the kill, with the seconds after it when first seen. */
    readonly taints: { key: string; effect: string; seconds: number }[];
    /** The load's pods on this Node that the target evicted or deleted, with seconds after the kill. */
    readonly evictions: { pod: string; seconds: number; reason?: string }[];
    /** The longest time between two of its Lease's renewals around the kill (microsecond resolution). */
    leaseGapSeconds?: number;
    outcome?: string;
}

export interface ChurnOutcome {
    readonly workloadKind: string;
    readonly killed: KilledNode[];
    /** Replacement pods the run deleted to keep killed pods down, and whether it had to give up on any. */
    readonly replacementsDeleted: number;
    readonly gaveUp: string[];
    readonly nodes: NodeHealth;
    /** After the run: the stack's Nodes, how many Ready, and those no pod stands behind. */
    readonly final: { registered: number; ready: number; replicas: number; stale: string[]; sweepAdvice?: string };
    readonly durationSeconds: number;
    readonly error?: string;
    readonly cancelled: boolean;
}

export async function runChurn(cx: RunContext): Promise<ChurnOutcome> {
    const { options, stack, nodeCluster, log } = cx;
    const podsPath = `/api/v1/namespaces/${enc(stack.namespace)}/pods`;
    const initial = (await listAll<PodLike>(nodeCluster, podsPath, { labelSelector: stack.podSelector })).filter((p) => !p.metadata?.deletionTimestamp);
    const startPods = initial.map((p) => hollowPodOf(p, 0)).filter((p): p is HollowPod => !!p);
    const startUids = new Set(startPods.map((p) => p.uid));
    await releaseLeftHolds(cx, podsPath);
    const kinds = [...new Set(startPods.map((p) => p.ownerKind))];
    const workloadKind = kinds.join("/") || "unknown";
    const kills = churnPlan(options, startPods.map((p) => p.name));
    const baseline = new Map<string, number>();
    for (const p of startPods) {
        baseline.set(p.owner, (baseline.get(p.owner) ?? 0) + 1);
    }
    log(`churn: killing ${kills.length} of ${startPods.length} hollow pod(s) (${workloadKind}) in ${stack.namespace} of ${nodeCluster.server}, ` +
        `one every ${round(60 / options.killsPerMinute, 1)}s, each kept down ${options.downSeconds}s`);

    const live = new Map<string, HollowPod>();
    const downs: Downtime[] = [];
    const deleting = new Set<string>();
    let replacementsDeleted = 0;
    const gaveUp: string[] = [];
    const budget = kills.length * (options.downSeconds * DELETES_PER_DOWN_SECOND + 10);
    const lastDelete = new Map<string, number>();
    /** Killed StatefulSet pods held by the finalizer, by uid: released when their window closes or the run ends. */
    const held = new Map<string, { name: string; untilMs: number; released?: Promise<void> }>();
    const release = (uid: string) => {
        const h = held.get(uid)!;
        h.released ??= setPodFinalizer(nodeCluster, stack.namespace, h.name, uid, HOLD_FINALIZER, false).then(
            (found) => log(`released hollow pod ${h.name}${found ? "" : " (it was gone)"}: its StatefulSet brings it back (${since(cx)}s)`),
            (e) => log(`releasing hollow pod ${h.name}: ${(e as Error).message}`));
        return h.released;
    };
    const enforce = () => {
        const now = Date.now();
        for (const [uid, h] of held) {
            if (now >= h.untilMs) {
                void release(uid);
            }
        }
        // A workload's excess goes all at once (one replacement per open kill), then it waits its turn.
        const due = replacementsToDelete([...live.values()], baseline, downs, now, deleting)
            .filter((p) => now - (lastDelete.get(p.owner) ?? 0) >= 1000 / DELETES_PER_DOWN_SECOND);
        due.forEach((p) => lastDelete.set(p.owner, now));
        for (const p of due) {
            if (replacementsDeleted >= budget) {
                if (gaveUp.length === 0) {
                    gaveUp.push(`stopped after ${budget} deletions of replacement pods; the workload recreated them faster than expected`);
                    log(gaveUp[0]);
                }
                return;
            }
            deleting.add(p.uid);
            replacementsDeleted++;
            log(`keeping a killed pod down: deleting its replacement ${p.name} (${since(cx)}s)`);
            void deletePod(nodeCluster, stack.namespace, p.name, p.uid, 0).catch((e) => log(`deleting ${p.name}: ${(e as Error).message}`));
        }
    };
    const podWatch = watch(nodeCluster, podsPath, { labelSelector: stack.podSelector }, (type, obj, at) => {
        const pod = hollowPodOf(obj as PodLike, at);
        if (!pod) {
            return;
        }
        if (type === "DELETED") {
            live.delete(pod.uid);
        } else {
            live.set(pod.uid, { ...pod, seenMs: firstSeenMs(pod.uid, at, live.get(pod.uid)?.seenMs, startUids) });
        }
        enforce();
    }, log);
    const nodeWatch = new NodeWatch(cx.targetNodes, stack.selector, stack.replicas, cx.startMs, log);
    nodeWatch.start(options.nodePollSeconds * 1000);
    const enforcer = setInterval(enforce, 250);
    const killed: KilledNode[] = [];
    const trackers: Promise<void>[] = [];
    let error: unknown;
    const churnStart = cx.clock.now();
    try {
        for (const kill of kills) {
            await sleepUntil(cx, churnStart + kill.atMs);
            const victim = startPods.find((p) => p.name === kill.pod) as HollowPod;
            const names = podNodeNames(victim.name, victim.nodes);
            const before = await Promise.all(names.map((n) => baselineOf(cx, n)));
            const killMs = Date.now();
            downs.push({ owner: victim.owner, killedUid: victim.uid, killedName: victim.name, fromMs: killMs, untilMs: killMs + options.downSeconds * 1000 });
            const hold = victim.ownerKind === "StatefulSet" && await setPodFinalizer(nodeCluster, stack.namespace, victim.name, victim.uid, HOLD_FINALIZER, true);
            if (hold) {
                held.set(victim.uid, { name: victim.name, untilMs: killMs + options.downSeconds * 1000 });
            }
            const gone = await deletePod(nodeCluster, stack.namespace, victim.name, victim.uid, 0);
            log(`killed hollow pod ${victim.name} (${names.join(", ")})${gone ? "" : " — it was already gone"}; ` +
                `kept down until ${since(cx, killMs + options.downSeconds * 1000)}s ` +
                `(${hold ? "held terminating" : "its replacements deleted"}) (${since(cx, killMs)}s)`);
            for (const [i, node] of names.entries()) {
                const record: KilledNode = { node, pod: victim.name, killSeconds: since(cx, killMs), taints: [], evictions: [] };
                killed.push(record);
                trackers.push(track(cx, record, before[i], killMs, victim, () => [...live.values()], deleting));
            }
        }
        await Promise.all(trackers);
    } catch (e) {
        error = e;
    }
    clearInterval(enforcer);
    // Whatever ended the run (done, failed, Ctrl-C), no pod stays held: its StatefulSet would wait for it for good.
    await Promise.all([...held.keys()].map(release));
    const nodes = await nodeWatch.stop();
    await podWatch.stop();
    const final = error === undefined ? await finalCheck(cx, workloadKind).catch((e) => {
        error = e;
        return undefined;
    }) : undefined;
    return {
        workloadKind, killed, replacementsDeleted, gaveUp, nodes,
        final: final ?? { registered: 0, ready: 0, replicas: stack.replicas, stale: [] },
        durationSeconds: since(cx),
        error: error === undefined ? undefined : (error as Error).message,
        cancelled: isCancelled(error),
    };
}

/** Pods an interrupted churn left held (terminating, with the finalizer): released before this run starts. */
async function releaseLeftHolds(cx: RunContext, podsPath: string): Promise<void> {
    const pods = await listAll<PodLike>(cx.nodeCluster, podsPath, { labelSelector: cx.stack.podSelector });
    for (const p of pods.filter((x) => (x.metadata?.finalizers ?? []).includes(HOLD_FINALIZER))) {
        cx.log(`releasing hollow pod ${p.metadata?.name}, held down by an interrupted churn`);
        await setPodFinalizer(cx.nodeCluster, cx.stack.namespace, p.metadata?.name ?? "", p.metadata?.uid ?? "", HOLD_FINALIZER, false);
    }
}

interface Baseline { taints: Set<string>; renewMs?: number; loadPods: Set<string> }

const leasePath = (node: string) => `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${enc(node)}`;

async function loadPodsOn(cx: RunContext, node: string): Promise<PodLike[]> {
    const ns = loadNamespace(cx.options.stack);
    const list = await cx.target.maybe<{ items?: PodLike[] }>("GET", `/api/v1/namespaces/${enc(ns)}/pods?fieldSelector=${enc(`spec.nodeName=${node}`)}`);
    return list?.items ?? [];
}

async function baselineOf(cx: RunContext, node: string): Promise<Baseline> {
    const n = await cx.target.maybe<NodeLike>("GET", `/api/v1/nodes/${enc(node)}`);
    const lease = await cx.target.maybe<{ spec?: { renewTime?: string } }>("GET", leasePath(node));
    return {
        taints: new Set((n?.spec?.taints ?? []).map((t) => `${t.key}:${t.effect}`)),
        renewMs: lease?.spec?.renewTime ? parseMicroTime(lease.spec.renewTime) : undefined,
        loadPods: new Set((await loadPodsOn(cx, node)).map((p) => p.metadata?.name ?? "")),
    };
}

/**
 * Follows one killed Node once a second until it is Ready again after its down window (or, for a workload whose
 * pods come back under new names, until the replacement's Nodes are), bounded by --recover-timeout-seconds.
 */
async function track(cx: RunContext, record: KilledNode, before: Baseline, killMs: number, victim: HollowPod,
    livePods: () => HollowPod[], deleting: ReadonlySet<string>): Promise<void> {
    const { options } = cx;
    const upAtMs = killMs + options.downSeconds * 1000;
    const after = (ms: number) => round((ms - killMs) / 1000);
    let lastRenew = before.renewMs;
    let gap = 0;
    const taints = new Set(before.taints);
    const evicted = new Set<string>();
    const sameName = victim.ownerKind === "StatefulSet";
    await waitUntil(cx, `hollow Node ${record.node} back`, options.downSeconds * 1000 + options.recoverTimeoutSeconds * 1000, async () => {
        const now = Date.now();
        const node = await cx.target.maybe<NodeLike>("GET", `/api/v1/nodes/${enc(record.node)}`);
        const ready = node ? nodeReady(node) : false;
        if (!ready && record.notReadySeconds === undefined) {
            record.notReadySeconds = after(now);
            const cond = node?.status?.conditions?.find((c) => c.type === "Ready");
            record.notReadyApiSeconds = cond?.lastTransitionTime ? after(Date.parse(cond.lastTransitionTime)) : undefined;
            cx.log(`hollow Node ${record.node}: NotReady ${record.notReadySeconds}s after the kill`);
        }
        for (const t of node?.spec?.taints ?? []) {
            if (!taints.has(`${t.key}:${t.effect}`)) {
                taints.add(`${t.key}:${t.effect}`);
                record.taints.push({ key: t.key, effect: t.effect, seconds: after(now) });
                cx.log(`hollow Node ${record.node}: taint ${t.key}:${t.effect} ${after(now)}s after the kill`);
            }
        }
        const lease = await cx.target.maybe<{ spec?: { renewTime?: string } }>("GET", leasePath(record.node));
        const renew = lease?.spec?.renewTime ? parseMicroTime(lease.spec.renewTime) : undefined;
        if (renew !== undefined && lastRenew !== undefined && renew > lastRenew) {
            gap = Math.max(gap, renew - lastRenew);
            record.leaseGapSeconds = round(gap / 1000, 6);
        }
        lastRenew = renew ?? lastRenew;
        const onNode = new Map((await loadPodsOn(cx, record.node)).map((p) => [p.metadata?.name ?? "", p]));
        for (const name of before.loadPods) {
            const p = onNode.get(name);
            if (!evicted.has(name) && (!p || p.metadata?.deletionTimestamp)) {
                evicted.add(name);
                const reason = p?.status?.conditions?.find((c) => c.type === "DisruptionTarget")?.reason;
                record.evictions.push({ pod: name, seconds: after(now), reason });
            }
        }
        if (now < upAtMs) {
            return false;
        }
        if (sameName) {
            const backAfterDown = ready && (record.notReadySeconds !== undefined || (renew !== undefined && renew >= upAtMs));
            if (backAfterDown) {
                record.readySeconds = after(now);
                record.outcome = record.notReadySeconds === undefined
                    ? `never NotReady: down ${options.downSeconds}s, within the target's node-monitor-grace-period` : "Ready again";
            }
            return backAfterDown;
        }
        // New names: the first pod of the workload that came after the window and stays stands in for the killed one.
        const back = livePods().filter((p) => p.owner === victim.owner && !p.terminating && !deleting.has(p.uid) && p.seenMs >= killMs);
        if (back.length === 0) {
            return false;
        }
        const replacement = back.sort((a, b) => a.seenMs - b.seenMs)[0];
        const names = podNodeNames(replacement.name, replacement.nodes);
        const standIns = await Promise.all(names.map((n) => cx.target.maybe<NodeLike>("GET", `/api/v1/nodes/${enc(n)}`)));
        if (standIns.length > 0 && standIns.every((n) => n && nodeReady(n))) {
            record.replacedBy = names;
            record.readySeconds = after(now);
            record.outcome = `replaced by ${names.join(", ")}; ${record.node} stays until \`pulumi up\` sweeps it`;
            return true;
        }
        return false;
    }, () => `${record.node}: ${record.notReadySeconds === undefined ? "not seen NotReady" : `NotReady after ${record.notReadySeconds}s`}`, TRACK_EVERY_MS)
        .catch((e) => {
            record.outcome = (e as Error).message;
            if (isCancelled(e)) {
                throw e;
            }
        });
}

/**
 * After the churn: waits (bounded) for the stack to hold `replicas` Ready Nodes behind its pods, then names the
 * Nodes no pod stands behind; for workloads whose pods change names these are what `pulumi up` sweeps.
 */
async function finalCheck(cx: RunContext, workloadKind: string): Promise<ChurnOutcome["final"]> {
    const { stack } = cx;
    const look = async () => {
        const [nodes, pods] = await Promise.all([cx.targetNodes.listNodes(stack.selector), cx.nodePods.listPods(stack.namespace, stack.podSelector)]);
        const stale = staleNodes(nodes, pods.filter((p) => !p.terminating)).map((n) => n.name).sort();
        const readyBehind = nodes.filter((n) => n.ready && !stale.includes(n.name)).length;
        return { registered: nodes.length, ready: readyBehind, replicas: stack.replicas, stale };
    };
    let last = await look();
    await waitUntil(cx, "the stack's Nodes Ready again", cx.options.recoverTimeoutSeconds * 1000, async () => {
        last = await look();
        return last.ready >= stack.replicas;
    }, () => `${last.ready}/${stack.replicas} Ready behind a pod, ${last.registered} registered`, 2000);
    const sweepAdvice = last.stale.length === 0 ? undefined
        : `${workloadKind} pods come back under new names: ${last.stale.length} Node(s) no pod stands behind (${last.stale.join(", ")}); ` +
          `the next \`pulumi up --stack ${stack.stack}\` removes them`;
    return { ...last, sweepAdvice };
}
