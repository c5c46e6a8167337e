// Follows one kill: its hollow Nodes in the target once a second, from the kill through its window to Ready again.
import { STACK_LABEL_KEY } from "../../../components/config/settings";
import { podNodeNames } from "../../../components/hollow/names";
import { isCancelled } from "../../../components/kube/errors";
import { RunContext, waitUntil } from "../../context";
import { enc, NodeLike, nodeReady, PodLike, q } from "../../kube";
import { RUN_LABEL_KEY } from "../../objects";
import { parseMicroTime, round } from "../../stats";
import type { Hold, Holds } from "./hold";
import { HollowPod, replacementOf } from "./hollowPods";
import type { KilledNode } from "./model";
import { progressOf } from "./progress";
import { SETTLE_SECONDS } from "./verdict";

/** Looks at each killed Node, its Lease and the load's pods on it once a second: the figures are seconds. */
const TRACK_EVERY_MS = 1000;

export interface Baseline {
    readonly taints: ReadonlySet<string>;
    readonly renewMs?: number;
    readonly loadPods: ReadonlySet<string>;
}

const leasePath = (node: string) => `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${enc(node)}`;

/** The pods of a load run of this stack, in whichever of its namespaces: each carries the stack's and a run's label. */
export const loadPodSelector = (stackLabelValue: string) => `${STACK_LABEL_KEY}=${stackLabelValue},${RUN_LABEL_KEY}`;

async function loadPodsOn(cx: RunContext, node: string): Promise<PodLike[]> {
    const list = await cx.target.json<{ items?: PodLike[] }>(
        "GET",
        `/api/v1/pods${q({ labelSelector: loadPodSelector(cx.stack.labelValue), fieldSelector: `spec.nodeName=${node}` })}`,
    );
    return list.items ?? [];
}

const podKey = (p: PodLike) => `${p.metadata?.namespace ?? ""}/${p.metadata?.name ?? ""}`;

export async function baselineOf(cx: RunContext, node: string): Promise<Baseline> {
    const n = await cx.target.maybe<NodeLike>("GET", `/api/v1/nodes/${enc(node)}`);
    const lease = await cx.target.maybe<{ spec?: { renewTime?: string } }>("GET", leasePath(node));
    return {
        taints: new Set((n?.spec?.taints ?? []).map((t) => `${t.key}:${t.effect}`)),
        renewMs: lease?.spec?.renewTime ? parseMicroTime(lease.spec.renewTime) : undefined,
        loadPods: new Set((await loadPodsOn(cx, node)).map(podKey)),
    };
}

/** One kill as the tracker follows it. */
export interface Kill {
    readonly of: number;
    readonly hold: Hold;
    readonly killMs: number;
    readonly upAtMs: number;
    readonly graceSeconds: number;
    readonly records: readonly KilledNode[];
    readonly baselines: readonly Baseline[];
}

interface Followed {
    readonly record: KilledNode;
    lastRenewMs?: number;
    gapMs: number;
    readonly taints: Set<string>;
    readonly before: ReadonlySet<string>;
    readonly evicted: Set<string>;
    ready: boolean;
}

/**
 * Follows one kill until its Nodes are Ready again after the window (or, for a workload whose pods come back under
 * new names, its replacement's Nodes are), bounded by --recover-timeout-seconds after it; releases the hold when the
 * window ends, or at once when the following ends early. `taken`: replacements other kills stand behind.
 */
