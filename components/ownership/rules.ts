// Which objects a stack creates under fixed names, and whether someone else already holds one of them.
import type { ClusterApi, ObjectOwnership, ObjectRef } from "../kube/clusterApi";
import type { WorkloadKind } from "../config/settings";
import { LAST_WORKLOAD_SUFFIX, statefulNodeNames } from "../hollow/names";
import { someNames } from "../kube/async";

/** What the guard checks before anything is created; plain data, stored in state. */
export interface OwnershipRequest {
    /** The label that marks what this stack created, and its value for this stack. */
    readonly stackLabelKey: string;
    readonly stackLabelValue: string;
    /** Objects the stack creates under fixed names in the node cluster. */
    readonly nodeObjects: readonly ObjectRef[];
    /** Objects the stack creates under fixed names in the target cluster. */
    readonly targetObjects: readonly ObjectRef[];
    /** A namespace the stack uses without owning it (createNamespace false): it must exist. "" when none. */
    readonly existingNamespace: string;
    /**
     * Hollow Nodes register as `<nodeNamePrefix><ordinal>` for ordinals below nodeCount (StatefulSet only), or as
     * `<nodeNamePrefix><ordinal>-<k>` (statefulNodeNames) when a pod holds nodesPerPod > 1 of them.
     */
    readonly nodeNamePrefix: string;
    readonly nodeCount: number;
    /** Absent in state written before nodesPerPod existed: one per pod. */
    readonly nodesPerPod?: number;
    /**
     * With pools or zones (StatefulSet), each workload's Node names: `<workloadName>-<ordinal>[-<k>]`; the fields above
     * then describe none. Absent for one workload, as in state from before pools.
     */
    readonly nodeGroups?: readonly { readonly workloadName: string; readonly replicas: number; readonly nodesPerPod: number }[];
}

export interface StackObjectsOptions {
    readonly createNamespace: boolean;
    readonly namespace: string;
    /** The stack's Secrets: its kubeconfigs, then its certificate shards. */
    readonly secretNames: readonly string[];
    /** Every workload of the stack (a pool, or a pool's zone), each with its `-last` twin. */
    readonly workloadNames: readonly string[];
    readonly workloadKind: WorkloadKind;
}

/**
 * Annotations on every object the stack applies. One field manager for every run: the kubernetes
 * provider otherwise draws a random one per resource, and an up killed mid-create leaves an object
 * whose fields the rerun's new manager conflicts with. Force: the guard has already established
 * the object is this stack's, so an earlier manager's or a hand edit's claim on a field must not stop up.
 */
export const APPLY_ANNOTATIONS: Readonly<Record<string, string>> = {
    "pulumi.com/patchFieldManager": "kubemark-pulumi",
    "pulumi.com/patchForce": "true",
};

const WORKLOAD_API: Readonly<Record<WorkloadKind, string>> = {
    StatefulSet: "apps/v1", Deployment: "apps/v1", ReplicationController: "v1",
};

/** The node-cluster objects the stack names itself, in creation order. */
export function nodeClusterObjects(o: StackObjectsOptions): ObjectRef[] {
    const objects: ObjectRef[] = o.createNamespace ? [{ apiVersion: "v1", kind: "Namespace", name: o.namespace }] : [];
    objects.push(
        ...o.secretNames.map((name): ObjectRef => ({ apiVersion: "v1", kind: "Secret", namespace: o.namespace, name })),
        ...o.workloadNames.flatMap((w) => [w, `${w}${LAST_WORKLOAD_SUFFIX}`]).map((name): ObjectRef =>
            ({ apiVersion: WORKLOAD_API[o.workloadKind], kind: o.workloadKind, namespace: o.namespace, name })),
    );
    return objects;
}

/**
 * Only StatefulSet pods have names known in advance; a hollow kubelet that finds a Node of its
 * name already there adopts it (and heartbeats someone else's Node).
 */
export function expectedNodeNames(kind: WorkloadKind, workloadName: string, replicas: number): { prefix: string; count: number } {
    return { prefix: `${workloadName}-`, count: kind === "StatefulSet" ? replicas : 0 };
}

/** The Node names the stack's StatefulSet pods register under: one workload's, or every pool's. */
function ourNodeNames(req: OwnershipRequest): Set<string> {
    if (req.nodeGroups !== undefined) {
        return new Set(req.nodeGroups.flatMap((g) => statefulNodeNames(g.workloadName, g.replicas, g.nodesPerPod)));
    }
    return req.nodeCount === 0 ? new Set<string>() : new Set(statefulNodeNames(req.nodeNamePrefix.replace(/-$/, ""), req.nodeCount, req.nodesPerPod ?? 1));
}

