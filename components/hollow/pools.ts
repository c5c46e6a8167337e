// How a stack's pools become workloads: one per pool and zone, its share of the pool's Nodes, and its Node labels.
import { DEFAULT_POOL_NAME } from "../config/defaults";
import { poolWorkloadName } from "../config/pools";
import { NodeCapacity, POOL_LABEL_KEY, PoolSettings, REGION_LABEL_KEY, ZONE_LABEL_KEY } from "../config/settings";
import { INSTANCE_LABEL_KEY, LAST_WORKLOAD_SUFFIX } from "./names";

/** One workload of the stack: a pool, or a pool's zone, with its own Pulumi resources and hollow Nodes. */
export interface PoolPart {
    readonly pool: PoolSettings;
    readonly zone?: string;
    /** Workload name, and so the prefix of its pods' and Nodes' names. */
    readonly workloadName: string;
    /** Hollow Nodes of this part. */
    readonly replicas: number;
    /** Prefix of its resources' Pulumi names: the component's alone for the default pool (as before pools). */
    readonly resourcePrefix: string;
    /** Node labels of the part's kubelets: the pool's own plus pool, zone and region, sorted by key. */
    readonly nodeLabels: readonly (readonly [string, string])[];
}

/** Nodes of zone `i` of `zones` when `replicas` are dealt round-robin: the first `replicas % zones` get one more. */
export function zoneShare(replicas: number, zones: number, i: number): number {
    return Math.floor(replicas / zones) + (i < replicas % zones ? 1 : 0);
}

/** The workloads of the stack's pools, pool order then zone order. */
export function poolParts(component: string, workloadName: string, pools: readonly PoolSettings[]): PoolPart[] {
    return pools.flatMap((pool) => {
        const zones: (string | undefined)[] = pool.zones.length === 0 ? [undefined] : [...pool.zones];
        return zones.map((zone, i): PoolPart => {
            const labels = new Map<string, string>(pool.nodeLabels.map(([k, v]) => [k, v]));
            labels.set(POOL_LABEL_KEY, pool.name);
            if (zone !== undefined) {
                labels.set(ZONE_LABEL_KEY, zone);
            }
            if (pool.region !== "") {
                labels.set(REGION_LABEL_KEY, pool.region);
            }
            const suffix = [...(pool.name === DEFAULT_POOL_NAME ? [] : [pool.name]), ...(zone === undefined ? [] : [zone])];
            return {
                pool, zone,
                workloadName: poolWorkloadName(workloadName, pool.name, zone),
                replicas: zone === undefined ? pool.replicas : zoneShare(pool.replicas, zones.length, i),
                resourcePrefix: [component, ...suffix].join("-"),
                nodeLabels: [...labels.entries()].sort(([a], [b]) => a.localeCompare(b)),
            };
        });
    });
}

/** Kubernetes resource names of the capacity a hollow kubelet is told to report, in flag order. */
const CAPACITY_RESOURCES: readonly (readonly [keyof NodeCapacity, string])[] = [
    ["cpu", "cpu"], ["ephemeralStorage", "ephemeral-storage"], ["memory", "memory"],
];

/** `cpu=8,ephemeral-storage=100Gi,memory=32Gi`: the capacity flag's value, sorted by name; "" when none is set. */
export function capacityFlagValue(c: NodeCapacity): string {
    return CAPACITY_RESOURCES.filter(([field]) => c[field] !== undefined).map(([field, name]) => `${name}=${c[field]}`).join(",");
}

/**
 * Exactly one part's Nodes (pool, and zone when the pool has zones), for the reaper that removes them when the part
 * leaves the config.
 */
export function partNodeSelector(stackSelector: string, part: Pick<PoolPart, "pool" | "zone">): string {
    return [stackSelector, `${POOL_LABEL_KEY}=${part.pool.name}`, ...(part.zone === undefined ? [] : [`${ZONE_LABEL_KEY}=${part.zone}`])].join(",");
}

/** Exactly one part's pods: those of its workload and of its `-last` twin. */
export function partPodSelector(stackPodSelector: string, workloadName: string): string {
    return `${stackPodSelector},${INSTANCE_LABEL_KEY} in (${workloadName},${workloadName}${LAST_WORKLOAD_SUFFIX})`;
}
