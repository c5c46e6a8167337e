// An in-memory ClusterApi with the failure modes the providers must survive: 404s, slow deletes, outages.
import { ClusterApi, DeleteOutcome, NodeCidr, NodeInfo, NodeRef, ObjectOwnership, ObjectRef, PodInfo } from "../../components/kube/clusterApi";
import { unreachableError } from "../../components/kube/errors";
import type { Rollout } from "../../components/kube/rollout";
import { HollowNodeSyncProvider } from "../../components/reaper/provider";
import { INSTANCE_LABEL_KEY } from "../../components/hollow/names";

export interface FakeNode {
    name: string; labels: Record<string, string>; ready: boolean; uid: string; resourceVersion: number;
    /** What its kubelet reports; undefined: the Node table has no VERSION column. */
    kubeletVersion?: string;
    podCIDRs?: string[];
}

export class FakeCluster implements ClusterApi {
    readonly nodes = new Map<string, FakeNode>();
    readonly leases = new Set<string>();
    readonly pods = new Map<string, { namespace: string; labels: Record<string, string>; terminating: boolean; nodes?: number; pool?: string }>();
    /** Hollow workloads' rollouts, as listRollouts answers them (all namespaces and selectors alike). */
    rollouts: Rollout[] = [];
    /** Other objects, by `kind namespace/name`. */
    readonly objects = new Map<string, ObjectOwnership>();
    readonly calls: string[] = [];
    /** When set, every call rejects as a refused connection. */
    down = false;
    /** The next this many calls get no answer within their bound, as from an overloaded API server. */
    missNext = 0;
    /** The next this many calls are refused, as by an API server restarting or down. */
    refuseNext = 0;
    /** The next this many Node deletes get no answer (and are not applied). */
    missDeletes = 0;
    /** Deletes of these Nodes fail with a 500, as an overloaded or broken API server answers. */
    readonly failDeletes = new Set<string>();
    /** Node deletes in flight now, and the most seen at once. */
    inFlight = 0;
    maxInFlight = 0;
    /** Deleted nodes linger for this many listNodes calls, as with finalizers. */
    deleteLag = 0;
    private lingering = new Map<string, number>();
    /** Runs before each Node delete is applied, as a concurrent writer would. */
    beforeDelete?: (name: string) => void;
    private serial = 0;

    constructor(readonly server = "https://fake.test:6443") {}

    addNode(name: string, labels: Record<string, string>, ready = true): void {
        this.nodes.set(name, { name, labels, ready, uid: `uid-${name}-${++this.serial}`, resourceVersion: ++this.serial });
        this.leases.add(name);
    }

    /** A hollow pod; `nodes` is the Node count its layout annotation announces (undefined: one, named as the pod). */
    addPod(name: string, namespace: string, labels: Record<string, string>, terminating = false, nodes?: number, pool?: string): void {
        this.pods.set(name, { namespace, labels, terminating, nodes, pool });
    }

    static key(ref: Pick<ObjectRef, "kind" | "namespace" | "name">): string {
        return `${ref.kind} ${ref.namespace ?? ""}/${ref.name}`;
    }

    addObject(ref: Pick<ObjectRef, "kind" | "namespace" | "name">, labels: Record<string, string>, managers: string[] = []): void {
        this.objects.set(FakeCluster.key(ref), { labels, managers });
    }

    private check(call: string): void {
        this.calls.push(call);
        if (this.down) {
            throw unreachableError(this.server, "connect ECONNREFUSED");
        }
        if (this.missNext > 0) {
            this.missNext--;
            throw unreachableError(this.server, `${call}: no answer within 15s`, true);
        }
        if (this.refuseNext > 0) {
            this.refuseNext--;
            throw unreachableError(this.server, "connect ECONNREFUSED");
        }
    }

    private static matches(labels: Record<string, string>, selector: string): boolean {
        return selector.split(",").every((term) => {
            if (term.startsWith("!")) {
                return labels[term.slice(1)] === undefined;
            }
            const [k, v] = term.split(/!?=/);
            return term.includes("!=") ? labels[k] !== v : labels[k] === v;
        });
    }

    /** Another writer's update: a new resourceVersion, and optionally new labels. */
    touch(name: string, labels?: Record<string, string>): void {
        const node = this.nodes.get(name);
        if (node) {
            node.resourceVersion = ++this.serial;
            node.labels = labels ?? node.labels;
        }
    }

    async listNodeRefs(labelSelector: string): Promise<NodeRef[]> {
        this.check(`listNodeRefs ${labelSelector}`);
        return this.selected(labelSelector).map((n) => ({ name: n.name, uid: n.uid, resourceVersion: String(n.resourceVersion) }));
    }

