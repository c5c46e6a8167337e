// Scenario churn: kill hollow pods at a set rate, keep each down for its window, time what the target does about it.
import { podNodeNames } from "../../../components/hollow/names";
import { isCancelled } from "../../../components/kube/errors";
import { staleNodes } from "../../../components/reaper/sync";
import { RunContext, since, sleepUntil, waitUntil } from "../../context";
import { deletePod, enc, kube, listAll, PodLike, watch } from "../../kube";
import { NodeWatch } from "../../observe";
import { round } from "../../stats";
import { Hold, Holds } from "./hold";
import { firstSeenMs, HollowPod, hollowPodOf, inChosenPools } from "./hollowPods";
import { poolsText } from "../../pools";
import type { ChurnOutcome, KilledNode } from "./model";
import { churnPlan } from "./plan";
import { needsPolicy } from "./policy";
import { baselineOf, followKill } from "./track";
import { downSecondsToNotice, nodeMonitorGraceSeconds, noticeSeconds } from "./verdict";

/** How a victim is held, for the progress lines. */
const howHeld = (v: HollowPod) =>
    needsPolicy(v.owner)
        ? `held terminating, and its ${v.owner.kind} ${v.owner.name} refused new pods by an admission policy`
        : "held terminating";

export async function runChurn(cx: RunContext): Promise<ChurnOutcome> {
    const { options, stack, nodeCluster, log } = cx;
    const podsPath = `/api/v1/namespaces/${enc(stack.namespace)}/pods`;
    const initial = (await listAll<PodLike>(nodeCluster, podsPath, { labelSelector: stack.podSelector })).filter(
        (p) => !p.metadata?.deletionTimestamp,
    );
    const startPods = initial.map((p) => hollowPodOf(p, 0)).filter((p): p is HollowPod => !!p);
    const startUids = new Set(startPods.map((p) => p.uid));
    // Only pods whose hollow Nodes are all in the chosen pools are killed (--pool); every pod otherwise.
    const candidates = startPods.filter((p) => inChosenPools(p, podNodeNames(p.name, p.nodes), cx.pools));
    const kills = churnPlan(
        options,
        candidates.map((p) => p.name),
    );
    const victims = kills.map((k) => startPods.find((p) => p.name === k.pod) as HollowPod);
    // Removing a policy and releasing a pod must outlive a Ctrl-C: the run's own clients end with it.
    const holds = new Holds(cx, kube(stack.nodeKubeconfig));
    const leftovers = await holds.removeLeftovers();
    await holds.check(victims);
    const targetVersion = (await cx.target.maybe<{ gitVersion?: string }>("GET", "/version"))?.gitVersion;
    const grace = nodeMonitorGraceSeconds(targetVersion);
    const kinds = [...new Set(startPods.map((p) => p.owner.kind))];
    const workloadKind = kinds.length === 0 ? "unknown" : kinds.join("/");
    log(
        `churn: killing ${kills.length} of ${candidates.length} hollow pod(s) (${workloadKind}, ${poolsText(options.pools)}) in ${stack.namespace} of ${nodeCluster.server}, ` +
            `one every ${round(60 / options.killsPerMinute, 1)}s, each kept down ${options.downSeconds}s; the target (${targetVersion ?? "version unknown"}) ` +
            `marks a silent Node NotReady within about ${noticeSeconds(grace.seconds)}s (node-monitor-grace-period ${grace.seconds}s` +
            `${grace.known ? "" : ", assumed"} + a Lease renewal + a monitor period)`,
    );
    if (options.downSeconds <= noticeSeconds(grace.seconds)) {
        log(
            `--down-seconds ${options.downSeconds} may end a window before the target notices: a killed Node never NotReady is then ` +
                `reported, not failed (--down-seconds ${downSecondsToNotice(grace.seconds)} or more makes it a failure)`,
        );
    }

    const live = new Map<string, HollowPod>();
    const podWatch = watch(
        nodeCluster,
        podsPath,
        { labelSelector: stack.podSelector },
        (type, obj, at) => {
            const pod = hollowPodOf(obj as PodLike, at);
            if (!pod) {
                return;
            }
            if (type === "DELETED") {
                live.delete(pod.uid);
            } else {
                live.set(pod.uid, { ...pod, seenMs: firstSeenMs(pod.uid, at, live.get(pod.uid)?.seenMs, startUids) });
            }
        },
        log,
    );
    const nodeWatch = new NodeWatch(cx.targetNodes, stack.selector, stack.replicas, cx.startMs, log);
    nodeWatch.start(options.nodePollSeconds * 1000);
    const killed: KilledNode[] = [];
    const followed: { hold: Hold; killMs: number; records: KilledNode[] }[] = [];
    const followers: Promise<void>[] = [];
    const taken = new Set<string>();
    let error: unknown;
    const churnStart = cx.clock.now();
    try {
        for (const [i, plan] of kills.entries()) {
            await sleepUntil(cx, churnStart + plan.atMs);
            const victim = victims[i];
            const names = podNodeNames(victim.name, victim.nodes);
            const before = await Promise.all(names.map((n) => baselineOf(cx, n)));
            const hold = await holds.hold(i + 1, victim);
            const killMs = Date.now();
            const gone = !hold || !(await deletePod(nodeCluster, stack.namespace, victim.name, victim.uid, 0));
            const records: KilledNode[] = names.map((node) => ({
                node,
                pod: victim.name,
                kill: i + 1,
                killSeconds: since(cx, killMs),
                policy: hold?.policy,
                renewals: [],
                taints: [],
                evictions: [],
            }));
            killed.push(...records);
            if (gone) {
                for (const r of records) {
                    r.gone = true;
                    r.outcome = "not killed: the pod was gone, or replaced, when its kill came";
                }
                log(
                    `kill ${i + 1}/${kills.length}: hollow pod ${victim.name} was already gone (or replaced): nothing killed`,
                );
                if (hold) {
                    await holds.release(hold, log);
                }
                continue;
            }
            const upAtMs = killMs + options.downSeconds * 1000;
            log(
                `kill ${i + 1}/${kills.length}: hollow pod ${victim.name} (${names.join(", ")}) deleted, ${howHeld(victim)} ` +
                    `until ${since(cx, upAtMs)}s (${since(cx, killMs)}s)`,
            );
            followed.push({ hold, killMs, records });
            followers.push(
                followKill(
                    cx,
                    { of: kills.length, hold, killMs, upAtMs, graceSeconds: grace.seconds, records, baselines: before },
                    holds,
                    () => [...live.values()],
                    taken,
                ),
            );
        }
        await Promise.all(followers);
    } catch (e) {
        error = e;
    } finally {
        await holds.releaseAll(log);
        await Promise.allSettled(followers);
    }
    for (const f of followed) {
        for (const r of f.records) {
            r.heldSeconds = f.hold.endedMs === undefined ? undefined : round((f.hold.endedMs - f.killMs) / 1000);
        }
    }
    const nodes = await nodeWatch.stop();
    await podWatch.stop();
    const final =
        error === undefined
            ? await finalCheck(cx, workloadKind).catch((e) => {
                  error = e;
                  return undefined;
              })
            : undefined;
    return {
        workloadKind,
        targetVersion,
        graceSeconds: grace.seconds,
        graceKnown: grace.known,
        downSeconds: options.downSeconds,
        killed,
        leftovers,
        nodes,
        final: final ?? { registered: 0, ready: 0, replicas: stack.replicas, stale: [] },
        durationSeconds: since(cx),
        error: error === undefined ? undefined : (error as Error).message,
        cancelled: isCancelled(error),
    };
}

