// A stack's node pools as its hollow Nodes' labels show them: which exist, which a run targets, how pods get there.
import type { NodeLike } from "./kube";
import { nodeReady } from "./kube";

/**
 * Every hollow Node carries `kubemark-pulumi/pool=<pool>` (one pool: `default`). measure's own copy of the key
 * components/config/settings.ts exports; test/unit/measure/pools.test.ts holds the two equal.
 */
export const POOL_LABEL_KEY = "kubemark-pulumi/pool";
/** The pool of a Node without the label: a stack made before pools. It cannot be chosen with --pool. */
export const NO_POOL = "(none)";
/** The allocatable resources a pool's capacity names first; any other (an extended resource) follows. */
const MAIN_RESOURCES = ["cpu", "memory", "pods"] as const;

/** A label value, as a pool name must be one: at most 63 characters, alphanumerics at both ends. */
const LABEL_VALUE = /^[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$/;

export function checkPoolName(name: string): string | undefined {
    return LABEL_VALUE.test(name)
        ? undefined
        : "accepted: pool names (label values: up to 63 letters, digits, '-', '_', '.', a letter or digit at each end)";
}

export const poolOf = (n: NodeLike): string => n.metadata?.labels?.[POOL_LABEL_KEY] || NO_POOL;

/** One pool as its Nodes show it at one moment. */
export interface PoolInfo {
    readonly pool: string;
    readonly nodes: number;
    readonly ready: number;
    /** One Node's allocatable (the first by name): what the scheduler counts on. */
    readonly allocatable: Readonly<Record<string, string>>;
    /** Resources whose allocatable is not the same on every Node of the pool; empty when all agree. */
    readonly differs: readonly string[];
    /** The NoSchedule and NoExecute taints its Nodes carry, as `key=value:effect`, each once. */
    readonly taints: readonly string[];
}

const taintText = (t: { key: string; value?: string; effect: string }) =>
    `${t.key}${t.value ? `=${t.value}` : ""}:${t.effect}`;

/** The pools of a stack's Nodes, by name; Nodes without the pool label form the pool `(none)`. */
export function discoverPools(nodes: readonly NodeLike[]): PoolInfo[] {
    const byPool = new Map<string, NodeLike[]>();
    for (const n of nodes) {
        byPool.set(poolOf(n), [...(byPool.get(poolOf(n)) ?? []), n]);
    }
    return [...byPool.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([pool, members]) => {
            const sorted = [...members].sort((a, b) => (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? ""));
            const all = sorted.map((n) => n.status?.allocatable ?? {});
            const keys = [...new Set(all.flatMap((a) => Object.keys(a)))].sort();
            const taints = sorted
                .flatMap((n) => n.spec?.taints ?? [])
                .filter((t) => t.effect === "NoSchedule" || t.effect === "NoExecute")
                .map(taintText);
            return {
                pool,
                nodes: sorted.length,
                ready: sorted.filter(nodeReady).length,
                allocatable: all[0],
                differs: keys.filter((k) => new Set(all.map((a) => a[k])).size > 1),
                taints: [...new Set(taints)].sort(),
            };
        });
}

/** One Node's capacity in words: cpu, memory and pods first, then what else it offers (`example.com/gpu 8`). */
export function capacityText(allocatable: Readonly<Record<string, string>>): string {
    const main = MAIN_RESOURCES.map((k) => `${k} ${allocatable[k] ?? "—"}`);
    const more = Object.keys(allocatable)
        .filter((k) => k.includes("/"))
        .sort()
        .map((k) => `${k} ${allocatable[k]}`);
    return [...main, ...more].join(", ");
}

/**
 * Why `--pool` cannot be run on this stack: each name no Node carries, with the pools the stack has; a chosen pool
 * without a Ready Node. Empty when every chosen pool can be loaded (or none was chosen).
 */
export function poolRefusals(chosen: readonly string[] | undefined, pools: readonly PoolInfo[]): string[] {
    const named = pools.filter((p) => p.pool !== NO_POOL);
    const unlabelled = pools.find((p) => p.pool === NO_POOL)?.nodes ?? 0;
    const has =
        named.length === 0
            ? `its hollow Nodes carry no ${POOL_LABEL_KEY} label (a stack made before pools): leave --pool out`
            : `its pools: ${named.map((p) => p.pool).join(", ")} (its hollow Nodes' ${POOL_LABEL_KEY} label)` +
              (unlabelled > 0 ? `; ${unlabelled} Node(s) without the label cannot be chosen` : "");
    return (chosen ?? []).flatMap((c) => {
        const pool = named.find((p) => p.pool === c);
        if (!pool) {
            return [`--pool ${JSON.stringify(c)}: the stack has no such pool; ${has}`];
        }
        return pool.ready === 0
            ? [`--pool ${JSON.stringify(c)}: none of its ${pool.nodes} hollow Node(s) is Ready`]
            : [];
    });
}

/** Whether a pool is one the run loads; every pool is when none were chosen. */
export const inPoolsByName = (pool: string, chosen: readonly string[] | undefined) =>
    chosen === undefined || chosen.includes(pool);

/** Whether a Node is in the run's pools; every Node is when none were chosen. */
export const inPools = (n: NodeLike, chosen: readonly string[] | undefined) => inPoolsByName(poolOf(n), chosen);

/** What a pod spec adds to reach the chosen pools: a nodeSelector for one, a required node affinity for several. */
export interface Placement {
    readonly nodeSelector: Readonly<Record<string, string>>;
    readonly affinity?: {
        readonly nodeAffinity: {
            readonly requiredDuringSchedulingIgnoredDuringExecution: {
                readonly nodeSelectorTerms: readonly {
                    readonly matchExpressions: readonly { key: string; operator: "In"; values: string[] }[];
                }[];
            };
        };
    };
}

/**
 * The pool part of the run's pods' placement, beside the stack's own Node selector. All pools: nothing, so pods go
 * wherever their requests fit, as before pools. One pool: a nodeSelector. Several: `In` the pools, since a
 * nodeSelector cannot say "one of".
 */
export function poolPlacement(chosen: readonly string[] | undefined): Placement {
    if (chosen === undefined || chosen.length === 0) {
        return { nodeSelector: {} };
    }
    if (chosen.length === 1) {
        return { nodeSelector: { [POOL_LABEL_KEY]: chosen[0] } };
    }
    return {
        nodeSelector: {},
        affinity: {
            nodeAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: {
                    nodeSelectorTerms: [
                        { matchExpressions: [{ key: POOL_LABEL_KEY, operator: "In", values: [...chosen].sort() }] },
                    ],
                },
            },
        },
    };
}