    async listNodes(labelSelector: string): Promise<NodeInfo[]> {
        this.check(`listNodes ${labelSelector}`);
        return this.selected(labelSelector).map((n) => ({ name: n.name, ready: n.ready, ...(n.kubeletVersion === undefined ? {} : { kubeletVersion: n.kubeletVersion }) }));
    }

    private selected(labelSelector: string): FakeNode[] {
        for (const [name, left] of this.lingering) {
            if (left <= 0) {
                this.nodes.delete(name);
                this.lingering.delete(name);
            } else {
                this.lingering.set(name, left - 1);
            }
        }
        return [...this.nodes.values()].filter((n) => FakeCluster.matches(n.labels, labelSelector));
    }

    async deleteNode(ref: NodeRef): Promise<DeleteOutcome> {
        const name = ref.name;
        this.check(`deleteNode ${name}`);
        if (this.missDeletes > 0) {
            this.missDeletes--;
            throw unreachableError(this.server, `deleteNode ${name}: no answer within 15s`, true);
        }
        this.beforeDelete?.(name);
        this.inFlight++;
        this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
        // One turn of the event loop, as a request takes: lets concurrent deletes overlap.
        await new Promise((r) => setImmediate(r));
        this.inFlight--;
        if (this.failDeletes.has(name)) {
            throw Object.assign(new Error(`Internal error deleting ${name}`), { code: 500 });
        }
        const node = this.nodes.get(name);
        if (!node || this.lingering.has(name)) {
            return "gone";
        }
        if (node.uid !== ref.uid || String(node.resourceVersion) !== ref.resourceVersion) {
            return "changed";
        }
        if (this.deleteLag > 0) {
            this.lingering.set(name, this.deleteLag);
        } else {
            this.nodes.delete(name);
        }
        return "deleted";
    }

    async deleteNodeLease(name: string): Promise<boolean> {
        this.check(`deleteNodeLease ${name}`);
        return this.leases.delete(name);
    }

    async listPods(namespace: string, labelSelector: string): Promise<PodInfo[]> {
        this.check(`listPods ${namespace} ${labelSelector}`);
        return [...this.pods.entries()]
            .filter(([, p]) => p.namespace === namespace && FakeCluster.matches(p.labels, labelSelector))
            .map(([name, p]) => ({
                name, terminating: p.terminating, nodes: p.nodes, ...(p.pool === undefined ? {} : { pool: p.pool }),
                ...(p.labels[INSTANCE_LABEL_KEY] === undefined ? {} : { workload: p.labels[INSTANCE_LABEL_KEY] }),
            }));
    }

    async listRollouts(namespace: string, labelSelector: string): Promise<Rollout[]> {
        this.check(`listRollouts ${namespace} ${labelSelector}`);
        return [...this.rollouts];
    }

    async listNodeCidrs(labelSelector: string): Promise<NodeCidr[]> {
        this.check(`listNodeCidrs ${labelSelector}`);
        return [...this.nodes.values()].filter((n) => labelSelector === "" || FakeCluster.matches(n.labels, labelSelector))
            .map((n) => ({ name: n.name, podCIDRs: n.podCIDRs ?? [] }));
    }

    async setNodePodCidr(name: string, cidr: string): Promise<"set" | "taken" | "gone"> {
        this.check(`setNodePodCidr ${name}`);
        const node = this.nodes.get(name);
        if (!node) {
            return "gone";
        }
        if ((node.podCIDRs ?? []).length > 0) {
            return "taken";
        }
        node.podCIDRs = [cidr];
        return "set";
    }

    async labelNode(name: string, labels: Readonly<Record<string, string>>): Promise<boolean> {
        this.check(`labelNode ${name}`);
        const node = this.nodes.get(name);
        if (!node) {
            return false;
        }
        node.labels = { ...node.labels, ...labels };
        node.resourceVersion = ++this.serial;
        return true;
    }

    async readObject(ref: ObjectRef): Promise<ObjectOwnership | undefined> {
        this.check(`readObject ${FakeCluster.key(ref)}`);
        return this.objects.get(FakeCluster.key(ref));
    }
}

/** A clock whose sleep advances time instantly, and can run a hook on each tick. */
export class FakeClock {
    t = 1_000_000;
    onSleep?: (t: number) => void;
    now = () => this.t;
    sleep = async (ms: number) => {
        this.t += ms;
        this.onSleep?.(this.t);
    };
}

/** A target and a node cluster, a fake clock and a log, and the sync provider over them: what sync tests start from. */
export function syncWorld() {
    const target = new FakeCluster("https://target.test:6443");
    const node = new FakeCluster("https://node.test:6443");
    const clock = new FakeClock();
    const logs: string[] = [];
    const provider = new HollowNodeSyncProvider((kc) => (kc === "target" ? target : node), clock, (m) => logs.push(m));
    return { target, node, clock, logs, provider };
}
