// What the churn records: each killed hollow Node's way down and back, and the stack's Nodes afterwards.
import type { NodeHealth } from "../../observe";
import type { Outcome } from "../scenario";

export interface KilledNode {
    readonly node: string;
    readonly pod: string;
    /** The kill's number, from 1, in the order of the plan. */
    readonly kill: number;
    /** Seconds into the run. */
    readonly killSeconds: number;
    /** The admission policy that kept the pod's owner from replacing it; none for a StatefulSet (a finalizer holds). */
    readonly policy?: string;
    /** Seconds from the kill until the hold ended (policy removed, finalizer off); undefined when it never did. */
    heldSeconds?: number;
    /** Seconds after the kill: first look that found it NotReady, and the Ready condition's own transition time. */
    notReadySeconds?: number;
    notReadyApiSeconds?: number;
    /** Seconds after the kill when a look found it (or its replacement) Ready again. */
    readySeconds?: number;
    /** Deployment or ReplicationController stacks: the Nodes that came back under the new pod's name instead. */
    replacedBy?: string[];
    /** The pod that stood in for the killed one, and the seconds after the release when the run first saw it. */
    replacementPod?: string;
    replacementSeconds?: number;
    /** How old its Lease's last renewal was at the kill. */
    leaseAgeAtKillSeconds?: number;
    /** Renewals of its Lease seen after the kill, in seconds after it (renewTime: the hollow kubelet's clock). */
    readonly renewals: number[];
    /** Taints the target added after the kill, with the seconds after it when first seen. */
    readonly taints: { key: string; effect: string; seconds: number }[];
    /** The load's pods on this Node that the target evicted or deleted, with seconds after the kill. */
    readonly evictions: { pod: string; seconds: number; reason?: string }[];
    /** The longest time between two of its Lease's renewals around the kill (microsecond resolution). */
    leaseGapSeconds?: number;
    /** The kill found its pod gone or replaced: nothing was killed, nothing followed. */
    gone?: boolean;
    outcome?: string;
}

export interface ChurnOutcome extends Outcome {
    /** The killed pods' owners' kinds: StatefulSet, ReplicaSet (a Deployment's) or ReplicationController. */
    readonly workloadKind: string;
    /** The target's version (GET /version) and the node-monitor-grace-period its release defaults to. */
    readonly targetVersion?: string;
    readonly graceSeconds: number;
    readonly graceKnown: boolean;
    readonly downSeconds: number;
    readonly killed: KilledNode[];
    /** What an interrupted churn of this stack had left and this run removed first: held pods, policies. */
    readonly leftovers: string[];
    readonly nodes: NodeHealth;
    /** After the run: the stack's Nodes, how many Ready, and those no pod stands behind. */
    readonly final: { registered: number; ready: number; replicas: number; stale: string[]; sweepAdvice?: string };
    readonly durationSeconds: number;
}