export async function followKill(
    cx: RunContext,
    k: Kill,
    holds: Holds,
    livePods: () => HollowPod[],
    taken: Set<string>,
): Promise<void> {
    const { hold } = k;
    const followed: Followed[] = k.records.map((record, i) => ({
        record,
        lastRenewMs: k.baselines[i].renewMs,
        gapMs: 0,
        taints: new Set(k.baselines[i].taints),
        before: k.baselines[i].loadPods,
        evicted: new Set<string>(),
        ready: true,
    }));
    for (const f of followed) {
        f.record.leaseAgeAtKillSeconds =
            f.lastRenewMs === undefined ? undefined : round((k.killMs - f.lastRenewMs) / 1000);
    }
    let stop: () => void = () => undefined;
    const stopped = new Promise<void>((resolve) => {
        stop = resolve;
    });
    const releasing = (async () => {
        await Promise.race([cx.clock.sleep(Math.max(0, k.upAtMs - cx.clock.now())), stopped]);
        await holds.release(hold, cx.log);
    })();
    const what = `kill ${hold.kill}/${k.of} (hollow pod ${hold.pod.name})`;
    try {
        await waitUntil(
            cx,
            what,
            k.upAtMs - k.killMs + cx.options.recoverTimeoutSeconds * 1000,
            async () => {
                const now = Date.now();
                for (const f of followed.filter((x) => x.record.readySeconds === undefined)) {
                    await look(cx, k, f, now);
                }
                noteReplacement(cx, k, livePods(), taken, what);
                if (hold.releasedMs === undefined) {
                    return false;
                }
                for (const f of followed.filter((x) => x.record.readySeconds === undefined)) {
                    await backYet(cx, k, f, now);
                }
                return followed.every((f) => f.record.readySeconds !== undefined);
            },
            () =>
                progressOf({
                    nowMs: Date.now(),
                    killMs: k.killMs,
                    upAtMs: k.upAtMs,
                    graceSeconds: k.graceSeconds,
                    endedMs: hold.endedMs,
                    releasedMs: hold.releasedMs,
                    nodes: followed.map((f) => ({
                        notReadySeconds: f.record.notReadySeconds,
                        readySeconds: f.record.readySeconds,
                        lastRenewMs: f.lastRenewMs,
                    })),
                    replacement:
                        k.records[0].replacementPod === undefined
                            ? undefined
                            : { name: k.records[0].replacementPod, seconds: k.records[0].replacementSeconds ?? 0 },
                    heldBy: holds.heldBy(hold).map((h) => h.kill),
                }),
            TRACK_EVERY_MS,
        );
    } catch (e) {
        for (const f of followed) {
            f.record.outcome ??= (e as Error).message;
        }
        if (isCancelled(e)) {
            throw e;
        }
    } finally {
        stop();
        // Cancelled: the sleep ends with the run's signal, and the run releases every hold itself.
        await releasing.catch(() => undefined);
    }
}

async function look(cx: RunContext, k: Kill, f: Followed, now: number): Promise<void> {
    const { record } = f;
    const after = (ms: number) => round((ms - k.killMs) / 1000);
    const node = await cx.target.maybe<NodeLike>("GET", `/api/v1/nodes/${enc(record.node)}`);
    f.ready = node ? nodeReady(node) : false;
    if (!f.ready && record.notReadySeconds === undefined) {
        record.notReadySeconds = after(now);
        const cond = node?.status?.conditions?.find((c) => c.type === "Ready");
        record.notReadyApiSeconds = cond?.lastTransitionTime ? after(Date.parse(cond.lastTransitionTime)) : undefined;
        cx.log(
            `hollow Node ${record.node}: ${node ? "NotReady" : "gone"} ${round(record.notReadySeconds, 1)}s after the kill` +
                `${f.lastRenewMs === undefined ? "" : `, ${round((now - f.lastRenewMs) / 1000, 1)}s after its Lease's last renewal`} (grace ${k.graceSeconds} s)`,
        );
    }
    for (const t of node?.spec?.taints ?? []) {
        if (!f.taints.has(`${t.key}:${t.effect}`)) {
            f.taints.add(`${t.key}:${t.effect}`);
            record.taints.push({ key: t.key, effect: t.effect, seconds: after(now) });
            cx.log(`hollow Node ${record.node}: taint ${t.key}:${t.effect} ${round(after(now), 1)}s after the kill`);
        }
    }
    const lease = await cx.target.maybe<{ spec?: { renewTime?: string } }>("GET", leasePath(record.node));
    const renew = lease?.spec?.renewTime ? parseMicroTime(lease.spec.renewTime) : undefined;
    if (renew !== undefined && (f.lastRenewMs === undefined || renew > f.lastRenewMs)) {
        if (f.lastRenewMs !== undefined) {
            f.gapMs = Math.max(f.gapMs, renew - f.lastRenewMs);
            record.leaseGapSeconds = round(f.gapMs / 1000, 6);
        }
        if (renew > k.killMs) {
            record.renewals.push(after(renew));
            if (after(renew) > SETTLE_SECONDS && renew < (k.hold.endedMs ?? Infinity)) {
                cx.log(
                    `hollow Node ${record.node}: its Lease was renewed ${round(after(renew), 1)}s after the kill, inside its window: the kill did not hold`,
                );
            }
        }
        f.lastRenewMs = renew;
    }
    const onNode = new Map((await loadPodsOn(cx, record.node)).map((p) => [podKey(p), p]));
    for (const key of f.before) {
        const p = onNode.get(key);
        if (!f.evicted.has(key) && (!p || p.metadata?.deletionTimestamp)) {
            f.evicted.add(key);
            const reason = p?.status?.conditions?.find((c) => c.type === "DisruptionTarget")?.reason;
            record.evictions.push({ pod: key, seconds: after(now), reason });
        }
    }
}

