// What the run watches beside its own pods: the hollow Nodes' readiness, the hollow pods' usage, its own CPU.
import type { ClusterApi } from "../components/kube/clusterApi";
import { enc, Kube, listAll, PodLike } from "./kube";
import { round } from "./stats";

export interface NodeHealth {
    readonly expected: number;
    /** The fewest Ready hollow Nodes any look found; undefined when no look got an answer. */
    readonly minReady?: number;
    readonly looks: number;
    readonly failedLooks: number;
    /** Hollow Nodes seen NotReady (or gone) at least once, with the seconds into the run of the first such look. */
    readonly notReady: readonly { readonly name: string; readonly firstSeconds: number; readonly looks: number }[];
    /** Ready hollow Nodes over time, for the report. */
    readonly samples: readonly { readonly t: number; readonly ready: number }[];
}

/** Looks at the stack's Nodes every `everyMs` until stopped: the run's SLIs mean little if hollow Nodes flapped. */
export class NodeWatch {
    private timer?: NodeJS.Timeout;
    private busy = false;
    private known = new Set<string>();
    private looks = 0;
    private failed = 0;
    private minReady?: number;
    private notReady = new Map<string, { firstSeconds: number; looks: number }>();
    private samples: { t: number; ready: number }[] = [];

    constructor(
        private readonly target: ClusterApi,
        private readonly selector: string,
        private readonly expected: number,
        private readonly startMs: number,
        private readonly log: (m: string) => void,
    ) {}

    start(everyMs: number): void {
        this.timer = setInterval(() => void this.look(), everyMs);
        void this.look();
    }

    async look(): Promise<void> {
        if (this.busy) {
            return;
        }
        this.busy = true;
        try {
            const nodes = await this.target.listNodes(this.selector);
            const t = round((Date.now() - this.startMs) / 1000, 1);
            this.looks++;
            const ready = nodes.filter((n) => n.ready).length;
            this.minReady = Math.min(this.minReady ?? ready, ready);
            this.samples.push({ t, ready });
            const present = new Set(nodes.map((n) => n.name));
            const down = [
                ...nodes.filter((n) => !n.ready).map((n) => n.name),
                ...[...this.known].filter((n) => !present.has(n)),
            ];
            for (const name of down) {
                const seen = this.notReady.get(name);
                if (!seen) {
                    this.log(`hollow Node ${name} is NotReady or gone (${t}s into the run)`);
                }
                this.notReady.set(name, { firstSeconds: seen?.firstSeconds ?? t, looks: (seen?.looks ?? 0) + 1 });
            }
            for (const n of nodes) {
                this.known.add(n.name);
            }
        } catch (e) {
            this.failed++;
            this.log(`looking at the hollow Nodes failed: ${(e as Error).message}`);
        } finally {
            this.busy = false;
        }
    }

    async stop(): Promise<NodeHealth> {
        clearInterval(this.timer);
        await this.look();
        return {
            expected: this.expected,
            minReady: this.minReady,
            looks: this.looks,
            failedLooks: this.failed,
            notReady: [...this.notReady.entries()]
                .map(([name, v]) => ({ name, ...v }))
                .sort((a, b) => a.firstSeconds - b.firstSeconds),
            samples: this.samples,
        };
    }
}

interface Summary {
    pods?: {
        podRef?: { name?: string; namespace?: string };
        cpu?: { usageCoreNanoSeconds?: number };
        memory?: { workingSetBytes?: number };
    }[];
}

export interface UsageSnapshot {
    readonly atMs: number;
    readonly pods: ReadonlyMap<string, { readonly cpuNs?: number; readonly memoryBytes?: number }>;
    /** Why some or all of the hollow pods' usage could not be read. */
    readonly problems: readonly string[];
}

