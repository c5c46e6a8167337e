// ClusterLoader2's latency pods: 1-replica Deployments made at 5/s onto the full cluster; the SLO judges their startup.
import type { RunContext } from "../context";
import { enc } from "../kube";
import { podDeployment } from "../objects";
import { poolsText, sizingNodes } from "../pools";
import { cl2Startup, Cl2Startup } from "./pods";
import type { PhaseRecord, PodRun, TimedAction } from "./podRun";

/** CL2's LATENCY_POD_COUNT: its minPodsInSmallCluster (modules/pod-startup-latency.yaml). */
export const CL2_LATENCY_PODS = 500;
/** CL2's CL2_LATENCY_POD_CPU and CL2_LATENCY_POD_MEMORY: 50m and 200M per latency pod. */
export const LATENCY_POD_REQUESTS = { cpu: "50m", memory: "200M" } as const;
/** CL2 runs the latency pods only on clusters of 100 Nodes or more (testing/load/config.yaml $IS_SMALL_CLUSTER). */
export const CL2_MIN_NODES = 100;

/** How many latency pods: the option, else min(500, hollow Nodes) so that a small lab gets one per Node. */
export const latencyPodCount = (given: number | undefined, hollowNodes: number) =>
    given ?? Math.min(CL2_LATENCY_PODS, hollowNodes);

export interface LatencyPodsOutcome {
    readonly count: number;
    readonly perSecond: number;
    readonly startup: Cl2Startup;
    readonly created?: PhaseRecord;
    readonly deleted?: PhaseRecord;
    readonly notes: readonly string[];
}

/** The latency Deployments, spread over the run's namespaces in turn as CL2 spreads them, one every 1/rate s. */
export function latencyPlan(
    namespaces: readonly string[],
    count: number,
    perSecond: number,
): { namespace: string; name: string; atMs: number }[] {
    return Array.from({ length: count }, (_, i) => ({
        namespace: namespaces[i % namespaces.length],
        name: `latency-deployment-${i}`,
        atMs: Math.round((i * 1000) / perSecond),
    }));
}

/**
 * Creates the latency pods at their rate, waits until all run (their startup is the SLI), then deletes them at the
 * same rate and waits until they are gone, as CL2's module does before the load is scaled.
 */
export async function runLatencyPods(cx: RunContext, run: PodRun, count: number): Promise<LatencyPodsOutcome> {
    const perSecond = cx.options.latencyPodsPerSecond;
    const nodes = sizingNodes(cx.pools, cx.stack.replicas);
    const notes = [
        ...(nodes < CL2_MIN_NODES
            ? [
                  `CL2 runs latency pods only from ${CL2_MIN_NODES} Nodes; here ${nodes}, so the verdict has no CL2 counterpart`,
              ]
            : []),
        ...(cx.pools.chosen ? [`made on ${poolsText(cx.pools.chosen)} only (--pool)`] : []),
    ];
    const plan = latencyPlan(run.namespaces, count, perSecond);
    const path = (ns: string) => `/apis/apps/v1/namespaces/${enc(ns)}/deployments`;
    const create: TimedAction[] = plan.map((d) => ({
        atMs: d.atMs,
        run: async () => {
            await cx.target.json(
                "POST",
                path(d.namespace),
                podDeployment({
                    namespace: d.namespace,
                    name: d.name,
                    replicas: 1,
                    stackLabelValue: cx.stack.labelValue,
                    runId: cx.runId,
                    tolerate: run.tolerate,
                    placement: run.placement,
                    group: "latency",
                    ...LATENCY_POD_REQUESTS,
                }),
            );
        },
    }));
    const created = await run.phase(
        "latency pods",
        create,
        `all ${count} latency pods Running`,
        run.allRunning(count, "latency"),
        "latency",
    );
    const remove: TimedAction[] = plan.map((d) => ({
        atMs: d.atMs,
        run: async () => {
            await cx.target.json("DELETE", `${path(d.namespace)}/${enc(d.name)}`, {
                apiVersion: "v1",
                kind: "DeleteOptions",
                propagationPolicy: "Background",
            });
        },
    }));
    const deleted = await run.phase(
        "latency pods deleted",
        remove,
        "every latency pod gone from the target",
        run.gone("latency"),
        "latency",
    );
    const pods = [...run.tracker.pods.values()].filter((p) => p.group === "latency");
    return { count, perSecond, startup: cl2Startup(pods), created, deleted, notes };
}