/**
 * After the churn: waits (bounded) for the stack to hold `replicas` Ready Nodes behind its pods, then names the
 * Nodes no pod stands behind; for workloads whose pods change names these are what `pulumi up` sweeps.
 */
async function finalCheck(cx: RunContext, workloadKind: string): Promise<ChurnOutcome["final"]> {
    const { stack } = cx;
    const look = async () => {
        const [nodes, pods] = await Promise.all([
            cx.targetNodes.listNodes(stack.selector),
            cx.nodePods.listPods(stack.namespace, stack.podSelector),
        ]);
        const stale = staleNodes(
            nodes,
            pods.filter((p) => !p.terminating),
        )
            .map((n) => n.name)
            .sort();
        const readyBehind = nodes.filter((n) => n.ready && !stale.includes(n.name)).length;
        return { registered: nodes.length, ready: readyBehind, replicas: stack.replicas, stale };
    };
    let last = await look();
    await waitUntil(
        cx,
        "the stack's Nodes Ready again",
        cx.options.recoverTimeoutSeconds * 1000,
        async () => {
            last = await look();
            return last.ready >= stack.replicas;
        },
        () => `${last.ready}/${stack.replicas} Ready behind a pod, ${last.registered} registered`,
        2000,
    );
    const sweepAdvice =
        last.stale.length === 0
            ? undefined
            : `${workloadKind} pods come back under new names: ${last.stale.length} Node(s) no pod stands behind (${last.stale.join(", ")}); ` +
              `the next \`pulumi up --stack ${stack.stack}\` removes them`;
    return { ...last, sweepAdvice };
}