/** The stack's pools as a run found them at its start, and those it targets. */
export interface PoolScope {
    /** Undefined: all pools (no --pool). */
    readonly chosen?: readonly string[];
    readonly pools: readonly PoolInfo[];
    /** Each hollow Node's pool, by Node name. */
    readonly nodePool: ReadonlyMap<string, string>;
}

export function poolScope(nodes: readonly NodeLike[], chosen: readonly string[] | undefined): PoolScope {
    return {
        chosen,
        pools: discoverPools(nodes),
        nodePool: new Map(nodes.map((n) => [n.metadata?.name ?? "", poolOf(n)])),
    };
}

/**
 * The N of the load's sizing (pods per Node × N, latency pods min(500, N), burst max(1000, N)): the stack's
 * replicas when all pools are loaded, as before pools; else the chosen pools' Ready Nodes.
 */
export function sizingNodes(scope: PoolScope | undefined, replicas: number): number {
    if (!scope?.chosen) {
        return replicas;
    }
    return scope.pools.filter((p) => scope.chosen?.includes(p.pool)).reduce((a, p) => a + p.ready, 0);
}

/** `pools a, b` or `all pools`, for log lines and notes. */
export const poolsText = (chosen: readonly string[] | undefined) =>
    chosen ? `pool${chosen.length > 1 ? "s" : ""} ${chosen.join(", ")}` : "all pools";
