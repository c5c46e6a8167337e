// What a run will do and when, decided from the options and the stack before anything is created.
import { STACK_LABEL_KEY, stackSlug } from "../components/config/settings";
import type { Options } from "./options";

/** Marks every namespace a run creates, beside the stack's own label, so leftovers are found by label alone. */
export const MEASURE_LABEL_KEY = "kubemark-pulumi/measure";
/** The run's pods: one value per run, so a report never mixes two runs' pods. */
export const RUN_LABEL_KEY = "kubemark-pulumi/measure-run";
/** Pods that stay on a NotReady or unreachable Node for a bounded time, as real workloads do. */
export const NODE_PROBLEM_TAINTS: readonly string[] = ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"];
/** Nothing is pulled: hollow kubelets with the default fake image service run no container at all. */
export const LOAD_IMAGE = "registry.k8s.io/pause:3.10";

/** The namespace of a stack's load in the target: one per stack, so a rerun finds an interrupted run's. */
export function loadNamespace(stack: string): string {
    return `kubemark-measure-${stackSlug(stack)}`;
}

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
function paced(moves: readonly { deployment: string; replicas: number; pods: number; action: Step["action"] }[], podsPerSecond: number): Step[] {
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
        create: paced(deployments.map((d) => ({ deployment: d.name, replicas: d.replicas, pods: d.replicas, action: "create" })), rate),
        scaleDown: scaling ? paced(deployments.map((d) => ({ deployment: d.name, replicas: scaledTo(d.replicas), pods: d.replicas - scaledTo(d.replicas), action: "scale" })), rate) : [],
        scaleUp: scaling ? paced(deployments.map((d) => ({ deployment: d.name, replicas: d.replicas, pods: d.replicas - scaledTo(d.replicas), action: "scale" })), rate) : [],
        delete: paced(deployments.map((d) => ({ deployment: d.name, replicas: 0, pods: d.replicas, action: "delete" })), rate),
        scaledPods: deployments.reduce((a, d) => a + (scaling ? scaledTo(d.replicas) : d.replicas), 0),
    };
}

/** The load's namespace: the stack's label, the measure label, and who runs it (host and process) for a rerun. */
export function namespaceObject(name: string, stackLabelValue: string, runId: string, holder: string) {
    return {
        apiVersion: "v1", kind: "Namespace",
        metadata: {
            name,
            labels: { [STACK_LABEL_KEY]: stackLabelValue, [MEASURE_LABEL_KEY]: "true", [RUN_LABEL_KEY]: runId },
            annotations: { "kubemark-pulumi/measure-holder": holder },
        },
    };
}

export interface Toleration { key: string; operator: "Exists"; effect: string; tolerationSeconds?: number }

/**
 * Tolerations of the load's pods: every NoSchedule or NoExecute taint the stack's Nodes carry at the start (the
 * hollow taint, DEFAULT_NODE_TAINT unless the stack set others), and the node-problem taints for a bounded time.
 */
export function tolerations(nodeTaints: readonly { key: string; effect: string }[], tolerationSeconds: number): Toleration[] {
    const own = new Map<string, Toleration>();
    for (const t of nodeTaints) {
        if (!NODE_PROBLEM_TAINTS.includes(t.key) && t.effect !== "PreferNoSchedule") {
            own.set(`${t.key}:${t.effect}`, { key: t.key, operator: "Exists", effect: t.effect });
        }
    }
    const problems = NODE_PROBLEM_TAINTS.map((key): Toleration => ({ key, operator: "Exists", effect: "NoExecute", tolerationSeconds }));
    return [...[...own.values()].sort((a, b) => `${a.key}:${a.effect}`.localeCompare(`${b.key}:${b.effect}`)), ...problems];
}

/** A Deployment of the load: pause pods with tiny requests, on this stack's hollow Nodes only. */
export function deploymentObject(namespace: string, name: string, replicas: number, stackLabelValue: string, runId: string,
    tolerate: readonly Toleration[]) {
    const labels = { [STACK_LABEL_KEY]: stackLabelValue, [RUN_LABEL_KEY]: runId, app: name };
    return {
        apiVersion: "apps/v1", kind: "Deployment",
        metadata: { name, namespace, labels },
        spec: {
            replicas,
            selector: { matchLabels: { [RUN_LABEL_KEY]: runId, app: name } },
            template: {
                metadata: { labels },
                spec: {
                    nodeSelector: { [STACK_LABEL_KEY]: stackLabelValue },
                    tolerations: tolerate,
                    // A delete waits for the kubelet's confirmation, as anywhere, but never long.
                    terminationGracePeriodSeconds: 1,
                    automountServiceAccountToken: false,
                    enableServiceLinks: false,
                    containers: [{ name: "pause", image: LOAD_IMAGE, resources: { requests: { cpu: "1m", memory: "1Mi" } } }],
                },
            },
        },
    };
}

export interface Kill {
    readonly pod: string;
    /** Milliseconds after the churn starts. */
    readonly atMs: number;
}

/**
 * Which hollow pods the churn kills and when: `kills` of them, spread over the sorted names (so a StatefulSet's
 * first and last ordinals are both tried), one every 60 / killsPerMinute seconds.
 */
export function churnPlan(options: Options, pods: readonly string[]): Kill[] {
    if (options.kills > pods.length) {
        throw new Error(`--kills ${options.kills}: the stack runs only ${pods.length} hollow pod(s); accepted: 1 to ${pods.length}`);
    }
    const sorted = [...pods].sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
    const every = 60_000 / options.killsPerMinute;
    const picks: string[] = [];
    for (let k = 0; k < options.kills; k++) {
        const index = options.kills === 1 ? 0 : Math.round((k * (sorted.length - 1)) / (options.kills - 1));
        picks.push(sorted[index]);
    }
    return picks.map((pod, k) => ({ pod, atMs: Math.round(k * every) }));
}
