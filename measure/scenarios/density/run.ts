// Scenario density: Deployments of pause pods created, held, scaled, deleted at an even pace; then CL2's latency pods.
import { isCancelled } from "../../../components/kube/errors";
import type { RunContext } from "../../context";
import { enc } from "../../kube";
import { latencyPodCount, LatencyPodsOutcome, runLatencyPods } from "../../phases/latencyPods";
import { PodRun, PodRunFigures, TimedAction } from "../../phases/podRun";
import { churnOf, podStartup, PodStartup, throughputOf } from "../../phases/pods";
import type { Throughput } from "../../stats";
import type { Outcome } from "../scenario";
import { poolsText, sizingNodes } from "../../pools";
import { deploymentObject, loadPlan, LoadPlan, Step } from "./plan";

export interface DensityOutcome extends Outcome, PodRunFigures {
    readonly plan: LoadPlan;
    /** The density's own pods: not judged (CL2's bound on them is an hour), reported with both clocks. */
    readonly startup: PodStartup;
    readonly latency?: LatencyPodsOutcome;
    /** The latency pods the run was to make: 0 when --latency-pods 0 skipped them. */
    readonly plannedLatencyPods: number;
    readonly throughput: Throughput;
    readonly churn: { readonly maxPerSecond: number; readonly limit: number };
}

export async function runDensity(cx: RunContext): Promise<DensityOutcome> {
    const { options, stack, target, log } = cx;
    const nodes = sizingNodes(cx.pools, stack.replicas);
    const plan = loadPlan(options, nodes);
    const ns = plan.namespace;
    log(
        `density: ${plan.totalPods} pods (${options.podsPerNode} per hollow Node) in ${plan.deployments.length} Deployment(s) ` +
            `of up to ${options.podsPerDeployment}, at ${options.podsPerSecond} pods/s, in namespace ${ns} of ${target.server}, ` +
            `on ${poolsText(cx.pools.chosen)}`,
    );
    const run = new PodRun(cx, [ns]);
    const deploymentPath = `/apis/apps/v1/namespaces/${enc(ns)}/deployments`;
    const act = (step: Step): TimedAction => ({
        atMs: step.atMs,
        run: async () => {
            if (step.action === "create") {
                await target.json(
                    "POST",
                    deploymentPath,
                    deploymentObject(
                        ns,
                        step.deployment,
                        step.replicas,
                        stack.labelValue,
                        cx.runId,
                        run.tolerate,
                        run.placement,
                    ),
                );
            } else if (step.action === "scale") {
                await target.json("PUT", `${deploymentPath}/${enc(step.deployment)}/scale`, {
                    apiVersion: "autoscaling/v1",
                    kind: "Scale",
                    metadata: { name: step.deployment, namespace: ns },
                    spec: { replicas: step.replicas },
                });
            } else {
                await target.json("DELETE", `${deploymentPath}/${enc(step.deployment)}`, {
                    apiVersion: "v1",
                    kind: "DeleteOptions",
                    propagationPolicy: "Background",
                });
            }
        },
    });
    const plannedLatencyPods = latencyPodCount(options.latencyPods, nodes);
    let error: unknown;
    let latency: LatencyPodsOutcome | undefined;
    try {
        await run.start();
        await run.phase(
            "create",
            plan.create.map(act),
            `all ${plan.totalPods} pods Running`,
            run.allRunning(plan.totalPods, "load"),
            "load",
        );
        await run.hold(options.holdSeconds);
        const latencyPods = plannedLatencyPods;
        if (latencyPods > 0) {
            latency = await runLatencyPods(cx, run, latencyPods);
        }
        if (plan.scaleDown.length > 0) {
            await run.phase(
                "scale down",
                plan.scaleDown.map(act),
                `${plan.scaledPods} pods Running`,
                run.allRunning(plan.scaledPods, "load"),
                "load",
            );
            await run.phase(
                "scale up",
                plan.scaleUp.map(act),
                `all ${plan.totalPods} pods Running again`,
                run.allRunning(plan.totalPods, "load"),
                "load",
            );
        }
        await run.phase(
            "delete",
            plan.delete.map(act),
            "every pod marked for deletion",
            () => run.tracker.counts().live === 0,
        );
    } catch (e) {
        error = e;
    }
    const figures = await run.finish();
    const pods = [...run.tracker.pods.values()];
    const own = pods.filter((p) => p.group === "load");
    return {
        ...figures,
        plannedLatencyPods,
        plan,
        latency,
        startup: podStartup(own),
        throughput: throughputOf(own, cx.startMs, figures.endMs),
        churn: churnOf(pods, cx.startMs, figures.endMs),
        error: error === undefined ? undefined : (error as Error).message,
        cancelled: isCancelled(error),
    };
}
