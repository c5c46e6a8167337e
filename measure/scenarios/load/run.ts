// Scenario load: ClusterLoader2's load test on the hollow Nodes, in its order: objects, burst, latency pods, scale.
import { randomInt } from "node:crypto";
import { isCancelled } from "../../../components/kube/errors";
import type { RunContext } from "../../context";
import { statusOf } from "../../kube";
import { latencyPodCount, LatencyPodsOutcome, runLatencyPods } from "../../phases/latencyPods";
import { PodRun, PodRunFigures, TimedAction } from "../../phases/podRun";
import { churnOf, podStartup, PodStartup } from "../../phases/pods";
import { runThroughput, throughputPodCount, ThroughputOutcome } from "../../phases/throughput";
import type { Outcome } from "../scenario";
import { poolsText, sizingNodes } from "../../pools";
import {
    daemonSetUpdate,
    deleteRequest,
    ManifestContext,
    manifestOf,
    mergePatch,
    Request,
    scaleRequest,
} from "./objects";
import { cl2LoadPlan, CL2LoadPlan, TimedStep } from "./plan";

export interface LoadOutcome extends Outcome, PodRunFigures {
    readonly plan: Omit<CL2LoadPlan, "objects" | "setup" | "create" | "scale" | "delete" | "teardown">;
    /** The load's own pods: not judged (CL2's bound on them is an hour), reported with both clocks. */
    readonly startup: PodStartup;
    readonly throughput?: ThroughputOutcome;
    readonly latency?: LatencyPodsOutcome;
    /** What the phases were to make: 0 when an option skipped them; more, without an outcome, when the run stopped. */
    readonly planned: { readonly throughputPods: number; readonly latencyPods: number };
    readonly churn: { readonly maxPerSecond: number; readonly limit: number };
}

interface DaemonSetStatus {
    status?: { desiredNumberScheduled?: number; updatedNumberScheduled?: number; numberAvailable?: number };
}

/** A change read first (a Job's parallelism, the DaemonSet's template): GET, merge, PUT; again on a conflict. */
async function send(cx: RunContext, r: Request): Promise<void> {
    if (!r.readFirst) {
        await cx.target.maybe(r.method, r.path, r.body);
        return;
    }
    for (let attempt = 0; attempt < 5; attempt++) {
        const current = await cx.target.maybe("GET", r.path);
        if (current === undefined) {
            throw new Error(`${r.path}: gone before it was changed`);
        }
        try {
            await cx.target.json(r.method, r.path, mergePatch(current, r.body));
            return;
        } catch (e) {
            if (statusOf(e) !== 409) {
                throw e;
            }
        }
    }
    throw new Error(`${r.path} kept changing while the run changed it`);
}

export async function runLoad(cx: RunContext): Promise<LoadOutcome> {
    const { options, stack, log } = cx;
    const seed = options.seed ?? randomInt(2 ** 31 - 1);
    const nodes = sizingNodes(cx.pools, stack.replicas);
    const plan = cl2LoadPlan(options, nodes, seed, cx.runId);
    const counts = Object.entries(plan.counts)
        .filter(([k]) => !k.includes("/"))
        .map(([k, v]) => `${v} ${k}`)
        .join(", ");
    log(
        `load (ClusterLoader2's): ${plan.totalPods} pods (${options.podsPerNode} per hollow Node × ${nodes}, ${poolsText(cx.pools.chosen)}) ` +
            `in ${plan.namespaces.length} namespace(s): ` +
            `${counts}; seed ${seed} (--seed ${seed} repeats this plan)`,
    );
    plan.notes.forEach((n) => log(`load: ${n}`));
    const run = new PodRun(cx, plan.namespaces);
    const mc = (): ManifestContext => ({
        stackLabelValue: stack.labelValue,
        runId: cx.runId,
        tolerations: run.tolerate,
        priorityClass: plan.priorityClass,
        placement: run.placement,
    });
    const act = (step: TimedStep): TimedAction => ({
        atMs: step.atMs,
        run: async () => {
            if (step.action === "create") {
                const m = manifestOf(step.object, mc());
                await cx.target.json("POST", m.apiPath, m.body);
            } else if (step.action === "scale") {
                await send(cx, scaleRequest(step.object, step.replicas as number));
            } else if (step.action === "update") {
                await send(cx, daemonSetUpdate(step.object, mc()));
            } else {
                await send(cx, deleteRequest(step.object));
            }
        },
    });
    const daemonSets = plan.objects.filter((o) => o.kind === "DaemonSet");
    const rolled = async () => {
        for (const ds of daemonSets) {
            const s = (
                await cx.target.maybe<DaemonSetStatus>(
                    "GET",
                    `/apis/apps/v1/namespaces/${ds.namespace}/daemonsets/${ds.name}`,
                )
            )?.status;
            if (
                !s ||
                s.updatedNumberScheduled !== s.desiredNumberScheduled ||
                s.numberAvailable !== s.desiredNumberScheduled
            ) {
                return false;
            }
        }
        return true;
    };
    const full = plan.podsAtFull + plan.daemonSetPods;
    const scaled = plan.podsAfterScale + plan.daemonSetPods;
    const planned = {
        throughputPods: throughputPodCount(options.throughputPods, nodes),
        latencyPods: latencyPodCount(options.latencyPods, nodes),
    };
    let error: unknown;
    let throughput: ThroughputOutcome | undefined;
    let latency: LatencyPodsOutcome | undefined;
    try {
        await run.start();
        cx.created.priorityClasses.push(plan.priorityClass);
        await run.phase(
            "setup",
            plan.setup.map(act),
            "Services, PriorityClass, ConfigMaps and Secrets made",
            () => true,
        );
        await run.phase(
            "create",
            plan.create.map(act),
            `all ${full} load pods Running`,
            run.allRunning(full, "load"),
            "load",
        );
        await run.hold(options.holdSeconds);
        const burst = planned.throughputPods;
        if (burst > 0) {
            throughput = await runThroughput(cx, run, burst);
        }
        const latencyPods = planned.latencyPods;
        if (latencyPods > 0) {
            latency = await runLatencyPods(cx, run, latencyPods);
        }
        const allScaled = run.allRunning(scaled, "load");
        await run.phase(
            "scale and update",
            plan.scale.map(act),
            `${scaled} load pods Running, the DaemonSet rolled`,
            async () => allScaled() && (await rolled()),
            "load",
        );
        await run.phase(
            "delete",
            plan.delete.map(act),
            "every load pod marked for deletion",
            () => run.tracker.counts("load").live === 0,
            "load",
        );
        await run.phase(
            "teardown",
            plan.teardown.map(act),
            "ConfigMaps, Secrets, PriorityClass and Services removed",
            () => true,
        );
    } catch (e) {
        error = e;
    }
    const figures = await run.finish();
    const pods = [...run.tracker.pods.values()];
    const { objects: _o, setup: _s, create: _c, scale: _sc, delete: _d, teardown: _t, ...summary } = plan;
    return {
        ...figures,
        planned,
        plan: summary,
        throughput,
        latency,
        startup: podStartup(pods.filter((p) => p.group === "load")),
        churn: churnOf(pods, cx.startMs, figures.endMs),
        error: error === undefined ? undefined : (error as Error).message,
        cancelled: isCancelled(error),
    };
}
