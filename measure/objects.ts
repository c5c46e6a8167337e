// The objects every scenario that loads the target shares: its namespace, its labels, its pods' tolerations.
import { STACK_LABEL_KEY, stackSlug } from "../components/config/settings";
import { GROUP_LABEL_KEY } from "./phases/pods";
import type { Placement } from "./pools";

/** Marks every namespace a run creates, beside the stack's own label, so leftovers are found by label alone. */
export const MEASURE_LABEL_KEY = "kubemark-pulumi/measure";
/** The run's pods: one value per run, so a report never mixes two runs' pods. */
export const RUN_LABEL_KEY = "kubemark-pulumi/measure-run";
/** Pods that stay on a NotReady or unreachable Node for a bounded time, as real workloads do. */
export const NODE_PROBLEM_TAINTS: readonly string[] = [
    "node.kubernetes.io/not-ready",
    "node.kubernetes.io/unreachable",
];
/** Nothing is pulled: hollow kubelets with the default fake image service run no container at all. */
export const LOAD_IMAGE = "registry.k8s.io/pause:3.10";

/** The namespace of a stack's load in the target: one per stack, so a rerun finds an interrupted run's. */
export function loadNamespace(stack: string): string {
    return `kubemark-measure-${stackSlug(stack)}`;
}

/** The load's namespace: the stack's label, the measure label, and who runs it (host and process) for a rerun. */
export function namespaceObject(name: string, stackLabelValue: string, runId: string, holder: string) {
    return {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: {
            name,
            labels: { [STACK_LABEL_KEY]: stackLabelValue, [MEASURE_LABEL_KEY]: "true", [RUN_LABEL_KEY]: runId },
            annotations: { "kubemark-pulumi/measure-holder": holder },
        },
    };
}

export interface Toleration {
    key: string;
    operator: "Exists";
    effect: string;
    tolerationSeconds?: number;
}

/**
 * Tolerations of the load's pods: every NoSchedule or NoExecute taint the stack's Nodes carry at the start (the
 * hollow taint, DEFAULT_NODE_TAINT unless the stack set others), and the node-problem taints for a bounded time.
 */
export function tolerations(
    nodeTaints: readonly { key: string; effect: string }[],
    tolerationSeconds: number,
): Toleration[] {
    const own = new Map<string, Toleration>();
    for (const t of nodeTaints) {
        if (!NODE_PROBLEM_TAINTS.includes(t.key) && t.effect !== "PreferNoSchedule") {
            own.set(`${t.key}:${t.effect}`, { key: t.key, operator: "Exists", effect: t.effect });
        }
    }
    const problems = NODE_PROBLEM_TAINTS.map((key): Toleration => ({
        key,
        operator: "Exists",
        effect: "NoExecute",
        tolerationSeconds,
    }));
    return [
        ...[...own.values()].sort((a, b) => `${a.key}:${a.effect}`.localeCompare(`${b.key}:${b.effect}`)),
        ...problems,
    ];
}

/** What a Deployment of the run's pods is: where, how many, whose, which group, what each pod asks for. */
export interface PodDeploymentSpec {
    readonly namespace: string;
    readonly name: string;
    readonly replicas: number;
    readonly stackLabelValue: string;
    readonly runId: string;
    readonly tolerate: readonly Toleration[];
    /** `kubemark-pulumi/measure-group`: load, latency or throughput. */
    readonly group: string;
    readonly cpu: string;
    readonly memory: string;
    /** The run's pools (poolPlacement); undefined: any of the stack's hollow Nodes. */
    readonly placement?: Placement;
}

/** A pod spec's Node choice: this stack's hollow Nodes, and of them the run's pools when it chose some. */
export function nodeChoice(stackLabelValue: string, placement: Placement | undefined) {
    return {
        nodeSelector: { [STACK_LABEL_KEY]: stackLabelValue, ...placement?.nodeSelector },
        ...(placement?.affinity ? { affinity: placement.affinity } : {}),
    };
}

/** A Deployment of pause pods on this stack's hollow Nodes only, labelled with the run and its group. */
export function podDeployment(d: PodDeploymentSpec) {
    const labels = {
        [STACK_LABEL_KEY]: d.stackLabelValue,
        [RUN_LABEL_KEY]: d.runId,
        [GROUP_LABEL_KEY]: d.group,
        app: d.name,
    };
    return {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: d.name, namespace: d.namespace, labels },
        spec: {
            replicas: d.replicas,
            selector: { matchLabels: { [RUN_LABEL_KEY]: d.runId, app: d.name } },
            template: {
                metadata: { labels },
                spec: {
                    ...nodeChoice(d.stackLabelValue, d.placement),
                    tolerations: d.tolerate,
                    // A delete waits for the kubelet's confirmation, as anywhere, but never long.
                    terminationGracePeriodSeconds: 1,
                    automountServiceAccountToken: false,
                    enableServiceLinks: false,
                    containers: [
                        { name: "pause", image: LOAD_IMAGE, resources: { requests: { cpu: d.cpu, memory: d.memory } } },
                    ],
                },
            },
        },
    };
}