const refText = (ref: ObjectRef) => `${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ""}${ref.name}`;

/** Who holds an object, in words: its labels and its field managers. */
export function ownerText(found: ObjectOwnership, stackLabelKey: string): string {
    const labels = Object.entries(found.labels).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${v}`);
    const stack = found.labels[stackLabelKey];
    const labelText = labels.length === 0 ? "no labels" : `labels ${labels.join(", ")}`;
    const whose = stack === undefined ? `no ${stackLabelKey} label` : `${stackLabelKey}=${stack}, another stack's`;
    return `${labelText} (${whose}); managed by ${found.managers.length > 0 ? found.managers.join(", ") : "(no field managers)"}`;
}

function remedy(ref: ObjectRef): string {
    if (ref.kind === "Namespace") {
        return "Choose another namespace (pulumi config set kubemark:namespace <name>), set kubemark:createNamespace false " +
            "to deploy into it without owning it (destroy then leaves it and everything else in it), or remove it";
    }
    const name = ref.namespace ? `-n ${ref.namespace} ${ref.kind.toLowerCase()} ${ref.name}` : `${ref.kind.toLowerCase()} ${ref.name}`;
    return `Choose another namespace (kubemark:namespace) or stack name, or remove it (kubectl delete ${name}) if it is not needed`;
}

/** The refusal for one object someone else holds. */
export function conflictMessage(role: string, server: string, ref: ObjectRef, found: ObjectOwnership, stackLabelKey: string,
    stackLabelValue: string): string {
    return `${refText(ref)} already exists in the ${role} cluster (${server}) and is not this stack's ` +
        `(${stackLabelKey}=${stackLabelValue}): ${ownerText(found, stackLabelKey)}. ` +
        `pulumi up would take it over and pulumi destroy would delete it${ref.kind === "Namespace" ? " with everything in it" : ""}. ` +
        `${remedy(ref)}. Nothing was changed in either cluster`;
}

/** A selector of every Node that is not this stack's (the server filters; unlabelled Nodes match too). */
export function foreignNodeSelector(key: string, value: string): string {
    return `${key}!=${value}`;
}

async function conflicts(api: ClusterApi, role: string, refs: readonly ObjectRef[], req: OwnershipRequest): Promise<string[]> {
    const found = await Promise.all(refs.map((ref) => api.readObject(ref)));
    return refs.flatMap((ref, i) => {
        const f = found[i];
        return f !== undefined && f.labels[req.stackLabelKey] !== req.stackLabelValue
            ? [conflictMessage(role, api.server, ref, f, req.stackLabelKey, req.stackLabelValue)] : [];
    });
}

/**
 * Every reason `up` must not go on: objects of the stack's names that someone else holds, Nodes
 * its kubelets would adopt, a namespace to use that is missing. Objects carrying this stack's
 * label pass, so a second `up` and a rerun after an interrupted one go through.
 */
export async function ownershipProblems(node: ClusterApi, target: ClusterApi, req: OwnershipRequest): Promise<string[]> {
    const namespaceRef: ObjectRef = { apiVersion: "v1", kind: "Namespace", name: req.existingNamespace };
    const [namespace, inNode, inTarget, foreignNodes] = await Promise.all([
        req.existingNamespace === "" ? Promise.resolve(null) : node.readObject(namespaceRef),
        conflicts(node, "node", req.nodeObjects, req),
        conflicts(target, "target", req.targetObjects, req),
        ourNodeNames(req).size === 0 ? Promise.resolve([]) : target.listNodes(foreignNodeSelector(req.stackLabelKey, req.stackLabelValue)),
    ]);
    const problems: string[] = [];
    if (namespace === undefined) {
        problems.push(`Namespace ${req.existingNamespace} does not exist in the node cluster (${node.server}); ` +
            "kubemark:createNamespace is false, so this stack uses it as it is and never creates or deletes it. " +
            `Create it first (kubectl create namespace ${req.existingNamespace}) or set kubemark:createNamespace true`);
    }
    problems.push(...inNode, ...inTarget);
    const ours = ourNodeNames(req);
    const taken = foreignNodes.map((n) => n.name).filter((name) => ours.has(name)).sort();
    if (taken.length > 0) {
        problems.push(`${taken.length} Node(s) with the names this stack's hollow kubelets register under already exist in the ` +
            `target cluster (${target.server}) without ${req.stackLabelKey}=${req.stackLabelValue}: ` +
            `${someNames(taken)}. Those kubelets would adopt and heartbeat them. ` +
            "Remove them (kubectl delete node <name>) if they are stale, or use another stack name. Nothing was changed in either cluster");
    }
    return problems;
}