/** The hollow pods' CPU and memory counters, from the summary API of the node cluster's Nodes that run them. */
export async function hollowUsage(nodeCluster: Kube, namespace: string, podSelector: string): Promise<UsageSnapshot> {
    const problems: string[] = [];
    const pods = new Map<string, { cpuNs?: number; memoryBytes?: number }>();
    let hollow: PodLike[];
    try {
        hollow = await listAll<PodLike>(nodeCluster, `/api/v1/namespaces/${enc(namespace)}/pods`, {
            labelSelector: podSelector,
        });
    } catch (e) {
        return { atMs: Date.now(), pods, problems: [`cannot list the hollow pods: ${(e as Error).message}`] };
    }
    const names = new Set(hollow.map((p) => p.metadata?.name ?? ""));
    const nodes = [...new Set(hollow.map((p) => p.spec?.nodeName).filter((n): n is string => !!n))].sort();
    for (const node of nodes) {
        let reply: { status: number; body: string };
        try {
            reply = await nodeCluster.text(`/api/v1/nodes/${enc(node)}/proxy/stats/summary`, "application/json");
        } catch (e) {
            problems.push(`${node}: ${(e as Error).message}`);
            continue;
        }
        if (reply.status !== 200) {
            problems.push(
                `${node}: HTTP ${reply.status}${reply.status === 403 ? " (the node kubeconfig may not get nodes/proxy)" : ""}: ` +
                    reply.body.slice(0, 120).replace(/\s+/g, " "),
            );
            continue;
        }
        const summary = JSON.parse(reply.body) as Summary;
        for (const p of summary.pods ?? []) {
            if (p.podRef?.namespace === namespace && names.has(p.podRef.name ?? "")) {
                pods.set(p.podRef.name as string, {
                    cpuNs: p.cpu?.usageCoreNanoSeconds,
                    memoryBytes: p.memory?.workingSetBytes,
                });
            }
        }
    }
    if (hollow.length > 0 && nodes.length === 0) {
        problems.push("no hollow pod is bound to a Node");
    }
    return { atMs: Date.now(), pods, problems };
}

export interface HollowUsage {
    /** Hollow pods read at both ends of the run. */
    readonly pods: number;
    readonly nodesPerPod: number;
    /** Average cores over the run, all hollow pods together, and the busiest pod. */
    readonly totalCores?: number;
    readonly maxPodCores?: number;
    readonly totalMemoryMiB?: number;
    readonly maxPodMemoryMiB?: number;
    readonly problems: readonly string[];
}

/** CPU as the counters' increase over the run's wall time; memory as the working set at the end. */
export function usageOver(before: UsageSnapshot, after: UsageSnapshot, nodesPerPod: number): HollowUsage {
    const seconds = (after.atMs - before.atMs) / 1000;
    const cores: number[] = [];
    const memory: number[] = [];
    for (const [name, a] of after.pods) {
        const b = before.pods.get(name);
        if (b?.cpuNs !== undefined && a.cpuNs !== undefined && a.cpuNs >= b.cpuNs && seconds > 0) {
            cores.push((a.cpuNs - b.cpuNs) / 1e9 / seconds);
        }
        if (a.memoryBytes !== undefined) {
            memory.push(a.memoryBytes / 2 ** 20);
        }
    }
    const sum = (v: number[]) => (v.length === 0 ? undefined : round(v.reduce((x, y) => x + y, 0)));
    const max = (v: number[]) => (v.length === 0 ? undefined : round(Math.max(...v)));
    const problems = [...new Set([...before.problems, ...after.problems])];
    if (after.pods.size === 0 && problems.length === 0) {
        problems.push("no hollow pod appeared in the summaries");
    }
    return {
        pods: cores.length,
        nodesPerPod,
        totalCores: sum(cores),
        maxPodCores: max(cores),
        totalMemoryMiB: sum(memory),
        maxPodMemoryMiB: max(memory),
        problems,
    };
}

export interface GeneratorUsage {
    readonly cores: number;
    readonly maxRssMiB: number;
    readonly seconds: number;
}

/** This process' CPU over the run: a busy generator observes late, which inflates the watch-measured phases. */
export function generatorMeter(): () => GeneratorUsage {
    const cpu = process.cpuUsage();
    const started = Date.now();
    return () => {
        const used = process.cpuUsage(cpu);
        const seconds = (Date.now() - started) / 1000;
        return {
            cores: round((used.user + used.system) / 1e6 / Math.max(seconds, 0.001)),
            maxRssMiB: round(process.resourceUsage().maxRSS / 1024, 1),
            seconds: round(seconds, 1),
        };
    };
}
