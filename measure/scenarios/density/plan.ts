// Scenario density's plan: Deployments of one size, created, scaled down and back, deleted at an even pace.
import type { Options } from "../../options";
import { loadNamespace, podDeployment, Toleration } from "../../objects";
import type { Placement } from "../../pools";

export interface Step {
    /** Milliseconds after the phase starts. */
    readonly atMs: number;
    readonly action: "create" | "scale" | "delete";
    readonly deployment: string;
    /** Replicas after the step (create, scale); 0 for delete. */
    readonly replicas: number;
}

export interface LoadPlan {
    readonly namespace: string;
    readonly totalPods: number;
    /** Each Deployment's full size, in creation order. */
    readonly deployments: readonly { readonly name: string; readonly replicas: number }[];
    readonly create: readonly Step[];
    /** Empty when the options skip the scale phase. */
    readonly scaleDown: readonly Step[];
    readonly scaleUp: readonly Step[];
    readonly delete: readonly Step[];
    /** Pods running at the bottom of the scale phase. */
    readonly scaledPods: number;
}

/**
 * Steps spaced so that pods are created (or removed) at `podsPerSecond`: a step moving n pods is followed by the
 * next after n / rate seconds. The Deployment controller makes a step's pods within moments of it, so the rate
 * holds over a few seconds, not within one step.
 */
function paced(
    moves: readonly { deployment: string; replicas: number; pods: number; action: Step["action"] }[],
    podsPerSecond: number,
): Step[] {
    let at = 0;
    const steps: Step[] = [];
    for (const m of moves) {
        if (m.pods === 0) {
            continue;
        }
        steps.push({ atMs: Math.round(at), action: m.action, deployment: m.deployment, replicas: m.replicas });
        at += (m.pods / podsPerSecond) * 1000;
    }
    return steps;
}

/** The load on `hollowNodes` Nodes: Deployments of podsPerDeployment, created, scaled down and back, deleted. */
export function loadPlan(options: Options, hollowNodes: number): LoadPlan {
    const totalPods = options.podsPerNode * hollowNodes;
    const deployments: { name: string; replicas: number }[] = [];
    for (let left = totalPods, i = 0; left > 0; i++) {
        const replicas = Math.min(options.podsPerDeployment, left);
        deployments.push({ name: `load-${String(i).padStart(4, "0")}`, replicas });
        left -= replicas;
    }
    const rate = options.podsPerSecond;
    const scaledTo = (n: number) => n - Math.round((n * options.scaleDownPercent) / 100);
    const scaling = options.scaleDownPercent > 0;
    return {
        namespace: loadNamespace(options.stack),
        totalPods,
        deployments,
        create: paced(
            deployments.map((d) => ({ deployment: d.name, replicas: d.replicas, pods: d.replicas, action: "create" })),
            rate,
        ),
        scaleDown: scaling
            ? paced(
                  deployments.map((d) => ({
                      deployment: d.name,
                      replicas: scaledTo(d.replicas),
                      pods: d.replicas - scaledTo(d.replicas),
                      action: "scale",
                  })),
                  rate,
              )
            : [],
        scaleUp: scaling
            ? paced(
                  deployments.map((d) => ({
                      deployment: d.name,
                      replicas: d.replicas,
                      pods: d.replicas - scaledTo(d.replicas),
                      action: "scale",
                  })),
                  rate,
              )
            : [],
        delete: paced(
            deployments.map((d) => ({ deployment: d.name, replicas: 0, pods: d.replicas, action: "delete" })),
            rate,
        ),
        scaledPods: deployments.reduce((a, d) => a + (scaling ? scaledTo(d.replicas) : d.replicas), 0),
    };
}

/** A Deployment of the density: pause pods with tiny requests, on this stack's hollow Nodes only. */
export function deploymentObject(
    namespace: string,
    name: string,
    replicas: number,
    stackLabelValue: string,
    runId: string,
    tolerate: readonly Toleration[],
    placement?: Placement,
) {
    return podDeployment({
        namespace,
        name,
        replicas,
        stackLabelValue,
        runId,
        tolerate,
        placement,
        group: "load",
        cpu: "1m",
        memory: "1Mi",
    });
}
