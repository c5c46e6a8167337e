// Scenario load: Deployments of pause pods on this stack's hollow Nodes, created, held, scaled, deleted at a set rate.
import { CallLatency, LatencyPoint, LatencyRecorder } from "./apiLatency";
import { createNamespace, heartbeat, holderId } from "./cleanup";
import { RunContext, since, sleepUntil, waitUntil } from "./context";
import { enc, listAll, NodeLike, watch } from "./kube";
import { GeneratorUsage, generatorMeter, HollowUsage, hollowUsage, NodeHealth, NodeWatch, usageOver } from "./observe";
import { deploymentObject, loadPlan, LoadPlan, namespaceObject, Step, tolerations } from "./plan";
import { churnOf, podStartup, PodStartup, PodTracker, throughputOf } from "./pods";
import { Throughput } from "./stats";
import { isCancelled } from "../components/kube/errors";

export interface PhaseRecord {
    readonly phase: string;
    readonly startSeconds: number;
    /** When the last step was sent, and when the pods reached the phase's goal. */
    readonly stepsSentSeconds?: number;
    readonly settledSeconds?: number;
    readonly goal: string;
}

export interface LoadOutcome {
    readonly plan: LoadPlan;
    readonly phases: PhaseRecord[];
    readonly startup: PodStartup;
    readonly throughput: Throughput;
    readonly churn: { readonly maxPerSecond: number; readonly limit: number };
    readonly apiCalls?: CallLatency[];
    readonly apiProblem?: string;
    readonly latencyOverTime: LatencyPoint[];
    readonly nodes: NodeHealth;
    readonly usage: HollowUsage;
    readonly generator: GeneratorUsage;
    /** Pods seen bound and seen Running by each second of the run, for the plot. */
    readonly progress: { t: number; bound: number; running: number }[];
    readonly durationSeconds: number;
    readonly error?: string;
    readonly cancelled: boolean;
}

const HEARTBEAT_EVERY_MS = 10_000;

/** Cumulative counts per second from per-pod first times. */
function perSecond(times: readonly number[], startMs: number, endMs: number): number[] {
    const seconds = Math.max(1, Math.ceil((endMs - startMs) / 1000));
    const counts = new Array<number>(seconds + 1).fill(0);
    for (const t of times) {
        counts[Math.min(seconds, Math.max(0, Math.ceil((t - startMs) / 1000)))]++;
    }
    for (let i = 1; i < counts.length; i++) {
        counts[i] += counts[i - 1];
    }
    return counts;
}

interface EventList {
    items?: { type?: string; reason?: string; message?: string; count?: number; involvedObject?: { kind?: string; name?: string } }[];
}

/** The namespace's last Warning events, for a phase that did not reach its goal: they usually say why. */
async function warnings(cx: RunContext, namespace: string): Promise<string> {
    const list = await cx.target.maybe<EventList>("GET", `/api/v1/namespaces/${enc(namespace)}/events?fieldSelector=${enc("type=Warning")}`)
        .catch(() => undefined);
    const seen = new Map<string, string>();
    for (const e of list?.items ?? []) {
        seen.set(`${e.reason}: ${e.message}`, `${e.involvedObject?.kind}/${e.involvedObject?.name} ${e.reason}: ${e.message}`);
    }
    const last = [...seen.values()].slice(-3);
    return last.length === 0 ? "" : `. Warnings in ${namespace}: ${last.join("; ")}`;
}