/** The pod standing in for the killed one, once seen: when it came against the release, said once. */
function noteReplacement(cx: RunContext, k: Kill, live: readonly HollowPod[], taken: Set<string>, what: string): void {
    if (k.records.length === 0 || k.records[0].replacementPod !== undefined) {
        return;
    }
    const r = replacementOf(live, k.hold.pod, k.killMs, taken);
    if (!r) {
        return;
    }
    taken.add(r.uid);
    const end = k.hold.endedMs ?? k.upAtMs;
    const seconds = round((r.seenMs - end) / 1000);
    for (const record of k.records) {
        record.replacementPod = r.name;
        record.replacementSeconds = seconds;
    }
    cx.log(
        seconds < 0
            ? `${what}: pod ${r.name} of its ${r.owner.kind} came ${round((r.seenMs - k.killMs) / 1000, 1)}s after the kill, inside its window: the hold did not keep it out`
            : `${what}: replacement pod ${r.name} came ${round(seconds, 2)}s after the window ended`,
    );
}

/** After the release: a StatefulSet's Node is back under its name; another workload's killed Node is replaced. */
async function backYet(cx: RunContext, k: Kill, f: Followed, now: number): Promise<void> {
    const { record } = f;
    const after = round((now - k.killMs) / 1000);
    if (k.hold.pod.owner.kind === "StatefulSet") {
        // Ready after NotReady, or Ready on a renewal after the window: the pod came back and beat.
        if (
            f.ready &&
            (record.notReadySeconds !== undefined || (f.lastRenewMs !== undefined && f.lastRenewMs >= k.upAtMs))
        ) {
            record.readySeconds = after;
            record.outcome = record.notReadySeconds === undefined ? "never NotReady" : "Ready again";
            cx.log(`hollow Node ${record.node}: Ready again ${round(after, 1)}s after the kill`);
        }
        return;
    }
    if (record.replacementPod === undefined) {
        return;
    }
    const names = podNodeNames(record.replacementPod, k.hold.pod.nodes);
    const standIns = await Promise.all(names.map((n) => cx.target.maybe<NodeLike>("GET", `/api/v1/nodes/${enc(n)}`)));
    if (standIns.every((n) => n && nodeReady(n))) {
        record.replacedBy = names;
        record.readySeconds = after;
        record.outcome = `replaced by ${names.join(", ")}; ${record.node} stays until \`pulumi up\` sweeps it`;
        cx.log(`hollow Node ${record.node}: replaced by ${names.join(", ")}, Ready ${round(after, 1)}s after the kill`);
    }
}