export async function runLoad(cx: RunContext): Promise<LoadOutcome> {
    const { options, stack, target, log } = cx;
    const plan = loadPlan(options, stack.replicas);
    const ns = plan.namespace;
    const nodes = await listAll<NodeLike>(target, "/api/v1/nodes", { labelSelector: stack.selector });
    const tolerate = tolerations(nodes.flatMap((n) => n.spec?.taints ?? []), options.tolerationSeconds);
    log(`load: ${plan.totalPods} pods (${options.podsPerNode} per hollow Node) in ${plan.deployments.length} Deployment(s) ` +
        `of up to ${options.podsPerDeployment}, at ${options.podsPerSecond} pods/s, in namespace ${ns} of ${target.server}`);
    await createNamespace(target, namespaceObject(ns, stack.labelValue, cx.runId, holderId()));
    cx.created.namespace = ns;
    await heartbeat(target, ns);

    const tracker = new PodTracker();
    const podWatch = watch(target, `/api/v1/namespaces/${enc(ns)}/pods`, {}, (type, obj, at) => tracker.observe(type, obj, at), log);
    const nodeWatch = new NodeWatch(cx.targetNodes, stack.selector, stack.replicas, cx.startMs, log);
    nodeWatch.start(options.nodePollSeconds * 1000);
    const latency = new LatencyRecorder(target, cx.startMs, log);
    await latency.start(options.metricsEverySeconds * 1000);
    const usageBefore = await hollowUsage(cx.nodeCluster, stack.namespace, stack.podSelector);
    const generator = generatorMeter();
    const beat = setInterval(() => void heartbeat(target, ns).catch((e) => log(`heartbeat: ${(e as Error).message}`)), HEARTBEAT_EVERY_MS);
    const phases: PhaseRecord[] = [];
    const counts = () => {
        const c = tracker.counts();
        return `${c.live} pods, ${c.scheduled} bound, ${c.running} Running`;
    };
    const deploymentPath = `/apis/apps/v1/namespaces/${enc(ns)}/deployments`;
    const perform = async (step: Step) => {
        if (step.action === "create") {
            await target.json("POST", deploymentPath, deploymentObject(ns, step.deployment, step.replicas, stack.labelValue, cx.runId, tolerate));
        } else if (step.action === "scale") {
            await target.json("PUT", `${deploymentPath}/${enc(step.deployment)}/scale`,
                { apiVersion: "autoscaling/v1", kind: "Scale", metadata: { name: step.deployment, namespace: ns }, spec: { replicas: step.replicas } });
        } else {
            await target.json("DELETE", `${deploymentPath}/${enc(step.deployment)}`, { apiVersion: "v1", kind: "DeleteOptions", propagationPolicy: "Background" });
        }
    };
    /** Sends the phase's steps on their schedule, then waits for its goal (bounded by --phase-timeout-seconds). */
    const phase = async (name: string, steps: readonly Step[], goal: string, reached: () => boolean) => {
        const start = cx.clock.now();
        const record: { -readonly [K in keyof PhaseRecord]: PhaseRecord[K] } = { phase: name, startSeconds: since(cx, start), goal };
        phases.push(record);
        log(`${name}: ${steps.length} step(s) over ${Math.round((steps[steps.length - 1]?.atMs ?? 0) / 1000)}s, then ${goal}`);
        let said = start;
        for (const [i, step] of steps.entries()) {
            await sleepUntil(cx, start + step.atMs);
            await perform(step);
            if (cx.clock.now() - said >= 5000) {
                log(`${name}: ${i + 1}/${steps.length} steps sent; ${counts()} (${since(cx)}s)`);
                said = cx.clock.now();
            }
        }
        record.stepsSentSeconds = since(cx);
        try {
            await waitUntil(cx, `${name}: ${goal}`, options.phaseTimeoutSeconds * 1000, () => reached(), counts);
        } catch (e) {
            if (isCancelled(e)) {
                throw e;
            }
            const c = tracker.counts();
            const unbound = c.live > 0 && c.scheduled === 0
                ? ". No pod was bound to a Node: does the target run a kube-scheduler, and do the hollow Nodes take these pods?" : "";
            throw new Error(`${(e as Error).message}${unbound}${await warnings(cx, ns)}`);
        }
        record.settledSeconds = since(cx);
        log(`${name}: ${goal} after ${Math.round((cx.clock.now() - start) / 100) / 10}s; ${counts()}`);
    };
    const all = (n: number) => () => tracker.counts().live === n && tracker.counts().running === n;
    let error: unknown;
    try {
        await phase("create", plan.create, `all ${plan.totalPods} pods Running`, all(plan.totalPods));
        if (options.holdSeconds > 0) {
            log(`hold: ${plan.totalPods} pods for ${options.holdSeconds}s`);
            const held = cx.clock.now();
            phases.push({ phase: "hold", startSeconds: since(cx, held), goal: `${options.holdSeconds}s at full load` });
            await waitUntil(cx, "hold", options.holdSeconds * 1000 + 60_000, () => cx.clock.now() - held >= options.holdSeconds * 1000, counts, 1000);
        }
        if (plan.scaleDown.length > 0) {
            await phase("scale down", plan.scaleDown, `${plan.scaledPods} pods Running`, all(plan.scaledPods));
            await phase("scale up", plan.scaleUp, `all ${plan.totalPods} pods Running again`, all(plan.totalPods));
        }
        await phase("delete", plan.delete, "every pod marked for deletion", () => tracker.counts().live === 0);
    } catch (e) {
        error = e;
    }
    const endMs = Date.now();
    clearInterval(beat);
    const health = await nodeWatch.stop();
    await latency.stop().catch((e) => log(`last /metrics scrape: ${(e as Error).message}`));
    const usageAfter = await hollowUsage(cx.nodeCluster, stack.namespace, stack.podSelector).catch((e) => ({
        atMs: Date.now(), pods: new Map(), problems: [(e as Error).message] }));
    await podWatch.stop();
    const pods = [...tracker.pods.values()];
    const bound = perSecond(pods.flatMap((p) => (p.scheduledSeenMs === undefined ? [] : [p.scheduledSeenMs])), cx.startMs, endMs);
    const running = perSecond(pods.flatMap((p) => (p.runningSeenMs === undefined ? [] : [p.runningSeenMs])), cx.startMs, endMs);
    return {
        plan, phases,
        startup: podStartup(pods),
        throughput: throughputOf(pods, cx.startMs, endMs),
        churn: churnOf(pods, cx.startMs, endMs),
        apiCalls: latency.calls(), apiProblem: latency.problem, latencyOverTime: latency.overTime(),
        nodes: health,
        usage: usageOver(usageBefore, usageAfter, stack.nodesPerPod),
        generator: generator(),
        progress: bound.map((b, t) => ({ t, bound: b, running: running[t] })),
        durationSeconds: since(cx, endMs),
        error: error === undefined ? undefined : (error as Error).message,
        cancelled: isCancelled(error),
    };
}
